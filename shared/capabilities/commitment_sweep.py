"""The overdue sweep (Cloud Scheduler → Pub/Sub → this function): marks commitments overdue and emits
``commitment.overdue`` for the ticketing system to open a task or alert the queue.

Safe to run twice: what is marked leaves the query and events have fixed ids. A run that reaches its time
budget publishes a continuation message to its own topic, so a million due commitments are worked off in
consecutive runs instead of one that outlives its acknowledgement deadline.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.decisions.commitments import SweepResult
from shared.platform import logs

if TYPE_CHECKING:
    from shared.runtime import Runtime


class SweepTrigger(BaseModel):
    """The scheduler's message (any JSON object; an empty body is fine) or a continuation."""

    model_config = ConfigDict(extra="ignore")

    continuation: int = Field(default=0, ge=0, le=10000, description="How many runs of this sweep came before.")


def handle(data: bytes, rt: Runtime, now: datetime | None = None) -> SweepResult:
    log = logs.get_logger("commitment_sweep")
    try:
        trigger = SweepTrigger.model_validate_json(data) if data.strip() else SweepTrigger()
    except ValidationError:
        log.warning("unreadable sweep trigger; sweeping anyway", extra={"fields": {"bytes": len(data)}})
        trigger = SweepTrigger()
    s = rt.settings
    result = rt.commitments.sweep(page_size=s.commitment_sweep_page, budget_s=s.commitment_sweep_budget_s, now=now)
    if not result.complete:
        topic = f"projects/{s.gcp_project_or_local}/topics/{s.commitment_sweep_topic}"
        body = json.dumps({"continuation": trigger.continuation + 1}).encode()
        rt.publisher.publish(topic, body).result(timeout=30)  # acknowledged only once the next run is queued
    return result
