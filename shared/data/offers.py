"""The offer catalogue and acceptance statistics in Firestore.

The rules that decide which offer a customer may get live in :mod:`shared.decisions.nba`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from google.cloud import firestore

OfferType = Literal["retention", "cross_sell", "upsell", "service", "goodwill", "follow_up"]
OFFER_TYPES: tuple[str, ...] = ("retention", "cross_sell", "upsell", "service", "goodwill", "follow_up")


class Eligibility(BaseModel):
    model_config = ConfigDict(extra="forbid")

    segments: list[str] | None = None
    min_tenure_months: int = Field(default=0, ge=0)
    required_products: list[str] = Field(default_factory=list)
    excluded_products: list[str] = Field(default_factory=list)
    regions: list[str] | None = None
    channels: list[str] | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    marketing_consent_required: bool = False


class Offer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    offer_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    type: OfferType
    title: str
    description: str = ""
    pitch: dict[str, str] = Field(description="Short phrase per language for the agent to use.")
    eligibility: Eligibility = Field(default_factory=Eligibility)
    discount_percent: float = Field(default=0.0, ge=0.0, le=100.0)
    value_estimate: float = Field(default=0.0, ge=0.0)
    requires_agent_confirmation: bool = True
    auto_suggest_allowed: bool = False
    active: bool = True


class _TtlCache:
    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._values: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Any, load: Callable[[], Any]) -> Any:
        now = self._clock()
        with self._lock:
            hit = self._values.get(key)
            if hit and now - hit[0] < self.ttl_s:
                return hit[1]
        value = load()
        with self._lock:
            self._values[key] = (now, value)
        return value


def stats_doc_id(offer_id: str, segment: str) -> str:
    return f"{offer_id}__{segment}"


class OfferRepository:
    """``offers/{offer_id}`` catalogue, ``offer_stats/{offer}__{segment}`` counters,
    ``customers/{id}/offer_outcomes/{event}`` per-customer outcomes.

    Catalogue and acceptance counters are cached per instance for ``ttl_s``: operations'
    edits and new feedback take effect within that time, and a request never reads
    thousands of documents.
    """

    def __init__(
        self,
        client: firestore.Client,
        *,
        offers: str = "offers",
        stats: str = "offer_stats",
        customers: str = "customers",
        ttl_s: float = 60.0,
    ) -> None:
        self._db = client
        self._offers = offers
        self._stats = stats
        self._customers = customers
        self._cache = _TtlCache(ttl_s)

    def catalogue(self) -> list[Offer]:
        def load() -> list[Offer]:
            docs = self._db.collection(self._offers).stream()
            return sorted(
                (Offer.model_validate((d.to_dict() or {}) | {"offer_id": d.id}) for d in docs), key=lambda o: o.offer_id
            )

        return self._cache.get("catalogue", load)

    def acceptance(self, segment: str) -> dict[str, tuple[int, int]]:
        def load() -> dict[str, tuple[int, int]]:
            from google.cloud.firestore import FieldFilter

            query = self._db.collection(self._stats).where(filter=FieldFilter("segment", "==", segment))
            totals: dict[str, tuple[int, int]] = {}
            for d in query.stream():  # one document per counter shard: sum them
                acc, off = totals.get(d.get("offer_id"), (0, 0))
                totals[d.get("offer_id")] = (acc + int(d.get("accepted") or 0), off + int(d.get("offered") or 0))
            return totals

        return self._cache.get(("stats", segment), load)

    def recent_rejections(self, customer_id: str, days: int, now: datetime | None = None) -> dict[str, datetime]:
        from google.cloud.firestore import FieldFilter

        since = (now or datetime.now(UTC)) - timedelta(days=days)
        query = (
            self._db.collection(self._customers)
            .document(customer_id)
            .collection("offer_outcomes")
            .where(filter=FieldFilter("at", ">=", since))
        )
        latest: dict[str, datetime] = {}
        for doc in query.stream():
            data = doc.to_dict()
            if data.get("outcome") == "rejected":
                at = data["at"]
                latest[data["offer_id"]] = max(at, latest.get(data["offer_id"], at))
        return latest

    def put_offers(self, offers: Iterable[Offer]) -> int:
        batch, n = self._db.batch(), 0
        for offer in offers:
            batch.set(self._db.collection(self._offers).document(offer.offer_id), offer.model_dump(mode="python"))
            n += 1
            if n % 400 == 0:
                batch.commit()
                batch = self._db.batch()
        batch.commit()
        return n

    def set_acceptance(self, offer_id: str, segment: str, accepted: int, offered: int) -> None:
        self._db.collection(self._stats).document(stats_doc_id(offer_id, segment)).set(
            {"offer_id": offer_id, "segment": segment, "accepted": accepted, "offered": offered}
        )

    def record_outcome(self, customer_id: str, event_id: str, offer_id: str, outcome: str, at: datetime) -> None:
        self._db.collection(self._customers).document(customer_id).collection("offer_outcomes").document(event_id).set(
            {"offer_id": offer_id, "outcome": outcome, "at": at}
        )


def load_catalogue_file(path: Path) -> list[Offer]:
    raw = yaml.safe_load(path.read_text("utf-8"))
    return [Offer.model_validate(item) for item in raw["offers"]]
