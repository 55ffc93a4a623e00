"""A customer's prompt context, prepared when the snapshot is written and read as one document.

Without it (``CX_PREPARED_CONTEXT=false``, and the path a prepared context is proven equal to)
every request reads the bounded snapshot, filters it by the data-access policy, cuts it to the
token budget and masks it, spaCy NER included. Everything but the policy filter and the budget
cut depends only on the snapshot, so it is done once per change instead:

* **on write** (snapshot sync, ticket close) :meth:`PreparedContexts.refresh` reads the bounded
  snapshot once, masks every fact a context could show with one pseudonymizer (the customer's
  known identifiers, then detected PII), keeps of each history list only what any budget could
  use, and stores the masked facts, the raw JSON length of each (what the budget counts) and the
  pseudonym mapping in ``customers/{id}/context/prepared``, with the snapshot ``version`` it was
  built from and a hash of that snapshot;
* **per request** :meth:`PreparedContext.assemble` applies the policy and the budget by integer
  arithmetic on the stored lengths (the same round-robin fill as :func:`build_context`, so the
  same facts are chosen, whatever the channel or policy), and :meth:`PreparedContext.pseudonymizer`
  goes on from the stored mapping with only the placeholders the assembled context shows: the
  request masks only the text it received, with numbers the stored mapping never used, and never
  runs NER over stored history.

A stored context is used only while it is current: its ``built_version`` equals ``version``
(which every snapshot write increments, shared.data.snapshots.mark_changed), its ``config_key``
matches this instance's (layout, PII configuration and backend, budget, snapshot limit) and
``expire_at`` has not passed (the end of the month, as tenure is counted in months, or the
retention end of the oldest interaction it holds, at least a day ahead; a Firestore TTL policy
on ``expire_at`` deletes it then as well). Otherwise the request builds it, logs why (INFO, ``reason``) and
writes it back. The mapping is personal data: it lives beside the snapshot, is exported and
erased with it (shared.data.privacy: every document under ``customers/{id}``) and expires no
later than the history it came from.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from shared.data.snapshots import FULL, Customer, CustomerSnapshot, Reads, Ticket
from shared.platform import logs
from shared.platform.errors import NotFound
from shared.platform.tokens import CHARS_PER_TOKEN
from shared.safety.context_policy import (
    OMITTED_RESERVE,
    BuiltContext,
    customer_facts,
    fill,
    history_fact,
    interaction_fact,
    item_cost,
    order_fact,
    pseudonymizer_for,
    ticket_fact,
)
from shared.safety.pii.base import PLACEHOLDER, PiiDetector, Pseudonymizer, PseudonymMapping, customer_key

if TYPE_CHECKING:
    from shared.data.snapshots import SnapshotRepository

LAYOUT = 1
"""Version of the stored layout and of how it is built; a change makes every stored context stale."""
RECENT_SCORES = 5
"""Sentiment scores of the latest contacts kept for next_best_action (it blends the latest five)."""
_VERSION_ONLY = Reads(prepared=True)
EXPIRED_GRACE = timedelta(days=1)
"""How long a context may keep an interaction already past its retention (until the TTL deletes it)."""


def json_length(value: Any) -> int:
    """Characters of ``value`` as JSON, exactly as :func:`shared.platform.tokens.estimate_tokens` counts."""
    return len(json.dumps(value, ensure_ascii=False, default=str))


def object_length(members: list[tuple[str, int]]) -> int:
    """JSON length of an object from its keys and the JSON lengths of its values (``{"k": v, ...}``)."""
    return 2 + sum(json_length(k) + 2 + n for k, n in members) + 2 * max(0, len(members) - 1)


def array_length(lengths: list[int]) -> int:
    """JSON length of an array from the JSON lengths of its items (``[a, b]``)."""
    return 2 + sum(lengths) + 2 * max(0, len(lengths) - 1)


def tokens(length: int) -> int:
    return math.ceil(length / CHARS_PER_TOKEN)


class Fact(BaseModel):
    """One masked value and the JSON length of its raw (unmasked) form, which is what the budget counts."""

    v: Any
    n: int = Field(ge=1)

    @classmethod
    def of(cls, raw: Any, masked: Any) -> Fact:
        return cls(v=masked, n=json_length(raw))


class CustomerFact(Fact):
    field: str = Field(description="The data-access policy field that allows it.")
    key: str = Field(description="Its key in the context's customer object.")


class TicketFact(Fact):
    ticket_id: str
    open: bool


class PreparedContext(BaseModel):
    """What is stored: every fact a context for this customer could show, masked, with raw lengths."""

    layout: int = LAYOUT
    config_key: str
    source_hash: str = Field(description="SHA-256 of the snapshot it was built from.")
    built_at: datetime
    expire_at: datetime
    token_budget: int
    customer: list[CustomerFact]
    history: Fact
    interactions_total: int
    tickets: list[TicketFact] = Field(description="Every ticket of the snapshot, newest first.")
    interactions: list[Fact] = Field(description="The latest interactions any budget could show, newest first.")
    interactions_read: int = Field(description="Interactions in the snapshot (omitted counts).")
    orders: list[Fact]
    orders_read: int
    recent_scores: list[float]
    mapping: PseudonymMapping

    def ticket(self, ticket_id: str) -> TicketFact | None:
        return next((t for t in self.tickets if t.ticket_id == ticket_id), None)

    def assemble(self, allowed: frozenset[str], current: Fact | None = None) -> BuiltContext:
        """The masked context :func:`build_context` would build for ``allowed`` (and the current ticket),
        chosen by the same fill from the stored raw lengths; ``estimated_tokens`` is that of the raw context."""
        customer = [f for f in self.customer if f.field in allowed]
        data: dict[str, Any] = {"customer": {f.key: f.v for f in customer}}
        fixed = [("customer", object_length([(f.key, f.n) for f in customer]))]
        if "history_stats" in allowed:
            data["history"] = self.history.v
            fixed.append(("history", self.history.n))
        if current is not None and "current_ticket" in allowed:
            data["current_ticket"] = current.v
            fixed.append(("current_ticket", current.n))
        pools: list[tuple[str, list[Fact], int]] = []
        if "open_tickets" in allowed:
            open_tickets: list[Fact] = [t for t in self.tickets if t.open]
            pools.append(("open_tickets", open_tickets, len(open_tickets)))
        if "interactions" in allowed:
            pools.append(("recent_interactions", list(self.interactions), self.interactions_read))
        if "orders" in allowed:
            pools.append(("recent_orders", list(self.orders), self.orders_read))

        used = tokens(object_length(fixed)) + OMITTED_RESERVE
        costs = [(name, [tokens(f.n) + 1 for f in facts]) for name, facts, _ in pools]
        included = fill(used, costs, self.token_budget)
        members = list(fixed)
        for name, facts, _ in pools:
            taken = facts[: included[name]]
            data[name] = [f.v for f in taken]
            members.append((name, array_length([f.n for f in taken])))
        omitted = {name: total - included[name] for name, _, total in pools}
        if "interactions" in allowed:
            omitted["recent_interactions"] = max(
                omitted.get("recent_interactions", 0), self.interactions_total - included.get("recent_interactions", 0)
            )
        data["omitted_counts"] = {k: v for k, v in omitted.items() if v}
        members.append(("omitted_counts", json_length(data["omitted_counts"])))
        return BuiltContext(
            data=data, estimated_tokens=tokens(object_length(members)), included=included, omitted=omitted
        )

    def pseudonymizer(self, detector: PiiDetector, shown: Any = None) -> Pseudonymizer:
        """Goes on from the stored mapping: the customer's identifiers, and the detected values whose
        placeholders ``shown`` (the assembled context) contains; nothing else can be restored."""
        keep = set(PLACEHOLDER.findall(json.dumps(shown, ensure_ascii=False))) if shown is not None else set()
        return Pseudonymizer.from_mapping(detector, self.mapping, keep=keep)

    @property
    def own_values(self) -> set[str]:
        """The customer's own identifiers (lower case), from their stored record only."""
        return {self.mapping.originals[p].lower() for p in self.mapping.identifiers if p in self.mapping.originals}


def prompt_context(
    prepared: PreparedContext, detector: PiiDetector, allowed: frozenset[str], ticket: TicketFact | Ticket | None = None
) -> tuple[BuiltContext, Pseudonymizer]:
    """The masked, budgeted context for one request and the pseudonymizer that restores its output.

    ``ticket``: the current ticket, as stored with the context or, when it is not among the
    snapshot's latest tickets, as read now (then masked here: the one stored text a request masks).
    """
    raw = ticket_fact(ticket) if isinstance(ticket, Ticket) else None
    current = Fact.of(raw, raw) if raw is not None else ticket if isinstance(ticket, TicketFact) else None
    built = prepared.assemble(allowed, current)
    pseudo = prepared.pseudonymizer(detector, built.data)
    if raw is not None and "current_ticket" in built.data:
        built.data["current_ticket"] = pseudo.mask_obj(raw)
    return built, pseudo


def _bounded(items: list[dict[str, Any]], token_budget: int) -> list[dict[str, Any]]:
    """The longest prefix any fill could take: one item more would cross the budget on its own."""
    kept, used = [], 0
    for item in items:
        used += item_cost(item)
        if used > token_budget:
            break
        kept.append(item)
    return kept


def _next_month(now: datetime) -> datetime:
    first = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first + timedelta(days=32)).replace(day=1)


def build(
    snapshot: CustomerSnapshot,
    detector: PiiDetector,
    *,
    token_budget: int,
    config_key: str,
    interaction_days: int | None = None,
    now: datetime | None = None,
) -> PreparedContext:
    """Mask every fact of a (whole, bounded) snapshot once; see the module docstring."""
    if not snapshot.complete:
        raise ValueError(f"a prepared context needs the whole bounded snapshot, got only {sorted(snapshot.parts)}")
    now = now or datetime.now(UTC)
    c: Customer = snapshot.customer
    pseudo = pseudonymizer_for(snapshot, detector)
    identifiers = list(pseudo.placeholders)  # before any text is masked: the customer's own record
    facts = customer_facts(c, now)
    raw = {
        "customer": [value for _, _, value in facts],
        "history": history_fact(c),
        "tickets": [ticket_fact(t) for t in snapshot.tickets],
        "interactions": _bounded([interaction_fact(i) for i in snapshot.interactions], token_budget),
        "orders": _bounded([order_fact(o) for o in snapshot.orders], token_budget),
    }
    masked = pseudo.mask_obj(raw)
    kept = snapshot.interactions[: len(raw["interactions"])]
    expire_at = _next_month(now)
    if interaction_days is not None and kept:
        oldest = min(i.occurred_at for i in kept) + timedelta(days=interaction_days)
        # one already past its retention waits for Firestore's TTL deletion: a day, not a rebuild per request
        expire_at = min(expire_at, max(oldest, now + EXPIRED_GRACE))
    return PreparedContext(
        config_key=config_key,
        source_hash=hashlib.sha256(snapshot.model_dump_json().encode()).hexdigest(),
        built_at=now,
        expire_at=expire_at,
        token_budget=token_budget,
        customer=[
            CustomerFact(field=field, key=key, v=m, n=json_length(value))
            for (field, key, value), m in zip(facts, masked["customer"], strict=True)
        ],
        history=Fact.of(raw["history"], masked["history"]),
        interactions_total=c.stats.interactions_total,
        tickets=[
            TicketFact(ticket_id=t.ticket_id, open=t.status != "closed", v=m, n=json_length(r))
            for t, r, m in zip(snapshot.tickets, raw["tickets"], masked["tickets"], strict=True)
        ],
        interactions=[Fact.of(r, m) for r, m in zip(raw["interactions"], masked["interactions"], strict=True)],
        interactions_read=len(snapshot.interactions),
        orders=[Fact.of(r, m) for r, m in zip(raw["orders"], masked["orders"], strict=True)],
        orders_read=len(snapshot.orders),
        recent_scores=[i.sentiment_score for i in snapshot.interactions[:RECENT_SCORES]],
        mapping=pseudo.mapping(identifiers),
    )


def document(prepared: PreparedContext) -> dict[str, Any]:
    """The Firestore document: the context as one JSON string (key order kept, one unindexed field),
    what staleness is judged by beside it."""
    return {
        "layout": prepared.layout,
        "config_key": prepared.config_key,
        "source_hash": prepared.source_hash,
        "built_at": prepared.built_at,
        "expire_at": prepared.expire_at,
        "built": prepared.model_dump_json(),
    }


def stale_reason(stored: dict[str, Any] | None, config_key: str, now: datetime | None = None) -> str | None:
    """Why a stored document cannot be used (missing, stale, config_changed, expired), None if it can."""
    if not stored or not stored.get("built"):
        return "missing"
    if int(stored.get("built_version", -1)) != int(stored.get("version") or 0):
        return "stale"
    if stored.get("config_key") != config_key or stored.get("layout") != LAYOUT:
        return "config_changed"
    expire_at = stored.get("expire_at")
    if not isinstance(expire_at, datetime) or expire_at <= (now or datetime.now(UTC)):
        return "expired"
    return None


class PreparedContexts:
    """Builds, stores and serves prepared contexts; stateless, shared by every request of an instance."""

    def __init__(
        self,
        repo: SnapshotRepository,
        detector: PiiDetector,
        *,
        token_budget: int,
        snapshot_limit: int,
        pii_backend: str,
        pseudonym_key: str,
        interaction_days: int | None = None,
    ) -> None:
        self._repo = repo
        self._detector = detector
        self._budget = token_budget
        self._limit = snapshot_limit
        self._key = pseudonym_key
        self._interaction_days = interaction_days
        basis = [LAYOUT, detector.config.version, pii_backend, token_budget, snapshot_limit, interaction_days]
        self.config_key = hashlib.sha256(json.dumps(basis).encode()).hexdigest()[:16]

    def build(self, snapshot: CustomerSnapshot, now: datetime | None = None) -> PreparedContext:
        return build(
            snapshot,
            self._detector,
            token_budget=self._budget,
            config_key=self.config_key,
            interaction_days=self._interaction_days,
            now=now,
        )

    def current(self, customer_id: str, stored: dict[str, Any] | None, *, capability: str) -> PreparedContext:
        """The stored context if it is current, else one built now from the snapshot and written back.

        ``stored`` is the document as read with the customer (before the snapshot is read again
        here), so its ``version`` is the one the rebuild is checked against when written.
        """
        reason = stale_reason(stored, self.config_key)
        if reason is None:
            assert stored is not None
            try:
                return PreparedContext.model_validate_json(stored["built"])
            except ValueError:
                reason = "invalid"
        version = int((stored or {}).get("version") or 0)
        prepared = self.build(self._repo.get_snapshot(customer_id, self._limit, FULL))
        written = self._repo.put_prepared(customer_id, document(prepared), seen_version=version)
        logs.get_logger("prepared_context").info(
            "prepared context built on read",
            extra={
                "fields": {
                    "reason": reason,
                    "capability": capability,
                    "customer_key": customer_key(customer_id, self._key),
                    "version": version,
                    "written": written,
                }
            },
        )
        return prepared

    def after_write(self, customer_ids: list[str], *, source: str) -> int:
        """Refresh each changed customer's context; returns how many were written.

        A failure is logged, never raised: the change itself is stored and already marks the old
        context stale, so the next request builds it (a redelivery would find a duplicate and
        refresh nothing).
        """
        written = 0
        for customer_id in dict.fromkeys(customer_ids):
            try:
                written += self.refresh(customer_id)
            except Exception as exc:  # noqa: BLE001 - see docstring
                logs.get_logger("prepared_context").warning(
                    "prepared context not refreshed; the next request builds it",
                    extra={
                        "fields": {
                            "source": source,
                            "customer_key": customer_key(customer_id, self._key),
                            "error": type(exc).__name__,
                        }
                    },
                )
        return written

    def refresh(self, customer_id: str) -> bool:
        """After a snapshot write: build from the snapshot as of now and store it; False when a newer
        change (or a deletion) came in between, whose own writer or the next read builds it then."""
        try:
            stored = self._repo.read(customer_id, _VERSION_ONLY).prepared  # the version first, then the snapshot
            version = int((stored or {}).get("version") or 0)
            prepared = self.build(self._repo.get_snapshot(customer_id, self._limit, FULL))
        except NotFound:  # deleted meanwhile: nothing to prepare
            return False
        return self._repo.put_prepared(customer_id, document(prepared), seen_version=version)
