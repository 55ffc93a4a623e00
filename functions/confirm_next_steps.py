"""HTTP function: the agent's confirmed next steps, stored beside the AI suggestion."""

from __future__ import annotations

import functions_framework

from shared.capabilities.confirm_next_steps import ConfirmRequest, ConfirmResponse, confirm
from shared.platform.calls import CallContext
from shared.platform.http import endpoint
from shared.runtime import authenticator, default_runtime


@functions_framework.http
@endpoint("confirm_next_steps", ConfirmRequest, ConfirmResponse, authenticator=authenticator)
def confirm_next_steps(body: ConfirmRequest, call: CallContext) -> ConfirmResponse:
    """Store the agent's final actions, resolver group and articles used; emit the differences."""
    return confirm(body, default_runtime(), call)
