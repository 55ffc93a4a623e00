"""HTTP function: an agent or the back office marks a commitment done, extends or cancels it."""

from __future__ import annotations

import functions_framework

from shared.capabilities.commitment_update import CommitmentUpdateRequest, CommitmentUpdateResponse, update
from shared.platform.calls import CallContext
from shared.platform.http import endpoint
from shared.runtime import authenticator, default_runtime


@functions_framework.http
@endpoint(
    "commitment_update",
    CommitmentUpdateRequest,
    CommitmentUpdateResponse,
    roles=("agent", "supervisor", "backoffice"),
    authenticator=authenticator,
)
def commitment_update(body: CommitmentUpdateRequest, call: CallContext) -> CommitmentUpdateResponse:
    """Mark a commitment done, extend it (with a reason) or cancel it; idempotent and version-checked."""
    return update(body, default_runtime(), call)
