"""Clients created once per instance, lazily, so cold start pays only for what is used.

Every factory is cached; tests either point the real clients at the emulators (the
client libraries read ``FIRESTORE_EMULATOR_HOST`` / ``PUBSUB_EMULATOR_HOST``) or pass
their own objects into the services, which take clients as arguments.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from shared.settings import Settings

if TYPE_CHECKING:
    from google.cloud import firestore
    from google.cloud.pubsub_v1 import PublisherClient

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

        return firestore.Client(
            project=settings.gcp_project_or_local, database=settings.firestore_database
        )

    return cached("firestore", (settings.gcp_project_or_local, settings.firestore_database), build)


def publisher_client(settings: Settings) -> PublisherClient:
    def build() -> PublisherClient:
        from google.cloud import pubsub_v1

        batch = pubsub_v1.types.BatchSettings(
            max_messages=settings.events_max_messages,
            max_latency=settings.events_max_latency_s,
        )
        return pubsub_v1.PublisherClient(batch_settings=batch)

    return cached("publisher", (settings.events_max_messages, settings.events_max_latency_s), build)


def reset() -> None:
    """Forget cached clients (tests that switch emulators or settings)."""
    with _lock:
        _cache.clear()
