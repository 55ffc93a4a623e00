"""CloudEvent function: a change in the company's CRM, order or ticketing system (Pub/Sub, at least once)."""

from __future__ import annotations

import base64

import functions_framework
from cloudevents.http.event import CloudEvent

from shared.capabilities.snapshot_sync import handle
from shared.runtime import default_runtime


@functions_framework.cloud_event
def snapshot_sync(event: CloudEvent) -> None:
    """Acknowledge by returning (applied, stale, duplicate or dead-lettered); raise to have Pub/Sub retry."""
    message = (event.data or {}).get("message", {})
    data = base64.b64decode(message.get("data", "")) if message.get("data") else b""
    handle(
        data,
        default_runtime(),
        message.get("messageId") or message.get("message_id", ""),
        dict(message.get("attributes") or {}),
    )
