"""feedback on the emulators: ratings from edits, idempotency, and the loop back into NBA."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from functions_framework import create_app

from shared.runtime import Runtime, set_default_runtime
from shared.settings import ROOT
from tests.conftest import EventSink, agent_headers

pytestmark = pytest.mark.integration
HEADERS = agent_headers("agent-5")


def post(target: str, body: dict, headers: dict[str, str] = HEADERS) -> Any:
    return create_app(target=target, source=str(ROOT / "main.py")).test_client().post("/", json=body, headers=headers)


def eid() -> str:
    return f"fb-{uuid.uuid4().hex}"


def reply_suggestion() -> dict:
    return post(
        "reply_draft",
        {
            "customer_id": "C-1001",
            "message": "Where is my parcel? It has not arrived.",
            "channel": "email",
            "language": "en",
        },
    ).get_json()


@pytest.mark.parametrize(
    ("edit", "rating"),
    [
        (lambda r: r, "used_unchanged"),
        (lambda r: r.replace("Kind regards", "Best wishes").replace("Thank you", "Thanks"), "lightly_edited"),
        (lambda r: r[: len(r) // 2] + " We have re-sent your parcel today.", "heavily_edited"),
        (lambda r: "Sorry, wrong customer.", "not_helpful"),
    ],
)
def test_rating_is_derived_from_the_agents_edits(runtime: Runtime, edit: Any, rating: str) -> None:
    draft = reply_suggestion()
    body = post(
        "feedback",
        {
            "event_id": eid(),
            "suggestion_id": draft["suggestion_id"],
            "capability": "reply_draft",
            "final_text": edit(draft["reply"]),
        },
    ).get_json()
    assert (body["rating"], body["rating_source"], body["duplicate"]) == (rating, "edit_distance", False)


def test_explicit_rating_wins_and_comment_stays_out_of_events(runtime: Runtime, event_sink: EventSink) -> None:
    draft = reply_suggestion()
    event_id = eid()
    body = post(
        "feedback",
        {
            "event_id": event_id,
            "suggestion_id": draft["suggestion_id"],
            "capability": "reply_draft",
            "rating": "not_helpful",
            "final_text": draft["reply"],
            "csat": 4,
            "comment": "Customer is Emma Thompson, call her",
        },
    ).get_json()
    assert (body["rating"], body["rating_source"], body["similarity"]) == ("not_helpful", "agent", 1.0)
    runtime.events.flush()
    (event,) = event_sink.collect(1, lambda e: e.get("event_id") == event_id)
    assert event["event_type"] == "feedback.recorded" and event["has_comment"] is True and event["csat"] == 4
    assert "Emma" not in str(event) and event["prompt_version"] == "reply_draft/v1"
    stored = runtime.firestore.collection("feedback").document(event_id).get().to_dict()
    assert stored["comment"].startswith("Customer is") and stored["agent_id"] == "agent-5"


def test_nba_outcomes_feed_the_engine_exactly_once(runtime: Runtime) -> None:
    runtime = Runtime(runtime.settings.model_copy(update={"offers_cache_ttl_s": 0.0}))  # see new counts at once
    set_default_runtime(runtime)
    # C-1010 is used only here, so the recorded outcomes cannot change other tests' expectations.
    chat = [{"speaker": "customer", "text": "Danke, der Router läuft. Gibt es schnellere Tarife?"}]
    nba = post("next_best_action", {"customer_id": "C-1010", "channel": "chat", "transcript": chat}).get_json()
    offer = nba["primary"]["offer_id"]
    before = runtime.offers.acceptance("standard").get(offer, (0, 0))
    accepted = {
        "event_id": eid(),
        "suggestion_id": nba["suggestion_id"],
        "capability": "next_best_action",
        "nba": {"offer_id": offer, "outcome": "accepted"},
    }
    assert post("feedback", accepted).get_json()["duplicate"] is False
    assert post("feedback", accepted).get_json()["duplicate"] is True  # redelivery: counted once
    assert runtime.offers.acceptance("standard")[offer] == (before[0] + 1, before[1] + 1)

    rejected = {
        "event_id": eid(),
        "suggestion_id": nba["suggestion_id"],
        "capability": "next_best_action",
        "nba": {"offer_id": offer, "outcome": "rejected"},
    }
    post("feedback", rejected)
    lead = agent_headers("lead-5", "supervisor")  # suppressed offers are a scoring detail: supervisors see them
    again = post("next_best_action", {"customer_id": "C-1010", "channel": "chat", "transcript": chat}, lead).get_json()
    assert {"offer_id": offer, "rule": "recently_rejected"} in again["suppressed"]


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"suggestion_id": "f" * 32}, 404, None),
        ({"capability": "next_steps"}, 409, None),
        ({"nba": {"offer_id": "XS-MESH", "outcome": "accepted"}}, 400, "nba.offer_id"),
        ({"rating": "great"}, 400, "rating"),
        ({"event_id": "x"}, 400, "event_id"),
    ],
)
def test_feedback_errors(runtime: Runtime, change: dict, status: int, field: str | None) -> None:
    draft = reply_suggestion()
    body = {
        "event_id": eid(),
        "suggestion_id": draft["suggestion_id"],
        "capability": "reply_draft",
        "rating": "used_unchanged",
        **change,
    }
    resp = post("feedback", body)
    assert resp.status_code == status, resp.get_json()
    if field:
        assert resp.get_json()["error"]["details"][0]["field"] == field


def test_feedback_needs_content(runtime: Runtime) -> None:
    draft = reply_suggestion()
    resp = post("feedback", {"event_id": eid(), "suggestion_id": draft["suggestion_id"], "capability": "reply_draft"})
    assert resp.status_code == 400


def test_feedback_only_on_ones_own_suggestions(runtime: Runtime) -> None:
    draft = reply_suggestion()
    body = {
        "event_id": eid(),
        "suggestion_id": draft["suggestion_id"],
        "capability": "reply_draft",
        "rating": "not_helpful",
    }
    other = post("feedback", body, agent_headers("agent-6"))
    unknown = post("feedback", {**body, "suggestion_id": "e" * 32}, agent_headers("agent-6"))
    assert other.status_code == unknown.status_code == 404
    strip = lambda r: {**r.get_json()["error"], "request_id": None}  # noqa: E731
    assert (
        strip(other) == strip(unknown) == {"code": "not_found", "message": "suggestion not found", "request_id": None}
    )
    assert (
        runtime.firestore.collection(runtime.settings.feedback_collection).document(body["event_id"]).get().exists
        is False
    )
    assert post("feedback", body).status_code == 200  # its author may
