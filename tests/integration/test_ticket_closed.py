"""ticket_closed through functions-framework's CloudEvent path on the emulators."""

from __future__ import annotations

import base64
import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from functions_framework import create_app

from shared.data.snapshots import Customer, Profile
from shared.runtime import Runtime
from shared.settings import ROOT
from tests.conftest import EventSink

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def client() -> Any:
    return create_app(target="ticket_closed", source=str(ROOT / "main.py")).test_client()


def deliver(client: Any, payload: dict | bytes) -> int:
    data = payload if isinstance(payload, bytes) else json.dumps(payload, default=str).encode()
    envelope = {
        "message": {
            "data": base64.b64encode(data).decode(),
            "messageId": uuid.uuid4().hex,
            "publishTime": datetime.now(UTC).isoformat(),
        },
        "subscription": "projects/p/subscriptions/cx-ticket-closed-fn",
    }
    headers = {
        "ce-specversion": "1.0",
        "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
        "ce-source": "//pubsub.googleapis.com/projects/p/topics/cx-ticket-closed",
        "ce-id": uuid.uuid4().hex,
        "Content-Type": "application/json",
    }
    return client.post("/", json=envelope, headers=headers).status_code


def new_customer(rt: Runtime) -> str:
    cid = f"C-T{uuid.uuid4().hex[:8]}"
    rt.snapshots.put_customer(
        Customer(
            customer_id=cid,
            profile=Profile(name="Test Person", language="en", timezone="Europe/London"),
            customer_since=T0 - timedelta(days=400),
        )
    )
    return cid


def close(cid: str, ticket: str, opened: datetime, closed: datetime, category: str = "billing", **kw: Any) -> dict:
    return {
        "ticket_id": ticket,
        "customer_id": cid,
        "channel": "chat",
        "journey": "billing_dispute",
        "category": category,
        "subject": "Double charge",
        "queue_history": ["Customer Service", "Billing"],
        "opened_at": opened.isoformat(),
        "closed_at": closed.isoformat(),
        "handle_time_s": 420,
        "after_contact_work_s": 60,
        "resolution_code": "refund_issued",
        "csat": 4,
        "ai_assisted": True,
        **kw,
    }


def tickets(rt: Runtime, cid: str) -> dict[str, dict]:
    col = rt.firestore.collection("customers").document(cid).collection("tickets")
    return {d.id: d.to_dict() for d in col.stream()}


def test_close_updates_snapshot_once_under_redelivery(client: Any, runtime: Runtime, event_sink: EventSink) -> None:
    cid = new_customer(runtime)
    payload = close(cid, "T-A", T0, T0 + timedelta(hours=2))
    assert all(deliver(client, payload) == 200 for _ in range(3))  # at-least-once: three deliveries
    snap = runtime.snapshots.get_snapshot(cid)
    assert snap.customer.stats.interactions_total == 1 and snap.customer.stats.category_counts == {"billing": 1}
    assert snap.customer.stats.sentiment_counts == {"positive": 1}  # from CSAT 4
    t = tickets(runtime, cid)["T-A"]
    assert (t["status"], t["handoffs"], t["queue"], t["journey"]) == ("closed", 1, "Billing", "billing_dispute")
    assert t["next_steps"]["unconfirmed"] is True  # the agent never confirmed
    runtime.events.flush()
    events = event_sink.collect(
        3, lambda e: e.get("event_type") == "ticket.closed" and e["ticket_id"] == "T-A", attempts=3
    )
    assert len({e["event_id"] for e in events}) == 1  # one event id, whatever the deliveries
    assert events[0]["ai_assisted"] is True and events[0]["handoffs"] == 1 and "customer_id" not in events[0]


@pytest.mark.parametrize("order", ["in_order", "reversed"])
def test_repeat_contacts_do_not_depend_on_arrival_order(client: Any, runtime: Runtime, order: str) -> None:
    cid = new_customer(runtime)
    first = close(cid, "T-1", T0, T0 + timedelta(hours=1))
    second = close(cid, "T-2", T0 + timedelta(days=3), T0 + timedelta(days=3, hours=1))  # 3 days later, same topic
    third = close(cid, "T-3", T0 + timedelta(days=20), T0 + timedelta(days=20, hours=1))  # 17 days after T-2
    other = close(cid, "T-X", T0 + timedelta(days=4), T0 + timedelta(days=4, hours=1), category="delivery")
    batch = [first, second, third, other]
    for payload in batch if order == "in_order" else batch[::-1]:
        assert deliver(client, payload) == 200
    t = tickets(runtime, cid)
    assert t["T-1"]["repeat_within_7d"] and t["T-1"]["repeat_within_30d"] and not t["T-1"]["first_contact_resolved"]
    assert "repeat_within_7d" not in t["T-2"] and t["T-2"]["repeat_within_30d"]
    assert t["T-2"].get("first_contact_resolved", True)
    assert "repeat_within_30d" not in t["T-3"] and "repeat_within_30d" not in t["T-X"]


def test_shuffled_triple_redelivery_changes_nothing(client: Any, runtime: Runtime) -> None:
    cid = new_customer(runtime)
    payloads = [close(cid, f"T-{i}", T0 + timedelta(days=5 * i), T0 + timedelta(days=5 * i, hours=1)) for i in range(4)]
    deliveries = payloads * 3
    random.Random(7).shuffle(deliveries)
    assert all(deliver(client, p) == 200 for p in deliveries)
    snap = runtime.snapshots.get_snapshot(cid)
    assert snap.customer.stats.interactions_total == 4 and len(snap.interactions) == 4
    t = tickets(runtime, cid)
    assert [t[f"T-{i}"].get("repeat_within_7d", False) for i in range(4)] == [True, True, True, False]


def test_invalid_payloads_are_dead_lettered_and_acknowledged(client: Any, runtime: Runtime) -> None:
    from google.cloud import pubsub_v1

    sub = pubsub_v1.SubscriberClient()
    path = sub.subscription_path(runtime.settings.gcp_project_or_local, f"dlq-{uuid.uuid4().hex[:8]}")
    sub.create_subscription(name=path, topic=runtime.dead_letter_topic)
    try:
        bad = close("C-1001", "T-BAD", T0 + timedelta(hours=2), T0)  # closed before opened
        assert deliver(client, bad) == 200
        assert deliver(client, b"{not json") == 200
        got = []
        for _ in range(10):
            msgs = sub.pull(subscription=path, max_messages=10, timeout=5).received_messages
            if msgs:
                sub.acknowledge(subscription=path, ack_ids=[m.ack_id for m in msgs])
            got += msgs
            if len(got) >= 2:
                break
        assert len(got) == 2
        errors = [m.message.attributes["error"] for m in got]
        assert any("closed_at is before opened_at" in e for e in errors)
        assert {m.message.attributes["source"] for m in got} == {"ticket_closed"}
    finally:
        sub.delete_subscription(subscription=path)
        sub.close()


def test_transient_problems_raise_for_a_retry(client: Any, runtime: Runtime) -> None:
    unknown = close("C-NOT-YET-SYNCED", "T-R", T0, T0 + timedelta(hours=1))
    assert deliver(client, unknown) == 500  # not acknowledged: Pub/Sub redelivers


def test_missing_next_steps_are_extracted_unconfirmed(client: Any, runtime: Runtime) -> None:
    cid = new_customer(runtime)
    transcript = [
        {"speaker": "customer", "text": "I was charged twice."},
        {"speaker": "agent", "text": "Our billing team will refund the duplicate within 5 business days."},
    ]
    assert deliver(client, close(cid, "T-N", T0, T0 + timedelta(hours=1), transcript=transcript)) == 200
    steps = tickets(runtime, cid)["T-N"]["next_steps"]
    assert steps["unconfirmed"] is True and steps["suggestion_id"]
    assert steps["suggested"]["actions"][0]["owner"] == "backoffice"


def test_loader_lands_published_events_once_in_the_warehouse(client: Any, runtime: Runtime) -> None:
    from google.cloud import pubsub_v1

    from scripts.warehouse_db import connect, load_from_subscription, query

    sub = pubsub_v1.SubscriberClient()
    path = sub.subscription_path(runtime.settings.gcp_project_or_local, f"wh-{uuid.uuid4().hex[:8]}")
    sub.create_subscription(name=path, topic=runtime.events.topic_path)
    try:
        cid = new_customer(runtime)
        payloads = [
            close(cid, f"T-W{i}", T0 + timedelta(days=2 * i), T0 + timedelta(days=2 * i, hours=1)) for i in range(3)
        ]
        for p in payloads * 2:  # every close delivered twice
            assert deliver(client, p) == 200
        runtime.events.flush()
        con = connect()
        loaded = sum(load_from_subscription(con, sub, path, timeout=5) for _ in range(3))
        assert loaded >= 5  # 3 closes + 2 repeat contacts (and re-published copies)
        rows = query(con, "SELECT ticket_id, repeat_7d FROM cx_analytics.tickets ORDER BY ticket_id")
        assert rows == [
            {"ticket_id": "T-W0", "repeat_7d": True},
            {"ticket_id": "T-W1", "repeat_7d": True},
            {"ticket_id": "T-W2", "repeat_7d": False},
        ]
    finally:
        sub.delete_subscription(subscription=path)
        sub.close()


@pytest.mark.parametrize(
    ("order", "reported"),
    [("earliest_first", [3.0, 10.0, 20.0]), ("earliest_last", [3.0])],
)
def test_a_repeat_is_reported_when_it_is_nearer_than_the_known_one(
    client: Any, runtime: Runtime, event_sink: EventSink, order: str, reported: list[float]
) -> None:
    """Each earlier ticket's nearest repeat (what the flags and the warehouse's MIN use) is exact in any
    arrival order, and a later contact further away than the known one costs no write and no event."""
    cid = new_customer(runtime)
    earliest = close(cid, "T-E", T0, T0 + timedelta(hours=1))
    later = [  # opened 20, 10, 3 and 25 days after T-E closed
        close(cid, f"T-L{d}", T0 + timedelta(days=d, hours=1), T0 + timedelta(days=d, hours=2)) for d in (20, 10, 3, 25)
    ]
    for payload in [earliest, *later] if order == "earliest_first" else [*later, earliest]:
        assert deliver(client, payload) == 200
    t = tickets(runtime, cid)["T-E"]
    assert t["repeat_min_days"] == 3.0 and t["repeat_within_7d"] and t["first_contact_resolved"] is False
    runtime.events.flush()
    found = event_sink.collect(
        len(reported), lambda e: e.get("event_type") == "ticket.repeat_contact" and e["earlier_ticket_id"] == "T-E"
    )
    assert sorted(e["days_between"] for e in found) == reported  # never the 25 days: 3 was known by then


def test_history_beyond_the_cap_is_pruned_oldest_first_and_the_stats_keep_counting(runtime: Runtime) -> None:
    from shared.capabilities.ticket_closed import handle
    from shared.data.snapshots import Interaction
    from shared.settings import load_settings

    capped = Runtime(load_settings(model_backend="offline", max_interactions=50))
    cid = new_customer(runtime)
    earlier = [
        Interaction(interaction_id=f"I-{i:02d}", channel="chat", occurred_at=T0 - timedelta(days=60 - i), summary="x")
        for i in range(55)
    ]
    runtime.snapshots.put_many(cid, earlier)  # history written directly (an import): not counted in stats
    payload = json.dumps(close(cid, "T-P", T0, T0 + timedelta(hours=1))).encode()
    assert handle(payload, capped) == "processed"
    kept = {d.id for d in runtime.firestore.collection("customers").document(cid).collection("interactions").stream()}
    assert len(kept) == 50 and "T-P-close" in kept
    assert kept.isdisjoint({f"I-{i:02d}" for i in range(6)})  # the six oldest went
    assert runtime.snapshots.stats(cid).interactions_total == 1


# (ticket, opened, closed) in days after T0: a long ticket spanning shorter ones, a tie on opening,
# repeats on both sides of the 7- and 30-day bounds.
OVERLAPPING = [
    ("T-A", 0.0, 10.0),
    ("T-B", 5.0, 6.0),
    ("T-C", 1.0, 2.0),
    ("T-D", 12.0, 12.05),
    ("T-E", 12.0, 13.0),
    ("T-F", 45.0, 46.0),
    ("T-G", 40.0, 41.0),
]


def nearest_repeat_days(ticket: str) -> float | None:
    """The definition, by brute force: days from this close to the nearest other opening within 30 days."""
    _, _, closed = next(t for t in OVERLAPPING if t[0] == ticket)
    gaps = [opened - closed for other, opened, _ in OVERLAPPING if other != ticket and 0 <= opened - closed <= 30]
    return round(min(gaps), 3) if gaps else None


@pytest.mark.parametrize("order", ["forward", "reverse", "shuffled-1", "shuffled-2", "shuffled-3", "shuffled-4"])
def test_nearest_repeats_match_the_definition_in_any_arrival_order(client: Any, runtime: Runtime, order: str) -> None:
    cid = new_customer(runtime)
    payloads = [close(cid, t, T0 + timedelta(days=o), T0 + timedelta(days=c)) for t, o, c in OVERLAPPING]
    if order == "reverse":
        payloads.reverse()
    elif order.startswith("shuffled"):
        random.Random(order).shuffle(payloads)
    for payload in payloads:
        assert deliver(client, payload) == 200
    stored = tickets(runtime, cid)
    for ticket, _, _ in OVERLAPPING:
        expected, t = nearest_repeat_days(ticket), stored[ticket]
        assert t.get("repeat_min_days") == expected, ticket
        assert t.get("repeat_within_7d", False) == (expected is not None and expected <= 7), ticket
        assert t.get("repeat_within_30d", False) == (expected is not None), ticket
        assert t.get("first_contact_resolved", True) == (expected is None or expected > 7), ticket
