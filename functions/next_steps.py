"""HTTP function: next steps at the end of a call, chat or email thread."""

from __future__ import annotations

import functions_framework

from shared.capabilities.next_steps import NextStepsRequest, NextStepsResponse, extract
from shared.platform.calls import CallContext
from shared.platform.http import endpoint
from shared.runtime import authenticator, default_runtime


@functions_framework.http
@endpoint("next_steps", NextStepsRequest, NextStepsResponse, authenticator=authenticator)
def next_steps(body: NextStepsRequest, call: CallContext) -> NextStepsResponse:
    """Actions with owners and real due dates, resolver queue, knowledge articles and closing text."""
    return extract(body, default_runtime(), call)
