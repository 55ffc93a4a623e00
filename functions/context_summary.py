"""HTTP function: the agent's context overview for one customer."""

from __future__ import annotations

import functions_framework

from shared.calls import CallContext
from shared.http import endpoint
from shared.runtime import default_runtime
from shared.summary import ContextSummaryRequest, ContextSummaryResponse, summarize


@functions_framework.http
@endpoint("context_summary", ContextSummaryRequest)
def context_summary(body: ContextSummaryRequest, call: CallContext) -> ContextSummaryResponse:
    return summarize(body, default_runtime(), call)
