"""Clients created once per instance, lazily, so cold start pays only for what is used.

Every factory is cached; tests either point the real clients at the emulators (the
client libraries read ``FIRESTORE_EMULATOR_HOST`` / ``PUBSUB_EMULATOR_HOST``) or pass
their own objects into the services, which take clients as arguments.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from shared.config import Settings

if TYPE_CHECKING:
    from google.cloud import firestore
    from google.cloud.pubsub_v1 import PublisherClient

_lock = threading.Lock()
_cache: dict[tuple[str, Any], Any] = {}


def _cached(kind: str, key: Any, build: Any) -> Any:
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

    return _cached("firestore", (settings.gcp_project_or_local, settings.firestore_database), build)


def publisher_client(settings: Settings) -> PublisherClient:
    def build() -> PublisherClient:
        from google.cloud import pubsub_v1

        batch = pubsub_v1.types.BatchSettings(
            max_messages=settings.events_max_messages,
            max_latency=settings.events_max_latency_s,
        )
        return pubsub_v1.PublisherClient(batch_settings=batch)

    return _cached("publisher", (settings.events_max_messages, settings.events_max_latency_s), build)


def genai_client(settings: Settings) -> Any:
    """The google-genai Vertex client (Gemini and embeddings share it); imported on first use."""

    def build() -> Any:
        from google import genai

        from shared.model import VertexEngine

        return genai.Client(vertexai=True, project=settings.project, location=settings.region,
                            http_options=VertexEngine.http_options(settings))  # fmt: skip

    key = settings.model_dump_json(include={
        "project", "region", "vertex_base_url", "model_timeout_ms", "model_retry_attempts",
        "model_retry_initial_delay_s", "model_retry_max_delay_s"})  # fmt: skip
    return _cached("genai", key, build)


def reset() -> None:
    """Forget cached clients (tests that switch emulators or settings)."""
    with _lock:
        _cache.clear()
