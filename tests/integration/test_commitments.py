"""Promises kept, on the emulators: confirmed next steps become commitments, the sweep marks them overdue
in the customer's time zone and business calendar, the people and systems that know complete them, and
the capabilities show them where they matter."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from functions_framework import create_app

from scripts.seed import Seed, build
from shared.runtime import Runtime
from shared.settings import ROOT
from tests.conftest import EventSink, agent_headers

pytestmark = pytest.mark.integration
AGENT = agent_headers("agent-7")  # signed by the local issuer, as the front door would
BACKOFFICE = agent_headers("bo-2", "backoffice")
END = "2026-11-19T15:00:00+00:00"  # Thursday afternoon in London
CALL = [
    {"speaker": "customer", "text": "You charged me twice for October."},
    {"speaker": "agent", "text": "Our billing team will refund the duplicate charge within 5 business days."},
    {"speaker": "agent", "text": "Please send us a copy of your bank statement by Friday."},
]


def post(target: str, body: dict, headers: dict[str, str] | None = None) -> Any:
    app = create_app(target=target, source=str(ROOT / "main.py")).test_client()
    return app.post("/", json=body, headers=headers or AGENT)


def cloud_event(target: str, payload: dict | bytes) -> int:
    data = payload if isinstance(payload, bytes) else json.dumps(payload, default=str).encode()
    envelope = {
        "message": {"data": base64.b64encode(data).decode(), "messageId": uuid.uuid4().hex},
        "subscription": f"projects/p/subscriptions/{target}",
    }
    headers = {
        "ce-specversion": "1.0",
        "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
        "ce-source": "//pubsub.googleapis.com/projects/p/topics/t",
        "ce-id": uuid.uuid4().hex,
        "Content-Type": "application/json",
    }
    app = create_app(target=target, source=str(ROOT / "main.py")).test_client()
    return app.post("/", json=envelope, headers=headers).status_code


@pytest.fixture
def customer(runtime: Runtime) -> str:
    """A fresh English customer in Manchester (Europe/London) with an open billing ticket."""
    cid = f"C-P{uuid.uuid4().hex[:6]}"
    person, items = build(
        Seed(
            cid,
            "Emma Promise",
            "en",
            ("14 Crown Street", "M1 4BT", "Manchester", "GB"),
            "gold",
            6.2,
            ["FIB-500", "MOB-XL"],
            ["prefers email"],
            0.15,
            6,
            ["billing"],
            0.2,
            region="UK",
            open_tickets=["billing"],
        )
    )
    runtime.snapshots.put_customer(person)
    runtime.snapshots.put_many(cid, items)
    return cid


def ticket_of(cid: str) -> str:
    return f"T-{cid[2:]}-01"


def confirm(cid: str, change: dict[int, dict] | None = None, ticket: str | None = None) -> tuple[dict, dict]:
    ticket = ticket or ticket_of(cid)
    plan = post(
        "next_steps",
        {"customer_id": cid, "ticket_id": ticket, "channel": "phone", "transcript": CALL, "conversation_end_time": END},
    ).get_json()
    actions = [{"owner": a["owner"], "description": a["description"], "due_by": a["due_by"]} for a in plan["actions"]]
    for i, fields in (change or {}).items():
        actions[i].update(fields)
    resp = post(
        "confirm_next_steps",
        {
            "suggestion_id": plan["suggestion_id"],
            "customer_id": cid,
            "ticket_id": ticket,
            "actions": actions,
            "resolver_group": plan["resolver_group"],
        },
    )
    assert resp.status_code == 200, resp.get_json()
    return plan, resp.get_json()


def mine(rt: Runtime, cid: str) -> dict[str, Any]:
    """This customer's commitments by owner (active ones win over superseded)."""
    from google.cloud.firestore import FieldFilter

    col = rt.firestore.collection(rt.settings.commitments_collection)
    docs = sorted(
        (d.to_dict() for d in col.where(filter=FieldFilter("customer_id", "==", cid)).stream()),
        key=lambda d: d["status"] in ("open", "overdue"),
    )
    return {d["owner"]: d for d in docs}


def test_confirmed_actions_become_commitments_and_confirming_again_supersedes(
    runtime: Runtime, customer: str, event_sink: EventSink
) -> None:
    plan, _ = confirm(customer)
    by_owner = mine(runtime, customer)
    office, own = by_owner["backoffice"], by_owner["customer"]
    assert (office["status"], office["due"], office["due_source"], office["queue_code"]) == (
        "open",
        "2026-11-26",
        "said",
        "Q-BILL",
    )
    # the end of the due day in London; the customer's own task counts calendar days
    assert office["due_at"] == datetime(2026, 11, 27, tzinfo=UTC)
    assert own["due_at"] == datetime(2026, 11, 21, tzinfo=UTC)
    assert office["suggestion_id"] == plan["suggestion_id"] and office["history"][0]["action"] == "created"
    ids = {d["commitment_id"] for d in by_owner.values()}

    confirm_again = post(
        "confirm_next_steps",
        {
            "suggestion_id": plan["suggestion_id"],
            "customer_id": customer,
            "ticket_id": ticket_of(customer),
            "actions": [
                {"owner": a["owner"], "description": a["description"], "due_by": a["due_by"]} for a in plan["actions"]
            ],
            "resolver_group": plan["resolver_group"],
        },
    )
    assert confirm_again.status_code == 200
    assert {d["commitment_id"] for d in mine(runtime, customer).values()} == ids  # same ids, nothing new

    moved = [{"owner": a["owner"], "description": a["description"], "due_by": a["due_by"]} for a in plan["actions"]]
    moved[[a["owner"] for a in moved].index("backoffice")]["due_by"] = "2026-11-25"
    # a changed confirmation says which version it was made on (a stale one is a 409)
    assert (
        post(
            "confirm_next_steps",
            {
                "suggestion_id": plan["suggestion_id"],
                "customer_id": customer,
                "ticket_id": ticket_of(customer),
                "actions": moved,
                "base_version": confirm_again.get_json()["version"],
                "resolver_group": plan["resolver_group"],
            },
        ).status_code
        == 200
    )
    old = runtime.commitments.repo.get(office["commitment_id"])
    assert old.status == "superseded" and old.version == 2
    now = mine(runtime, customer)
    assert now["backoffice"]["due"] == "2026-11-25" and now["backoffice"]["due_source"] == "agent"
    assert now["customer"]["commitment_id"] == own["commitment_id"]  # unchanged action: same commitment
    runtime.events.flush()
    events = event_sink.collect(
        4,
        lambda e: (
            e["event_type"].startswith("commitment.")
            and e["commitment_id"] in ids | {now["backoffice"]["commitment_id"]}
        ),
    )
    assert sorted(e["event_type"] for e in events) == ["commitment.created"] * 3 + ["commitment.superseded"]


def test_sweep_marks_overdue_by_the_customers_day_once(runtime: Runtime, customer: str, event_sink: EventSink) -> None:
    confirm(customer)
    own = mine(runtime, customer)["customer"]
    sweep = runtime.commitments.sweep
    sweep(page_size=50, budget_s=60, now=datetime(2026, 11, 20, 23, 59, 59, tzinfo=UTC))
    assert runtime.commitments.repo.get(own["commitment_id"]).status == "open"  # still Friday in London
    first = sweep(page_size=2, budget_s=60, now=datetime(2026, 11, 21, tzinfo=UTC))
    swept = runtime.commitments.repo.get(own["commitment_id"])
    assert swept.status == "overdue" and swept.history[-1].actor == "sweep" and first.marked >= 1
    assert mine(runtime, customer)["backoffice"]["status"] == "open"  # due Thursday 26th
    second = sweep(page_size=2, budget_s=60, now=datetime(2026, 11, 21, tzinfo=UTC))
    assert second.marked == 0  # safe to run twice
    runtime.events.flush()
    overdue = event_sink.collect(
        1, lambda e: e["event_type"] == "commitment.overdue" and e["commitment_id"] == own["commitment_id"]
    )
    assert len(overdue) == 1 and overdue[0]["owner"] == "customer" and overdue[0]["due"] == "2026-11-20"


def test_company_deadline_on_a_weekend_is_overdue_after_the_next_business_day(runtime: Runtime, customer: str) -> None:
    confirm(customer, change={0: {"due_by": "2026-11-28"}})  # the back office promised a Saturday
    office = mine(runtime, customer)["backoffice"]
    assert office["due_at"] == datetime(2026, 12, 1, tzinfo=UTC)  # Monday the 30th is the business day
    runtime.commitments.sweep(page_size=50, budget_s=60, now=datetime(2026, 11, 30, 23, 0, tzinfo=UTC))
    assert runtime.commitments.repo.get(office["commitment_id"]).status == "open"


def test_a_concurrent_change_wins_over_the_sweep_batch(runtime: Runtime, customer: str) -> None:
    confirm(customer)
    pages = list(runtime.commitments.repo.due_pages(datetime(2026, 12, 31, tzinfo=UTC), 500))
    snaps = [s for page in pages for s in page if s.to_dict()["customer_id"] == customer]
    assert len(snaps) == 2
    from shared.data.commitments import Commitment

    done_id = snaps[0].id
    runtime.commitments.update(done_id, "done", actor="bo-2", role="backoffice")  # after the sweep read it
    changes = [(s, Commitment.model_validate(s.to_dict()).model_copy(update={"status": "overdue"})) for s in snaps]
    assert runtime.commitments.repo.write_batch(changes) == 1
    assert runtime.commitments.repo.get(done_id).status == "done"


def test_commitment_update_is_authorized_idempotent_order_safe_and_audited(
    runtime: Runtime, customer: str, event_sink: EventSink
) -> None:
    confirm(customer)
    office = mine(runtime, customer)["backoffice"]
    cid = office["commitment_id"]
    resp = post("commitment_update", {"commitment_id": cid, "change": "cancel", "reason": "not needed"})
    assert resp.status_code == 403  # agents do not withdraw promises
    resp = post("commitment_update", {"commitment_id": cid, "change": "extend", "due": "2026-12-04"})
    assert resp.status_code == 400 and resp.get_json()["error"]["details"][0]["field"] == "reason"
    resp = post(
        "commitment_update",
        {
            "commitment_id": cid,
            "change": "extend",
            "due": "2026-12-04",
            "reason": "bank needs longer",
            "expected_version": 1,
        },
    )
    assert resp.status_code == 200 and resp.get_json()["commitment"]["due"] == "2026-12-04"
    assert resp.get_json()["commitment"]["version"] == 2
    stale = post("commitment_update", {"commitment_id": cid, "change": "done", "expected_version": 1})
    assert stale.status_code == 409
    done = post("commitment_update", {"commitment_id": cid, "change": "done", "expected_version": 2}, BACKOFFICE)
    assert done.status_code == 200 and done.get_json()["changed"] is True
    again = post("commitment_update", {"commitment_id": cid, "change": "done"}, BACKOFFICE)
    assert again.status_code == 200 and again.get_json()["changed"] is False
    late = post("commitment_update", {"commitment_id": cid, "change": "extend", "due": "2026-12-11", "reason": "x"})
    assert late.status_code == 409  # a late extension never reopens a kept promise
    stored = runtime.commitments.repo.get(cid)
    assert [h.action for h in stored.history] == ["created", "extended", "done"]
    assert stored.history[1].reason == "bank needs longer" and stored.history[2].actor == "bo-2"
    assert post("commitment_update", {"commitment_id": "0" * 32, "change": "done"}).status_code == 404
    runtime.events.flush()
    events = event_sink.collect(3, lambda e: e.get("commitment_id") == cid and e["event_type"] != "commitment.created")
    assert sorted(e["event_type"] for e in events) == ["commitment.done", "commitment.extended"]


def test_an_overdue_promise_leads_the_summary_and_the_reply_and_holds_back_sales(
    runtime: Runtime, customer: str
) -> None:
    confirm(customer)
    runtime.commitments.sweep(page_size=500, budget_s=60, now=datetime(2026, 11, 27, 1, tzinfo=UTC))
    office = mine(runtime, customer)["backoffice"]
    assert office["status"] == "overdue"

    summary = post("context_summary", {"customer_id": customer}).get_json()
    assert summary["bullets"][0].startswith("We owe this customer 1 open promise(s), 1 overdue")
    assert summary["commitments"][0]["commitment_id"] == office["commitment_id"]
    assert summary["commitments"][0]["status"] == "overdue" and summary["commitments"][0]["days_overdue"] >= 1

    reply = post(
        "reply_draft",
        {"customer_id": customer, "channel": "email", "message": "Hello, I am still waiting for my refund."},
    ).get_json()
    paragraphs = reply["reply"].split("\n\n")
    assert paragraphs[1].startswith("First, I am sorry: we have not yet kept our promise due on 2026-11-26")

    nba = post(
        "next_best_action",
        {
            "customer_id": customer,
            "channel": "chat",
            "transcript": [{"speaker": "customer", "text": "I would like a faster internet plan."}],
        },
        agent_headers("lead-7", "supervisor"),
    ).get_json()  # suppressed offers are a supervisor's view
    sales = set(runtime.nba_rules.sales_types)
    assert "promise_overdue" in {s["rule"] for s in nba["suppressed"]}
    assert all(s["type"] not in sales for s in nba["scores"])

    closing = post(
        "closing_message",
        {"customer_id": customer, "ticket_id": f"T-{customer[2:]}-C01", "channel": "email", "actions": []},
    ).get_json()
    assert "Still open from earlier contacts:" in closing["message"] and "refund" in closing["message"].lower()


def test_a_draft_promising_another_date_is_flagged(runtime: Runtime, customer: str) -> None:
    from shared.decisions.commitments import promised_dates

    confirm(customer)
    owed = runtime.commitments.owed(customer)
    profile = runtime.snapshots.get_snapshot(customer, 1).customer.profile
    at = datetime(2026, 11, 20, 10, tzinfo=UTC)
    other = promised_dates(runtime.due_dates, "We will refund you by 3 December 2026.", "en", profile, at)
    same = promised_dates(runtime.due_dates, "We will refund you by 26 November 2026.", "en", profile, at)
    assert other == [date(2026, 12, 3)] and same == [date(2026, 11, 26)]
    (flag,) = runtime.commitments.contradictions(owed, other)
    assert flag.code == "commitment:contradicts_open_promise" and "2026-11-26" in flag.detail
    assert runtime.commitments.contradictions(owed, same) == []


def test_a_closed_ticket_closes_its_commitments_and_the_sweep_function_runs(runtime: Runtime, customer: str) -> None:
    confirm(customer)
    close = {
        "ticket_id": ticket_of(customer),
        "customer_id": customer,
        "channel": "phone",
        "journey": "billing_dispute",
        "category": "billing",
        "queue_history": ["Billing and Payments"],
        "opened_at": "2026-11-17T09:00:00+00:00",
        "closed_at": "2026-11-25T16:00:00+00:00",
        "handle_time_s": 300,
        "after_contact_work_s": 60,
        "resolution_code": "refund_issued",
        "ai_assisted": True,
    }
    assert cloud_event("ticket_closed", close) == 200
    after = mine(runtime, customer)
    assert {d["status"] for d in after.values()} == {"done"}
    assert after["backoffice"]["history"][-1]["actor"] == "ticket:ticketing"
    assert after["backoffice"]["closed_at"] == datetime(2026, 11, 25, 16, tzinfo=UTC)
    assert cloud_event("ticket_closed", close) == 200  # redelivered: nothing changes
    assert mine(runtime, customer)["backoffice"]["version"] == after["backoffice"]["version"]
    assert cloud_event("commitment_sweep", b"") == 200
    assert cloud_event("commitment_sweep", b"not json") == 200  # a scheduler body we cannot read still sweeps


def test_commitment_update_outside_the_agents_scope_is_not_found_and_audited(
    runtime: Runtime, customer: str, event_sink: EventSink
) -> None:
    """Whose commitment it is decides: an agent of another team gets the unknown-commitment answer."""
    confirm(customer)
    cid = mine(runtime, customer)["backoffice"]["commitment_id"]
    runtime.firestore.collection(runtime.settings.customers_collection).document(customer).update({"team": "care-eu"})
    outsider = post("commitment_update", {"commitment_id": cid, "change": "done"}, agent_headers("agent-uk-3", "uk"))
    assert outsider.status_code == 404
    assert (
        outsider.get_json()["error"]["message"]
        == post("commitment_update", {"commitment_id": "0" * 32, "change": "done"}).get_json()["error"]["message"]
    )
    assert runtime.commitments.repo.get(cid).status == "open"  # nothing changed
    runtime.events.flush()
    denied = event_sink.collect(
        1, lambda e: e["event_type"] == "audit.customer_access" and e["capability"] == "commitment_update"
    )
    assert denied and denied[0]["decision"] == "deny" and denied[0]["reason"] == "out_of_scope"
