"""No silent loss on ticket close and snapshot sync: Pub/Sub dead-letters, the managed push path, the replay
command for every dead-letter subscription."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from functions_framework import create_app
from google.cloud import pubsub_v1

from scripts.replay_dead_letters import replay
from shared.runtime import Runtime
from shared.settings import ROOT, Settings
from tests.integration.test_snapshot_sync import customer, event, interaction, new_id
from tests.integration.test_snapshot_sync import deliver as deliver_change
from tests.integration.test_ticket_closed import T0, close, new_customer, tickets

pytestmark = pytest.mark.integration


@pytest.fixture
def pubsub(settings: Settings) -> Iterator[tuple[Any, Any, Any]]:
    subscriber, publisher = pubsub_v1.SubscriberClient(), pubsub_v1.PublisherClient()
    created: list[str] = []

    def subscribe(topic: str, **extra: Any) -> str:
        path = subscriber.subscription_path(settings.gcp_project_or_local, f"test-{uuid.uuid4().hex[:10]}")
        subscriber.create_subscription(request={"name": path, "topic": topic, **extra})
        created.append(path)
        return path

    yield subscriber, publisher, subscribe
    for path in created:
        subscriber.delete_subscription(subscription=path)
    subscriber.close()


def topic(settings: Settings, name: str) -> str:
    return f"projects/{settings.gcp_project_or_local}/topics/{name}"


def drain(subscriber: Any, path: str) -> list[Any]:
    out = []
    while True:
        msgs = subscriber.pull(subscription=path, max_messages=100, timeout=5).received_messages
        if not msgs:
            return out
        subscriber.acknowledge(subscription=path, ack_ids=[m.ack_id for m in msgs])
        out += [m.message for m in msgs]


def park(publisher: Any, dlq: str, payload: bytes, **attrs: str) -> str:
    return publisher.publish(dlq, payload, **attrs).result(timeout=30)


def test_failing_deliveries_end_on_the_dead_letter_topic_not_dropped(settings: Settings, pubsub: Any) -> None:
    """The subscription policy Terraform sets, on the emulator: after N nacks the message is parked."""
    subscriber, publisher, subscribe = pubsub
    source = topic(settings, f"test-src-{uuid.uuid4().hex[:8]}")
    publisher.create_topic(name=source)
    dlq_topic = topic(settings, settings.ticket_closed_dlq_topic)
    dlq = subscribe(dlq_topic)
    sub = subscribe(source, dead_letter_policy={"dead_letter_topic": dlq_topic, "max_delivery_attempts": 5})
    publisher.publish(source, b'{"ticket_id": "T-fails"}', kind="test").result(timeout=30)
    for _ in range(12):  # the function keeps failing: nack every delivery
        msgs = subscriber.pull(subscription=sub, max_messages=10, timeout=5).received_messages
        if msgs:
            subscriber.modify_ack_deadline(subscription=sub, ack_ids=[m.ack_id for m in msgs], ack_deadline_seconds=0)
    parked = drain(subscriber, dlq)
    publisher.delete_topic(topic=source)
    assert [m.data for m in parked] == [b'{"ticket_id": "T-fails"}']
    assert parked[0].attributes["kind"] == "test"


def test_replay_republishes_then_acks_and_keeps_invalid(settings: Settings, pubsub: Any) -> None:
    subscriber, publisher, subscribe = pubsub
    dlq_topic = topic(settings, settings.ticket_closed_dlq_topic)
    closed_topic = topic(settings, settings.ticket_closed_topic)
    dlq = subscribe(dlq_topic)
    sink = subscribe(closed_topic)
    undelivered = [json.dumps({"ticket_id": f"T-{i}"}).encode() for i in range(3)]
    ids = [
        park(
            publisher,
            dlq_topic,
            d,
            CloudPubSubDeadLetterSourceDeliveryCount="20",
            CloudPubSubDeadLetterSourceSubscription="cx-ticket-closed-fn",
            origin="ticketing",
        )
        for d in undelivered
    ]
    invalid = park(
        publisher, dlq_topic, b"not json", error='[{"type": "json_invalid"}]', source="ticket_closed", message_id="m-1"
    )

    dry = replay(subscriber, publisher, dlq, closed_topic, dry_run=True, timeout=5)
    assert sorted(p.message_id for p in dry.listed) == sorted([*ids, invalid]) and dry.republished == []
    assert drain(subscriber, sink) == []  # nothing published by a dry run

    res = replay(subscriber, publisher, dlq, closed_topic, timeout=5)
    assert sorted(res.republished) == sorted(ids) and res.kept_invalid == [invalid] and not res.failed
    replayed = drain(subscriber, sink)
    assert sorted(m.data for m in replayed) == sorted(undelivered)
    for m in replayed:  # original attributes kept, Pub/Sub's dead-letter bookkeeping dropped, provenance added
        assert m.attributes["origin"] == "ticketing" and m.attributes["replay_of"] in ids
        assert not any(k.startswith("CloudPubSubDeadLetter") for k in m.attributes)
    left = drain(subscriber, dlq)  # acked ones are gone; the invalid one was released for the next run
    assert [m.message_id for m in left] == [invalid]


def test_replay_acks_nothing_whose_publish_failed(settings: Settings, pubsub: Any) -> None:
    subscriber, publisher, subscribe = pubsub
    dlq_topic = topic(settings, settings.ticket_closed_dlq_topic)
    closed_topic = topic(settings, settings.ticket_closed_topic)
    dlq = subscribe(dlq_topic)
    ok, bad = park(publisher, dlq_topic, b'{"n": 1}'), park(publisher, dlq_topic, b'{"n": 2}')

    class FlakyPublisher:
        def publish(self, topic_path: str, data: bytes, **attrs: str) -> Future[str]:
            if data == b'{"n": 2}':
                failed: Future[str] = Future()
                failed.set_exception(RuntimeError("publish refused"))
                return failed
            return publisher.publish(topic_path, data, **attrs)

    res = replay(subscriber, FlakyPublisher(), dlq, closed_topic, timeout=5)
    assert res.republished == [ok] and list(res.failed) == [bad]
    assert [m.message_id for m in drain(subscriber, dlq)] == [bad]


def test_raw_push_delivery_reaches_ticket_closed(runtime: Runtime) -> None:
    """The push subscription posts Pub/Sub's plain push body (no CloudEvent headers), as Terraform deploys it."""
    client = create_app(target="ticket_closed", source=str(ROOT / "main.py")).test_client()
    cid = new_customer(runtime)
    payload = close(cid, "TK-PUSH1", T0, T0 + timedelta(hours=1))
    body = {
        "message": {
            "data": base64.b64encode(json.dumps(payload).encode()).decode(),
            "messageId": "1234",
            "publishTime": datetime.now(UTC).isoformat(),
            "attributes": {},
        },
        "subscription": "projects/p/subscriptions/cx-ticket-closed-fn",
    }
    assert client.post("/", json=body).status_code == 200
    assert client.post("/", json=body).status_code == 200  # a redelivery is acknowledged too
    closed = tickets(runtime, cid)
    assert list(closed) == ["TK-PUSH1"] and closed["TK-PUSH1"]["status"] == "closed"


def test_replay_command_line(settings: Settings, pubsub: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from scripts.replay_dead_letters import main

    subscriber, publisher, subscribe = pubsub
    dlq = subscribe(topic(settings, settings.ticket_closed_dlq_topic))
    sink = subscribe(topic(settings, settings.ticket_closed_topic))
    parked = park(publisher, topic(settings, settings.ticket_closed_dlq_topic), b'{"ticket_id": "T-cli"}')
    one = ["--source", "ticket_closed", "--subscription", dlq.rsplit("/", 1)[-1], "--timeout", "5"]
    assert main([*one, "--dry-run"]) == 0
    assert "would replay 1" in capsys.readouterr().out and drain(subscriber, sink) == []
    assert main(one) == 0
    assert f"republished 1 to {topic(settings, settings.ticket_closed_topic)}" in capsys.readouterr().out
    (msg,) = drain(subscriber, sink)
    assert msg.data == b'{"ticket_id": "T-cli"}' and msg.attributes["replay_of"] == parked


def test_snapshot_sync_dead_letters_replay_with_their_attributes_and_then_apply(
    settings: Settings, runtime: Runtime, pubsub: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """A binary-mode change the function rejected keeps its ce-* attributes on the dead-letter topic; a change
    Pub/Sub parked (its customer had not arrived) is replayed onto cx-snapshot-sync and applies once it has."""
    from scripts.replay_dead_letters import main

    subscriber, publisher, subscribe = pubsub
    dlq_topic = topic(settings, settings.snapshot_sync_dlq_topic)
    dlq = subscribe(dlq_topic)
    sink = subscribe(topic(settings, settings.snapshot_sync_topic))
    function = create_app(target="snapshot_sync", source=str(ROOT / "main.py")).test_client()
    cid = new_id()
    binary = {
        "ce-specversion": "1.0",
        "ce-id": "crm-1",
        "ce-source": "urn:test:crm",
        "ce-type": "cx.consent.changed.v1",
    }
    rejected = {"customer_id": cid, "updated_at": "2026-01-01T00:00:00", "consent": {"marketing": True}}  # no offset
    assert deliver_change(function, json.dumps(rejected).encode(), binary) == 200  # dead-lettered by the function
    late = json.dumps(event("interaction.recorded", interaction(cid, 1))).encode()
    parked = park(
        publisher,
        dlq_topic,
        late,
        CloudPubSubDeadLetterSourceDeliveryCount="20",
        CloudPubSubDeadLetterSourceSubscription="cx-snapshot-sync-fn",
        origin="crm",
    )
    one = ["--source", "snapshot_sync", "--subscription", dlq.rsplit("/", 1)[-1], "--timeout", "5"]

    assert main(one) == 0
    out = capsys.readouterr().out
    assert "republished 1 to" in out and "kept 1 invalid" in out and "invalid: " in out
    (replayed,) = drain(subscriber, sink)
    assert (
        replayed.data == late and replayed.attributes["origin"] == "crm" and replayed.attributes["replay_of"] == parked
    )
    assert not any(k.startswith("CloudPubSubDeadLetter") for k in replayed.attributes)
    assert deliver_change(function, event("customer.upserted", customer(cid, T0))) == 200  # the customer arrives
    assert deliver_change(function, replayed.data, dict(replayed.attributes)) == 200
    col = runtime.firestore.collection("customers").document(cid).collection("interactions")
    assert [d.id for d in col.stream()] == ["I-1"]

    assert main([*one, "--include-invalid"]) == 0  # after the source fixed its clock: the rejected one too
    (fixed,) = drain(subscriber, sink)
    assert fixed.data == json.dumps(rejected).encode()
    assert {k: v for k, v in fixed.attributes.items() if k.startswith("ce-")} == binary  # still binary mode
    assert not {"error", "source", "message_id"} & set(fixed.attributes)  # the verdict is not replayed
    assert drain(subscriber, dlq) == []


def test_replay_covers_every_local_dead_letter_subscription_by_default(
    settings: Settings, pubsub: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --source: ticket close and snapshot sync (the emulator's -local subscriptions); events_bq exists
    only in a project. A dry run lists both and changes nothing."""
    from scripts.replay_dead_letters import main

    subscriber, publisher, _ = pubsub
    closed = park(publisher, topic(settings, settings.ticket_closed_dlq_topic), b'{"ticket_id": "T-all"}')
    synced = park(publisher, topic(settings, settings.snapshot_sync_dlq_topic), b'{"specversion": "1.0"}')
    assert main(["--dry-run", "--timeout", "5"]) == 0
    out = capsys.readouterr().out
    sections = dict(s.split(":", 1) for s in out.split("\n") if s and not s.startswith(" "))
    assert set(sections) == {"ticket_closed", "snapshot_sync", "events_bq"}
    assert "skipped" in sections["events_bq"]
    assert closed in out.split("snapshot_sync:")[0] and synced in out.split("snapshot_sync:")[1]
    with pytest.raises(SystemExit) as exit_info:
        main(["--source", "events_bq"])
    assert exit_info.value.code == 2  # refused, not silently nothing
    with pytest.raises(SystemExit):
        main(["--topic", "cx-events"])  # an override names one source's topic
