"""snapshot_sync through functions-framework's CloudEvent path on the emulators: order, redelivery, dead letters."""

from __future__ import annotations

import base64
import json
import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from functions_framework import create_app

from shared.runtime import Runtime
from shared.settings import ROOT

pytestmark = pytest.mark.integration
T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def client() -> Any:
    return create_app(target="snapshot_sync", source=str(ROOT / "main.py")).test_client()


def event(kind: str, data: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id or uuid.uuid4().hex,
        "source": "urn:test:crm",
        "type": f"cx.{kind}.v1",
        "datacontenttype": "application/json",
        "data": data,
    }


def deliver(client: Any, body: dict[str, Any] | bytes, attributes: dict[str, str] | None = None) -> int:
    data = body if isinstance(body, bytes) else json.dumps(body, default=str).encode()
    message: dict[str, Any] = {
        "data": base64.b64encode(data).decode(),
        "messageId": uuid.uuid4().hex,
        "publishTime": datetime.now(UTC).isoformat(),
    }
    if attributes:
        message["attributes"] = attributes
    headers = {
        "ce-specversion": "1.0",
        "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
        "ce-source": "//pubsub.googleapis.com/projects/p/topics/cx-snapshot-sync",
        "ce-id": uuid.uuid4().hex,
        "Content-Type": "application/json",
    }
    envelope = {"message": message, "subscription": "projects/p/subscriptions/cx-snapshot-sync-fn"}
    return client.post("/", json=envelope, headers=headers).status_code


def customer(cid: str, at: datetime, name: str = "Robin Example", **extra: Any) -> dict[str, Any]:
    return {
        "customer_id": cid,
        "updated_at": at.isoformat(),
        "customer_since": "2020-01-01T00:00:00Z",
        "profile": {"name": name, "language": "en", **extra.pop("profile", {})},
        "segment": "gold",
        **extra,
    }


def interaction(cid: str, n: int, sentiment: str = "neutral", category: str = "billing") -> dict[str, Any]:
    return {
        "customer_id": cid,
        "updated_at": (T0 + timedelta(hours=n)).isoformat(),
        "interaction": {
            "interaction_id": f"I-{n}",
            "channel": "chat",
            "summary": f"contact {n}",
            "occurred_at": (T0 + timedelta(hours=n)).isoformat(),
            "sentiment": sentiment,
            "category": category,
        },
    }


def doc(rt: Runtime, cid: str) -> dict[str, Any]:
    return rt.firestore.collection("customers").document(cid).get().to_dict() or {}


def new_id() -> str:
    return f"C-S{uuid.uuid4().hex[:8]}"


def test_seeded_demo_customers_came_through_sync(runtime: Runtime) -> None:
    snap = doc(runtime, "C-1004")
    assert snap["source_clocks"]["customer"]["updated_at"] is not None  # written by snapshot_sync, not directly
    assert snap["stats"]["interactions_total"] == 600  # stats from 600 interaction.recorded events
    assert runtime.snapshots.get_snapshot("C-1013").customer.profile.consent.marketing is False
    first = (
        runtime.firestore.collection("customers")
        .document("C-1004")
        .collection("interactions")
        .document("C-1004-I0000")
        .get()
        .to_dict()
    )
    assert (first["expire_at"] - first["occurred_at"]).days == runtime.retention.firestore["interactions"].days


def test_a_stale_upsert_never_overwrites_a_newer_one_and_redelivery_changes_nothing(
    client: Any, runtime: Runtime
) -> None:
    cid = new_id()
    newer = event("customer.upserted", customer(cid, T0 + timedelta(days=2), name="Robin Newer"))
    older = event("customer.upserted", customer(cid, T0 + timedelta(days=1), name="Robin Older"))
    assert deliver(client, newer) == 200
    before = doc(runtime, cid)
    for body in (older, newer, older):  # late older record, then redeliveries
        assert deliver(client, body) == 200
    assert doc(runtime, cid) == before and before["profile"]["name"] == "Robin Newer"
    tie = customer(cid, T0 + timedelta(days=2), name="Robin Version 2", version=2)
    assert deliver(client, event("customer.upserted", tie)) == 200  # same time, higher version wins
    assert doc(runtime, cid)["profile"]["name"] == "Robin Version 2"


def test_interaction_stats_stay_exact_under_shuffled_concurrent_redelivery(client: Any, runtime: Runtime) -> None:
    cid = new_id()
    assert deliver(client, event("customer.upserted", customer(cid, T0))) == 200
    bodies = [
        event("interaction.recorded", interaction(cid, n, s))
        for n, s in enumerate(["negative", "positive", "neutral", "negative", "positive"])
    ]
    deliveries = bodies * 2
    random.Random(7).shuffle(deliveries)
    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = list(pool.map(lambda b: deliver(client, b), deliveries))
    assert set(statuses) <= {200, 500}  # 500: transaction contention, Pub/Sub redelivers
    for body, status in zip(deliveries, statuses, strict=True):
        for _ in range(5):
            if status == 200:
                break
            status = deliver(client, body)
        assert status == 200
    stats = runtime.snapshots.get_snapshot(cid).customer.stats
    assert stats.interactions_total == 5
    assert stats.sentiment_counts == {"negative": 2, "positive": 2, "neutral": 1}
    assert stats.first_contact_at == T0 and stats.last_contact_at == T0 + timedelta(hours=4)


def test_orders_tickets_products_and_consent_each_keep_their_newest_version(client: Any, runtime: Runtime) -> None:
    cid = new_id()
    assert (
        deliver(
            client,
            event(
                "customer.upserted",
                customer(
                    cid,
                    T0,
                    profile={"consent": {"marketing": True}},
                    products=[{"sku": "FIB-100", "name": "Fibre 100"}],
                ),
            ),
        )
        == 200
    )
    order = {"order_id": "O-1", "placed_at": T0.isoformat(), "total": 10.0}
    ticket = {"ticket_id": "T-1", "subject": "Router", "opened_at": T0.isoformat()}
    for at, status in ((2, "delivered"), (1, "shipped")):  # newest first, then the stale one
        upd = (T0 + timedelta(days=at)).isoformat()
        assert (
            deliver(
                client,
                event("order.upserted", {"customer_id": cid, "updated_at": upd, "order": order | {"status": status}}),
            )
            == 200
        )
        assert (
            deliver(
                client,
                event(
                    "ticket.upserted",
                    {
                        "customer_id": cid,
                        "updated_at": upd,
                        "ticket": ticket | {"status": "closed" if at == 2 else "open"},
                    },
                ),
            )
            == 200
        )
        assert (
            deliver(
                client,
                event(
                    "product.changed",
                    {
                        "customer_id": cid,
                        "updated_at": upd,
                        "product": {
                            "sku": "FIB-100",
                            "name": "Fibre 100",
                            "status": "cancelled" if at == 2 else "suspended",
                        },
                    },
                ),
            )
            == 200
        )
    consent = {
        "customer_id": cid,
        "updated_at": (T0 + timedelta(days=3)).isoformat(),
        "consent": {"marketing": False, "ai_processing": True},
    }
    assert deliver(client, event("consent.changed", consent)) == 200
    # a CRM record older than the consent change, still carrying the old consent: consent stays withdrawn
    assert (
        deliver(
            client,
            event(
                "customer.upserted",
                customer(
                    cid, T0 + timedelta(days=2, hours=1), name="Robin Renamed", profile={"consent": {"marketing": True}}
                ),
            ),
        )
        == 200
    )
    snap = runtime.snapshots.get_snapshot(cid)
    assert snap.customer.profile.name == "Robin Renamed"
    assert snap.customer.profile.consent.marketing is False
    assert [p.status for p in snap.customer.products] == ["cancelled"]
    assert [o.status for o in snap.orders] == ["delivered"] and [t.status for t in snap.tickets] == ["closed"]


def test_deleted_customer_stays_deleted_against_late_changes(client: Any, runtime: Runtime) -> None:
    cid = new_id()
    assert deliver(client, event("customer.upserted", customer(cid, T0))) == 200
    assert deliver(client, event("interaction.recorded", interaction(cid, 1))) == 200
    gone = {"customer_id": cid, "updated_at": (T0 + timedelta(days=5)).isoformat()}
    assert deliver(client, event("customer.deleted", gone)) == 200
    assert deliver(client, event("customer.upserted", customer(cid, T0 + timedelta(days=4)))) == 200  # late, older
    assert deliver(client, event("interaction.recorded", interaction(cid, 2))) == 200  # acknowledged as stale
    ref = runtime.firestore.collection("customers").document(cid)
    assert not ref.get().exists and list(ref.collection("interactions").stream()) == []
    assert deliver(client, event("customer.upserted", customer(cid, T0 + timedelta(days=6)))) == 200  # re-created
    assert runtime.snapshots.get_snapshot(cid).customer.stats.interactions_total == 0


def test_a_child_before_its_customer_is_retried(client: Any, runtime: Runtime) -> None:
    cid = new_id()
    assert deliver(client, event("interaction.recorded", interaction(cid, 1))) == 500  # Pub/Sub retries
    assert deliver(client, event("customer.upserted", customer(cid, T0))) == 200
    assert deliver(client, event("interaction.recorded", interaction(cid, 1))) == 200
    assert runtime.snapshots.get_snapshot(cid).customer.stats.interactions_total == 1


def test_binary_content_mode_is_accepted(client: Any, runtime: Runtime) -> None:
    cid = new_id()
    attributes = {
        "ce-specversion": "1.0",
        "ce-id": "b-1",
        "ce-source": "urn:test:crm",
        "ce-type": "cx.customer.upserted.v1",
    }
    assert deliver(client, json.dumps(customer(cid, T0)).encode(), attributes) == 200
    assert doc(runtime, cid)["profile"]["name"] == "Robin Example"


def test_invalid_events_are_dead_lettered_with_the_reason(client: Any, runtime: Runtime) -> None:
    from google.cloud import pubsub_v1

    sub = pubsub_v1.SubscriberClient()
    path = sub.subscription_path(runtime.settings.gcp_project_or_local, f"sync-dlq-{uuid.uuid4().hex[:8]}")
    sub.create_subscription(name=path, topic=runtime.sync_dead_letter_topic)
    try:
        cid = new_id()
        bad = [
            b"not json",
            event("customer.exploded", {"customer_id": cid}),
            event(
                "consent.changed",
                {"customer_id": cid, "updated_at": "2026-01-01T00:00:00", "consent": {"marketing": True}},
            ),  # no UTC offset
            event("order.upserted", {"customer_id": cid, "updated_at": T0.isoformat(), "order": {}}),
        ]
        assert [deliver(client, b) for b in bad] == [200] * 4  # acknowledged: retrying cannot fix them
        reasons: list[str] = []
        for _ in range(10):
            resp = sub.pull(subscription=path, max_messages=10, timeout=5)
            reasons += [m.message.attributes["error"] for m in resp.received_messages]
            if resp.received_messages:
                sub.acknowledge(subscription=path, ack_ids=[m.ack_id for m in resp.received_messages])
            if len(reasons) >= 4:
                break
        assert len(reasons) == 4
        assert "not JSON" in reasons[0] or any("not JSON" in r for r in reasons)
        assert any("updated_at" in r for r in reasons) and any("order.order_id" in r for r in reasons)
        assert not runtime.firestore.collection("customers").document(cid).get().exists
    finally:
        sub.delete_subscription(subscription=path)
        sub.close()


def test_a_redelivered_deletion_finishes_one_cut_short(client: Any, runtime: Runtime) -> None:
    cid = new_id()
    assert deliver(client, event("customer.upserted", customer(cid, T0))) == 200
    assert deliver(client, event("interaction.recorded", interaction(cid, 1))) == 200
    gone = {"customer_id": cid, "updated_at": (T0 + timedelta(days=5)).isoformat()}
    ref = runtime.firestore.collection("customers").document(cid)
    # the instance stopped after the transaction: tombstone written, document gone, history left behind
    runtime.firestore.collection("sync_tombstones").document(cid).set(
        {"clock": {"updated_at": T0 + timedelta(days=5), "version": 0}}
    )
    ref.delete()
    assert len(list(ref.collection("interactions").stream())) == 1
    assert deliver(client, event("customer.deleted", gone)) == 200  # Pub/Sub redelivers
    assert list(ref.collection("interactions").stream()) == []
