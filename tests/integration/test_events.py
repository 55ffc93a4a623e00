from __future__ import annotations

import json

import pytest

from shared.capabilities.events import SuggestionGenerated
from shared.platform import clients
from shared.platform.events import EventPublisher, FirestoreOutbox, drain_outbox
from shared.runtime import Runtime
from tests.conftest import EventSink

pytestmark = pytest.mark.integration


def _event(**kw: object) -> SuggestionGenerated:
    values = dict(
        suggestion_id="s-1",
        capability="context_summary",
        customer_key="k",
        prompt_version="context_summary/v1",
        engine="offline",
        model="offline-rules",
        degraded=False,
        latency_ms=1.0,
        model_latency_ms=0.1,
        tokens_in=10,
        tokens_out=5,
        tokens_estimated=True,
    )
    values.update(kw)
    return SuggestionGenerated(**values)  # type: ignore[arg-type]


def test_publish_is_batched_and_lands_with_attributes(runtime: Runtime, event_sink: EventSink) -> None:
    events = [_event(suggestion_id=f"batch-{i}") for i in range(25)]
    futures = [runtime.events.publish(e) for e in events]
    runtime.events.flush()
    assert all(f.done() and f.exception() is None for f in futures)
    got = event_sink.collect(25, lambda e: e["suggestion_id"].startswith("batch-"))
    assert sorted(e["event_id"] for e in got) == sorted(e.event_id for e in events)


def test_failed_publish_goes_to_the_outbox_and_is_drained(runtime: Runtime, event_sink: EventSink) -> None:
    settings = runtime.settings
    outbox = FirestoreOutbox(runtime.firestore, "test_outbox")
    broken = EventPublisher(
        clients.publisher_client(settings), settings.gcp_project_or_local, "topic-that-does-not-exist", outbox=outbox
    )
    event = _event(suggestion_id="outboxed")
    future = broken.publish(event)
    broken.flush()
    assert future.exception() is not None
    ((doc_id, entry),) = [p for p in outbox.pending() if p[0] == event.event_id]
    assert json.loads(entry["payload"])["suggestion_id"] == "outboxed"

    # Operations fix the topic (here: point the entry at the real one) and drain.
    runtime.firestore.collection("test_outbox").document(doc_id).update({"topic": runtime.events.topic_path})
    assert drain_outbox(outbox, clients.publisher_client(settings)) == 1
    assert [p for p in outbox.pending() if p[0] == event.event_id] == []
    (delivered,) = event_sink.collect(1, lambda e: e["suggestion_id"] == "outboxed")
    assert delivered["event_id"] == event.event_id
