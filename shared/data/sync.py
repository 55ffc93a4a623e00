"""Change events from the company's systems, and how they are applied to customer snapshots.

The schema (version 1) is a CloudEvents 1.0 envelope whose ``type`` names the change and
carries the schema version (``cx.customer.upserted.v1``); ``data`` is one of the payloads
below. It is published as JSON Schema in ``functions/sync_events.schema.json``.

Order and redelivery safety: every payload carries the source system's ``updated_at``
(and optionally an integer ``version`` that breaks ties within one timestamp). The
clock of the last applied change is stored with what it changed (``source_clock`` on
order and ticket documents, ``source_clocks`` on the customer document for the profile,
the consent and each product), and a change applies only when its clock is strictly
newer: an older change is *stale*, the same clock again is a *duplicate*, and neither
changes anything. A deleted customer leaves a tombstone (``sync_tombstones/{id}``) so a
late, older upsert cannot bring it back. Interactions are immutable facts, appended once
per ``interaction_id`` in the same transaction as the whole-history ``stats`` they change,
so the stats stay exact under redelivery and concurrency. Every applied change also counts
itself on the customer's prepared-context document (``mark_changed``, same transaction), so the
context masked before it is rebuilt (the snapshot_sync capability does that after each batch).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, create_model, field_validator

from shared.data.retention import Retention
from shared.data.snapshots import (
    Consent,
    Customer,
    HistoryStats,
    Interaction,
    Order,
    Product,
    Profile,
    Ticket,
    apply_interaction,
    mark_changed,
)
from shared.platform.calls import ID_PATTERN
from shared.platform.errors import NotFound

if TYPE_CHECKING:
    from google.cloud import firestore

SCHEMA_VERSION = 1
CHUNK = 200  # changes per transaction (Firestore allows 500 writes per commit)
Outcome = Literal["applied", "stale", "duplicate", "missing"]  # missing: the customer is not (yet) known


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Change(_Strict):
    """What every change carries: whose record, and the source's clock for it."""

    customer_id: str = Field(pattern=ID_PATTERN, description="The company's customer id (CRM key).")
    updated_at: datetime = Field(description="When the source system last changed this record (with UTC offset).")
    version: int | None = Field(default=None, ge=0, description="Source record version; breaks updated_at ties.")

    @field_validator("updated_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("updated_at needs a UTC offset")
        return value

    @property
    def clock(self) -> dict[str, Any]:
        return {"updated_at": self.updated_at, "version": self.version or 0}


class CustomerUpserted(Change):
    """The customer's profile and account facts (the whole record, not a patch)."""

    profile: Profile
    segment: str = Field(default="standard", max_length=100)
    customer_since: datetime
    lifetime_value: float = 0.0
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    churn_risk: float = Field(default=0.0, ge=0.0, le=1.0)
    products: list[Product] | None = Field(default=None, description="Omit to leave products to product.changed.")
    preferences: list[str] = Field(default_factory=list, max_length=50)
    account_ids: list[str] = Field(default_factory=list, max_length=50)
    notes: list[str] = Field(default_factory=list, max_length=50)
    tenant: str | None = Field(default=None, max_length=100, description="Client company; agents' access scope.")
    brand: str | None = Field(default=None, max_length=100, description="Brand served; agents' access scope.")
    team: str | None = Field(default=None, max_length=100, description="Owning agent team; agents' access scope.")


class CustomerDeleted(Change):
    """The customer no longer exists in the source: the snapshot and its history are removed."""


class OrderUpserted(Change):
    order: Order


class TicketUpserted(Change):
    ticket: Ticket


class InteractionRecorded(Change):
    """An immutable contact record; the same ``interaction_id`` again is a duplicate."""

    interaction: Interaction


class ProductChanged(Change):
    """One product or subscription of the customer: added, changed, suspended or cancelled."""

    product: Product


class ConsentChanged(Change):
    consent: Consent


PAYLOADS: dict[str, type[Change]] = {
    "customer.upserted": CustomerUpserted,
    "customer.deleted": CustomerDeleted,
    "order.upserted": OrderUpserted,
    "ticket.upserted": TicketUpserted,
    "interaction.recorded": InteractionRecorded,
    "product.changed": ProductChanged,
    "consent.changed": ConsentChanged,
}


def event_type(name: str) -> str:
    """The CloudEvents ``type`` of a change, e.g. ``cx.customer.upserted.v1``."""
    return f"cx.{name}.v{SCHEMA_VERSION}"


class _Envelope(_Strict):
    """CloudEvents 1.0 context attributes (structured content mode, JSON event format)."""

    model_config = ConfigDict(extra="allow")  # CloudEvents extension attributes are allowed

    specversion: Literal["1.0"]
    id: str = Field(min_length=1, max_length=256, description="Unique per source; redeliveries keep it.")
    source: str = Field(min_length=1, max_length=256, description="URI-reference of the producing system.")
    time: datetime | None = None
    subject: str | None = Field(default=None, max_length=256)
    datacontenttype: Literal["application/json"] | None = None
    dataschema: str | None = None


def _envelope(name: str, payload: type[Change]) -> type[_Envelope]:
    doc = f"``{event_type(name)}``: {(payload.__doc__ or name).strip().splitlines()[0]}"
    return create_model(
        f"{payload.__name__}Event",
        __base__=_Envelope,
        __doc__=doc,
        type=(Literal[event_type(name)], ...),  # type: ignore[arg-type]
        data=(payload, ...),
    )  # type: ignore[call-overload]


ENVELOPES = {name: _envelope(name, payload) for name, payload in PAYLOADS.items()}
ChangeEvent = Annotated[Union[tuple(ENVELOPES.values())], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007
CHANGE_EVENT: TypeAdapter[Any] = TypeAdapter(ChangeEvent)  # type: ignore[arg-type]


def envelope(name: str, change: Change, *, source: str, event_id: str) -> dict[str, Any]:
    """A structured-mode CloudEvent (JSON-ready dict) for one change; used by the importer and the demo."""
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": source,
        "type": event_type(name),
        "time": change.updated_at.isoformat(),
        "subject": change.customer_id,
        "datacontenttype": "application/json",
        "data": change.model_dump(mode="json", exclude_none=True),
    }


def json_schema() -> dict[str, Any]:
    """The published schema: every change event, one ``oneOf`` discriminated by ``type``."""
    schema = CHANGE_EVENT.json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:cx-copilot:sync-events:v1",
        "title": f"CX Copilot change events, schema version {SCHEMA_VERSION}",
        "description": "CloudEvents 1.0 (structured content mode) published to the snapshot-sync topic; "
        "binary content mode (ce-* message attributes, data as the payload) is accepted too.",
        **schema,
    }


# --- applying changes ----------------------------------------------------------------------


def _key(clock: dict[str, Any] | None) -> tuple[datetime, int] | None:
    if not clock or clock.get("updated_at") is None:
        return None
    return clock["updated_at"], int(clock.get("version") or 0)


def compare(new: dict[str, Any], old: dict[str, Any] | None) -> Outcome:
    """``applied`` when ``new`` is strictly newer than ``old`` (or there is none)."""
    old_key, new_key = _key(old), _key(new)
    assert new_key is not None
    if old_key is None or new_key > old_key:
        return "applied"
    return "duplicate" if new_key == old_key else "stale"


class SnapshotSync:
    """Applies change events to ``customers/{id}`` and its sub-collections, transactionally."""

    def __init__(
        self,
        client: firestore.Client,
        customers: str = "customers",
        tombstones: str = "sync_tombstones",
        retention: Retention | None = None,
    ) -> None:
        self._db = client
        self._retention = retention
        self._customers = customers
        self._tombstones = tombstones

    def _customer_ref(self, customer_id: str) -> Any:
        return self._db.collection(self._customers).document(customer_id)

    def _tombstone_ref(self, customer_id: str) -> Any:
        return self._db.collection(self._tombstones).document(customer_id)

    def apply_many(self, changes: list[tuple[str, Change]]) -> list[Outcome]:
        """Apply changes in order; consecutive orders, tickets or interactions of one customer share transactions.

        A change for a customer that does not exist comes back ``missing`` (the caller decides:
        the event handler has Pub/Sub retry it, an import reports it).
        """
        outcomes: list[Outcome] = []
        i = 0
        while i < len(changes):
            name, change = changes[i]
            j = i + 1
            if name in ("interaction.recorded", "order.upserted", "ticket.upserted"):
                while (
                    j < len(changes)
                    and j - i < CHUNK
                    and changes[j][0] == name
                    and changes[j][1].customer_id == change.customer_id
                ):
                    j += 1
                run: list[Any] = [c for _, c in changes[i:j]]
                try:
                    if name == "interaction.recorded":
                        outcomes += self.record_interactions(change.customer_id, [c.interaction for c in run])
                    else:
                        outcomes += self._upsert_children(run)
                except NotFound:
                    outcomes += ["missing"] * len(run)
            else:
                try:
                    outcomes.append(self.apply(name, change))
                except NotFound:
                    outcomes.append("missing")
            i = j
        return outcomes

    def apply(self, name: str, change: Change) -> Outcome:
        """Apply one validated change; raises :class:`NotFound` when the customer is not (yet) known."""
        handler = {
            "customer.upserted": self._upsert_customer,
            "customer.deleted": self._delete_customer,
            "order.upserted": self._upsert_child,
            "ticket.upserted": self._upsert_child,
            "interaction.recorded": self._record_interaction,
            "product.changed": self._change_customer_part,
            "consent.changed": self._change_customer_part,
        }[name]
        return handler(change)  # type: ignore[operator]

    def tombstoned(self, customer_id: str) -> bool:
        return bool(self._tombstone_ref(customer_id).get().exists)

    def _upsert_customer(self, change: CustomerUpserted) -> Outcome:
        from google.cloud import firestore

        ref, tomb_ref = self._customer_ref(change.customer_id), self._tombstone_ref(change.customer_id)
        consent_given = "consent" in change.profile.model_fields_set

        @firestore.transactional
        def _txn(txn: firestore.Transaction) -> Outcome:
            tomb, snap = tomb_ref.get(transaction=txn), ref.get(transaction=txn)
            if tomb.exists and compare(change.clock, (tomb.to_dict() or {}).get("clock")) != "applied":
                return "stale"
            current = snap.to_dict() if snap.exists else None
            clocks: dict[str, Any] = dict((current or {}).get("source_clocks") or {})
            outcome = compare(change.clock, clocks.get("customer"))
            if outcome != "applied":
                return outcome
            profile = change.profile.model_dump(mode="python")
            old_consent = ((current or {}).get("profile") or {}).get("consent")
            if consent_given and compare(change.clock, clocks.get("consent")) == "applied":
                clocks["consent"] = change.clock
            elif old_consent is not None:
                profile["consent"] = old_consent  # a newer consent.changed wins over this record
            fields: dict[str, Any] = {
                "profile": profile,
                "segment": change.segment,
                "customer_since": change.customer_since,
                "lifetime_value": change.lifetime_value,
                "currency": change.currency,
                "churn_risk": change.churn_risk,
                "preferences": change.preferences,
                "account_ids": change.account_ids,
                "notes": change.notes,
                "tenant": change.tenant,
                "brand": change.brand,
                "team": change.team,
            }
            if change.products is not None:
                products, product_clocks = _merge_products(current, clocks, change.products, change.clock)
                fields["products"], clocks["products"] = products, product_clocks
            clocks["customer"] = change.clock
            fields["source_clocks"] = clocks
            if current is None:
                base = Customer(
                    customer_id=change.customer_id, profile=change.profile, customer_since=change.customer_since
                ).model_dump(mode="python")
                txn.set(ref, base | fields)
            else:
                txn.update(ref, fields)
            mark_changed(txn, ref)
            return "applied"

        return _txn(self._db.transaction())

    def _delete_customer(self, change: CustomerDeleted) -> Outcome:
        from google.cloud import firestore

        ref, tomb_ref = self._customer_ref(change.customer_id), self._tombstone_ref(change.customer_id)

        @firestore.transactional
        def _txn(txn: firestore.Transaction) -> Outcome:
            tomb, snap = tomb_ref.get(transaction=txn), ref.get(transaction=txn)
            outcome = compare(change.clock, (tomb.to_dict() or {}).get("clock") if tomb.exists else None)
            if outcome != "applied":
                return outcome
            last = ((snap.to_dict() or {}).get("source_clocks") or {}).get("customer") if snap.exists else None
            if last is not None and compare(change.clock, last) == "stale":
                return "stale"  # the customer was upserted after this deletion
            txn.set(tomb_ref, {"clock": change.clock})
            if snap.exists:
                txn.delete(ref)
            return "applied"

        outcome = _txn(self._db.transaction())
        # Sub-collections are not deleted with their parent document; a redelivery finishes the job
        # if the instance stopped in between (only while the customer has not been re-created).
        if outcome == "applied" or (outcome == "duplicate" and not ref.get(field_paths=["segment"]).exists):
            self._db.recursive_delete(ref)
        return outcome

    def _upsert_child(self, change: OrderUpserted | TicketUpserted) -> Outcome:
        return self._upsert_children([change])[0]

    def _upsert_children(self, changes: list[OrderUpserted | TicketUpserted]) -> list[Outcome]:
        """Orders or tickets of one customer, each kept at its newest source clock; one transaction."""
        from google.cloud import firestore

        ref = self._customer_ref(changes[0].customer_id)
        items: list[tuple[Any, Any, OrderUpserted | TicketUpserted]] = []
        for change in changes:
            if isinstance(change, OrderUpserted):
                items.append((ref.collection("orders").document(change.order.order_id), change.order, change))
            else:
                items.append((ref.collection("tickets").document(change.ticket.ticket_id), change.ticket, change))

        @firestore.transactional
        def _txn(txn: firestore.Transaction) -> list[Outcome]:
            if not ref.get(transaction=txn, field_paths=["segment"]).exists:
                raise NotFound(f"customer {changes[0].customer_id!r} not found")
            clocks = {
                d.reference.path: (d.to_dict() or {}).get("source_clock")
                for d in txn.get_all([r for r, _, _ in items])
                if d.exists
            }
            outcomes: list[Outcome] = []
            for item_ref, item, change in items:
                outcome = compare(change.clock, clocks.get(item_ref.path))
                if outcome == "applied":
                    clocks[item_ref.path] = change.clock
                    # merge: fields this project adds to a ticket (next steps, repeat flags) survive an update
                    txn.set(item_ref, item.model_dump(mode="python") | {"source_clock": change.clock}, merge=True)
                outcomes.append(outcome)
            if "applied" in outcomes:
                mark_changed(txn, ref)
            return outcomes

        return _txn(self._db.transaction())

    def _record_interaction(self, change: InteractionRecorded) -> Outcome:
        return self.record_interactions(change.customer_id, [change.interaction])[0]

    def record_interactions(self, customer_id: str, interactions: list[Interaction]) -> list[Outcome]:
        """Append interactions once each and update whole-history stats in the same transaction.

        One transaction per chunk of up to 200, so a backfill of one customer's history costs a
        few round trips instead of one transaction per contact; stats stay exact because an
        interaction is counted only when its document is written (pure helper: ``apply_interaction``).
        """
        outcomes: list[Outcome] = []
        for start in range(0, len(interactions), CHUNK):
            outcomes += self._record_chunk(customer_id, interactions[start : start + CHUNK])
        return outcomes

    def _record_chunk(self, customer_id: str, chunk: list[Interaction]) -> list[Outcome]:
        from google.cloud import firestore

        ref = self._customer_ref(customer_id)
        col = ref.collection("interactions")
        refs = {i.interaction_id: col.document(i.interaction_id) for i in chunk}

        @firestore.transactional
        def _txn(txn: firestore.Transaction) -> list[Outcome]:
            snap = ref.get(transaction=txn)
            if not snap.exists:
                raise NotFound(f"customer {customer_id!r} not found")
            present = {d.id for d in txn.get_all(list(refs.values())) if d.exists}
            stats = HistoryStats.model_validate((snap.to_dict() or {}).get("stats") or {})
            outcomes: list[Outcome] = []
            for item in chunk:
                if item.interaction_id in present:
                    outcomes.append("duplicate")
                    continue
                present.add(item.interaction_id)
                stats = apply_interaction(stats, item)
                doc = item.model_dump(mode="python")
                txn.set(
                    refs[item.interaction_id], self._retention.stamp("interactions", doc) if self._retention else doc
                )
                outcomes.append("applied")
            if "applied" in outcomes:
                txn.update(ref, {"stats": stats.model_dump(mode="python")})
                mark_changed(txn, ref)
            return outcomes

        return _txn(self._db.transaction())

    def _change_customer_part(self, change: ProductChanged | ConsentChanged) -> Outcome:
        from google.cloud import firestore

        ref = self._customer_ref(change.customer_id)

        @firestore.transactional
        def _txn(txn: firestore.Transaction) -> Outcome:
            snap = ref.get(transaction=txn)
            if not snap.exists:
                raise NotFound(f"customer {change.customer_id!r} not found")
            current = snap.to_dict() or {}
            clocks: dict[str, Any] = dict(current.get("source_clocks") or {})
            if isinstance(change, ConsentChanged):
                outcome = compare(change.clock, clocks.get("consent"))
                if outcome == "applied":
                    clocks["consent"] = change.clock
                    txn.update(
                        ref, {"profile.consent": change.consent.model_dump(mode="python"), "source_clocks": clocks}
                    )
                    mark_changed(txn, ref)
                return outcome
            before = dict(clocks.get("products") or {})
            outcome = compare(change.clock, before.get(change.product.sku))
            if outcome == "applied":
                products, clocks["products"] = _merge_products(current, clocks, [change.product], change.clock)
                txn.update(ref, {"products": products, "source_clocks": clocks})
                mark_changed(txn, ref)
            return outcome

        return _txn(self._db.transaction())


def _merge_products(
    current: dict[str, Any] | None, clocks: dict[str, Any], incoming: list[Product], clock: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Products by sku: each one replaced only by a newer clock than the one that wrote it."""
    by_sku = {p["sku"]: p for p in (current or {}).get("products") or []}
    product_clocks = dict(clocks.get("products") or {})
    for product in incoming:
        if compare(clock, product_clocks.get(product.sku)) == "applied":
            by_sku[product.sku] = product.model_dump(mode="python")
            product_clocks[product.sku] = clock
    return list(by_sku.values()), product_clocks


def snapshot_changes(
    customer: Customer, items: list[Order | Ticket | Interaction], updated_at: datetime
) -> list[tuple[str, Change]]:
    """A whole snapshot as the change events that build it (customer first): demo data, imports."""
    record = customer.model_dump(mode="python", exclude={"customer_id", "stats"})
    changes: list[tuple[str, Change]] = [
        ("customer.upserted", CustomerUpserted(customer_id=customer.customer_id, updated_at=updated_at, **record))
    ]
    for item in items:
        common = {"customer_id": customer.customer_id, "updated_at": updated_at}
        if isinstance(item, Order):
            changes.append(("order.upserted", OrderUpserted(order=item, **common)))
        elif isinstance(item, Ticket):
            changes.append(("ticket.upserted", TicketUpserted(ticket=item, **common)))
        else:
            changes.append(("interaction.recorded", InteractionRecorded(interaction=item, **common)))
    return changes


def message(name: str, change: Change, source: str) -> bytes:
    """The Pub/Sub message body (structured-mode CloudEvent) for one change; the id is deterministic,
    so publishing the same record twice is a redelivery, not a second change."""
    item = {
        "order.upserted": "order",
        "ticket.upserted": "ticket",
        "interaction.recorded": "interaction",
        "product.changed": "product",
    }.get(name)
    part = getattr(change, item) if item else None
    item_id = getattr(part, f"{item}_id", None) or getattr(part, "sku", "") if part is not None else ""
    event_id = f"{name}:{change.customer_id}:{item_id}:{change.updated_at.isoformat()}:{change.version or 0}"
    return json.dumps(envelope(name, change, source=source, event_id=event_id), ensure_ascii=False).encode()
