"""Promises kept: every confirmed next step becomes a commitment, tracked until it is done.

The rules several capabilities share (confirm_next_steps creates, commitment_update and
ticket_closed complete, commitment_sweep marks overdue, context_summary / reply_draft /
next_best_action / closing_message show them), in one service built by the runtime:

* a commitment is due at the end of its due day in the **customer's time zone**; company-side
  owners (agent, back office) follow the business calendar of the customer's country and
  subdivision (``holidays``, as due dates are resolved), the customer's own tasks calendar days.
  That instant is stored as ``due_at``, so the sweep is one indexed range query;
* ids are deterministic (suggestion, action index, action content): re-sending a confirmation
  changes nothing, a changed confirmation supersedes what it no longer contains;
* every change is versioned, kept in the document's history and announced as an event with a
  deterministic id (``commitment.<what>``), so redeliveries and repeated sweeps de-duplicate.
"""

from __future__ import annotations

import hashlib
import re
import time as _time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, Field

from shared.data.commitments import (
    ACTIVE,
    TERMINAL,
    Commitment,
    CommitmentRepository,
    DueSource,
    HistoryEntry,
    Owner,
    Status,
)
from shared.decisions.actions import FinalAction
from shared.language.duedates import CALENDAR_DAY_OWNERS, DueDateResolver, business_calendar
from shared.platform import logs
from shared.platform.errors import BadRequest, Conflict, Forbidden
from shared.platform.events import Event, EventPublisher
from shared.safety.guardrails import ReviewReason
from shared.safety.pii.base import customer_key

COMPANY_OWNERS: tuple[Owner, ...] = ("agent", "backoffice")
SAME_ACTION = 0.5
_GREETING = re.compile(r"^[^.!?,\n]{1,40}[,!]\s+")
SWEEP_WRITERS = 4  # batches committing while the next page is read (Firestore writes scale across documents)
Change = Literal["done", "extend", "cancel"]
CHANGE_ROLES: dict[str, tuple[str, ...]] = {
    "done": ("agent", "supervisor", "backoffice"),
    "extend": ("agent", "supervisor", "backoffice"),
    "cancel": ("supervisor", "backoffice"),  # withdrawing a promise is not an agent's call alone
}
EventType = Literal[
    "commitment.created",
    "commitment.overdue",
    "commitment.done",
    "commitment.extended",
    "commitment.cancelled",
    "commitment.superseded",
]


# --- pure rules ---------------------------------------------------------------------------------


def overdue_at(due: date, owner: str, tz: str, country: str | None, subdivision: str | None) -> datetime:
    """The instant (UTC) a commitment due on ``due`` becomes overdue: the end of its due day in the
    customer's time zone; a company-side due day that is not a business day moves to the next one."""
    day = due
    if owner not in CALENDAR_DAY_OWNERS:
        day = business_calendar(country, subdivision, due.year).forward(due)
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)


def commitment_id(suggestion_id: str, index: int, action: FinalAction) -> str:
    content = f"{suggestion_id}|{index}|{action.owner}|{action.description.strip().lower()}|{action.due_by}"
    return hashlib.sha256(content.encode()).hexdigest()[:32]


def due_source(action: FinalAction, suggested: list[dict[str, Any]]) -> DueSource | None:
    """Where the due date comes from: the words of the contact, the queue's service level, or the agent."""
    if action.due_by is None:
        return None
    best, match = SAME_ACTION, None
    for s in suggested:
        ratio = SequenceMatcher(None, str(s.get("description", "")).lower(), action.description.lower()).ratio()
        if ratio >= best:
            best, match = ratio, s
    if match is None or match.get("due_by") != action.due_by.isoformat():
        return "agent"
    return "service_level" if str(match.get("due_rule", "")).startswith("sla") else "said"


def days_late(c: Commitment, now: datetime) -> int:
    if c.due_at is None or now < c.due_at:
        return 0
    return (now - c.due_at).days + 1


def oldest_first(items: list[Commitment]) -> list[Commitment]:
    return sorted(items, key=lambda c: (c.due_at is None, c.due_at or c.created_at, c.created_at, c.commitment_id))


class CommitmentView(BaseModel):
    """A commitment as capabilities show it to the agent."""

    commitment_id: str
    ticket_id: str
    owner: Owner
    queue_code: str
    description: str
    due: date | None
    due_source: DueSource | None
    status: Status
    days_overdue: int = Field(ge=0)
    version: int


def view(c: Commitment, now: datetime) -> CommitmentView:
    return CommitmentView(
        commitment_id=c.commitment_id,
        ticket_id=c.ticket_id,
        owner=c.owner,
        queue_code=c.queue_code,
        description=c.description,
        due=c.due,
        due_source=c.due_source,
        status=c.status,
        days_overdue=days_late(c, now) if c.status == "overdue" else 0,
        version=c.version,
    )


class Texts(BaseModel):
    version: str
    languages: dict[str, dict[str, str]]

    @classmethod
    def load(cls, path: Path) -> Texts:
        return cls.model_validate(yaml.safe_load(path.read_text("utf-8")))

    def text(self, language: str, key: str, **values: Any) -> str:
        table = self.languages.get(language) or self.languages["en"]
        return (table.get(key) or self.languages["en"][key]).format(**values)


# --- events -------------------------------------------------------------------------------------


class CommitmentEvent(Event):
    """Every change of a commitment (the warehouse keeps the latest version per commitment)."""

    event_type: EventType
    commitment_id: str
    customer_key: str
    ticket_id: str
    suggestion_id: str
    owner: Owner
    queue_code: str
    resolver_group: str
    status: Status
    version: int
    due: date | None
    original_due: date | None
    due_source: DueSource | None
    due_at: datetime | None
    original_due_at: datetime | None
    changed_at: datetime
    actor: str | None = None
    reason: str | None = None
    texts_version: str


@dataclass(frozen=True)
class SweepResult:
    scanned: int
    marked: int
    pages: int
    complete: bool
    seconds: float


# --- the service --------------------------------------------------------------------------------


class CommitmentService:
    """Creates, completes, sweeps and shows commitments; one per instance (no per-call state)."""

    def __init__(
        self,
        repo: CommitmentRepository,
        events: EventPublisher,
        texts: Texts,
        pseudonym_key: str,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.repo = repo
        self._events = events
        self.texts = texts
        self._key = pseudonym_key
        self._clock = clock or (lambda: datetime.now(UTC))
        self._log = logs.get_logger("commitments")

    def now(self) -> datetime:
        return self._clock()

    # -- events

    def _event(
        self, c: Commitment, event_type: EventType, event_id: str, actor: str | None = None, reason: str | None = None
    ) -> CommitmentEvent:
        original_due_at = (
            overdue_at(c.original_due, c.owner, c.timezone, c.country, c.subdivision) if c.original_due else None
        )
        return CommitmentEvent(
            event_id=event_id,
            event_type=event_type,
            commitment_id=c.commitment_id,
            customer_key=customer_key(c.customer_id, self._key),
            ticket_id=c.ticket_id,
            suggestion_id=c.suggestion_id,
            owner=c.owner,
            queue_code=c.queue_code,
            resolver_group=c.resolver_group,
            status=c.status,
            version=c.version,
            due=c.due,
            original_due=c.original_due,
            due_source=c.due_source,
            due_at=c.due_at,
            original_due_at=original_due_at,
            changed_at=c.updated_at,
            actor=actor,
            reason=reason,
            texts_version=self.texts.version,
        )

    def _publish(self, c: Commitment, event_type: EventType, actor: str | None, reason: str | None = None) -> None:
        self._events.publish(self._event(c, event_type, f"{c.commitment_id}-v{c.version}", actor, reason))

    # -- creation

    def record_confirmation(
        self,
        *,
        customer_id: str,
        ticket_id: str,
        suggestion_id: str,
        actions: list[FinalAction],
        suggested: list[dict[str, Any]],
        queue_code: str,
        resolver_group: str,
        sla_business_days: int | None,
        agent_id: str | None,
        confirmed_at: datetime,
    ) -> list[Commitment]:
        """Every confirmed action as an open commitment; earlier versions of this confirmation superseded."""
        cal = self.repo.customer_calendar(customer_id) or {"timezone": "UTC", "country": None, "subdivision": None}
        tz, country, subdivision = _zone_name(cal["timezone"]), cal["country"], cal["subdivision"]
        now = self.now()
        wanted = []
        for i, action in enumerate(actions):
            due, source = action.due_by, due_source(action, suggested)
            if due is None and action.owner != "customer" and sla_business_days is not None:
                local = confirmed_at.astimezone(ZoneInfo(tz)).date()
                due = business_calendar(country, subdivision, local.year).add_business_days(local, sla_business_days)
                source = "service_level"
            entry = HistoryEntry(at=now, action="created", status="open", version=1, actor=agent_id, due=due)
            wanted.append(
                Commitment(
                    commitment_id=commitment_id(suggestion_id, i, action),
                    customer_id=customer_id,
                    ticket_id=ticket_id,
                    suggestion_id=suggestion_id,
                    action_index=i,
                    owner=action.owner,
                    owner_id=agent_id if action.owner == "agent" else None,
                    queue_code=queue_code,
                    resolver_group=resolver_group,
                    description=action.description,
                    due=due,
                    original_due=due,
                    due_source=source,
                    due_at=overdue_at(due, action.owner, tz, country, subdivision) if due else None,
                    timezone=tz,
                    country=country,
                    subdivision=subdivision,
                    created_at=now,
                    updated_at=now,
                    history=[entry],
                )
            )

        def supersede(c: Commitment) -> Commitment:
            return _next(c, "superseded", "superseded", now, agent_id, "confirmed again", closed=True)

        created, superseded = self.repo.replace_for_suggestion(suggestion_id, wanted, supersede)
        for c in superseded:
            self._publish(c, "commitment.superseded", agent_id, "confirmed again")
        for c in created:
            self._publish(c, "commitment.created", agent_id)
        return wanted

    # -- completion

    def update(
        self,
        commitment_id: str,
        change: Change,
        *,
        actor: str | None,
        role: str | None,
        reason: str | None = None,
        new_due: date | None = None,
        expected_version: int | None = None,
        occurred_at: datetime | None = None,
    ) -> tuple[Commitment, bool]:
        """done / extend / cancel; idempotent (a repeat returns the stored state unchanged), order-safe
        (``expected_version`` must match when given, terminal states never change) and audited."""
        if role is not None and role not in CHANGE_ROLES[change]:
            raise Forbidden(f"role {role!r} may not {change} a commitment")
        if change in ("extend", "cancel") and not (reason or "").strip():
            raise BadRequest(f"{change} needs a reason", details=[{"field": "reason", "problem": "required"}])
        if change == "extend" and new_due is None:
            raise BadRequest("extend needs a new due date", details=[{"field": "due", "problem": "required"}])
        now = self.now()
        at = min(occurred_at or now, now)
        target: Status = {"done": "done", "extend": "open", "cancel": "cancelled"}[change]  # type: ignore[assignment]

        def apply(c: Commitment) -> Commitment | None:
            if _is_repeat(c, change, new_due, reason):
                return None
            if c.status in TERMINAL:
                raise Conflict(f"commitment is already {c.status}")
            if expected_version is not None and expected_version != c.version:
                raise Conflict(f"commitment changed meanwhile (version {c.version}, expected {expected_version})")
            if change == "extend":
                assert new_due is not None
                if c.due is not None and new_due <= c.due:
                    raise BadRequest(
                        "an extension must move the due date later",
                        details=[{"field": "due", "problem": f"must be after {c.due}"}],
                    )
                due_at = overdue_at(new_due, c.owner, c.timezone, c.country, c.subdivision)
                status: Status = "overdue" if due_at <= now else "open"
                return _next(c, "extended", status, at, actor, reason, due=new_due, due_at=due_at)
            return _next(c, change if change == "done" else "cancelled", target, at, actor, reason, closed=True)

        stored, changed = self.repo.change(commitment_id, apply)
        if changed:
            kind: EventType = {
                "done": "commitment.done",
                "extend": "commitment.extended",
                "cancel": "commitment.cancelled",
            }[change]  # type: ignore[assignment]
            self._publish(stored, kind, actor, reason)
        return stored, changed

    def close_for_ticket(
        self, ticket_id: str, *, customer_id: str | None = None, at: datetime | None = None, source: str = "ticketing"
    ) -> list[Commitment]:
        """A closed ticket (or its linked task done) closes that ticket's open commitments.

        For ticket_closed and the ticketing system's change events (snapshot sync). Idempotent: a
        redelivered close finds nothing active. The customer's own open tasks are closed as well:
        the ticket system closing the case is the authoritative end of the contact's work."""
        closed = []
        found = self.repo.active_for(ticket_id=ticket_id)  # one equality + status: the (ticket_id, status) index
        for c in [c for c in found if customer_id is None or c.customer_id == customer_id]:
            stored, changed = self.update(
                c.commitment_id, "done", actor=f"ticket:{source}", role=None, reason="ticket closed", occurred_at=at
            )
            if changed:
                closed.append(stored)
        return closed

    # -- overdue sweep

    def sweep(self, *, page_size: int, budget_s: float, now: datetime | None = None) -> SweepResult:
        """Mark every open commitment whose due instant has passed as overdue and emit ``commitment.overdue``.

        One indexed query (status, due_at), cursor-paginated; each page is written as one batch whose
        documents are written only if unchanged since read (a concurrent 'done' wins). Events are published
        after the batch commits, with ids fixed per commitment and due date, so a second run (or a
        redelivered trigger) finds nothing left to mark and re-emits nothing. Stops at ``budget_s`` with
        ``complete=False``: the caller continues in a new run (marked commitments leave the query)."""
        now = now or self.now()
        start = _time.perf_counter()
        scanned = pages = marked = 0
        complete = True
        in_flight: deque[Future[int]] = deque()
        with ThreadPoolExecutor(max_workers=SWEEP_WRITERS, thread_name_prefix="cx-sweep") as writers:
            for page in self.repo.due_pages(now, page_size):  # the next page is read while batches commit
                pages += 1
                scanned += len(page)
                changes = []
                for snap in page:
                    c = Commitment.model_validate(snap.to_dict())
                    if c.status == "open" and c.due_at is not None and c.due_at <= now:
                        changes.append(
                            (snap, _next(c, "overdue", "overdue", now, "sweep", None, overdue_since=c.due_at))
                        )
                if changes:
                    in_flight.append(writers.submit(self._mark_overdue, changes))
                while len(in_flight) >= SWEEP_WRITERS:
                    marked += in_flight.popleft().result()
                if _time.perf_counter() - start > budget_s:
                    complete = False
                    break
            marked += sum(f.result() for f in in_flight)
        self._events.flush(timeout=30.0)
        took = _time.perf_counter() - start
        self._log.info(
            "commitment sweep",
            extra={
                "fields": {
                    "scanned": scanned,
                    "marked": marked,
                    "pages": pages,
                    "complete": complete,
                    "seconds": round(took, 3),
                }
            },
        )
        return SweepResult(scanned, marked, pages, complete, took)

    def _mark_overdue(self, changes: list[tuple[Any, Commitment]]) -> int:
        """One page: the preconditioned batch, then an event for each commitment this run really wrote."""
        written = self.repo.write_batch(changes)
        if written != len(changes):  # some changed meanwhile: announce only what this run wrote
            ids = self.repo.written_ids(changes)
            changes = [ch for ch in changes if ch[1].commitment_id in ids]
        for _, c in changes:
            self._events.publish(self._event(c, "commitment.overdue", f"{c.commitment_id}-overdue-{c.due}", "sweep"))
        return len(changes)

    # -- shown where it matters

    def owed(self, customer_id: str) -> list[Commitment]:
        """What the company owes the customer: open and overdue company-side commitments, oldest first."""
        return oldest_first([c for c in self.repo.active_for(customer_id=customer_id) if c.owner in COMPANY_OWNERS])

    def views(self, items: list[Commitment]) -> list[CommitmentView]:
        now = self.now()
        return [view(c, now) for c in items]

    def has_overdue(self, customer_id: str) -> bool:
        return any(c.status == "overdue" for c in self.owed(customer_id))

    def summary_line(self, owed: list[Commitment], language: str) -> str | None:
        if not owed:
            return None
        oldest = owed[0]
        overdue = sum(c.status == "overdue" for c in owed)
        values = {
            "count": len(owed),
            "overdue": overdue,
            "description": oldest.description.rstrip(".!"),
            "day": oldest.due.isoformat() if oldest.due else "—",
            "days": days_late(oldest, self.now()),
        }
        key = "summary_owed_overdue" if oldest.status == "overdue" else "summary_owed"
        return self.texts.text(language, key, **values)

    def acknowledge_overdue(self, reply: str, owed: list[Commitment], language: str) -> str:
        """The reply with an apology for the overdue promise(s) right after the greeting, before anything else."""
        overdue = [c for c in owed if c.status == "overdue"]
        if not overdue:
            return reply
        first = overdue[0]
        values = {
            "count": len(overdue),
            "description": first.description.rstrip(".!"),
            "day": first.due.isoformat() if first.due else "—",
        }
        ack = self.texts.text(language, "reply_ack_one" if len(overdue) == 1 else "reply_ack_many", **values)
        if ack in reply:
            return reply
        for sep in ("\n\n", "\n"):  # letters and notes: the greeting is the first paragraph or line
            head, found, rest = reply.partition(sep)
            if found:
                return f"{head}{sep}{ack}{sep}{rest}"
        greeting = _GREETING.match(reply)  # a chat line: "Hi Priya, …" keeps its salutation first
        if greeting:
            return f"{greeting.group(0)}{ack} {reply[greeting.end() :]}"
        return f"{ack} {reply}"

    def contradictions(self, owed: list[Commitment], promised: list[date]) -> list[ReviewReason]:
        """A review flag when the draft names a date no open promise has: a new promise beside (or against)
        the ones the customer is still waiting for. The agent decides; nothing is rewritten."""
        dues = {c.due for c in owed if c.due is not None}
        if not dues:
            return []
        listed = "; ".join(f"'{c.description[:60]}' due {c.due} ({c.status})" for c in owed if c.due)[:300]
        return [
            ReviewReason(
                code="commitment:contradicts_open_promise",
                source="reply",
                sentence=None,
                detail=f"draft promises {day}; open promises: {listed}",
            )
            for day in sorted(set(promised) - dues)
        ]

    def still_open(self, customer_id: str, exclude_ticket: str | None, language: str) -> dict[str, Any] | None:
        """Open promises from other contacts for the closing message: a heading and one line each."""
        items = [
            c for c in oldest_first(self.repo.active_for(customer_id=customer_id)) if c.ticket_id != exclude_ticket
        ][:5]
        if not items:
            return None
        t = lambda key, **v: self.texts.text(language, key, **v)  # noqa: E731
        lines = [
            f"- {t(f'who_{c.owner}')}: {c.description.rstrip('.!')}" + (t("by", day=c.due.isoformat()) if c.due else "")
            for c in items
        ]
        return {"heading": t("closing_still_open"), "lines": lines}


def promised_dates(
    resolver: DueDateResolver, text: str, language: str, profile: Any, now: datetime | None = None
) -> list[date]:
    """The dates a draft commits to, sentence by sentence, resolved as the company's own deadlines."""
    from shared.language.nlp import split_sentences

    address = getattr(profile, "address", None)
    days = []
    for sentence in split_sentences(text):
        phrase = resolver.find_phrase(sentence, language)
        if not phrase:
            continue
        due = resolver.resolve(
            phrase,
            end=now or datetime.now(UTC),
            tz=profile.timezone,
            language=language,
            country=address.country if address else None,
            owner="agent",
            subdivision=address.subdivision if address else None,
            sentence=sentence,
        )
        if due.due_by is not None and due.status in ("resolved", "confirm"):
            days.append(due.due_by)
    return days


def _zone_name(tz: str) -> str:
    """The customer's IANA zone, or UTC when the profile holds one the system does not know."""
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return tz


def _is_repeat(c: Commitment, change: Change, new_due: date | None, reason: str | None) -> bool:
    if change == "done":
        return c.status == "done"
    if change == "cancel":
        return c.status == "cancelled"
    last = c.history[-1] if c.history else None
    return bool(last and last.action == "extended" and c.due == new_due and last.reason == reason)


def _next(
    c: Commitment,
    action: str,
    status: Status,
    at: datetime,
    actor: str | None,
    reason: str | None,
    *,
    closed: bool = False,
    due: date | None = None,
    due_at: datetime | None = None,
    overdue_since: datetime | None = None,
) -> Commitment:
    version = c.version + 1
    changes: dict[str, Any] = {"status": status, "version": version, "updated_at": at}
    if closed:
        changes["closed_at"] = at
    if due is not None:
        changes |= {"due": due, "due_at": due_at, "due_source": "agent", "overdue_since": None}
    if overdue_since is not None:
        changes["overdue_since"] = overdue_since
    entry = HistoryEntry(
        at=at,
        action=action,
        status=status,
        version=version,
        actor=actor,
        reason=reason,
        due=due if due is not None else c.due,
    )
    return c.model_copy(update=changes | {"history": [*c.history, entry]})


__all__ = ["ACTIVE", "CommitmentEvent", "CommitmentService", "CommitmentView", "SweepResult", "Texts", "overdue_at"]
