"""Suggestion and KPI events to Pub/Sub: batched, non-blocking, never silently dropped.

Guarantee (at least once): ``publish`` hands the event to the Pub/Sub client's batcher
and returns at once. The client retries transient errors itself; if a publish still
fails, the done-callback writes the event to the Firestore outbox collection and logs
an ERROR carrying the event id. ``drain_outbox`` (run by ``python -m scripts.drain_outbox``,
or on a schedule) republishes and deletes outbox entries. Consumers de-duplicate on
``event_id``. Pending batches are flushed when the instance shuts down.
"""

from __future__ import annotations

import atexit
import threading
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from shared.platform import logs

if TYPE_CHECKING:
    from concurrent.futures import Future

    from google.cloud import firestore
    from google.cloud.pubsub_v1 import PublisherClient

SCHEMA_VERSION = 1


def new_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


class Event(BaseModel):
    event_id: str = Field(default_factory=new_id)
    event_type: str
    schema_version: int = SCHEMA_VERSION
    occurred_at: datetime = Field(default_factory=utcnow)


class SuggestionGenerated(Event):
    event_type: Literal["suggestion.generated"] = "suggestion.generated"
    suggestion_id: str
    capability: str
    customer_key: str = Field(description="HMAC pseudonym of the customer id, never the id.")
    prompt_version: str
    experiment: str | None = None
    arm: Literal["control", "candidate"] | None = None
    policy_version: str | None = None
    engine: Literal["vertex", "offline"]
    model: str
    degraded: bool
    degraded_reason: str | None = None
    latency_ms: float
    model_latency_ms: float
    tokens_in: int
    tokens_out: int
    tokens_thinking: int = Field(default=0, description="Thinking tokens: billed as output, not in tokens_out.")
    tokens_cached: int = Field(default=0, description="Prompt tokens served from the context cache (in tokens_in).")
    cost_usd: float | None = Field(default=None, description="Priced from config/pricing.yaml; None = unknown.")
    tokens_estimated: bool
    agent_id: str | None = None
    request_id: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)


class FirestoreOutbox:
    """Events whose publish failed, kept until republished."""

    def __init__(self, client: firestore.Client, collection: str) -> None:
        self._col = client.collection(collection)

    def save(self, topic: str, event: Event, error: str) -> None:
        self._col.document(event.event_id).set(
            {
                "topic": topic,
                "payload": event.model_dump_json(),
                "event_type": event.event_type,
                "error": error[:500],
                "failed_at": utcnow(),
            }
        )

    def pending(self, limit: int = 500) -> list[tuple[str, dict[str, Any]]]:
        return [(d.id, d.to_dict()) for d in self._col.limit(limit).stream()]

    def delete(self, doc_id: str) -> None:
        self._col.document(doc_id).delete()


class EventPublisher:
    def __init__(
        self,
        publisher: PublisherClient,
        project: str,
        topic: str,
        outbox: FirestoreOutbox | None = None,
    ) -> None:
        self._publisher = publisher
        self.topic_path = f"projects/{project}/topics/{topic}"
        self._outbox = outbox
        self._pending: set[Future[str]] = set()
        self._settled = threading.Condition()
        self._log = logs.get_logger("events")

    def publish(self, event: Event) -> Future[str]:
        data = event.model_dump_json().encode("utf-8")
        future = self._publisher.publish(
            self.topic_path, data, event_type=event.event_type, event_id=event.event_id
        )
        with self._settled:
            self._pending.add(future)
        future.add_done_callback(lambda f: self._done(f, event))
        return future

    def _done(self, future: Future[str], event: Event) -> None:
        try:
            self._handle_result(future, event)
        finally:  # settled only once the outbox write (if any) is over
            with self._settled:
                self._pending.discard(future)
                self._settled.notify_all()

    def _handle_result(self, future: Future[str], event: Event) -> None:
        exc = future.exception()
        if exc is None:
            return
        fields = {"event_id": event.event_id, "event_type": event.event_type, "error": repr(exc)}
        if self._outbox is None:
            self._log.error("event publish failed; no outbox configured", extra={"fields": fields})
            return
        try:
            self._outbox.save(self.topic_path, event, repr(exc))
            self._log.warning("event publish failed; kept in outbox", extra={"fields": fields})
        except Exception as outbox_exc:  # both paths down: the log line is the last record
            fields["event"] = event.model_dump(mode="json")
            fields["outbox_error"] = repr(outbox_exc)
            self._log.error("event publish and outbox write failed", extra={"fields": fields})

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every event in flight is delivered or in the outbox (tests, shutdown).

        Publishing itself never waits; returns False if events were still in flight.
        """
        with self._settled:
            return self._settled.wait_for(lambda: not self._pending, timeout=timeout)


def drain_outbox(outbox: FirestoreOutbox, publisher: PublisherClient, timeout: float = 30.0) -> int:
    """Republish every outbox entry; an entry is deleted only after Pub/Sub accepted it."""
    sent = 0
    for doc_id, entry in outbox.pending():
        future = publisher.publish(
            entry["topic"], entry["payload"].encode("utf-8"),
            event_type=entry.get("event_type", ""), event_id=doc_id,
        )  # fmt: skip
        future.result(timeout=timeout)
        outbox.delete(doc_id)
        sent += 1
    return sent


_registered: list[EventPublisher] = []


def _flush_all() -> None:
    for pub in _registered:
        pub.flush(timeout=5.0)


def register_for_shutdown(publisher: EventPublisher) -> EventPublisher:
    if not _registered:
        atexit.register(_flush_all)
    _registered.append(publisher)
    return publisher
