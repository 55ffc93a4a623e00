"""HTTP function: next-best-action for a live chat or call."""

from __future__ import annotations

import functions_framework

from shared.capabilities.next_best_action import NbaRequest, NbaResponse, recommend
from shared.platform.calls import CallContext
from shared.platform.http import endpoint
from shared.runtime import authenticator, default_runtime


@functions_framework.http
@endpoint("next_best_action", NbaRequest, NbaResponse, authenticator=authenticator)
def next_best_action(body: NbaRequest, call: CallContext) -> NbaResponse:
    """One primary and one fallback action from the catalogue, under enforced business rules."""
    return recommend(body, default_runtime(), call)
