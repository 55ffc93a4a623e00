"""Clients created once per instance, lazily, so cold start pays only for what is used.

Every factory is cached; tests either point the real clients at the emulators (the
client libraries read ``FIRESTORE_EMULATOR_HOST`` / ``PUBSUB_EMULATOR_HOST``) or pass
their own objects into the services, which take clients as arguments.

Deadlines: the generated Firestore client retries transient errors for 60 s per call
(and a transaction up to five times), so an outage held a worker thread for minutes.
:func:`bound_firestore` gives every RPC of a client a per-attempt timeout and a total
retry budget from the settings, keeping each call inside the request's own budget;
:func:`dependency_error` turns what is left (outage, contention) into 503/409 errors
that carry ``Retry-After``.
"""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING, Any

from shared.platform.errors import Contention, CxError, Unavailable
from shared.settings import Settings

if TYPE_CHECKING:
    from google.cloud import firestore
    from google.cloud.pubsub_v1 import PublisherClient

PUBLISH_RETRY_BUDGET_S = 60.0
PUBLISH_ATTEMPT_TIMEOUT_S = 10.0

_lock = threading.Lock()
_cache: dict[tuple[str, Any], Any] = {}


def cached(kind: str, key: Any, build: Any) -> Any:
    with _lock:
        if (kind, key) not in _cache:
            _cache[(kind, key)] = build()
        return _cache[(kind, key)]


def firestore_client(settings: Settings) -> firestore.Client:
    def build() -> firestore.Client:
        from google.cloud import firestore

        client = firestore.Client(project=settings.gcp_project_or_local, database=settings.firestore_database)
        return bound_firestore(client, settings.firestore_timeout_s, settings.firestore_retry_budget_s)

    key = (
        settings.gcp_project_or_local,
        settings.firestore_database,
        settings.firestore_timeout_s,
        settings.firestore_retry_budget_s,
    )
    return cached("firestore", key, build)


def bound_firestore(client: firestore.Client, timeout_s: float, budget_s: float) -> firestore.Client:
    """Give every RPC of ``client`` a per-attempt timeout and a total retry budget.

    The generated client wraps each RPC once with its default retry (60 s) and timeout
    (60-300 s); calls that pass no ``retry``/``timeout`` use those defaults. Here the
    defaults are replaced, keeping each method's own retry predicate (what is safe to
    retry stays as Google decided), so no call site needs to remember the arguments.
    """
    transport = client._firestore_api._transport  # noqa: SLF001 - built once, per client
    for wrapped in transport._wrapped_methods.values():  # noqa: SLF001
        retry = getattr(wrapped, "_retry", None)
        if retry is not None:
            wrapped._retry = retry.with_timeout(budget_s)  # noqa: SLF001
        if hasattr(wrapped, "_timeout"):
            wrapped._timeout = timeout_s  # noqa: SLF001
    return client


def dependency_error(exc: BaseException) -> CxError | None:
    """The HTTP error for a dependency failure (None: not one, a real bug).

    Transaction contention that outlasted the client's five attempts is a 409 the caller
    may retry; an unreachable or timed-out Firestore is a 503. Looks only at modules
    already loaded, so an error path never pays for an SDK import.
    """
    gexc = sys.modules.get("google.api_core.exceptions")
    if gexc is None:
        return None
    transient = (
        gexc.ServiceUnavailable,
        gexc.DeadlineExceeded,
        gexc.RetryError,
        gexc.ResourceExhausted,
        gexc.InternalServerError,
        gexc.GatewayTimeout,
        gexc.TooManyRequests,
        TimeoutError,
    )
    # A transaction wraps what went wrong: "failed to commit in 5 attempts" from Aborted, or a
    # failed rollback whose context is the outage; follow the chain a few links.
    link: BaseException | None = exc
    for _ in range(4):
        if link is None:
            break
        if isinstance(link, gexc.Aborted):
            return Contention("concurrent updates to the same record; try again")
        if isinstance(link, transient):
            return Unavailable("a storage dependency is unavailable; try again shortly")
        link = link.__cause__ or link.__context__
    return None


def publisher_client(settings: Settings) -> PublisherClient:
    def build() -> PublisherClient:
        from google.api_core import exceptions as gexc
        from google.api_core.retry import Retry, if_exception_type
        from google.cloud import pubsub_v1

        batch = pubsub_v1.types.BatchSettings(
            max_messages=settings.events_max_messages,
            max_latency=settings.events_max_latency_s,
        )
        # The default publish retry runs for 600 s; events the caller stopped waiting for are
        # already in the outbox (shared.platform.events), so background retries stay short.
        retryable = if_exception_type(
            gexc.Aborted,
            gexc.Cancelled,
            gexc.DeadlineExceeded,
            gexc.InternalServerError,
            gexc.ResourceExhausted,
            gexc.ServiceUnavailable,
            gexc.Unknown,
        )  # the library's
        options = pubsub_v1.types.PublisherOptions(
            retry=Retry(initial=0.1, maximum=5.0, multiplier=1.3, timeout=PUBLISH_RETRY_BUDGET_S, predicate=retryable),
            timeout=PUBLISH_ATTEMPT_TIMEOUT_S,
        )
        return pubsub_v1.PublisherClient(batch_settings=batch, publisher_options=options)

    return cached("publisher", (settings.events_max_messages, settings.events_max_latency_s), build)


def reset() -> None:
    """Forget cached clients (tests that switch emulators or settings)."""
    with _lock:
        _cache.clear()
