"""Commitments (``commitments/{commitment_id}``): every confirmed next step, tracked until it is done.

One top-level collection (not under the customer) so that the overdue sweep can run a single
indexed query across all customers: ``status == "open" AND due_at <= now ORDER BY due_at``
(composite index in infra/terraform/firestore.tf). ``due_at`` is the instant the commitment
becomes overdue, fixed when the due date is set (customer's time zone, owner's business
calendar: shared/decisions/commitments.py), so the sweep needs no per-customer computation.

Every change runs in a transaction that checks the document's ``version`` and appends to its
``history``; terminal states (done, cancelled, superseded) never change again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer

if TYPE_CHECKING:
    from google.cloud import firestore

Status = Literal["open", "done", "overdue", "cancelled", "superseded"]
Owner = Literal["agent", "customer", "backoffice"]
DueSource = Literal["said", "service_level", "agent"]
ACTIVE: tuple[Status, ...] = ("open", "overdue")
TERMINAL: tuple[Status, ...] = ("done", "cancelled", "superseded")


class HistoryEntry(BaseModel):
    model_config = ConfigDict(extra="ignore")

    at: datetime
    action: str = Field(description="created, overdue, done, extended, cancelled, superseded")
    status: Status
    version: int
    actor: str | None = Field(default=None, description="agent id, 'sweep', 'ticket:<system>'")
    reason: str | None = None
    due: date | None = None

    @field_serializer("due")
    def _iso(self, value: date | None) -> str | None:
        return value.isoformat() if value else None


class Commitment(BaseModel):
    """The stored document; dates are ISO strings in Firestore, instants are timestamps."""

    model_config = ConfigDict(extra="ignore")

    commitment_id: str
    customer_id: str
    ticket_id: str
    suggestion_id: str
    action_index: int
    owner: Owner
    owner_id: str | None = Field(default=None, description="The agent who made the promise (owner agent).")
    queue_code: str
    resolver_group: str
    description: str
    due: date | None = None
    original_due: date | None = None
    due_source: DueSource | None = None
    due_at: datetime | None = Field(default=None, description="When it becomes overdue (UTC); None = never.")
    timezone: str
    country: str | None = None
    subdivision: str | None = None
    status: Status = "open"
    version: int = 1
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    overdue_since: datetime | None = None
    history: list[HistoryEntry] = Field(default_factory=list)

    @field_serializer("due", "original_due")
    def _iso(self, value: date | None) -> str | None:
        return value.isoformat() if value else None

    def doc(self) -> dict[str, Any]:
        return self.model_dump(mode="python")

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


class StaleVersion(Exception):
    """The caller's expected version is not the stored one (someone else changed it first)."""


class CommitmentRepository:
    def __init__(self, client: firestore.Client, collection: str, customers: str) -> None:
        self._db = client
        self._col = client.collection(collection)
        self._customers = client.collection(customers)

    def customer_calendar(self, customer_id: str) -> dict[str, Any] | None:
        """Time zone, country and subdivision of the customer (None if unknown)."""
        snap = self._customers.document(customer_id).get(field_paths=["profile"])
        if not snap.exists:
            return None
        profile = (snap.to_dict() or {}).get("profile") or {}
        address = profile.get("address") or {}
        return {
            "timezone": profile.get("timezone") or "UTC",
            "country": address.get("country"),
            "subdivision": address.get("subdivision"),
        }

    def get(self, commitment_id: str) -> Commitment | None:
        snap = self._col.document(commitment_id).get()
        return Commitment.model_validate(snap.to_dict()) if snap.exists else None

    def for_suggestion(self, suggestion_id: str) -> list[Commitment]:
        from google.cloud.firestore import FieldFilter

        query = self._col.where(filter=FieldFilter("suggestion_id", "==", suggestion_id))
        return [Commitment.model_validate(d.to_dict()) for d in query.stream()]

    def active_for(
        self, *, customer_id: str | None = None, ticket_id: str | None = None, limit: int = 100
    ) -> list[Commitment]:
        """Open and overdue commitments of a customer (or of a ticket), by due date, undated last."""
        from google.cloud.firestore import FieldFilter

        query = self._col.where(filter=FieldFilter("status", "in", list(ACTIVE)))
        if customer_id is not None:
            query = query.where(filter=FieldFilter("customer_id", "==", customer_id))
        if ticket_id is not None:
            query = query.where(filter=FieldFilter("ticket_id", "==", ticket_id))
        found = [Commitment.model_validate(d.to_dict()) for d in query.limit(limit).stream()]
        return sorted(found, key=lambda c: (c.due_at is None, c.due_at or c.created_at, c.created_at))

    def replace_for_suggestion(
        self, suggestion_id: str, wanted: list[Commitment], supersede: Callable[[Commitment], Commitment]
    ) -> tuple[list[Commitment], list[Commitment]]:
        """Create the wanted commitments that do not exist yet and supersede the suggestion's other active
        ones, in one transaction. Returns (created, superseded); a repeat returns ([], [])."""
        from google.cloud import firestore
        from google.cloud.firestore import FieldFilter

        refs = {c.commitment_id: self._col.document(c.commitment_id) for c in wanted}
        query = self._col.where(filter=FieldFilter("suggestion_id", "==", suggestion_id))

        @firestore.transactional
        def _txn(txn: firestore.Transaction) -> tuple[list[Commitment], list[Commitment]]:
            existing = {d.id: Commitment.model_validate(d.to_dict()) for d in query.stream(transaction=txn)}
            created = [c for c in wanted if c.commitment_id not in existing]
            superseded = [supersede(c) for cid, c in existing.items() if cid not in refs and c.active]
            for c in created:
                txn.create(refs[c.commitment_id], c.doc())
            for c in superseded:
                txn.set(self._col.document(c.commitment_id), c.doc())
            return created, superseded

        return _txn(self._db.transaction())

    def change(self, commitment_id: str, apply: Callable[[Commitment], Commitment | None]) -> tuple[Commitment, bool]:
        """Read, apply (None = nothing to change) and write back in one transaction.

        ``apply`` raises to refuse (stale version, terminal state). Returns (stored, changed)."""
        from google.cloud import firestore

        from shared.platform.errors import NotFound

        ref = self._col.document(commitment_id)

        @firestore.transactional
        def _txn(txn: firestore.Transaction) -> tuple[Commitment, bool]:
            snap = ref.get(transaction=txn)
            if not snap.exists:
                raise NotFound(f"commitment {commitment_id!r} not found")
            current = Commitment.model_validate(snap.to_dict())
            updated = apply(current)
            if updated is None:
                return current, False
            txn.set(ref, updated.doc())
            return updated, True

        return _txn(self._db.transaction())

    def due_pages(self, now: datetime, page_size: int) -> Iterator[list[Any]]:
        """Pages of open commitments whose ``due_at`` has passed, oldest first (cursor-paginated).

        The one query the sweep runs; served by the (status, due_at) composite index."""
        from google.cloud.firestore import FieldFilter

        base = (
            self._col.where(filter=FieldFilter("status", "==", "open"))
            .where(filter=FieldFilter("due_at", "<=", now))
            .order_by("due_at")
            .limit(page_size)
        )
        cursor = None
        while True:
            query = base.start_after(cursor) if cursor is not None else base
            page = list(query.stream())
            if not page:
                return
            yield page
            if len(page) < page_size:
                return
            cursor = page[-1]

    def write_batch(self, changes: list[tuple[Any, Commitment]]) -> int:
        """Write swept commitments in one batch, each only if unchanged since it was read (update time).

        Only the changed fields travel (the history entry is appended). If any precondition fails (a
        commitment changed meanwhile) the batch is atomic and fails as a whole; then each is written on
        its own and the changed ones are skipped. Returns the number written."""
        from google.api_core.exceptions import FailedPrecondition, NotFound

        def option(snap: Any) -> Any:
            return self._db.write_option(last_update_time=snap.update_time)

        batch = self._db.batch()
        for snap, c in changes:
            batch.update(snap.reference, _delta(snap.to_dict() or {}, c), option=option(snap))
        try:
            batch.commit()
            return len(changes)
        except (FailedPrecondition, NotFound):
            written = 0
            for snap, c in changes:
                try:
                    snap.reference.update(_delta(snap.to_dict() or {}, c), option=option(snap))
                    written += 1
                except (FailedPrecondition, NotFound):
                    continue
            return written

    def written_ids(self, changes: list[tuple[Any, Commitment]]) -> set[str]:
        """Which of a batch's commitments now carry the swept version (after a partial fallback)."""
        refs = [snap.reference for snap, _ in changes]
        want = {c.commitment_id: c.version for _, c in changes}
        return {
            d.id
            for d in self._db.get_all(refs, field_paths=["version", "status"])
            if d.exists and (d.to_dict() or {}).get("version") == want[d.id]
        }


def _delta(old: dict[str, Any], c: Commitment) -> dict[str, Any]:
    """The fields that differ from the stored document; new history entries are appended."""
    from google.cloud.firestore import ArrayUnion

    new = c.doc()
    fields = {k: v for k, v in new.items() if k != "history" and old.get(k) != v}
    added = new["history"][len(old.get("history") or []) :]
    if added:
        fields["history"] = ArrayUnion(added)
    return fields
