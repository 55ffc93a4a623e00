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
  the result does not depend on which close arrives first; a pair is reported only when it
  brings the earlier ticket's nearest repeat closer, and the earlier closes are read latest
  first until one closed before another opened, so a close reads a few tickets (indexed,
  paged), writes one batch and waits once for Pub/Sub, whatever the customer's history;
* events carry deterministic ids, so downstream de-duplication holds across redeliveries;
* the marker records when the events are published (or in the outbox): a redelivery after a
  crash between the transaction and the publish publishes them then, instead of dropping them;
  a redelivery of a finished close reads the marker and does nothing else;
* invalid payloads are published to the dead-letter topic and acknowledged; transient
  errors raise, so Pub/Sub retries;
* the snapshot change is counted on the customer's prepared context right after the transaction
  (a blind increment, so concurrent closes of one customer do not contend on it); the next request
  that needs the context rebuilds it (shared.safety.prepared_context).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shared.capabilities.events import RepeatContact, TicketClosedEvent
from shared.data.snapshots import IDENTIFIERS, Interaction, shard_increment
from shared.language.conversation import Turn
from shared.platform import logs
from shared.platform.calls import ID_PATTERN
from shared.safety.context_policy import minimize_next_steps, minimizer_for
from shared.safety.pii.base import customer_key

if TYPE_CHECKING:
    from shared.runtime import Runtime

REPEAT_WINDOWS = (7, 30)
READS = IDENTIFIERS
"""Of the snapshot, only to minimize the next steps it stores: the customer's identifiers (``minimizer_for``);
next_steps reads its own, and the close itself writes."""
BATCH_WRITES = 400  # Firestore allows 500 writes per batch


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
    if _finished(ticket, rt):  # a finished marker never changes back: no transaction, no other work
        log.info("duplicate ticket close ignored", extra={"fields": {"ticket_id": ticket.ticket_id}})
        return "duplicate"
    # before the processed marker: idempotent on its own, and a retry after a failure still closes them
    rt.commitments.close_for_ticket(ticket.ticket_id, customer_id=ticket.customer_id, at=ticket.closed_at)
    state = _close(ticket, rt)
    if state == "done":
        log.info("duplicate ticket close ignored", extra={"fields": {"ticket_id": ticket.ticket_id}})
        return "duplicate"
    _mark_context_stale(ticket, rt)
    stored = _refs(ticket, rt)[1].get().to_dict() or {}
    confirmed = _ensure_next_steps(ticket, stored, rt)
    repeats, flags = _repeats(ticket, stored, rt)
    _prune_history(ticket.customer_id, rt)
    closed = TicketClosedEvent(
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
    rt.events.publish_all([*repeats, closed])  # one wait for Pub/Sub (or the outbox) for all of them
    _finish(ticket, flags, rt)  # only now is a redelivery a pure duplicate
    return "processed" if state == "new" else "resumed"


def _mark_context_stale(ticket: TicketClosed, rt: Runtime, attempts: int = 3) -> None:
    """The close changed the snapshot: count it on the prepared context, so the next request rebuilds it.

    A blind increment after the transaction, not in it, and no rebuild here: a document that every
    close of a busy customer wrote or rebuilt in a transaction would serialize those closes (lock
    timeouts, 5xx). The next request that needs the context builds it once (shared.safety.
    prepared_context). A redelivery that resumes marks it again, which is harmless. If the mark
    cannot be written, the close still stands: logged, and the context may miss this one close
    until the customer's next change.
    """
    for attempt in range(attempts):
        try:
            marker = rt.firestore.batch()
            rt.snapshots.mark_changed(marker, ticket.customer_id)
            marker.commit()
            return
        except Exception as exc:  # noqa: BLE001 - the close is stored; see docstring
            if attempt == attempts - 1:
                logs.get_logger("ticket_closed").warning(
                    "prepared context not marked stale",
                    extra={"fields": {"ticket_id": ticket.ticket_id, "error": type(exc).__name__}},
                )


def _refs(ticket: TicketClosed, rt: Runtime) -> tuple[Any, Any, Any, Any]:
    db = rt.firestore
    customer = db.collection(rt.settings.customers_collection).document(ticket.customer_id)
    return (
        customer,
        customer.collection("tickets").document(ticket.ticket_id),
        customer.collection("interactions").document(f"{ticket.ticket_id}-close"),
        db.collection("ticket_closes").document(ticket.key.replace("/", "_")),
    )


def _finished(ticket: TicketClosed, rt: Runtime) -> bool:
    """Whether an earlier delivery committed this close and published its events (a plain read)."""
    marker = _refs(ticket, rt)[3].get(field_paths=["events_published"])
    return bool(marker.exists and (marker.to_dict() or {}).get("events_published", True))


def _close(ticket: TicketClosed, rt: Runtime) -> Literal["new", "pending", "done"]:
    """Snapshot update and processed marker in one transaction.

    "new": this delivery changed the snapshot; "pending": an earlier delivery did, but its
    events were never confirmed published (the instance died or the outbox was down in
    between), so the steps after the transaction run again (they are idempotent, events keep
    their ids); "done": a pure redelivery (raced with the one that finished it).
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
    refs = (marker_ref, customer_ref, ticket_ref, interaction_ref)

    @firestore.transactional
    def _txn(txn: firestore.Transaction) -> Literal["new", "pending", "done"]:
        # the four reads in one round trip
        by_path = {snap.reference.path: snap for snap in txn.get_all(list(refs))}
        marker, customer, existing, interaction_doc = (by_path[ref.path] for ref in refs)
        if marker.exists:  # markers written before this field existed count as published
            return "done" if (marker.to_dict() or {}).get("events_published", True) else "pending"
        if not customer.exists:
            raise LookupError(f"customer {ticket.customer_id} unknown")  # retried: the snapshot may lag
        if not interaction_doc.exists:
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


def _ensure_next_steps(ticket: TicketClosed, stored: dict[str, Any], rt: Runtime) -> bool:
    """A closed ticket always has next steps: extracted now (unconfirmed) if the agent never confirmed.

    ``stored`` is the ticket document as read after the snapshot transaction. Returns whether
    the agent had confirmed them.
    """
    existing = stored.get("next_steps")
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
    _refs(ticket, rt)[1].set({"next_steps": record}, merge=True)
    return False


def _days(earlier_close: datetime, later_open: datetime) -> float:
    return round((later_open - earlier_close).total_seconds() / 86400, 3)


def _repeats(ticket: TicketClosed, stored: dict[str, Any], rt: Runtime) -> tuple[list[RepeatContact], dict[str, Any]]:
    """Repeat contacts this close reveals, as events and the flag updates of the earlier tickets.

    Both directions (an earlier close of the category within 30 days before this opening; a
    later opening within 30 days after this close), so arrival order does not matter. A pair is
    reported only when it brings the earlier ticket's nearest known repeat (``repeat_min_days``)
    closer: the flags and the warehouse's MIN(days_between) per earlier ticket depend on nothing
    else, and one event and one write per pair grow with the square of a busy account's closes.

    The earlier closes are read latest first and the read stops at the first one that closed
    before another of them opened: that opening is a nearer repeat for it, and for every ticket
    closed before it, than this one. Each pair's nearest is still reported, by whichever of its
    two closes is processed second (the later one's scan cannot stop before reaching the earlier
    one, since nothing opened in between). A close reads a few tickets, whatever the history.
    """
    window = timedelta(days=max(REPEAT_WINDOWS))
    # earlier ticket id -> (days, later ticket id, repeat_min_days as stored)
    nearest: dict[str, tuple[float, str, float | None]] = {}
    earliest_opening: datetime | None = None  # of the closes read so far
    for doc_id, other in rt.snapshots.closed_latest_first(
        ticket.customer_id, ticket.category, ticket.opened_at - window, ticket.opened_at
    ):
        if doc_id == ticket.ticket_id:
            continue
        if earliest_opening is not None and earliest_opening >= other["closed_at"]:
            break
        days = _days(other["closed_at"], ticket.opened_at)
        nearest[doc_id] = (days, ticket.ticket_id, other.get("repeat_min_days"))
        if other.get("opened_at") is not None:
            opened = other["opened_at"]
            earliest_opening = opened if earliest_opening is None else min(earliest_opening, opened)
    later = [  # the earliest two: this ticket itself is among them only if it opened as it closed
        (_days(ticket.closed_at, other["opened_at"]), doc_id)
        for doc_id, other in rt.snapshots.opened_earliest_first(
            ticket.customer_id, ticket.category, ticket.closed_at, ticket.closed_at + window
        )
        if doc_id != ticket.ticket_id and other.get("closed_at")
    ]
    if later:  # this ticket is the earlier one: only its nearest later opening can matter
        days, doc_id = min(later)
        nearest[ticket.ticket_id] = (days, doc_id, stored.get("repeat_min_days"))
    key = customer_key(ticket.customer_id, rt.settings.pseudonym_key)
    events: list[RepeatContact] = []
    flags: dict[str, Any] = {}
    for earlier, (days, later_id, known) in sorted(nearest.items()):
        if known is not None and known <= days:
            continue  # an event with a repeat at least as near exists already
        events.append(
            RepeatContact(
                event_id=_event_id("repeat", earlier, later_id),
                earlier_ticket_id=earlier,
                later_ticket_id=later_id,
                customer_key=key,
                category=ticket.category,
                days_between=days,
            )
        )
        flags[earlier] = _flags(days)
    return events, flags


def _flags(days: float) -> dict[str, Any]:
    from google.cloud import firestore

    flags: dict[str, Any] = {f"repeat_within_{d}d": True for d in REPEAT_WINDOWS if days <= d}
    if days <= min(REPEAT_WINDOWS):  # a repeat only ever takes first-contact resolution away
        flags["first_contact_resolved"] = False
    flags["repeat_min_days"] = firestore.Minimum(days)  # concurrent closes keep the nearest
    return flags


def _finish(ticket: TicketClosed, flags: dict[str, Any], rt: Runtime) -> None:
    """Repeat flags of the earlier tickets and the marker's "events published", in batched writes.

    Runs after the events are published (or in the outbox): a stored ``repeat_min_days`` always
    has its event, and a crash before this point resumes on redelivery.
    """
    customer_ref, _, _, marker_ref = _refs(ticket, rt)
    tickets = customer_ref.collection("tickets")
    writes: list[tuple[Any, dict[str, Any]]] = [(tickets.document(t), f) for t, f in flags.items()]
    writes.append((marker_ref, {"events_published": True}))  # last: in the last batch
    for start in range(0, len(writes), BATCH_WRITES):
        batch = rt.firestore.batch()
        for ref, fields in writes[start : start + BATCH_WRITES]:
            batch.set(ref, fields, merge=True)
        batch.commit()


def _prune_history(customer_id: str, rt: Runtime) -> None:
    """Keep the newest CX_MAX_INTERACTIONS interactions; whole-history stats stay in ``stats``."""
    rt.snapshots.prune_interactions(customer_id, rt.settings.max_interactions)
