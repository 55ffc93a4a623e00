"""next_best_action through functions-framework on the emulators, offline and via Vertex."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from functions_framework import create_app
from google.oauth2.credentials import Credentials

from shared.data.offers import Offer
from shared.engine.model import ResilientEngine
from shared.engine.vertex import VertexEngine
from shared.runtime import Runtime, set_default_runtime
from shared.settings import ROOT
from tests.conftest import EventSink, FakeVertex, agent_headers, vertex_settings

pytestmark = pytest.mark.integration
HEADERS = agent_headers("agent-7", "supervisor")  # supervisors see scores and suppressed offers
ANGRY_DE = [
    {"speaker": "agent", "text": "Guten Tag, wie kann ich helfen?"},
    {"speaker": "customer", "text": "Schon wieder kein Internet, das ist unzumutbar. Ich kündige!"},
]
HAPPY_EN = [{"speaker": "customer", "text": "Thanks, the router works great now. Any faster plans?"}]


@pytest.fixture(scope="module")
def client() -> Any:
    return create_app(target="next_best_action", source=str(ROOT / "main.py")).test_client()


@pytest.fixture
def nba_runtime(settings: Any, seeded: Any) -> Any:
    rt = Runtime(settings.model_copy(update={"offers_cache_ttl_s": 0.0}))  # see catalogue edits at once
    set_default_runtime(rt)
    yield rt
    rt.events.flush()
    set_default_runtime(None)


def post(client: Any, body: dict) -> Any:
    return client.post("/", json=body, headers=HEADERS)


def test_angry_churning_customer_gets_retention_and_no_sales(
    client: Any, nba_runtime: Runtime, event_sink: EventSink
) -> None:
    resp = post(client, {"customer_id": "C-1002", "channel": "chat", "transcript": ANGRY_DE})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["intent"] == "cancellation" and body["sentiment"]["label"] == "negative"
    assert body["primary"]["type"] == "retention" and body["fallback"]["type"] == "retention"
    assert body["primary"]["discount_percent"] <= 20
    rules = {s["offer_id"]: s["rule"] for s in body["suppressed"]}
    assert rules["RET-WINBACK-30"] == "max_discount" and rules["UP-FIB-500"] == "negative_sentiment"
    assert all(s["type"] not in ("cross_sell", "upsell") for s in body["scores"])
    assert len(body["reasons"]) in (2, 3) and "Grundgebühr" in body["phrasing"]  # German customer
    assert body["engine"] == "offline" and body["model_choice_overridden"] is False

    nba_runtime.events.flush()
    events = event_sink.collect(2, lambda e: e.get("suggestion_id") == body["suggestion_id"])
    by_type = {e["event_type"]: e for e in events}
    assert set(by_type) == {"suggestion.generated", "nba.recommended"}
    rec = by_type["nba.recommended"]
    assert rec["primary_offer_id"] == body["primary"]["offer_id"] and rec["rules_version"] == body["policy_version"]
    assert {c["offer_id"] for c in rec["candidates"]} == {s["offer_id"] for s in body["scores"]}
    assert rec["eligible_count"] == body["eligible_count"] == len(body["scores"])
    assert {s["offer_id"] for s in rec["suppressed"]} == set(rules)
    assert "C-1002" not in str(rec)


def test_happy_customer_gets_an_upgrade(client: Any, nba_runtime: Runtime) -> None:
    body = post(client, {"customer_id": "C-1014", "channel": "chat", "transcript": HAPPY_EN}).get_json()
    assert body["intent"] == "upgrade" and body["sentiment"]["label"] == "positive"
    assert body["primary"]["offer_id"] == "UP-FIB-500"
    assert {s["rule"] for s in body["suppressed"] if s["offer_id"].startswith("RET-")} <= {
        "retention_not_needed",
        "max_discount",
        "segment",
    }


def test_recent_rejection_in_firestore_is_respected(client: Any, nba_runtime: Runtime) -> None:
    nba_runtime.offers.record_outcome(
        "C-1014", "evt-rej-1", "UP-FIB-500", "rejected", datetime.now(UTC) - timedelta(days=3)
    )
    body = post(client, {"customer_id": "C-1014", "channel": "chat", "transcript": HAPPY_EN}).get_json()
    assert body["primary"]["offer_id"] != "UP-FIB-500"
    assert {"offer_id": "UP-FIB-500", "rule": "recently_rejected"} in body["suppressed"]


def test_catalogue_edits_in_firestore_take_effect(client: Any, nba_runtime: Runtime) -> None:
    campaign = Offer(
        offer_id="FU-NEW-CAMPAIGN",
        type="follow_up",
        title="New follow-up",
        value_estimate=5000,
        pitch={"en": "We'll check in next week."},
        requires_agent_confirmation=False,
    )
    nba_runtime.offers.put_offers([campaign])
    try:
        body = post(client, {"customer_id": "C-1020", "channel": "email"}).get_json()
        assert body["primary"]["offer_id"] == "FU-NEW-CAMPAIGN"
        assert body["primary"]["auto_suggest_allowed"] is False
    finally:
        nba_runtime.firestore.collection("offers").document("FU-NEW-CAMPAIGN").delete()


@pytest.mark.parametrize(
    "body",
    [
        {"customer_id": "C-1002"},
        {"customer_id": "C-1002", "channel": "fax"},
        {"customer_id": "C-1002", "channel": "chat", "transcript": [{"speaker": "bot", "text": "x"}]},
        {"customer_id": "C-1002", "channel": "chat", "transcript": [{"speaker": "customer", "text": ""}]},
    ],
)
def test_bad_requests_name_the_field(client: Any, nba_runtime: Runtime, body: dict) -> None:
    resp = post(client, body)
    assert resp.status_code == 400
    fields = [d["field"] for d in resp.get_json()["error"]["details"]]
    assert fields and all(f.split(".")[0] in ("channel", "transcript") for f in fields)


def _vertex_runtime(settings: Any, fake: FakeVertex) -> Runtime:
    rt = Runtime(settings)
    vs = vertex_settings(fake)
    rt.__dict__["engine"] = ResilientEngine(
        VertexEngine(vs, credentials=Credentials("t")), rt.offline, latency_budget_ms=10000
    )
    return rt


def _model(primary: str, fallback: str | None, phrasing: str, reasons: list[str] | None = None) -> dict:
    return {
        "customer_goal": "Wants to leave because of outages.",
        "sentiment": "negative",
        "primary_offer_id": primary,
        "fallback_offer_id": fallback,
        "reasons": reasons or ["Churn is high.", "Loyalty offer fits."],
        "phrasing": phrasing,
    }


@pytest.mark.parametrize(
    ("answer", "overridden", "reason"),
    [
        (_model("RET-FREE-MONTH", "RET-LOYALTY-10", "Verlängern Sie heute, [CUSTOMER_FIRST_NAME]!"), False, None),
        (_model("RET-WINBACK-30", "RET-LOYALTY-10", "30 % off"), True, "primary 'RET-WINBACK-30' is not an eligible"),
        (_model("RET-LOYALTY-10", "UP-FIB-500", "ok"), True, "fallback 'UP-FIB-500' is not an eligible"),
        (_model("RET-LOYALTY-10", "RET-FREE-MONTH", "Ich gebe Ihnen 90 % Rabatt"), True, "mentions a discount of 90"),
    ],
)
def test_model_choice_is_checked(
    client: Any, settings: Any, seeded: Any, fake_vertex: FakeVertex, answer: dict, overridden: bool, reason: str | None
) -> None:
    fake_vertex.reply_json(answer)
    set_default_runtime(_vertex_runtime(settings, fake_vertex))
    try:
        body = post(client, {"customer_id": "C-1002", "channel": "chat", "transcript": ANGRY_DE}).get_json()
    finally:
        set_default_runtime(None)
    sent = fake_vertex.requests[0]["raw"]
    assert "RET-LOYALTY-10" in sent and "RET-WINBACK-30" not in sent and "UP-FIB-500" not in sent
    assert "Jonas" not in sent and "Becker" not in sent
    assert body["engine"] == "vertex" and body["model_choice_overridden"] is overridden
    if overridden:
        assert body["override_reason"].startswith(reason)
        assert body["primary"]["offer_id"] == body["scores"][0]["offer_id"]  # ranked choice replaces it
        assert "90" not in body["phrasing"]
    else:
        assert body["primary"]["offer_id"] == "RET-FREE-MONTH"
        assert body["phrasing"] == "Verlängern Sie heute, Jonas!"  # placeholder restored
