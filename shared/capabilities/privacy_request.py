"""Privacy requests (GDPR Art. 15 access, Art. 17 erasure) for one customer, by the privacy team.

Access returns one JSON document with everything held about the customer: the snapshot,
stored suggestions, next steps and their confirmations (the commitments made), feedback,
pending outbox events and the warehouse events keyed to them. Erasure deletes all of it
(:mod:`shared.data.privacy`) and checks afterwards that nothing still links to the customer.

Every request is audited: a ``privacy.request`` event (who, which case, what kind, counts).
An erasure's audit event carries no customer identifier or key, so the record of the
erasure does not itself link back to the person.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from shared.capabilities.events import PrivacyRequestAudited
from shared.platform.calls import ID_PATTERN, CallContext
from shared.platform.errors import NotFound
from shared.safety.pii.base import customer_key

if TYPE_CHECKING:
    from shared.data.privacy import Warehouse
    from shared.runtime import Runtime

EXPORT_VERSION = 1


class PrivacyRequest(BaseModel):
    kind: Literal["access", "erasure"]
    customer_id: str = Field(pattern=ID_PATTERN)
    case_id: str = Field(pattern=ID_PATTERN, description="The privacy team's reference for this request.")


class PrivacyResponse(BaseModel):
    kind: Literal["access", "erasure"]
    case_id: str
    completed_at: datetime
    export: dict[str, Any] | None = Field(default=None, description="Access: everything held, one JSON document.")
    erased: dict[str, int] | None = Field(default=None, description="Erasure: items deleted per store.")
    remaining: dict[str, int] | None = Field(default=None, description="Erasure: items still linked (all zero).")


def _count(export: dict[str, Any]) -> dict[str, int]:
    counts = {}
    for store, value in export.items():
        if store == "snapshot":
            counts["snapshot"] = int(value.get("customer") is not None) + sum(
                len(v) for k, v in value.items() if k != "customer"
            )
        elif isinstance(value, list):
            counts[store] = len(value)
    return counts


def access(customer_id: str, rt: Runtime, warehouse: Warehouse | None) -> dict[str, Any]:
    key = customer_key(customer_id, rt.settings.pseudonym_key)
    held = rt.privacy.collect(customer_id, key)
    export = {
        "export_version": EXPORT_VERSION,
        "customer_id": customer_id,
        "customer_key": key,
        "generated_at": datetime.now(UTC).isoformat(),
        **held,
        "warehouse_events": warehouse.events_for(key) if warehouse is not None else None,
    }
    return export


def run(
    req: PrivacyRequest, rt: Runtime, call: CallContext | None = None, warehouse: Warehouse | None = None
) -> PrivacyResponse:
    """Answer one request; the warehouse is the deployment's BigQuery unless one is passed (local DuckDB)."""
    call = call or CallContext()
    warehouse = warehouse if warehouse is not None else rt.warehouse
    key = customer_key(req.customer_id, rt.settings.pseudonym_key)
    call.note(case_id=req.case_id, kind=req.kind)
    if req.kind == "access":
        export = access(req.customer_id, rt, warehouse)
        counts = _count(export) | {"warehouse_events": len(export["warehouse_events"] or [])}
        if not any(counts.values()):
            raise NotFound(f"nothing is held about customer {req.customer_id!r}")
        response = PrivacyResponse(kind="access", case_id=req.case_id, completed_at=datetime.now(UTC), export=export)
    else:
        tickets, suggestions = rt.privacy.linked_ids(req.customer_id, key)
        if warehouse is not None:  # ids also come from the customer's own events
            for row in warehouse.events_for(key):
                data = row["data"]
                tickets += [data[f] for f in ("ticket_id", "earlier_ticket_id", "later_ticket_id") if data.get(f)]
                suggestions += [data["suggestion_id"]] if data.get("suggestion_id") else []
        counts = rt.privacy.erase(req.customer_id, key)
        if warehouse is not None:
            erased = warehouse.erase(key, sorted(set(tickets)), sorted(set(suggestions)))
            counts |= {f"warehouse.{table}": n for table, n in erased.items()}
        remaining = _count(rt.privacy.collect(req.customer_id, key))
        if warehouse is not None:
            remaining["warehouse_events"] = len(warehouse.events_for(key))
        response = PrivacyResponse(
            kind="erasure", case_id=req.case_id, completed_at=datetime.now(UTC), erased=counts, remaining=remaining
        )
    rt.events.publish(
        PrivacyRequestAudited(
            case_id=req.case_id,
            kind=req.kind,
            agent_id=call.agent_id,
            request_id=call.request_id,
            customer_key=key if req.kind == "access" else None,
            counts=counts,
        )
    )
    return response
