"""Commitment rules without I/O: when a promise is overdue, where a due date comes from, ids, wording,
and the sales hold while a promise is overdue."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from shared.data.commitments import Commitment, HistoryEntry
from shared.data.offers import Offer
from shared.decisions.actions import FinalAction
from shared.decisions.commitments import CommitmentService, Texts, commitment_id, due_source, overdue_at
from shared.decisions.nba import CustomerFacts, Rules, eligibility
from shared.settings import ROOT

TEXTS = Texts.load(ROOT / "config" / "decisions/commitments.yaml")
T0 = datetime(2026, 11, 18, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("due", "owner", "tz", "country", "sub", "expected"),
    [
        # the end of the due day in the customer's zone
        (date(2026, 11, 20), "backoffice", "Europe/London", "GB", None, datetime(2026, 11, 21, tzinfo=UTC)),
        (date(2026, 11, 20), "backoffice", "Europe/Berlin", "DE", None, datetime(2026, 11, 20, 23, tzinfo=UTC)),
        (date(2026, 11, 20), "agent", "America/Los_Angeles", "US", "US-CA", datetime(2026, 11, 21, 8, tzinfo=UTC)),
        # a Saturday: the company works on Monday, the customer's own task is due on Saturday itself
        (date(2026, 11, 21), "backoffice", "Europe/Berlin", "DE", None, datetime(2026, 11, 23, 23, tzinfo=UTC)),
        (date(2026, 11, 21), "customer", "Europe/Berlin", "DE", None, datetime(2026, 11, 21, 23, tzinfo=UTC)),
        # Epiphany is a public holiday in Bavaria, not in Berlin
        (date(2027, 1, 6), "backoffice", "Europe/Berlin", "DE", "DE-BY", datetime(2027, 1, 7, 23, tzinfo=UTC)),
        (date(2027, 1, 6), "backoffice", "Europe/Berlin", "DE", "DE-BE", datetime(2027, 1, 6, 23, tzinfo=UTC)),
        # Christmas (a Friday) and Boxing Day's substitute Monday in England: the 25th's promise is kept by Tuesday
        (date(2026, 12, 25), "agent", "Europe/London", "GB", None, datetime(2026, 12, 30, tzinfo=UTC)),
    ],
)
def test_overdue_instant_follows_zone_and_business_calendar(
    due: date, owner: str, tz: str, country: str, sub: str | None, expected: datetime
) -> None:
    assert overdue_at(due, owner, tz, country, sub) == expected


def test_due_source_and_deterministic_ids() -> None:
    suggested = [
        {"description": "Refund the duplicate charge", "due_by": "2026-11-26", "due_rule": "duration"},
        {"description": "Check the delivery fee", "due_by": "2026-11-24", "due_rule": "sla_default"},
    ]
    said = FinalAction(owner="backoffice", description="Refund the duplicate charge", due_by=date(2026, 11, 26))
    sla = FinalAction(owner="backoffice", description="Check the delivery fee", due_by=date(2026, 11, 24))
    moved = FinalAction(owner="backoffice", description="Refund the duplicate charge", due_by=date(2026, 11, 27))
    new = FinalAction(owner="agent", description="Call the customer back", due_by=date(2026, 11, 27))
    assert [due_source(a, suggested) for a in (said, sla, moved, new)] == ["said", "service_level", "agent", "agent"]
    assert due_source(FinalAction(owner="customer", description="x"), suggested) is None
    assert commitment_id("s" * 32, 0, said) == commitment_id("s" * 32, 0, said.model_copy())
    assert (
        len(
            {
                commitment_id("s" * 32, 0, said),
                commitment_id("s" * 32, 1, said),
                commitment_id("s" * 32, 0, moved),
                commitment_id("t" * 32, 0, said),
            }
        )
        == 4
    )


def _commitment(status: str = "overdue", description: str = "Refund the duplicate charge.") -> Commitment:
    return Commitment(
        commitment_id="c" * 32,
        customer_id="C-1",
        ticket_id="T-1",
        suggestion_id="s" * 32,
        action_index=0,
        owner="backoffice",
        queue_code="Q-BILL",
        resolver_group="Billing",
        description=description,
        due=date(2026, 11, 20),
        original_due=date(2026, 11, 20),
        due_source="said",
        due_at=datetime(2026, 11, 21, tzinfo=UTC),
        timezone="Europe/London",
        status=status,
        created_at=T0,
        updated_at=T0,
        history=[HistoryEntry(at=T0, action="created", status="open", version=1)],
    )


def test_the_reply_acknowledges_an_overdue_promise_right_after_the_greeting() -> None:
    service = CommitmentService(None, None, TEXTS, "k" * 16)  # type: ignore[arg-type]  # wording only
    reply = "Dear Ms Patel,\n\nThank you for your message.\n\nKind regards"
    out = service.acknowledge_overdue(reply, [_commitment()], "en")
    parts = out.split("\n\n")
    assert parts[0] == "Dear Ms Patel," and parts[2] == "Thank you for your message."
    assert parts[1] == (
        'First, I am sorry: we have not yet kept our promise due on 2026-11-20 ("Refund the duplicate '
        'charge"). I am following it up with the team responsible.'
    )
    assert service.acknowledge_overdue(out, [_commitment()], "en") == out  # never twice
    assert service.acknowledge_overdue(reply, [_commitment("open")], "en") == reply  # nothing overdue
    german = service.acknowledge_overdue("Hallo Jonas, danke.", [_commitment(description="Betrag erstatten")], "de")
    assert german.startswith("Hallo Jonas, Zunächst") and "(„Betrag erstatten“)" in german
    assert "not yet kept" in service.acknowledge_overdue(reply, [_commitment()], "xx")  # unknown language: English


def test_contradicting_dates_are_flagged_for_review() -> None:
    service = CommitmentService(None, None, TEXTS, "k" * 16)  # type: ignore[arg-type]
    owed = [_commitment("open")]
    (flag,) = service.contradictions(owed, [date(2026, 11, 25), date(2026, 11, 20)])
    assert flag.code == "commitment:contradicts_open_promise" and "2026-11-25" in flag.detail
    assert service.contradictions(owed, [date(2026, 11, 20)]) == []


def test_sales_are_held_back_while_a_promise_is_overdue() -> None:
    rules = Rules.load(ROOT / "config" / "decisions/nba_rules.yaml")
    facts = dict(
        segment="standard",
        tenure_months=36,
        products=["FIB-100"],
        region="EU",
        channel="chat",
        marketing_consent=True,
        churn_risk=0.1,
        sentiment=0.3,
    )
    sale = Offer(offer_id="XS-1", type="cross_sell", title="t", pitch={"en": "p"}, value_estimate=100)
    service = Offer(offer_id="SVC-1", type="service", title="t", pitch={"en": "p"}, value_estimate=10)
    eligible, suppressed = eligibility([sale, service], CustomerFacts(**facts, promise_overdue=True), rules, T0)
    assert [o.offer_id for o in eligible] == ["SVC-1"] and suppressed[0].rule == "promise_overdue"
    eligible, _ = eligibility([sale, service], CustomerFacts(**facts), rules, T0)
    assert {o.offer_id for o in eligible} == {"XS-1", "SVC-1"}
    off = rules.model_copy(update={"hold_sales_while_promise_overdue": False})
    eligible, _ = eligibility([sale], CustomerFacts(**facts, promise_overdue=True), off, T0)
    assert [o.offer_id for o in eligible] == ["XS-1"]
