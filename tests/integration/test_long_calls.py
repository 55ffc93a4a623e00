"""A two-hour call through next_steps: a promise in its first minutes is a step, whatever the engine."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from functions_framework import create_app
from google.oauth2.credentials import Credentials

from shared.data.snapshots import Ticket
from shared.engine.model import ResilientEngine
from shared.engine.vertex import VertexEngine
from shared.runtime import Runtime, set_default_runtime
from shared.settings import ROOT
from tests.conftest import FakeVertex, agent_headers, vertex_settings
from tests.unit.test_long_transcripts import PROMISE, long_call

pytestmark = pytest.mark.integration
HEADERS = agent_headers("agent-3")
END = "2026-11-19T15:00:00+00:00"  # a Thursday: "by Friday" is the next day
CALL = long_call(450)


def _request(runtime: Runtime, ticket_id: str) -> dict[str, Any]:
    runtime.snapshots.put_many(
        "C-1001", [Ticket(ticket_id=ticket_id, subject="Mobile data down", opened_at=datetime.now(UTC))]
    )
    return {
        "customer_id": "C-1001",
        "ticket_id": ticket_id,
        "channel": "phone",
        "transcript": CALL,
        "conversation_end_time": END,
        "language": "en",
    }


def _post(body: dict[str, Any]) -> Any:
    return (
        create_app(target="next_steps", source=str(ROOT / "main.py"))
        .test_client()
        .post("/", json=body, headers=HEADERS)
    )


def test_a_promise_in_turn_3_of_a_452_turn_call_is_a_next_step(runtime: Runtime) -> None:
    resp = _post(_request(runtime, "T-LONG-OFFLINE"))
    assert resp.status_code == 200, resp.get_json()
    actions = resp.get_json()["actions"]
    (promise,) = [a for a in actions if a["evidence"] == PROMISE]
    assert (promise["owner"], promise["due_by"], promise["evidence_verified"]) == ("agent", "2026-11-20", True)
    assert any("restart the phone" in a["evidence"] for a in actions)  # and the end of the call as before


def test_the_model_is_shown_the_promise_turn_beside_the_end_of_the_call(
    settings: Any, seeded: Any, fake_vertex: FakeVertex
) -> None:
    fake_vertex.reply_json(
        {
            "issue_summary": "Mobile data down; replacement SIM.",
            "actions": [
                {
                    "owner": "agent",
                    "description": "Send a replacement SIM",
                    "due_text": "by Friday",
                    "evidence": PROMISE,
                }
            ],
            "resolver_group": "Technical Support",
            "first_contact_resolvable": {"value": False, "reason": "A SIM is sent."},
            "kb_suggestions": [],
            "customer_facing_closing_text": "We will send you a new SIM card by Friday.",
        }
    )
    rt = Runtime(settings)
    rt.__dict__["engine"] = ResilientEngine(
        VertexEngine(vertex_settings(fake_vertex), credentials=Credentials("t")), rt.offline, latency_budget_ms=10000
    )
    set_default_runtime(rt)
    try:
        body = _post(_request(rt, "T-LONG-VERTEX")).get_json()
    finally:
        set_default_runtime(None)
    raw = fake_vertex.requests[0]["raw"]
    assert PROMISE in raw and "once the card arrives" in raw  # turn 3 and the last turns
    assert "Reading 200:" not in raw  # the middle of the call stays out of the prompt's budget
    (promise,) = body["actions"]
    assert promise["evidence_verified"] is True and promise["due_by"] == "2026-11-20"
