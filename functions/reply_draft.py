"""HTTP function: a personalized reply draft with human-review flags."""

from __future__ import annotations

import functions_framework

from shared.capabilities.reply_draft import ReplyRequest, ReplyResponse, draft_reply
from shared.platform.calls import CallContext
from shared.platform.http import endpoint
from shared.runtime import authenticator, default_runtime


@functions_framework.http
@endpoint("reply_draft", ReplyRequest, ReplyResponse, authenticator=authenticator)
def reply_draft(body: ReplyRequest, call: CallContext) -> ReplyResponse:
    """Intent, a ready-to-send reply in the customer's language, 1-2 actions and review flags."""
    return draft_reply(body, default_runtime(), call)
