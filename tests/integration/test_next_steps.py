"""next_steps, confirm_next_steps and closing_message on the emulators, offline and via Vertex."""

from __future__ import annotations

from typing import Any

import pytest
from functions_framework import create_app
from google.oauth2.credentials import Credentials

from shared.engine.model import ResilientEngine
from shared.engine.vertex import VertexEngine
from shared.runtime import Runtime, set_default_runtime
from shared.settings import ROOT
from tests.conftest import EventSink, FakeVertex, agent_headers, vertex_settings

pytestmark = pytest.mark.integration
HEADERS = agent_headers("agent-3")
END = "2026-11-19T15:00:00+01:00"  # Thursday afternoon in Berlin
CALL = [
    {"speaker": "customer", "text": "Sie haben mir den Oktober doppelt abgebucht."},
    {"speaker": "agent", "text": "Unser Abrechnungsteam erstattet den Betrag innerhalb von 5 Werktagen."},
    {"speaker": "agent", "text": "Bitte schicken Sie uns bis Freitag einen Kontoauszug als Nachweis."},
    {"speaker": "agent", "text": "Ich rufe Sie nächste Woche an."},
]


def client(target: str) -> Any:
    return create_app(target=target, source=str(ROOT / "main.py")).test_client()


def post(target: str, body: dict) -> Any:
    return client(target).post("/", json=body, headers=HEADERS)


def steps(ticket: str = "T-1004-01", **extra: Any) -> dict:
    return {
        "customer_id": "C-1004",
        "ticket_id": ticket,
        "channel": "phone",
        "transcript": CALL,
        "conversation_end_time": END,
        **extra,
    }


def test_next_steps_plan_is_resolved_routed_and_stored(runtime: Runtime, event_sink: EventSink) -> None:
    resp = post("next_steps", steps())
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    by_owner = {a["owner"]: a for a in body["actions"]}
    assert by_owner["backoffice"]["due_by"] == "2026-11-26"  # 5 business days from Thursday
    assert by_owner["backoffice"]["due_text"] == "innerhalb von 5 Werktagen"
    assert by_owner["customer"]["due_by"] == "2026-11-20" and by_owner["agent"]["due_by"] == "2026-11-27"
    assert all(a["evidence_verified"] for a in body["actions"])
    assert (body["resolver_group"], body["queue_code"], body["routing_flagged"]) == (
        "Billing and Payments",
        "Q-BILL",
        False,
    )
    assert body["kb_suggestions"][0]["kb_id"] == "KB-DUPLICATE-CHARGE-DE"
    assert body["first_contact_resolvable"]["value"] is False and body["language"] == "de"
    assert "Kontoauszug" in body["customer_facing_closing_text"]
    stored = runtime.next_steps_store.suggestion(body["suggestion_id"])
    assert stored["ticket_id"] == "T-1004-01" and stored["status"] == "suggested"
    assert stored["suggestion"]["actions"] == body["actions"]
    runtime.events.flush()
    (event,) = event_sink.collect(1, lambda e: e.get("suggestion_id") == body["suggestion_id"])
    assert event["capability"] == "next_steps" and event["attributes"]["resolver_group"] == "Billing and Payments"


def test_backoffice_work_pending_is_not_first_contact_and_gets_the_sla(runtime: Runtime) -> None:
    body = post(
        "next_steps",
        {
            "customer_id": "C-1009",
            "ticket_id": "T-1009-01",
            "channel": "chat",
            "conversation_end_time": END,
            "transcript": [
                {"speaker": "customer", "text": "Where is my parcel?"},
                {"speaker": "agent", "text": "I'll send you the tracking link right away."},
                {"speaker": "agent", "text": "Our billing team will check the delivery fee."},
            ],
        },
    ).get_json()
    # The "tracking link" pattern says first-contact, but the billing team still has to act.
    assert body["first_contact_resolvable"]["value"] is False
    backoffice = next(a for a in body["actions"] if a["owner"] == "backoffice")
    assert backoffice["due_text"] is None and backoffice["due_rule"] == "sla_default"


NO_ACTION_CHAT = [
    {"speaker": "customer", "text": "Kindly let me know how you can help. My invoice shows the wrong address."},
    {"speaker": "agent", "text": "I've corrected the address on your account just now."},
    {"speaker": "agent", "text": "You don't need to do anything else."},
    {"speaker": "customer", "text": "Great, thanks!"},
]


def test_zero_actions_honest_summary_and_closing(runtime: Runtime) -> None:
    resp = post(
        "next_steps",
        {
            "customer_id": "C-1009",
            "ticket_id": "T-1009-01",
            "channel": "chat",
            "conversation_end_time": END,
            "transcript": NO_ACTION_CHAT,
            "ticket_metadata": {"subject": ""},
        },
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["actions"] == []  # the negation and the customer's question are not tasks
    assert body["first_contact_resolvable"]["value"] is True
    assert "need from you" not in body["customer_facing_closing_text"]
    assert "nothing further is needed" in body["customer_facing_closing_text"]
    assert not body["issue_summary"].rstrip().endswith(":") and "wrong address" in body["issue_summary"]
    stored = runtime.next_steps_store.suggestion(body["suggestion_id"])
    assert stored["suggestion"]["actions"] == [] and stored["suggestion"]["first_contact_resolvable"]["value"] is True
    assert stored["suggestion"]["customer_facing_closing_text"] == body["customer_facing_closing_text"]


def test_structural_owners_confidence_and_review_flags(runtime: Runtime) -> None:
    body = post(
        "next_steps",
        {
            "customer_id": "C-1009",
            "ticket_id": "T-1009-01",
            "channel": "phone",
            "conversation_end_time": END,
            "transcript": [
                {"speaker": "customer", "text": "The refund for my returned speaker never arrived."},
                {"speaker": "agent", "text": "I'll ask my supervisor to waive the restocking fee."},
                {
                    "speaker": "agent",
                    "text": "Once our warehouse has checked the speaker, the refund will appear on your "
                    "statement within 5 working days.",
                },
                {"speaker": "agent", "text": "Could you send us a photo of the receipt?"},
                {"speaker": "agent", "text": "You don't need to return anything else."},
            ],
        },
    ).get_json()
    got = {(a["owner"], a["description"]) for a in body["actions"]}
    assert ("agent", "I'll ask my supervisor to waive the restocking fee.") in got
    assert any(o == "backoffice" and "waive" in d for o, d in got)  # the supervisor decides
    refund = next(a for a in body["actions"] if "refund" in a["description"])
    assert refund["owner"] == "backoffice" and refund["due_text"] == "within 5 working days"
    photo = next(a for a in body["actions"] if "photo" in a["description"])
    assert photo["owner"] == "customer" and photo["needs_review"] is True and photo["confidence"] < 0.6
    assert not any("return anything" in d for _, d in got)
    assert body["first_contact_resolvable"]["value"] is False
    stored = runtime.next_steps_store.suggestion(body["suggestion_id"])["suggestion"]
    assert stored["actions"] == body["actions"]
    # Unconfirmed (low-confidence) steps are not promised to the customer.
    assert "photo" not in body["customer_facing_closing_text"]


def test_closing_message_with_zero_actions(runtime: Runtime) -> None:
    de = post("closing_message", {"customer_id": "C-1004", "channel": "email", "actions": []}).get_json()
    assert de["message"].startswith("Guten Tag Sabine Hoffmann,")
    assert "Sie müssen nichts weiter tun" in de["message"] and "- " not in de["message"]
    en = post("closing_message", {"customer_id": "C-1001", "channel": "chat"}).get_json()
    assert "nothing further you need to do" in en["message"] and "Kind regards" not in en["message"]
    ours = post(
        "closing_message",
        {
            "customer_id": "C-1001",
            "channel": "chat",
            "actions": [{"owner": "backoffice", "description": "Refund the fee", "due_by": "2026-11-26"}],
        },
    ).get_json()
    assert "There is nothing you need to do." in ours["message"] and "- Our team: Refund the fee" in ours["message"]


def test_confirmation_is_stored_diffed_and_idempotent(runtime: Runtime, event_sink: EventSink) -> None:
    suggestion = post("next_steps", steps()).get_json()
    actions = [
        {"owner": a["owner"], "description": a["description"], "due_by": a["due_by"]} for a in suggestion["actions"]
    ]
    actions[0]["owner"] = "agent"  # agent takes the refund over from the back office
    actions[1]["due_by"] = "2026-11-23"  # customer gets until Monday
    actions = actions[:3] + [{"owner": "agent", "description": "Kulanzgutschrift prüfen", "due_by": None}]
    body = {
        "suggestion_id": suggestion["suggestion_id"],
        "customer_id": "C-1004",
        "ticket_id": "T-1004-01",
        "actions": actions,
        "resolver_group": "Kundenservice",
        "kb_used": ["KB-DUPLICATE-CHARGE-DE"],
    }
    first = post("confirm_next_steps", body)
    assert first.status_code == 200, first.get_json()
    result = first.get_json()
    assert result["resolver_group"] == "Customer Service" and result["queue_code"] == "Q-CS"  # alias resolved
    assert result["diff"] == {
        "owner_changed": 1,
        "actions_added": 1,
        "actions_removed": 0,
        "due_dates_moved": 1,
        "resolver_overridden": True,
        "kb_suggested_used": 1,
    }
    ticket = (
        runtime.firestore.collection("customers")
        .document("C-1004")
        .collection("tickets")
        .document("T-1004-01")
        .get()
        .to_dict()["next_steps"]
    )
    assert ticket["suggested"]["resolver_group"] == "Billing and Payments"
    assert ticket["confirmed"]["resolver_group"] == "Kundenservice" and ticket["confirmed_by"] == "agent-3"
    assert ticket["unconfirmed"] is False
    again = post("confirm_next_steps", body).get_json()
    assert again["confirmed_at"] == result["confirmed_at"]  # the repeat changed nothing
    runtime.events.flush()
    events = event_sink.collect(
        4,
        lambda e: (
            e.get("suggestion_id") == suggestion["suggestion_id"]
            and e["event_type"] in ("next_steps.confirmed", "resolver.overridden")
        ),
    )
    assert {e["event_type"] for e in events} == {"next_steps.confirmed", "resolver.overridden"}
    assert len({e["event_id"] for e in events}) == 2  # redelivered confirmation: same ids, consumers de-duplicate
    override = next(e for e in events if e["event_type"] == "resolver.overridden")
    assert (override["suggested_queue"], override["final_queue"]) == ("Q-BILL", "Q-CS")


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"suggestion_id": "0" * 32}, 404, None),
        ({"ticket_id": "T-1004-02"}, 409, None),
        ({"resolver_group": "Pizza delivery"}, 400, "resolver_group"),
        ({"suggestion_id": "nope"}, 400, "suggestion_id"),
    ],
)
def test_confirmation_errors(runtime: Runtime, change: dict, status: int, field: str | None) -> None:
    suggestion = post("next_steps", steps()).get_json()
    body = {
        "suggestion_id": suggestion["suggestion_id"],
        "customer_id": "C-1004",
        "ticket_id": "T-1004-01",
        "actions": [],
        "resolver_group": "Billing and Payments",
        **change,
    }
    resp = post("confirm_next_steps", body)
    assert resp.status_code == status
    if field:
        assert resp.get_json()["error"]["details"][0]["field"] == field


def test_closing_message_in_the_customers_language(runtime: Runtime) -> None:
    body = post(
        "closing_message",
        {
            "customer_id": "C-1004",
            "ticket_id": "T-1004-01",
            "channel": "email",
            "actions": [
                {"owner": "backoffice", "description": "Erstattung des doppelten Betrags", "due_by": "2026-11-26"},
                {"owner": "customer", "description": "Kontoauszug schicken", "due_by": "2026-11-20"},
            ],
        },
    ).get_json()
    msg = body["message"]
    assert msg.startswith("Guten Tag Sabine Hoffmann,") and body["language"] == "de"
    assert "Donnerstag, 26. November 2026" in msg and "Freitag, 20. November 2026" in msg
    router = {"owner": "agent", "description": "Send a replacement router", "due_by": "2026-11-20"}
    en = post("closing_message", {"customer_id": "C-1001", "channel": "chat", "actions": [router]}).get_json()
    assert "Friday, November 20, 2026" in en["message"] and "Kind regards" not in en["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (steps(transcript=[]), "transcript"),
        (steps(timezone="Mars/Olympus"), "timezone"),
        (steps(conversation_end_time="2026-11-19T15:00:00"), "conversation_end_time"),
        (steps(ticket_metadata={"priority": "urgent"}), "ticket_metadata.priority"),
    ],
)
def test_bad_next_steps_requests(runtime: Runtime, body: dict, field: str) -> None:
    resp = post("next_steps", body)
    assert resp.status_code == 400 and resp.get_json()["error"]["details"][0]["field"] == field


def test_unknown_ticket_is_404(runtime: Runtime) -> None:
    assert post("next_steps", steps(ticket="T-NOPE")).status_code == 404


def test_vertex_answer_is_checked(settings: Any, seeded: Any, fake_vertex: FakeVertex) -> None:
    fake_vertex.reply_json(
        {
            "issue_summary": "Double charge in October for [CUSTOMER_NAME].",
            "actions": [
                {
                    "owner": "backoffice",
                    "description": "Refund the duplicate",
                    "due_text": "innerhalb von 5 Werktagen",
                    "evidence": "Unser Abrechnungsteam erstattet den Betrag innerhalb von 5 Werktagen.",
                },
                {
                    "owner": "agent",
                    "description": "Send a voucher",
                    "due_text": None,
                    "evidence": "I promise a voucher.",
                },
            ],
            "resolver_group": "Accounts Receivable Tiger Team",
            "first_contact_resolvable": {"value": False, "reason": "Needs billing."},
            "kb_suggestions": [
                {"kb_id": "KB-DUPLICATE-CHARGE-DE", "why": "Same problem."},
                {"kb_id": "KB-INVENTED-42", "why": "Made up."},
            ],
            "customer_facing_closing_text": "Wir erstatten Ihnen den Betrag bis Donnerstag, [CUSTOMER_FIRST_NAME].",
        }
    )
    rt = Runtime(settings)
    rt.__dict__["engine"] = ResilientEngine(
        VertexEngine(vertex_settings(fake_vertex), credentials=Credentials("t")), rt.offline, latency_budget_ms=10000
    )
    set_default_runtime(rt)
    try:
        body = post("next_steps", steps()).get_json()
    finally:
        set_default_runtime(None)
    raw = fake_vertex.requests[0]["raw"]
    assert "Sabine" not in raw and "Hoffmann" not in raw and "KB-DUPLICATE-CHARGE-DE" in raw
    assert body["engine"] == "vertex"
    assert body["actions"][0]["due_by"] == "2026-11-26" and body["actions"][0]["evidence_verified"] is True
    assert body["actions"][1]["evidence_verified"] is False  # quote not in the transcript
    assert (body["resolver_group"], body["queue_code"], body["routing_flagged"]) == ("Triage", "Q-TRIAGE", True)
    assert [k["kb_id"] for k in body["kb_suggestions"]] == ["KB-DUPLICATE-CHARGE-DE"]  # invented id dropped
    assert body["kb_suggestions"][0]["title"] == "Doppelte Abbuchung"  # title from the store, not the model
    assert body["customer_facing_closing_text"].endswith("Sabine.")


def test_vertex_v2_action_quoting_a_negation_is_never_asserted(
    settings: Any, seeded: Any, fake_vertex: FakeVertex
) -> None:
    fake_vertex.reply_json(
        {
            "issue_summary": "Doppelte Abbuchung im Oktober.",
            "actions": [
                {
                    "owner": "customer",
                    "description": "Nichts tun",
                    "due_text": None,
                    "evidence": "Sie müssen nichts tun.",
                    "confidence": 0.9,
                },
                {
                    "owner": "backoffice",
                    "description": "Erstattung",
                    "due_text": "innerhalb von 5 Werktagen",
                    "evidence": "Unser Abrechnungsteam erstattet den Betrag innerhalb von 5 Werktagen.",
                    "confidence": 0.95,
                },
            ],
            "resolver_group": "Billing and Payments",
            "first_contact_resolvable": {"value": True, "reason": "Alles erledigt."},
            "kb_suggestions": [],
            "customer_facing_closing_text": "Wir erstatten Ihnen den Betrag.",
        }
    )
    versions = {**settings.prompt_versions, "next_steps": "v2"}
    rt = Runtime(settings.model_copy(update={"prompt_versions": versions}))
    rt.__dict__["engine"] = ResilientEngine(
        VertexEngine(vertex_settings(fake_vertex), credentials=Credentials("t")), rt.offline, latency_budget_ms=10000
    )
    set_default_runtime(rt)
    try:
        transcript = [CALL[0], {"speaker": "agent", "text": "Sie müssen nichts tun."}, CALL[1]]
        body = post("next_steps", steps(transcript=transcript)).get_json()
    finally:
        set_default_runtime(None)
    assert "Never an action: a negation" in fake_vertex.requests[0]["raw"]  # the v2 instructions were sent
    assert body["prompt_version"] == "next_steps/v2"
    negation, refund = body["actions"]
    assert negation["needs_review"] is True and negation["confidence"] == 0.2
    assert refund["needs_review"] is False and refund["due_by"] == "2026-11-26"
    assert body["first_contact_resolvable"]["value"] is False  # back-office work remains, whatever the model says
