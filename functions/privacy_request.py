"""HTTP function: a GDPR access or erasure request, for the privacy team's role only."""

from __future__ import annotations

import functions_framework

from shared.capabilities.privacy_request import PrivacyRequest, PrivacyResponse, run
from shared.platform.calls import CallContext
from shared.platform.http import endpoint
from shared.runtime import authenticator, default_runtime


@functions_framework.http
@endpoint("privacy_request", PrivacyRequest, PrivacyResponse, roles=("privacy",), authenticator=authenticator)
def privacy_request(body: PrivacyRequest, call: CallContext) -> PrivacyResponse:
    """Export (access) or erase everything held about one customer; audited."""
    return run(body, default_runtime(), call)
