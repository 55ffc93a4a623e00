"""HTTP function: next-best-action for a live chat or call."""

from __future__ import annotations

import functions_framework

from shared.calls import CallContext
from shared.http import endpoint
from shared.nba import NbaRequest, NbaResponse, recommend
from shared.runtime import default_runtime


@functions_framework.http
@endpoint("next_best_action", NbaRequest, NbaResponse)
def next_best_action(body: NbaRequest, call: CallContext) -> NbaResponse:
    """One primary and one fallback action from the catalogue, under enforced business rules."""
    return recommend(body, default_runtime(), call)
