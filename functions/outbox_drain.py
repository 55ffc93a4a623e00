"""CloudEvent function: republish the event outbox until it is empty (scheduled via the cx-outbox-drain topic)."""

from __future__ import annotations

import functions_framework
from cloudevents.http.event import CloudEvent

from shared.platform import logs
from shared.platform.events import drain_outbox
from shared.runtime import default_runtime


@functions_framework.cloud_event
def outbox_drain(event: CloudEvent) -> None:
    """Any message on the topic starts a run; entries Pub/Sub refuses stay for the next run."""
    rt = default_runtime()
    sent = drain_outbox(rt.outbox, rt.publisher, budget_s=rt.settings.outbox_drain_budget_s)
    logs.get_logger("outbox_drain").info("outbox drained", extra={"fields": {"republished": sent}})
