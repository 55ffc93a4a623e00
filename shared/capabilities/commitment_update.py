"""Completion from the people who know: an agent or the back office marks a commitment done, extends it
(with a reason) or cancels it. Authorized by role, idempotent, order-safe (``expected_version``), audited
(the document's history and a ``commitment.<change>`` event)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.capabilities._context import open_customer
from shared.data.snapshots import Reads
from shared.decisions.commitments import CommitmentView
from shared.platform.calls import CallContext
from shared.safety.access import CustomerUnavailable

if TYPE_CHECKING:
    from shared.runtime import Runtime


CAPABILITY = "commitment_update"
READS = Reads()
"""The customer document only: whose commitment it is decides whether the caller may change it."""


class CommitmentUpdateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    commitment_id: str = Field(pattern=r"^[a-f0-9]{32}$")
    change: Literal["done", "extend", "cancel"]
    reason: str | None = Field(default=None, max_length=500, description="Required to extend or cancel.")
    due: date | None = Field(default=None, description="The new due date (extend).")
    expected_version: int | None = Field(
        default=None, ge=1, description="The version the caller saw; another version → 409."
    )
    occurred_at: datetime | None = Field(default=None, description="When it happened in the caller's system.")

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("needs a UTC offset")
        return value


class CommitmentUpdateResponse(BaseModel):
    commitment: CommitmentView
    changed: bool = Field(description="False: the same change had already been applied (idempotent repeat).")


def update(req: CommitmentUpdateRequest, rt: Runtime, call: CallContext | None = None) -> CommitmentUpdateResponse:
    call = call or CallContext()
    # Through the access door, audited like every customer read: an agent outside the customer's
    # scope gets the same answer as for an unknown commitment.
    existing = rt.commitments.repo.get(req.commitment_id)
    if existing is None:
        raise CustomerUnavailable("commitment")
    try:
        open_customer(rt, call, CAPABILITY, existing.customer_id, READS, discloses=False)
    except CustomerUnavailable:
        raise CustomerUnavailable("commitment") from None
    stored, changed = rt.commitments.update(
        req.commitment_id,
        req.change,
        actor=call.agent_id,
        role=call.agent_role,
        reason=req.reason,
        new_due=req.due,
        expected_version=req.expected_version,
        occurred_at=req.occurred_at,
    )
    call.note(commitment_change=req.change, changed=changed, status=stored.status)
    return CommitmentUpdateResponse(commitment=rt.commitments.views([stored])[0], changed=changed)
