"""Customer snapshots in Firestore: document models, bounded reads, transactional updates.

Layout::

    customers/{customer_id}                 Customer (profile, segment, products, stats)
    customers/{customer_id}/orders/{id}     Order
    customers/{customer_id}/tickets/{id}    Ticket
    customers/{customer_id}/interactions/{id} Interaction

    customers/{customer_id}/stats_shards/{n} counter shards added to ``stats``
    customers/{customer_id}/context/prepared the prepared context (shared.safety.prepared_context)

A snapshot holds the customer document plus the latest N of each sub-collection, so
one read costs five concurrent round trips whatever the history length. A capability reads
only the parts it declares (:class:`Reads`, ``READS`` in its module); most read the customer
document and the prepared context, one round trip. Every write that changes what a snapshot
shows counts the change on the prepared-context document in the same transaction or batch
(:func:`mark_changed`), so a context built before it is known to be stale. Whole-history
``stats`` are the customer document's ``stats`` (written by seeding and imports) plus the
sum of the counter shards: an appended interaction increments one random shard inside
its own transaction and never writes (or locks for writing) the customer document, so
closes of one busy customer do not serialize on it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.platform.errors import NotFound

if TYPE_CHECKING:
    from google.cloud import firestore

Sentiment = Literal["positive", "neutral", "negative"]
Channel = Literal["email", "chat", "phone", "social", "web"]
SUBCOLLECTIONS = ("orders", "tickets", "interactions")
STATS_SHARDS = "stats_shards"
CONTEXT, PREPARED = "context", "prepared"  # customers/{id}/context/prepared
REPEAT_FIELDS = ("status", "opened_at", "closed_at", "repeat_min_days")
"""What repeat detection reads of a ticket (``repeat_min_days``: its nearest known repeat, in days)."""


class Doc(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Consent(Doc):
    marketing: bool = False
    ai_processing: bool = True


class Address(Doc):
    street: str
    postal_code: str
    city: str
    country: str = Field(pattern=r"^[A-Z]{2}$")
    subdivision: str | None = Field(
        default=None,
        pattern=r"^[A-Z]{2}-[A-Z0-9]{1,3}$",
        description="ISO 3166-2 code (DE-BY, GB-SCT, US-CA): regional public holidays.",
    )

    @model_validator(mode="after")
    def _subdivision_in_country(self) -> Address:
        if self.subdivision and not self.subdivision.startswith(f"{self.country}-"):
            raise ValueError(f"subdivision {self.subdivision} is not in country {self.country}")
        return self


class Profile(Doc):
    name: str
    email: str | None = None
    phone: str | None = None
    address: Address | None = None
    language: str = Field(default="en", pattern=r"^[a-z]{2}$")
    region: str = Field(default="EU", description="Data-policy region, e.g. EU, UK, US.")
    timezone: str = "Europe/Berlin"
    consent: Consent = Field(default_factory=Consent)


class Product(Doc):
    sku: str
    name: str
    since: datetime | None = None
    status: Literal["active", "cancelled", "suspended"] = "active"


class HistoryStats(Doc):
    """Whole-history aggregates, maintained transactionally with every appended interaction."""

    interactions_total: int = 0
    sentiment_counts: dict[str, int] = Field(default_factory=dict)
    category_counts: dict[str, int] = Field(default_factory=dict)
    first_contact_at: datetime | None = None
    last_contact_at: datetime | None = None


class Customer(Doc):
    customer_id: str
    profile: Profile
    tenant: str | None = Field(default=None, description="Client company (multi-tenant centers); access scope.")
    brand: str | None = Field(default=None, description="Brand served; access scope.")
    team: str | None = Field(default=None, description="Owning agent team; access scope.")
    segment: str = "standard"
    customer_since: datetime
    lifetime_value: float = 0.0
    currency: str = "EUR"
    churn_risk: float = Field(default=0.0, ge=0.0, le=1.0)
    products: list[Product] = Field(default_factory=list)
    preferences: list[str] = Field(default_factory=list)
    account_ids: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    stats: HistoryStats = Field(default_factory=HistoryStats)

    def tenure_months(self, now: datetime | None = None) -> int:
        now = now or datetime.now(UTC)
        return max(0, (now.year - self.customer_since.year) * 12 + now.month - self.customer_since.month)


class OrderItem(Doc):
    sku: str
    name: str
    quantity: int = 1


class Order(Doc):
    order_id: str
    placed_at: datetime
    status: Literal["placed", "shipped", "delivered", "returned", "cancelled"] = "placed"
    items: list[OrderItem] = Field(default_factory=list)
    total: float = 0.0
    currency: str = "EUR"


class Ticket(Doc):
    ticket_id: str
    subject: str
    status: Literal["open", "pending", "closed"] = "open"
    category: str = "general"
    queue: str | None = None
    priority: Literal["low", "medium", "high", "critical"] = "medium"
    opened_at: datetime
    closed_at: datetime | None = None
    handoffs: int = 0
    queue_history: list[str] = Field(default_factory=list)


class Interaction(Doc):
    interaction_id: str
    channel: Channel
    occurred_at: datetime
    summary: str
    sentiment: Sentiment = "neutral"
    sentiment_score: float = Field(default=0.0, ge=-1.0, le=1.0)
    category: str = "general"
    ticket_id: str | None = None
    agent_id: str | None = None


ALL_PARTS = frozenset({*SUBCOLLECTIONS, "stats"})


class CustomerSnapshot(BaseModel):
    """What one request knows about a customer: bounded, newest first."""

    customer: Customer
    orders: list[Order] = Field(default_factory=list)
    tickets: list[Ticket] = Field(default_factory=list)
    interactions: list[Interaction] = Field(default_factory=list)
    parts: frozenset[str] = Field(
        default=ALL_PARTS, exclude=True, description="What was read besides the customer document (see Reads)."
    )

    @property
    def open_tickets(self) -> list[Ticket]:
        return [t for t in self.tickets if t.status != "closed"]

    @property
    def complete(self) -> bool:
        """Every part read whole: the bounded snapshot, not a capability's subset of it."""
        return self.parts >= ALL_PARTS


@dataclass(frozen=True)
class Part:
    """One sub-collection as a capability reads it: the latest ``limit`` documents (None: the
    snapshot limit), whole, or only ``fields`` (a projection: the other fields keep their defaults)."""

    fields: tuple[str, ...] | None = None
    limit: int | None = None


@dataclass(frozen=True)
class Reads:
    """What of a customer's snapshot a capability reads; :meth:`SnapshotRepository.read` reads that only.

    The customer document is always read (access scope, profile). ``stats``: the counter shards
    added to the whole-history stats; ``prepared``: the prepared-context document, read with the
    customer document in one round trip. Each capability module declares its ``READS``.
    """

    orders: Part | None = None
    tickets: Part | None = None
    interactions: Part | None = None
    stats: bool = False
    prepared: bool = False

    @property
    def parts(self) -> dict[str, Part]:
        return {name: part for name in SUBCOLLECTIONS if (part := getattr(self, name)) is not None}


FULL = Reads(orders=Part(), tickets=Part(), interactions=Part(), stats=True)
"""The bounded snapshot: what a prepared context is built from."""
ORDER_IDS = Part(fields=("order_id", "placed_at"))
"""Order ids (newest first) without the orders: what the placeholders of a prompt need."""
IDENTIFIERS = Reads(orders=ORDER_IDS)
"""The customer's own identifiers (profile, accounts, order ids): what minimizing a stored text needs."""


@dataclass(frozen=True)
class SnapshotRead:
    snapshot: CustomerSnapshot
    prepared: dict[str, Any] | None = None
    """The prepared-context document as stored (``version``, ``built_version``, ``built``), None if absent."""


def prepared_ref(customer_ref: Any) -> Any:
    return customer_ref.collection(CONTEXT).document(PREPARED)


def mark_changed(writer: Any, customer_ref: Any) -> None:
    """Count one change of the snapshot under ``customer_ref``, in the writer's transaction or batch.

    A blind increment (nothing is read, so concurrent writers do not conflict): the prepared
    context built before it no longer matches ``version`` and is rebuilt.
    """
    from google.cloud import firestore

    writer.set(prepared_ref(customer_ref), {"version": firestore.Increment(1)}, merge=True)


_TIME_FIELD = {"orders": "placed_at", "tickets": "opened_at", "interactions": "occurred_at"}
_MODELS: dict[str, type[Doc]] = {"orders": Order, "tickets": Ticket, "interactions": Interaction}
_ID_FIELD = {"orders": "order_id", "tickets": "ticket_id", "interactions": "interaction_id"}


def apply_interaction(stats: HistoryStats, interaction: Interaction) -> HistoryStats:
    """Pure update of whole-history aggregates; used by the transaction and by seeding."""
    sentiments = dict(stats.sentiment_counts)
    sentiments[interaction.sentiment] = sentiments.get(interaction.sentiment, 0) + 1
    categories = dict(stats.category_counts)
    categories[interaction.category] = categories.get(interaction.category, 0) + 1
    first = stats.first_contact_at
    last = stats.last_contact_at
    return HistoryStats(
        interactions_total=stats.interactions_total + 1,
        sentiment_counts=sentiments,
        category_counts=categories,
        first_contact_at=min(first, interaction.occurred_at) if first else interaction.occurred_at,
        last_contact_at=max(last, interaction.occurred_at) if last else interaction.occurred_at,
    )


def shard_increment(interaction: Interaction) -> dict[str, Any]:
    """The write that adds one interaction to a counter shard (``set(..., merge=True)``).

    Counts are increments; first/last contact are min/max transforms on epoch seconds
    (Firestore's min/max work on numbers), so no shard is ever read before it is written.
    """
    from google.cloud import firestore

    at = interaction.occurred_at.timestamp()
    return {
        "interactions_total": firestore.Increment(1),
        "sentiment_counts": {interaction.sentiment: firestore.Increment(1)},
        "category_counts": {interaction.category: firestore.Increment(1)},
        "first_contact_ts": firestore.Minimum(at),
        "last_contact_ts": firestore.Maximum(at),
    }


def add_shards(base: HistoryStats, shards: list[dict[str, Any]]) -> HistoryStats:
    """Whole-history stats: the customer document's base plus every counter shard."""
    total = base.interactions_total
    sentiments, categories = dict(base.sentiment_counts), dict(base.category_counts)
    first, last = base.first_contact_at, base.last_contact_at
    for shard in shards:
        total += int(shard.get("interactions_total", 0))
        for key, n in (shard.get("sentiment_counts") or {}).items():
            sentiments[key] = sentiments.get(key, 0) + int(n)
        for key, n in (shard.get("category_counts") or {}).items():
            categories[key] = categories.get(key, 0) + int(n)
        if shard.get("first_contact_ts") is not None:
            at = datetime.fromtimestamp(shard["first_contact_ts"], UTC)
            first = min(first, at) if first else at
        if shard.get("last_contact_ts") is not None:
            at = datetime.fromtimestamp(shard["last_contact_ts"], UTC)
            last = max(last, at) if last else at
    return HistoryStats(
        interactions_total=total,
        sentiment_counts=sentiments,
        category_counts=categories,
        first_contact_at=first,
        last_contact_at=last,
    )


_reads = ThreadPoolExecutor(max_workers=16, thread_name_prefix="cx-firestore")


class SnapshotRepository:
    """Reads and writes customer snapshots; the Firestore client is injected."""

    def __init__(
        self, client: firestore.Client, collection: str = "customers", stats_shards: int = 10, retention: Any = None
    ) -> None:
        self._db = client
        self._collection = collection
        self._stats_shards = stats_shards
        self._retention = retention  # shared.data.retention.Retention: interactions carry expire_at (Firestore TTL)

    def _interaction_doc(self, interaction: Interaction) -> dict[str, Any]:
        doc = interaction.model_dump(mode="python")
        return self._retention.stamp("interactions", doc) if self._retention is not None else doc

    def _customer_ref(self, customer_id: str) -> Any:
        return self._db.collection(self._collection).document(customer_id)

    def get_snapshot(self, customer_id: str, limit: int = 50, reads: Reads = FULL) -> CustomerSnapshot:
        """Customer document and the latest ``limit`` of each sub-collection ``reads`` names (default: all)."""
        return self.read(customer_id, reads, limit).snapshot

    def read(self, customer_id: str, reads: Reads, limit: int = 50) -> SnapshotRead:
        """The customer document and exactly the parts ``reads`` declares; NotFound without a customer.

        The reads are independent, so they run concurrently: latency is that of the slowest read
        rather than the sum (the gRPC channel is shared and thread-safe). With ``prepared`` the
        customer and prepared-context documents come in one batched get.
        """
        from google.cloud.firestore import Query

        ref = self._customer_ref(customer_id)

        def latest(name: str, part: Part) -> list[Any]:
            query = ref.collection(name).order_by(_TIME_FIELD[name], direction=Query.DESCENDING)
            query = query.limit(part.limit or limit)
            if part.fields is not None:
                query = query.select(list(part.fields))
            return [_MODELS[name].model_validate(d.to_dict()) for d in query.stream()]

        def documents() -> tuple[Any, Any]:
            if not reads.prepared:
                return ref.get(), None
            by_path = {d.reference.path: d for d in self._db.get_all([ref, prepared_ref(ref)])}
            return by_path[ref.path], by_path.get(prepared_ref(ref).path)

        docs_future = _reads.submit(documents)
        shards_future = _reads.submit(self._shards, ref) if reads.stats else None
        part_futures = {name: _reads.submit(latest, name, part) for name, part in reads.parts.items()}
        doc, prepared = docs_future.result()
        if not doc.exists:
            raise NotFound(f"customer {customer_id!r} not found")
        customer = Customer.model_validate(doc.to_dict() | {"customer_id": customer_id})
        if shards_future is not None:
            customer.stats = add_shards(customer.stats, shards_future.result())
        parts = frozenset(part_futures) | ({"stats"} if reads.stats else set())
        snapshot = CustomerSnapshot(customer=customer, parts=parts, **{n: f.result() for n, f in part_futures.items()})
        return SnapshotRead(snapshot, prepared.to_dict() if prepared is not None and prepared.exists else None)

    def put_prepared(self, customer_id: str, document: dict[str, Any], *, seen_version: int) -> bool:
        """Store a prepared context built from the snapshot as read after ``version`` was ``seen_version``.

        One transaction: written only while the customer exists (a deletion or erasure is never
        undone by a late write) and ``version`` is unchanged (a change since then would be lost);
        False when nothing was written, the newer change's writer builds its own.
        """
        from google.cloud import firestore

        ref = self._customer_ref(customer_id)
        target = prepared_ref(ref)

        @firestore.transactional
        def _txn(txn: firestore.Transaction) -> bool:
            if not ref.get(transaction=txn, field_paths=["segment"]).exists:
                return False
            current = target.get(transaction=txn)
            version = int((current.to_dict() or {}).get("version") or 0) if current.exists else 0
            if version != seen_version:
                return False
            txn.set(target, document | {"version": version, "built_version": version})
            return True

        return bool(_txn(self._db.transaction()))

    @staticmethod
    def _shards(ref: Any) -> list[dict[str, Any]]:
        return [d.to_dict() or {} for d in ref.collection(STATS_SHARDS).stream()]

    def stats(self, customer_id: str) -> HistoryStats:
        """Whole-history stats of one customer (base plus shards)."""
        ref = self._customer_ref(customer_id)
        doc = ref.get(field_paths=["stats"])
        if not doc.exists:
            raise NotFound(f"customer {customer_id!r} not found")
        base = HistoryStats.model_validate((doc.to_dict() or {}).get("stats") or {})
        return add_shards(base, self._shards(ref))

    def shard_ref(self, customer_id: str) -> Any:
        """A random counter shard of this customer (spreads concurrent writes)."""
        shard = random.randrange(self._stats_shards)  # noqa: S311 - load spreading, not security
        return self._customer_ref(customer_id).collection(STATS_SHARDS).document(str(shard))

    def _repeat_candidates(self, customer_id: str, category: str) -> Any:
        from google.cloud.firestore import FieldFilter

        return (
            self._customer_ref(customer_id)
            .collection("tickets")
            .where(filter=FieldFilter("category", "==", category))
            .where(filter=FieldFilter("status", "==", "closed"))
        )

    def closed_latest_first(
        self, customer_id: str, category: str, since: datetime, until: datetime, page: int = 8
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """Closed tickets of ``category`` closed within [since, until], latest close first, read a page at a time.

        A caller that stops early reads only the pages it used: repeat detection usually needs
        two or three tickets, whatever the customer's history. Projected to the fields repeat
        detection reads; index (category, status, closed_at DESC) in infra/terraform/firestore.tf.
        """
        from google.cloud.firestore import FieldFilter, Query

        query = (
            self._repeat_candidates(customer_id, category)
            .where(filter=FieldFilter("closed_at", ">=", since))
            .where(filter=FieldFilter("closed_at", "<=", until))
            .order_by("closed_at", direction=Query.DESCENDING)
            .select(list(REPEAT_FIELDS))
        )
        last = None
        while True:
            docs = list((query if last is None else query.start_after(last)).limit(page).stream())
            yield from ((d.id, d.to_dict() or {}) for d in docs)
            if len(docs) < page:
                return
            last = docs[-1]

    def opened_earliest_first(
        self, customer_id: str, category: str, since: datetime, until: datetime, first: int = 2
    ) -> list[tuple[str, dict[str, Any]]]:
        """The ``first`` closed tickets of ``category`` opened within [since, until], earliest opening first.

        Index (category, status, opened_at) in infra/terraform/firestore.tf.
        """
        from google.cloud.firestore import FieldFilter

        query = (
            self._repeat_candidates(customer_id, category)
            .where(filter=FieldFilter("opened_at", ">=", since))
            .where(filter=FieldFilter("opened_at", "<=", until))
            .order_by("opened_at")
            .limit(first)
            .select(list(REPEAT_FIELDS))
        )
        return [(d.id, d.to_dict() or {}) for d in query.stream()]

    def prune_interactions(self, customer_id: str, keep: int, page: int = 400) -> int:
        """Delete the oldest interactions beyond the newest ``keep``; returns how many were deleted.

        Counts first (an aggregation: Firestore bills one read per 1,000 index entries) and reads
        only what it deletes, oldest first; an offset query would read, and bill, every kept one.
        """
        from google.cloud.firestore import Query

        col = self._customer_ref(customer_id).collection("interactions")
        excess = int(col.count().get()[0][0].value) - keep
        if excess <= 0:
            return 0
        batch, n = self._db.batch(), 0
        for doc in col.order_by("occurred_at", direction=Query.ASCENDING).limit(min(excess, page)).stream():
            batch.delete(doc.reference)
            n += 1
        if n:
            self.mark_changed(batch, customer_id)  # the prepared context no longer matches the history
            batch.commit()
        return n

    def get_tickets(self, customer_id: str, ticket_ids: list[str]) -> list[Ticket]:
        """Tickets by id, whether or not they are among the latest N."""
        col = self._customer_ref(customer_id).collection("tickets")
        docs = self._db.get_all([col.document(t) for t in ticket_ids])
        return [Ticket.model_validate(d.to_dict()) for d in docs if d.exists]

    def get_ticket(self, customer_id: str, ticket_id: str) -> Ticket:
        """One ticket of this customer; NotFound (404) if there is none."""
        for ticket in self.get_tickets(customer_id, [ticket_id]):
            return ticket
        raise NotFound(f"ticket {ticket_id!r} not found for this customer")

    def exists(self, customer_id: str) -> bool:
        return bool(self._customer_ref(customer_id).get(field_paths=["segment"]).exists)

    def put_customer(self, customer: Customer) -> None:
        ref = self._customer_ref(customer.customer_id)
        batch = self._db.batch()
        batch.set(ref, customer.model_dump(mode="python"))
        mark_changed(batch, ref)
        batch.commit()

    def put_many(self, customer_id: str, items: list[Order | Ticket | Interaction]) -> None:
        """Bulk write (seeding, imports) in batches within Firestore's 500-write limit."""
        ref = self._customer_ref(customer_id)
        for start in range(0, len(items), 400):
            batch = self._db.batch()
            for item in items[start : start + 400]:
                name = {Order: "orders", Ticket: "tickets", Interaction: "interactions"}[type(item)]
                doc = ref.collection(name).document(getattr(item, _ID_FIELD[name]))
                data = self._interaction_doc(item) if isinstance(item, Interaction) else item.model_dump(mode="python")
                batch.set(doc, data)
            mark_changed(batch, ref)
            batch.commit()

    def mark_changed(self, writer: Any, customer_id: str) -> None:
        """:func:`mark_changed` for a writer that holds only the customer id (ticket close)."""
        mark_changed(writer, self._customer_ref(customer_id))

    def record_interaction(self, customer_id: str, interaction: Interaction) -> HistoryStats:
        """Append an interaction and count it in the whole-history stats atomically.

        Idempotent on ``interaction_id``: a retried call finds the document and changes
        nothing, so Pub/Sub redeliveries cannot double-count. The count goes to a random
        shard in the same transaction; the customer document is only read.
        """
        from google.cloud import firestore

        ref = self._customer_ref(customer_id)
        item_ref = ref.collection("interactions").document(interaction.interaction_id)
        shard_ref = self.shard_ref(customer_id)

        @firestore.transactional
        def _txn(txn: firestore.Transaction) -> None:
            if not ref.get(transaction=txn, field_paths=["segment"]).exists:
                raise NotFound(f"customer {customer_id!r} not found")
            if item_ref.get(transaction=txn).exists:
                return
            txn.set(item_ref, self._interaction_doc(interaction))
            txn.set(shard_ref, shard_increment(interaction), merge=True)
            mark_changed(txn, ref)

        _txn(self._db.transaction())
        return self.stats(customer_id)
