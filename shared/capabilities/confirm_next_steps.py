"""The agent's confirmed next steps beside the AI suggestion, and the differences as events.

``next_steps/{suggestion_id}`` keeps every suggestion; confirming writes both versions
and their diff onto ``customers/{id}/tickets/{ticket_id}.next_steps`` in one transaction.
Re-sending the same confirmation changes nothing and re-emits events with the same ids.
A confirmation names the ``base_version`` it was made on; a different confirmation that
arrives after another one was accepted gets 409 with the current state, never a silent
overwrite, so each accepted confirmation has exactly one ``next_steps.confirmed`` event.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from difflib import SequenceMatcher
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from shared.capabilities._context import open_customer
from shared.capabilities.events import Diff, NextStepsConfirmed, ResolverOverridden
from shared.data.snapshots import Reads
from shared.decisions.actions import FinalAction
from shared.platform.calls import ID_PATTERN, CallContext
from shared.platform.errors import BadRequest, Conflict, NotFound
from shared.safety.context_policy import minimizer_for
from shared.safety.pii.base import customer_key

if TYPE_CHECKING:
    from shared.runtime import Runtime

    pass


SAME_ACTION = 0.5
READS = Reads()
"""The customer document (access); the confirmed texts are minimized with the customer's identifiers
(shared.data.snapshots.IDENTIFIERS, read by ``minimizer_for``)."""


class ConfirmRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    suggestion_id: str = Field(pattern=r"^[a-f0-9]{32}$")
    customer_id: str = Field(pattern=ID_PATTERN)
    ticket_id: str = Field(pattern=ID_PATTERN)
    actions: list[FinalAction] = Field(max_length=20)
    resolver_group: str = Field(min_length=1, max_length=100)
    kb_used: list[str] = Field(default_factory=list, max_length=10)
    base_version: int = Field(
        default=0,
        ge=0,
        le=1_000_000,
        description="Version of the ticket's next steps this confirmation was made on (0: none confirmed yet; "
        "a 409 answer carries the current version).",
    )


class ConfirmResponse(BaseModel):
    suggestion_id: str
    ticket_id: str
    resolver_group: str
    queue_code: str
    diff: Diff
    confirmed_at: datetime
    version: int = Field(description="Version of the ticket's next steps now; send it as base_version to change them.")


def diff(suggested: list[dict[str, Any]], final: list[FinalAction]) -> tuple[int, int, int, int]:
    """(owner changed, added, removed, due moved), pairing actions by similar descriptions."""
    pairs, used = [], set()
    for f in final:
        best, best_i = SAME_ACTION, None
        for i, s in enumerate(suggested):
            if i in used:
                continue
            ratio = SequenceMatcher(None, s["description"].lower(), f.description.lower()).ratio()
            if ratio >= best:
                best, best_i = ratio, i
        if best_i is not None:
            used.add(best_i)
            pairs.append((suggested[best_i], f))
    owner = sum(1 for s, f in pairs if s["owner"] != f.owner)
    moved = sum(1 for s, f in pairs if (s.get("due_by") or None) != (f.due_by.isoformat() if f.due_by else None))
    return owner, len(final) - len(pairs), len(suggested) - len(pairs), moved


def confirm(req: ConfirmRequest, rt: Runtime, call: CallContext | None = None) -> ConfirmResponse:
    call = call or CallContext()
    open_customer(rt, call, "confirm_next_steps", req.customer_id, READS, discloses=False)
    stored = rt.next_steps_store.suggestion(req.suggestion_id)
    if stored is None:
        raise NotFound(f"suggestion {req.suggestion_id!r} not found")
    if (stored["customer_id"], stored["ticket_id"]) != (req.customer_id, req.ticket_id):
        raise Conflict("suggestion belongs to another customer or ticket")
    route = rt.queues.route(req.resolver_group)
    if route.flagged:
        raise BadRequest(
            "unknown resolver group",
            details=[{"field": "resolver_group", "problem": f"must be one of {rt.queues.labels}"}],
        )
    suggestion = stored["suggestion"]
    # the confirmed texts are stored minimized too
    pseudo = minimizer_for(rt.snapshots, req.customer_id, rt.pii_detector)
    masked = pseudo.mask_many([a.description for a in req.actions])
    req = req.model_copy(
        update={"actions": [a.model_copy(update={"description": m}) for a, m in zip(req.actions, masked, strict=True)]}
    )
    owner, added, removed, moved = diff(suggestion["actions"], req.actions)
    suggested_kb = {k["kb_id"] for k in suggestion["kb_suggestions"]}
    changes = Diff(
        owner_changed=owner,
        actions_added=added,
        actions_removed=removed,
        due_dates_moved=moved,
        resolver_overridden=route.resolver_group != suggestion["resolver_group"],
        kb_suggested_used=len(suggested_kb & set(req.kb_used)),
    )
    confirmed = req.model_dump(mode="json", include={"actions", "resolver_group", "kb_used"})
    fingerprint = hashlib.sha256(json.dumps(confirmed, sort_keys=True).encode()).hexdigest()[:32]
    record = {
        "suggestion_id": req.suggestion_id,
        "suggested": suggestion,
        "confirmed": confirmed,
        "queue_code": route.queue_code,
        "diff": changes.model_dump(),
        "confirmed_by": call.agent_id,
        "confirmed_at": datetime.now(UTC),
        "fingerprint": fingerprint,
        "unconfirmed": False,
    }
    stored_record = rt.next_steps_store.confirm(
        req.suggestion_id, req.customer_id, req.ticket_id, record, base_version=req.base_version
    )
    rt.commitments.record_confirmation(  # every confirmed action is now a tracked promise (docs/commitments.md)
        customer_id=req.customer_id,
        ticket_id=req.ticket_id,
        suggestion_id=req.suggestion_id,
        actions=req.actions,
        suggested=suggestion["actions"],
        queue_code=route.queue_code,
        resolver_group=route.resolver_group,
        sla_business_days=route.sla_business_days,
        agent_id=call.agent_id,
        confirmed_at=stored_record["confirmed_at"],
    )
    key = customer_key(req.customer_id, rt.settings.pseudonym_key)
    accepted = f"{stored_record['fingerprint']}-v{stored_record['version']}"  # one id per accepted confirmation
    rt.events.publish(
        NextStepsConfirmed(
            event_id=f"{accepted}-confirmed",
            suggestion_id=req.suggestion_id,
            customer_key=key,
            ticket_id=req.ticket_id,
            agent_id=call.agent_id,
            resolver_group=route.resolver_group,
            queue_code=route.queue_code,
            suggested_actions=len(suggestion["actions"]),
            confirmed_actions=len(req.actions),
            diff=changes,
        )
    )
    if changes.resolver_overridden:
        rt.events.publish(
            ResolverOverridden(
                event_id=f"{accepted}-resolver",
                suggestion_id=req.suggestion_id,
                customer_key=key,
                ticket_id=req.ticket_id,
                agent_id=call.agent_id,
                suggested_group=suggestion["resolver_group"],
                suggested_queue=suggestion["queue_code"],
                final_group=route.resolver_group,
                final_queue=route.queue_code,
            )
        )
    call.note(customer_key=key, resolver_overridden=changes.resolver_overridden)
    return ConfirmResponse(
        suggestion_id=req.suggestion_id,
        ticket_id=req.ticket_id,
        resolver_group=route.resolver_group,
        queue_code=route.queue_code,
        diff=changes,
        confirmed_at=stored_record["confirmed_at"],
        version=stored_record["version"],
    )
