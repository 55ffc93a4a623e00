"""HTTP function: the closing confirmation message for the customer."""

from __future__ import annotations

import functions_framework

from shared.capabilities.closing_message import ClosingRequest, ClosingResponse
from shared.capabilities.closing_message import closing_message as compose
from shared.platform.calls import CallContext
from shared.platform.http import endpoint
from shared.runtime import authenticator, default_runtime


@functions_framework.http
@endpoint("closing_message", ClosingRequest, ClosingResponse, authenticator=authenticator)
def closing_message(body: ClosingRequest, call: CallContext) -> ClosingResponse:
    """A short, reassuring message saying who does what by when, in the customer's language."""
    return compose(body, default_runtime(), call)
