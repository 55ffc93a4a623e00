"""Ticket close, from the ticketing system's Pub/Sub message to an updated snapshot.

Delivery is at least once and unordered, so the handler is idempotent and order-free:

* a processed marker (``ticket_closes/{ticket_id}__{closed_at}``) is written in the same
  transaction as the snapshot update: a redelivery finds it and changes nothing;
* the whole-history counts go to a random counter shard of the customer in that transaction
  (the customer document is only read), so a busy account's closes do not serialize;
* a Firestore outage raises after the bounded retry budget (shared.platform.clients), and
  events are published or in the outbox before the message is acknowledged;
* repeat contacts are checked in both directions (an earlier close of the same category
  within 30 days of this opening, and a later opening within 30 days of this close), so
  the result does not depend on which close arrives first;
* events carry deterministic ids, so downstream de-duplication holds across redeliveries;
* the marker records when the events are published (or in the outbox): a redelivery after a
  crash between the transaction and the publish publishes them then, instead of dropping them;
* invalid payloads are published to the dead-letter topic and acknowledged; transient
  errors raise, so Pub/Sub retries;
* the snapshot change is counted on the customer's prepared context in the same transaction,
  and the context is rebuilt once the close is stored (shared.safety.prepared_context).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shared.data.snapshots import IDENTIFIERS, Interaction, shard_increment
from shared.language.conversation import Turn
from shared.platform import logs
from shared.platform.calls import ID_PATTERN
from shared.platform.events import Event
from shared.safety.context_policy import minimize_next_steps, minimizer_for
from shared.safety.pii.base import customer_key

if TYPE_CHECKING:
    from shared.runtime import Runtime

REPEAT_WINDOWS = (7, 30)
READS = IDENTIFIERS
"""Of the snapshot, only to minimize the next steps it stores: the customer's identifiers (``minimizer_for``);
next_steps reads its own, and the close itself writes."""


class TicketClosed(BaseModel):
    """The ticketing system's message when a ticket is closed (schema in the README)."""

    model_config = ConfigDict(extra="ignore")

    ticket_id: str = Field(pattern=ID_PATTERN)
    customer_id: str = Field(pattern=ID_PATTERN)
    channel: Literal["email", "chat", "phone", "social", "web"]
    journey: str = Field(min_length=1, max_length=100, description="Customer journey, e.g. billing_dispute.")
    category: str = Field(min_length=1, max_length=100, description="Issue category for repeat detection.")
    subject: str | None = Field(default=None, max_length=500)
    queue_history: list[str] = Field(min_length=1, max_length=50, description="Queues in order; handoffs = n - 1.")
    opened_at: datetime
    closed_at: datetime
    handle_time_s: float = Field(ge=0)
    after_contact_work_s: float = Field(ge=0)
    resolution_code: str = Field(min_length=1, max_length=100)
    csat: int | None = Field(default=None, ge=1, le=5)
    ai_assisted: bool = Field(description="AI-assisted (true) or control group (false).")
    summary: str | None = Field(default=None, max_length=2000)
    sentiment: Literal["positive", "neutral", "negative"] | None = None
    transcript: list[Turn] = Field(default_factory=list, max_length=400)

    @model_validator(mode="after")
    def _order(self) -> TicketClosed:
        if self.opened_at.tzinfo is None or self.closed_at.tzinfo is None:
            raise ValueError("opened_at and closed_at need a UTC offset")
        if self.closed_at < self.opened_at:
            raise ValueError("closed_at is before opened_at")
        return self

    @property
    def key(self) -> str:
        return f"{self.customer_id}__{self.ticket_id}__{self.closed_at.isoformat()}"

    @property
    def handoffs(self) -> int:
        return len(self.queue_history) - 1


class TicketClosedEvent(Event):
    event_type: Literal["ticket.closed"] = "ticket.closed"
    ticket_id: str
    customer_key: str
    channel: str
    journey: str
    category: str
    opened_at: datetime
    closed_at: datetime
    handoffs: int
    handle_time_s: float
    after_contact_work_s: float
    resolution_code: str
    csat: int | None
    ai_assisted: bool
    next_steps_confirmed: bool


class RepeatContact(Event):
    event_type: Literal["ticket.repeat_contact"] = "ticket.repeat_contact"
    earlier_ticket_id: str
    later_ticket_id: str
    customer_key: str
    category: str
    days_between: float


def _event_id(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def _sentiment(t: TicketClosed) -> tuple[str, float]:
    if t.sentiment:
        return t.sentiment, {"positive": 0.5, "neutral": 0.0, "negative": -0.5}[t.sentiment]
    if t.csat is not None:
        score = (t.csat - 3) / 2
        return ("positive" if score > 0.2 else "negative" if score < -0.2 else "neutral"), score
    return "neutral", 0.0


def handle(data: bytes, rt: Runtime, message_id: str = "") -> str:
    """Process one message; returns what happened (for logs and tests)."""
    log = logs.get_logger("ticket_closed")
    try:
        ticket = TicketClosed.model_validate_json(data)
    except (ValidationError, ValueError) as exc:
        problem = exc.errors(include_url=False, include_input=False) if isinstance(exc, ValidationError) else str(exc)
        future = rt.publisher.publish(
            rt.dead_letter_topic,
            data,
            error=json.dumps(problem, default=str)[:1000],
            message_id=message_id or "",
            source="ticket_closed",
        )
        future.result(timeout=30)  # not acknowledged until the dead letter is safe
        log.warning(
            "invalid ticket_closed payload dead-lettered",
            extra={"fields": {"message_id": message_id, "problems": problem}},
        )
        return "dead_lettered"
    # before the processed marker: idempotent on its own, and a retry after a failure still closes them
    rt.commitments.close_for_ticket(ticket.ticket_id, customer_id=ticket.customer_id, at=ticket.closed_at)
    state = _close(ticket, rt)
    if state == "done":
        log.info("duplicate ticket close ignored", extra={"fields": {"ticket_id": ticket.ticket_id}})
        return "duplicate"
    confirmed = _ensure_next_steps(ticket, rt)
    _mark_repeats(ticket, rt)
    _prune_history(ticket.customer_id, rt)
    if rt.prepared_contexts is not None:  # the close is in the snapshot: the context is maintained on write
        rt.prepared_contexts.after_write([ticket.customer_id], source="ticket_closed")
    rt.events.publish(
        TicketClosedEvent(
            event_id=_event_id("closed", ticket.key),
            ticket_id=ticket.ticket_id,
            customer_key=customer_key(ticket.customer_id, rt.settings.pseudonym_key),
            channel=ticket.channel,
            journey=ticket.journey,
            category=ticket.category,
            opened_at=ticket.opened_at,
            closed_at=ticket.closed_at,
            handoffs=ticket.handoffs,
            handle_time_s=ticket.handle_time_s,
            after_contact_work_s=ticket.after_contact_work_s,
            resolution_code=ticket.resolution_code,
            csat=ticket.csat,
            ai_assisted=ticket.ai_assisted,
            next_steps_confirmed=confirmed,
        )
    )
    _refs(ticket, rt)[3].update({"events_published": True})  # only now is a redelivery a pure duplicate
    return "processed" if state == "new" else "resumed"


def _refs(ticket: TicketClosed, rt: Runtime) -> tuple[Any, Any, Any, Any]:
    db = rt.firestore
    customer = db.collection(rt.settings.customers_collection).document(ticket.customer_id)
    return (
        customer,
        customer.collection("tickets").document(ticket.ticket_id),
        customer.collection("interactions").document(f"{ticket.ticket_id}-close"),
        db.collection("ticket_closes").document(ticket.key.replace("/", "_")),
    )


def _close(ticket: TicketClosed, rt: Runtime) -> Literal["new", "pending", "done"]:
    """Snapshot update and processed marker in one transaction.

    "new": this delivery changed the snapshot; "pending": an earlier delivery did, but its
    events were never confirmed published (the instance died or the outbox was down in
    between), so the steps after the transaction run again (they are idempotent, events keep
    their ids); "done": a pure redelivery.
    """
    from google.cloud import firestore

    customer_ref, ticket_ref, interaction_ref, marker_ref = _refs(ticket, rt)
    label, score = _sentiment(ticket)
    interaction = Interaction(
        interaction_id=f"{ticket.ticket_id}-close",
        channel=ticket.channel,
        occurred_at=ticket.closed_at,
        summary=(ticket.summary or ticket.subject or ticket.category)[:280],
        sentiment=label,
        sentiment_score=score,
        category=ticket.category,
        ticket_id=ticket.ticket_id,
    )

    shard_ref = rt.snapshots.shard_ref(ticket.customer_id)

    @firestore.transactional
    def _txn(txn: firestore.Transaction) -> Literal["new", "pending", "done"]:
        marker = marker_ref.get(transaction=txn)
        if marker.exists:  # markers written before this field existed count as published
            return "done" if (marker.to_dict() or {}).get("events_published", True) else "pending"
        if not customer_ref.get(transaction=txn, field_paths=["segment"]).exists:
            raise LookupError(f"customer {ticket.customer_id} unknown")  # retried: the snapshot may lag
        existing = ticket_ref.get(transaction=txn)
        if not interaction_ref.get(transaction=txn).exists:
            txn.set(interaction_ref, rt.retention.stamp("interactions", interaction.model_dump(mode="python")))
            txn.set(shard_ref, shard_increment(interaction), merge=True)
        update = {
            "ticket_id": ticket.ticket_id,
            "subject": ticket.subject or (existing.to_dict() or {}).get("subject") or ticket.category,
            "status": "closed",
            "category": ticket.category,
            "queue": ticket.queue_history[-1],
            "queue_history": ticket.queue_history,
            "handoffs": ticket.handoffs,
            "opened_at": ticket.opened_at,
            "closed_at": ticket.closed_at,
            "journey": ticket.journey,
            "resolution_code": ticket.resolution_code,
            "csat": ticket.csat,
            "ai_assisted": ticket.ai_assisted,
            "handle_time_s": ticket.handle_time_s,
            "after_contact_work_s": ticket.after_contact_work_s,
        }
        txn.set(ticket_ref, update, merge=True)
        rt.snapshots.mark_changed(txn, ticket.customer_id)
        txn.set(
            marker_ref,
            {
                "ticket_id": ticket.ticket_id,
                "processed_at": datetime.now(ticket.closed_at.tzinfo),
                "events_published": False,
            },
        )
        return "new"

    return _txn(rt.firestore.transaction())


def _ensure_next_steps(ticket: TicketClosed, rt: Runtime) -> bool:
    """A closed ticket always has next steps: extracted now (unconfirmed) if the agent never confirmed.

    Returns whether the agent had confirmed them.
    """
    _, ticket_ref, _, _ = _refs(ticket, rt)
    existing = (ticket_ref.get().to_dict() or {}).get("next_steps")
    if existing:
        return not existing.get("unconfirmed", True)
    record: dict[str, Any] = {"suggestion_id": None, "suggested": None, "confirmed": None, "unconfirmed": True}
    if ticket.transcript:
        # Capabilities never import each other: the runtime composes next_steps for a close.
        suggestion = rt.extract_next_steps(
            {
                "customer_id": ticket.customer_id,
                "ticket_id": ticket.ticket_id,
                "channel": ticket.channel if ticket.channel in ("chat", "email", "phone") else "chat",
                "transcript": [t.model_dump() for t in ticket.transcript],
                "conversation_end_time": ticket.closed_at,
                "ticket_metadata": {"subject": ticket.subject},
            }
        )
        minimizer = minimizer_for(rt.snapshots, ticket.customer_id, rt.pii_detector)
        kept = minimize_next_steps(suggestion.model_dump(mode="json"), minimizer)
        record |= {"suggestion_id": suggestion.suggestion_id, "suggested": kept}  # stored minimized
    ticket_ref.set({"next_steps": record}, merge=True)
    return False


def _mark_repeats(ticket: TicketClosed, rt: Runtime) -> None:
    from google.cloud.firestore import FieldFilter

    customer_ref, _, _, _ = _refs(ticket, rt)
    key = customer_key(ticket.customer_id, rt.settings.pseudonym_key)
    window = timedelta(days=max(REPEAT_WINDOWS))
    others = customer_ref.collection("tickets").where(filter=FieldFilter("category", "==", ticket.category)).stream()
    for doc in others:
        other = doc.to_dict() or {}
        if doc.id == ticket.ticket_id or other.get("status") != "closed" or not other.get("closed_at"):
            continue
        pairs = []
        if other["closed_at"] <= ticket.opened_at <= other["closed_at"] + window:
            pairs.append((doc.id, other["closed_at"], ticket.ticket_id, ticket.opened_at))
        if other.get("opened_at") and ticket.closed_at <= other["opened_at"] <= ticket.closed_at + window:
            pairs.append((ticket.ticket_id, ticket.closed_at, doc.id, other["opened_at"]))
        for earlier, closed, later, opened in pairs:
            days = (opened - closed).total_seconds() / 86400
            flags: dict[str, bool] = {f"repeat_within_{d}d": True for d in REPEAT_WINDOWS if days <= d}
            if days <= min(REPEAT_WINDOWS):  # a repeat only ever takes first-contact resolution away
                flags["first_contact_resolved"] = False
            customer_ref.collection("tickets").document(earlier).set(flags, merge=True)
            rt.events.publish(
                RepeatContact(
                    event_id=_event_id("repeat", earlier, later),
                    earlier_ticket_id=earlier,
                    later_ticket_id=later,
                    customer_key=key,
                    category=ticket.category,
                    days_between=round(days, 3),
                )
            )


def _prune_history(customer_id: str, rt: Runtime) -> None:
    """Keep the newest CX_MAX_INTERACTIONS interactions; whole-history stats stay in ``stats``."""
    from google.cloud.firestore import Query

    col = rt.firestore.collection(rt.settings.customers_collection).document(customer_id).collection("interactions")
    old = col.order_by("occurred_at", direction=Query.DESCENDING).offset(rt.settings.max_interactions).limit(400)
    batch, n = rt.firestore.batch(), 0
    for doc in old.stream():
        batch.delete(doc.reference)
        n += 1
    if n:
        rt.snapshots.mark_changed(batch, customer_id)
        batch.commit()
