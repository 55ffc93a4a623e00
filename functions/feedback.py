"""HTTP function: the agent's rating, edits and offer outcome for a suggestion."""

from __future__ import annotations

import functions_framework

from shared.capabilities.feedback import FeedbackRequest, FeedbackResponse, record
from shared.platform.calls import CallContext
from shared.platform.http import endpoint
from shared.runtime import authenticator, default_runtime


@functions_framework.http
@endpoint("feedback", FeedbackRequest, FeedbackResponse, authenticator=authenticator)
def feedback(body: FeedbackRequest, call: CallContext) -> FeedbackResponse:
    """Record feedback once per event_id; derive the rating from the agent's edits."""
    return record(body, default_runtime(), call)
