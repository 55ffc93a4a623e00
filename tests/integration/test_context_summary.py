"""context_summary through functions-framework against the Firestore and Pub/Sub emulators."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest
from functions_framework import create_app

from shared.platform import logs
from shared.runtime import Runtime, set_default_runtime
from shared.safety.pii.base import customer_key
from shared.settings import ROOT
from tests.conftest import EventSink, FakeVertex, agent_headers, fixture_json, vertex_settings

pytestmark = pytest.mark.integration
HEADERS = agent_headers("agent-042")


@pytest.fixture(scope="module")
def client() -> Any:
    return create_app(target="context_summary", source=str(ROOT / "main.py")).test_client()


@pytest.fixture
def log_lines() -> Any:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    logs.get_logger("test")
    root = logging.getLogger("cx")
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def post(client: Any, body: Any, headers: dict[str, str] | None = None, **kw: Any) -> Any:
    return client.post("/", json=body, headers={**HEADERS, **(headers or {})}, **kw)


def test_summary_for_a_seeded_customer(client: Any, runtime: Runtime, event_sink: EventSink, log_lines: Any) -> None:
    resp = post(client, {"customer_id": "C-1004", "ticket_id": "T-1004-01"})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["engine"] == "offline" and body["degraded"] is False
    assert body["prompt_version"] == "context_summary/v1"
    assert 1 <= len(body["bullets"]) <= 5 and len(body["personalization_hints"]) == 2
    assert body["sentiment_trend"] in ("positive", "neutral", "negative")
    assert any("600 contacts" in b for b in body["bullets"])
    assert resp.headers["X-Request-Id"]

    runtime.events.flush()
    (event,) = event_sink.collect(1, lambda e: e.get("suggestion_id") == body["suggestion_id"])
    assert event["event_type"] == "suggestion.generated"
    assert event["_attributes"] == {"event_type": "suggestion.generated", "event_id": event["event_id"]}
    assert event["capability"] == "context_summary" and event["engine"] == "offline"
    assert event["customer_key"] == customer_key("C-1004", runtime.settings.pseudonym_key)
    assert event["agent_id"] == "agent-042" and event["request_id"] == resp.headers["X-Request-Id"]
    assert event["tokens_in"] > 0 and event["attributes"]["context_tokens"] <= runtime.settings.context_token_budget
    assert "C-1004" not in json.dumps(event) and "Hoffmann" not in json.dumps(event)

    access = [line for line in log_lines() if line.get("message") == "context_summary 200"]
    assert access and access[-1]["engine"] == "offline" and access[-1]["agent_id"] == "agent-042"
    assert access[-1]["request_id"] == resp.headers["X-Request-Id"]
    assert "Hoffmann" not in json.dumps(log_lines()) and "C-1004" not in json.dumps(log_lines())


def test_trace_header_and_request_id_are_logged(client: Any, runtime: Runtime, log_lines: Any) -> None:
    trace = "105445aa7843bc8bf206b12000100000/1;o=1"
    resp = post(client, {"customer_id": "C-1001"}, {"X-Cloud-Trace-Context": trace, "X-Request-Id": "req-abc-1"})
    assert resp.status_code == 200 and resp.headers["X-Request-Id"] == "req-abc-1"
    line = [x for x in log_lines() if x.get("request_id") == "req-abc-1"][-1]
    assert line["logging.googleapis.com/trace"] == "105445aa7843bc8bf206b12000100000"
    assert line["severity"] == "INFO" and line["latency_ms"] > 0


def test_german_summary_for_the_agent_language(client: Any, runtime: Runtime) -> None:
    body = post(client, {"customer_id": "C-1002", "language": "de", "channel": "chat"}).get_json()
    assert body["language"] == "de" and body["sentiment_trend"] == "negative"
    assert body["bullets"][0].startswith("Standard-Kunde")


def test_social_channel_policy_hides_the_name(client: Any, runtime: Runtime) -> None:
    body = post(client, {"customer_id": "C-1003", "channel": "social"}).get_json()
    assert "Olivia" not in json.dumps(body)


@pytest.mark.parametrize(
    ("body", "status", "fields"),
    [
        ({}, 400, ["customer_id"]),
        ({"customer_id": "C 1001"}, 400, ["customer_id"]),
        ({"customer_id": "C-1001", "language": "german"}, 400, ["language"]),
        ({"customer_id": "C-1001", "channel": "fax"}, 400, ["channel"]),
        ({"customer_id": "C-1001", "extra": 1}, 400, ["extra"]),
        ({"customer_id": 1001}, 400, ["customer_id"]),
        ([1, 2], 400, ["body"]),
    ],
)
def test_validation_errors_name_the_field(
    client: Any, runtime: Runtime, body: Any, status: int, fields: list[str]
) -> None:
    resp = post(client, body)
    assert resp.status_code == status
    err = resp.get_json()["error"]
    assert err["code"] == "invalid_request" and err["request_id"] == resp.headers["X-Request-Id"]
    assert [d["field"] for d in err["details"]] == fields


def test_unknown_customer_and_ticket_are_404(client: Any, runtime: Runtime) -> None:
    resp = post(client, {"customer_id": "C-0000"})
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"
    resp = post(client, {"customer_id": "C-1001", "ticket_id": "T-NOPE"})
    assert resp.status_code == 404 and "T-NOPE" in resp.get_json()["error"]["message"]


def test_transport_errors(client: Any, runtime: Runtime) -> None:
    assert client.get("/").status_code == 405
    assert client.get("/").headers["Allow"] == "POST"
    resp = client.post("/", data="{not json", headers={**HEADERS, "Content-Type": "application/json"})
    assert resp.status_code == 400 and resp.get_json()["error"]["details"][0]["field"] == "body"
    resp = client.post("/", data="customer_id=C-1", headers={**HEADERS, "Content-Type": "text/plain"})
    assert resp.status_code == 415
    big = {"customer_id": "C-1001", "pad": "x" * (runtime.settings.max_request_bytes + 1)}
    resp = post(client, big)
    assert resp.status_code == 413 and resp.get_json()["error"]["code"] == "payload_too_large"


def test_caller_identity_comes_from_a_verified_token(client: Any, runtime: Runtime) -> None:
    forged = client.post(
        "/", json={"customer_id": "C-1001"}, headers={"X-Agent-Id": "agent-1", "X-Agent-Role": "supervisor"}
    )
    assert forged.status_code == 401 and forged.get_json()["error"]["code"] == "unauthenticated"
    resp = post(client, {"customer_id": "C-1001"}, {"X-Agent-Role": "supervisor"})
    assert resp.status_code == 403
    assert resp.get_json()["error"]["details"][0]["field"] == "header:X-Agent-Role"


def test_unexpected_errors_are_500_without_internals(client: Any, runtime: Runtime, log_lines: Any) -> None:
    class Broken:
        def get_snapshot(self, *a: Any, **k: Any) -> Any:
            raise RuntimeError("secret internal detail /srv/app.py")

        read = get_snapshot

    runtime.__dict__["snapshots"] = Broken()
    resp = post(client, {"customer_id": "C-1001"})
    assert resp.status_code == 500
    err = resp.get_json()["error"]
    assert err["code"] == "internal" and err["request_id"] == resp.headers["X-Request-Id"]
    assert "secret" not in resp.get_data(as_text=True)
    assert any(x["severity"] == "ERROR" and "secret internal detail" in x.get("exception", "") for x in log_lines())


def test_vertex_path_sees_no_raw_pii_and_output_is_restored(
    client: Any, settings: Any, seeded: Any, fake_vertex: FakeVertex, event_sink: EventSink
) -> None:
    from google.oauth2.credentials import Credentials

    from shared.engine.model import ResilientEngine
    from shared.engine.vertex import VertexEngine

    vs = vertex_settings(fake_vertex).model_copy(update={"project": None})
    rt = Runtime(settings)
    rt.__dict__["engine"] = ResilientEngine(
        VertexEngine(vs, credentials=Credentials("t")), rt.offline, latency_budget_ms=10000
    )
    set_default_runtime(rt)
    try:
        fake_vertex.reply_json(fixture_json("vertex", "summary_output.json"), promptTokenCount=901)
        resp = post(client, {"customer_id": "C-1004", "ticket_id": "T-1004-01", "channel": "email"})
        rt.events.flush()
    finally:
        set_default_runtime(None)
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["engine"] == "vertex" and body["degraded"] is False

    snap = rt.snapshots.get_snapshot("C-1004", 500)
    c = snap.customer
    raw = fake_vertex.requests[0]["raw"]
    known = [
        c.profile.name,
        "Sabine",
        "Hoffmann",
        c.profile.email,
        c.profile.phone,
        c.customer_id,
        c.profile.address.street,
        c.profile.address.postal_code,
        *c.account_ids,
        *(o.order_id for o in snap.orders),
    ]
    leaked = [value for value in known if value and value in raw]
    assert leaked == []
    assert "[CUSTOMER_NAME]" in raw or "[CUSTOMER_FIRST_NAME]" in raw
    # Placeholders the model used come back as the real values for the agent.
    assert "Sabine Hoffmann has fibre" in body["bullets"][0]
    assert c.profile.phone in body["personalization_hints"][1]
    (event,) = event_sink.collect(1, lambda e: e.get("suggestion_id") == body["suggestion_id"])
    assert event["engine"] == "vertex" and event["tokens_in"] == 901 and event["model"] == "gemini-2.5-flash"


def test_latest_contacts_are_condensed_not_repeated(client: Any, runtime: Runtime) -> None:
    """A stored contact that is a whole dialogue shows its problem and resolution, not its first message."""
    from datetime import UTC, datetime, timedelta

    from shared.data.snapshots import Customer, Interaction, Profile

    now = datetime.now(UTC)
    runtime.snapshots.put_customer(
        Customer(
            customer_id="C-SUMM-1",
            profile=Profile(name="Alex Rivera"),
            tenant="acme",
            brand="acme-telecom",
            customer_since=now - timedelta(days=400),
        )
    )
    dialogue = (
        "Customer: Hi there, hope you are well. Kindly let me know how you can help.\n"
        "Customer: My streaming box freezes every evening since the last firmware update.\n"
        "Agent: Thanks for reaching out. Sorry to hear that.\n"
        "Agent: We will send you a replacement streaming box by Friday.\n"
        "Customer: Thanks."
    )
    runtime.snapshots.put_many(
        "C-SUMM-1",
        [
            Interaction(interaction_id="I-1", channel="chat", occurred_at=now - timedelta(days=2), summary=dialogue),
            Interaction(
                interaction_id="I-0",
                channel="email",
                occurred_at=now - timedelta(days=30),
                summary="Asked for a copy of the October invoice; sent the same day.",
            ),
        ],
    )
    resp = post(client, {"customer_id": "C-SUMM-1", "channel": "chat"})
    assert resp.status_code == 200, resp.get_json()
    bullets = resp.get_json()["bullets"]
    latest = next(b for b in bullets if "latest on" in b)
    assert latest.endswith(
        "My streaming box freezes every evening since the last firmware update. "
        "We will send you a replacement streaming box by Friday."
    )
    assert "Kindly let me know" not in latest
    assert any(b.startswith("Before that") and "October invoice" in b for b in bullets)
