"""CloudEvent function: the scheduled overdue sweep (Cloud Scheduler → Pub/Sub, delivered at least once)."""

from __future__ import annotations

import base64

import functions_framework
from cloudevents.http.event import CloudEvent

from shared.capabilities.commitment_sweep import handle
from shared.runtime import default_runtime


@functions_framework.cloud_event
def commitment_sweep(event: CloudEvent) -> None:
    """Return to acknowledge (swept, or continued in a new run); raise to have Pub/Sub retry."""
    message = (event.data or {}).get("message", {})
    data = base64.b64decode(message.get("data", "")) if message.get("data") else b""
    handle(data, default_runtime())
