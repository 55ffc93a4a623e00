"""Suggestion and KPI events to Pub/Sub, durable before the request that caused them is answered.

Guarantee (at least once, durable at acknowledgement): when :meth:`EventPublisher.publish`
returns, the event has been accepted by Pub/Sub *or* written to the Firestore outbox;
if neither happened it raises :class:`~shared.platform.errors.Unavailable`, so the HTTP
request answers 503 and a Pub/Sub-triggered handler is redelivered. An instance that is
stopped or killed after answering therefore loses nothing it acknowledged.

How: the event goes to the client's batcher and the caller waits at most
``CX_EVENTS_PUBLISH_TIMEOUT_S`` for Pub/Sub's answer; on an error or the deadline the
event is written to the outbox before ``publish`` returns. After a failure the publisher
writes straight to the outbox for ``OUTAGE_COOLDOWN_S`` (no request waits on a Pub/Sub
that is down), then tries Pub/Sub again. A publish still in the client's background
retries when it was outboxed may also land later: delivery is at least once, consumers
de-duplicate on ``event_id``. :func:`drain_outbox` (the ``outbox_drain`` function on a
schedule, or ``python -m scripts.drain_outbox``) republishes entries until the outbox is
empty, deleting each only after Pub/Sub accepted it. At shutdown, events still in flight
are flushed and whatever is unsettled is written to the outbox.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import signal
import threading
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from shared.platform import logs
from shared.platform.errors import Unavailable

if TYPE_CHECKING:
    from concurrent.futures import Future

    from google.cloud import firestore
    from google.cloud.pubsub_v1 import PublisherClient

SCHEMA_VERSION = 1
OUTAGE_COOLDOWN_S = 10.0
DRAIN_PAGE = 200


def new_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


class Event(BaseModel):
    event_id: str = Field(default_factory=new_id)
    event_type: str
    schema_version: int = SCHEMA_VERSION
    occurred_at: datetime = Field(default_factory=utcnow)


class FirestoreOutbox:
    """Events whose publish failed, kept until republished."""

    def __init__(self, client: firestore.Client, collection: str, retention_days: int | None = None) -> None:
        self._col = client.collection(collection)
        self._retention = timedelta(days=retention_days) if retention_days else None

    def save(self, topic: str, event: Event, error: str) -> None:
        failed_at = utcnow()
        entry = {
            "topic": topic,
            "payload": event.model_dump_json(),
            "event_type": event.event_type,
            "error": error[:500],
            "failed_at": failed_at,
        }
        if self._retention is not None:  # Firestore TTL on expire_at (config/data/retention.yaml)
            entry["expire_at"] = failed_at + self._retention
        self._col.document(event.event_id).set(entry)

    def pending(self, limit: int = 500, after: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        """Up to ``limit`` entries in document-id order, starting after the id ``after``."""
        query = self._col.order_by("__name__").limit(limit)
        if after is not None:
            query = query.start_after({"__name__": self._col.document(after)})
        return [(d.id, d.to_dict() or {}) for d in query.stream()]

    def delete(self, doc_id: str) -> None:
        self._col.document(doc_id).delete()


class EventPublisher:
    def __init__(
        self,
        publisher: PublisherClient,
        project: str,
        topic: str,
        outbox: FirestoreOutbox | None = None,
        *,
        publish_timeout_s: float = 2.0,
        outage_cooldown_s: float = OUTAGE_COOLDOWN_S,
    ) -> None:
        self._publisher = publisher
        self.topic_path = f"projects/{project}/topics/{topic}"
        self._outbox = outbox
        self._timeout = publish_timeout_s
        self._cooldown = outage_cooldown_s
        self._outage_until = 0.0  # instance health, not request state: monotonic time Pub/Sub is skipped until
        self._pending: dict[Future[str], Event] = {}
        self._settled = threading.Condition()
        self._log = logs.get_logger("events")

    def publish(self, event: Event) -> Future[str]:
        """Publish one event; returns once it is accepted by Pub/Sub or kept in the outbox (else raises)."""
        return self.publish_all([event])[0]

    def publish_all(self, events: Iterable[Event]) -> list[Future[str]]:
        """Publish several events in one wait: each is accepted by Pub/Sub or in the outbox on return.

        Raises Unavailable if an event could be neither published nor written to the outbox.
        """
        batch = list(events)
        if time.monotonic() < self._outage_until:
            futures = [self._skipped(e) for e in batch]
        else:
            futures = [self._submit(e) for e in batch]
        done, not_done = concurrent.futures.wait(futures, timeout=self._timeout)
        failed = [(f, e) for f, e in zip(futures, batch, strict=True) if f in not_done or f.exception() is not None]
        if failed:
            self._outage_until = time.monotonic() + self._cooldown
        for future, event in failed:
            error = "publish timed out" if future in not_done else repr(future.exception())
            self._keep(event, error)
        return futures

    def _submit(self, event: Event) -> Future[str]:
        data = event.model_dump_json().encode("utf-8")
        future = self._publisher.publish(self.topic_path, data, event_type=event.event_type, event_id=event.event_id)
        with self._settled:
            self._pending[future] = event
        future.add_done_callback(self._done)
        return future

    def _skipped(self, event: Event) -> Future[str]:
        future: Future[str] = concurrent.futures.Future()
        future.set_exception(Unavailable("Pub/Sub recently failed; event kept in the outbox"))
        return future

    def _done(self, future: Future[str]) -> None:
        with self._settled:
            self._pending.pop(future, None)
            self._settled.notify_all()

    def _keep(self, event: Event, error: str) -> None:
        """Write the event to the outbox now; raise if that fails too (the caller must not acknowledge)."""
        fields = {"event_id": event.event_id, "event_type": event.event_type, "error": error[:300]}
        if self._outbox is None:
            self._log.error("event publish failed; no outbox configured", extra={"fields": fields})
            raise Unavailable("event could not be published and no outbox is configured")
        try:
            self._outbox.save(self.topic_path, event, error)
        except Exception as outbox_exc:  # both paths down: say so, never acknowledge
            fields["outbox_error"] = repr(outbox_exc)[:300]
            self._log.error("event publish and outbox write failed", extra={"fields": fields})
            raise Unavailable("events could not be stored; try again") from outbox_exc
        self._log.warning("event publish failed; kept in outbox", extra={"fields": fields})

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until the client's background publishes are settled (tests, shutdown).

        Every event is already durable when ``publish`` returns; this only waits for the
        stragglers that were outboxed while the client kept retrying. False on timeout.
        """
        with self._settled:
            return self._settled.wait_for(lambda: not self._pending, timeout=timeout)

    def persist_pending(self) -> int:
        """Write every event still in flight to the outbox (shutdown); returns how many were written."""
        with self._settled:
            stragglers = [e for f, e in self._pending.items() if not f.done()]
        kept = 0
        for event in stragglers:
            try:
                self._keep(event, "instance shut down before Pub/Sub answered")
                kept += 1
            except Unavailable:
                pass  # logged with the event id by _keep
        return kept


def drain_outbox(
    outbox: FirestoreOutbox, publisher: PublisherClient, timeout: float = 30.0, budget_s: float | None = None
) -> int:
    """Republish outbox entries until the outbox is empty (or ``budget_s`` runs out).

    An entry is deleted only after Pub/Sub accepted it; an entry whose publish fails stays
    and the drain moves past it, so one bad entry does not stop the rest. Returns how many
    were republished.
    """
    log = logs.get_logger("events")
    deadline = None if budget_s is None else time.monotonic() + budget_s
    sent, after = 0, None
    while deadline is None or time.monotonic() < deadline:
        page = outbox.pending(limit=DRAIN_PAGE, after=after)
        if not page:
            break
        futures = [
            (
                doc_id,
                publisher.publish(
                    entry["topic"],
                    entry["payload"].encode("utf-8"),
                    event_type=entry.get("event_type", ""),
                    event_id=doc_id,
                ),
            )
            for doc_id, entry in page
        ]
        failed = 0
        for doc_id, future in futures:
            try:
                future.result(timeout=timeout)
            except Exception as exc:  # stays in the outbox for the next run
                log.warning(
                    "outbox entry not republished", extra={"fields": {"event_id": doc_id, "error": repr(exc)[:300]}}
                )
                failed += 1
                continue
            outbox.delete(doc_id)
            sent += 1
        if failed == len(page):
            break  # Pub/Sub is not accepting anything: the next scheduled run tries again
        if failed:
            after = page[-1][0]  # accepted entries are deleted; move past the ones that failed
    return sent


_registered: list[EventPublisher] = []


def _flush_all() -> None:
    """At exit: let in-flight publishes settle briefly, then outbox whatever has not."""
    for pub in _registered:
        if not pub.flush(timeout=2.0):
            pub.persist_pending()


def register_for_shutdown(publisher: EventPublisher) -> EventPublisher:
    if not _registered:
        atexit.register(_flush_all)
    _registered.append(publisher)
    return publisher


def install_shutdown_handler() -> None:
    """Make SIGTERM run the exit handlers (and so :func:`_flush_all`) where nothing else handles it.

    gunicorn workers handle SIGTERM themselves and exit normally (atexit runs); the plain
    Python default would end the process without cleanup. Call from the main thread at start.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, _exit_on_sigterm)


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)
