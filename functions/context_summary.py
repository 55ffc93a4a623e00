"""HTTP function: the agent's context overview for one customer."""

from __future__ import annotations

import functions_framework

from shared.capabilities.context_summary import ContextSummaryRequest, ContextSummaryResponse, summarize
from shared.platform.calls import CallContext
from shared.platform.http import endpoint
from shared.runtime import authenticator, default_runtime


@functions_framework.http
@endpoint("context_summary", ContextSummaryRequest, ContextSummaryResponse, authenticator=authenticator)
def context_summary(body: ContextSummaryRequest, call: CallContext) -> ContextSummaryResponse:
    """Context overview of a customer for the agent: relationship, issues, sentiment, hints."""
    return summarize(body, default_runtime(), call)
