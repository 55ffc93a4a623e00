"""The event guarantee without a network: durable (published or outboxed) before publish returns, or it raises."""

from __future__ import annotations

import concurrent.futures
import json
from typing import Any

import pytest

from shared.capabilities.events import SuggestionGenerated
from shared.platform.errors import Unavailable
from shared.platform.events import EventPublisher, drain_outbox


def _event(n: int = 0) -> SuggestionGenerated:
    return SuggestionGenerated(
        suggestion_id=f"s-{n}",
        capability="context_summary",
        customer_key="k",
        prompt_version="context_summary/v1",
        engine="offline",
        model="offline-rules",
        degraded=False,
        latency_ms=1.0,
        model_latency_ms=0.1,
        tokens_in=1,
        tokens_out=1,
        tokens_estimated=True,
    )


class FakePublisher:
    """Pub/Sub that accepts, refuses, or never answers (an outage the client keeps retrying)."""

    def __init__(self, mode: str = "ok", refuse: set[str] | None = None) -> None:
        self.mode = mode
        self.refuse = refuse or set()
        self.published: list[dict[str, Any]] = []
        self.hanging: list[concurrent.futures.Future[str]] = []

    def publish(self, topic: str, data: bytes, **attrs: str) -> concurrent.futures.Future[str]:
        future: concurrent.futures.Future[str] = concurrent.futures.Future()
        if self.mode == "hang":
            self.hanging.append(future)
        elif self.mode == "fail" or attrs.get("event_id") in self.refuse:
            future.set_exception(RuntimeError("503 unavailable"))
        else:
            self.published.append({"topic": topic, "data": json.loads(data), **attrs})
            future.set_result(str(len(self.published)))
        return future


class FakeOutbox:
    def __init__(self, broken: bool = False) -> None:
        self.broken = broken
        self.entries: dict[str, dict[str, Any]] = {}

    def save(self, topic: str, event: Any, error: str) -> None:
        if self.broken:
            raise RuntimeError("firestore down")
        self.entries[event.event_id] = {
            "topic": topic,
            "payload": event.model_dump_json(),
            "event_type": event.event_type,
            "error": error,
        }

    def pending(self, limit: int = 500, after: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        ids = sorted(i for i in self.entries if after is None or i > after)[:limit]
        return [(i, self.entries[i]) for i in ids]

    def delete(self, doc_id: str) -> None:
        del self.entries[doc_id]


def _publisher(pub: FakePublisher, outbox: FakeOutbox | None) -> EventPublisher:
    return EventPublisher(pub, "p", "cx-events", outbox=outbox, publish_timeout_s=0.01)  # type: ignore[arg-type]


def test_an_event_pubsub_does_not_answer_in_time_is_in_the_outbox_when_publish_returns() -> None:
    pub, outbox = FakePublisher("hang"), FakeOutbox()
    events = _publisher(pub, outbox)
    event = _event(1)
    events.publish(event)
    assert json.loads(outbox.entries[event.event_id]["payload"])["suggestion_id"] == "s-1"
    assert outbox.entries[event.event_id]["error"] == "publish timed out"
    # Killed now, the event survives; shut down now, the stragglers are written again (same id: idempotent).
    assert events.persist_pending() == 1 and list(outbox.entries) == [event.event_id]


def test_during_an_outage_later_events_skip_pubsub_and_go_straight_to_the_outbox() -> None:
    pub, outbox = FakePublisher("fail"), FakeOutbox()
    events = _publisher(pub, outbox)
    events.publish(_event(1))
    pub.mode = "hang"  # would make every request wait: the cool-down avoids it
    futures = events.publish_all([_event(2), _event(3)])
    assert pub.hanging == [] and all(f.exception() is not None for f in futures)
    assert {json.loads(e["payload"])["suggestion_id"] for e in outbox.entries.values()} == {"s-1", "s-2", "s-3"}


def test_when_neither_pubsub_nor_the_outbox_takes_the_event_the_request_is_refused() -> None:
    with pytest.raises(Unavailable):
        _publisher(FakePublisher("fail"), FakeOutbox(broken=True)).publish(_event())
    with pytest.raises(Unavailable):
        _publisher(FakePublisher("fail"), None).publish(_event())


def test_a_published_event_is_not_outboxed() -> None:
    pub, outbox = FakePublisher("ok"), FakeOutbox()
    _publisher(pub, outbox).publish_all([_event(1), _event(2)])
    assert [p["data"]["suggestion_id"] for p in pub.published] == ["s-1", "s-2"] and outbox.entries == {}


def test_the_drain_runs_until_the_outbox_is_empty_past_entries_pubsub_refuses() -> None:
    outbox = FakeOutbox()
    events = [_event(i) for i in range(1234)]  # more than several drain pages
    for e in events:
        outbox.save("projects/p/topics/cx-events", e, "earlier outage")
    refused = {events[5].event_id, events[700].event_id}
    pub = FakePublisher("ok", refuse=refused)
    assert drain_outbox(outbox, pub) == 1232  # type: ignore[arg-type]
    assert set(outbox.entries) == refused
    assert len({p["event_id"] for p in pub.published}) == 1232


def test_the_drain_stops_when_pubsub_refuses_everything() -> None:
    outbox = FakeOutbox()
    for i in range(3):
        outbox.save("t", _event(i), "x")
    assert drain_outbox(outbox, FakePublisher("fail")) == 0 and len(outbox.entries) == 3  # type: ignore[arg-type]


def test_every_firestore_rpc_gets_a_deadline_and_a_retry_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    from google.cloud import firestore

    from shared.platform.clients import bound_firestore

    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:9")  # no credentials needed; nothing is called
    client = bound_firestore(firestore.Client(project="p"), timeout_s=2.5, budget_s=3.5)
    wrapped = list(client._firestore_api._transport._wrapped_methods.values())
    assert len(wrapped) > 10
    assert {w._timeout for w in wrapped} == {2.5}
    assert {w._retry.timeout for w in wrapped if w._retry is not None} == {3.5}
