"""Closing texts from confirmed actions (issue 24, item 4): conditions kept, service-level dates worded as
the usual processing time, today/tomorrow from the contact day; the customer's threats and conditions are
never customer actions, German imperatives to the customer are."""

from __future__ import annotations

from datetime import date

import pytest

from scripts.eval_closing import FROZEN, evaluate, render
from shared.decisions.actions import FinalAction
from shared.decisions.closing import action_lines, working_days
from shared.language.extraction import Extractor
from shared.settings import ROOT

TEXTS = {
    "who_agent": "We",
    "who_backoffice": "Our team",
    "who_customer": "You",
    "by": " (by {day})",
    "due_today": " (today)",
    "due_tomorrow": " (tomorrow)",
    "usual_time": " (usually)",
    "usual_time_days": " (usually {days} working days)",
    "line": "- {who}: {what}{when}",
    "line_conditional": "- {who}, {condition}: {what}{when}",
}
TODAY = date(2026, 12, 2)  # a Wednesday


def _phrase(key: str, **values: object) -> str:
    return TEXTS[key].format(**values)


def _lines(*actions: FinalAction) -> list[str]:
    return action_lines(actions, _phrase, lambda d: d.strftime("%A %d %B"), TODAY)


def test_a_conditional_step_keeps_its_condition() -> None:
    refund = FinalAction(
        owner="backoffice",
        description="Refund the full order amount",
        due_source="agent",
        condition="if the replacement has not arrived by Friday",
    )
    assert _lines(refund) == ["- Our team, if the replacement has not arrived by Friday: Refund the full order amount"]


def test_a_service_level_date_is_the_usual_time_not_a_promise() -> None:
    review = FinalAction(
        owner="backoffice",
        description="Billing reviews the charge",
        due_by=date(2026, 12, 9),
        due_source="service_level",
    )
    said = FinalAction(owner="backoffice", description="Technician visit", due_by=date(2026, 12, 7), due_source="said")
    lines = _lines(review, said)
    assert lines[0] == "- Our team: Billing reviews the charge (usually 5 working days)"
    assert "December" not in lines[0] and lines[1] == "- Our team: Technician visit (by Monday 07 December)"


def test_today_and_tomorrow_and_our_steps_first() -> None:
    lines = _lines(
        FinalAction(owner="customer", description="Send the photos", due_by=date(2026, 12, 3)),
        FinalAction(owner="agent", description="Email the label.", due_by=TODAY, due_source="said"),
    )
    assert lines == ["- We: Email the label (today)", "- You: Send the photos (tomorrow)"]
    assert working_days(TODAY, date(2026, 12, 7)) == 3  # Thu, Fri, Mon


def test_frozen_closing_cases_never_say_what_they_must_not() -> None:
    import yaml

    cases = yaml.safe_load(FROZEN.read_text("utf-8"))["closing_texts"]
    table = evaluate(cases)
    assert table["ALL"]["with_forbidden"] == 0
    assert table["ALL"]["kept_normalised"] >= 0.9 * table["ALL"]["keep"]
    refund = next(c for c in cases if c["id"] == "close_en_02")
    assert "if the replacement has not arrived" in render(refund)


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    return Extractor(ROOT / "config" / "language/extraction.yaml")


@pytest.mark.parametrize(
    ("lang", "sentence"),
    [
        ("en", "If this isn't fixed I'm cancelling the contract, I mean it."),
        ("en", "I'm going to report you to the consumer ombudsman and leave a one-star review."),
        ("de", "Wenn das nicht behoben wird, kündige ich."),
        ("de", "Ich werde mich bei der Verbraucherzentrale beschweren."),
    ],
)
def test_a_customers_threat_or_condition_is_never_a_customer_action(
    extractor: Extractor, lang: str, sentence: str
) -> None:
    transcript = [
        {"speaker": "customer", "text": sentence},
        {"speaker": "agent", "text": "I understand." if lang == "en" else "Das verstehe ich."},
    ]
    assert extractor.actions(transcript, lang, lambda s, lang: None) == []


@pytest.mark.parametrize(
    ("lang", "sentence", "key"),
    [
        ("en", "I'll send the photos tonight.", "photos"),
        ("de", "Ich werde die Fotos bis Freitag schicken.", "Fotos"),
    ],
)
def test_a_customers_own_promise_stays(extractor: Extractor, lang: str, sentence: str, key: str) -> None:
    actions = extractor.actions([{"speaker": "customer", "text": sentence}], lang, lambda s, lang: None)
    assert [a["owner"] for a in actions if key in a["description"]] == ["customer"]


def test_german_imperative_to_the_customer_is_a_customer_action(extractor: Extractor) -> None:
    actions = extractor.actions(
        [{"speaker": "agent", "text": "Bitte starten Sie den Router neu."}], "de", lambda s, lang: None
    )
    assert [(a["owner"], "Router" in a["description"]) for a in actions] == [("customer", True)]


@pytest.mark.parametrize(
    ("lang", "sentence", "owners"),
    [
        (
            "en",
            "I'll send you the label today; our warehouse will inspect the item by Friday.",
            ["agent", "backoffice"],
        ),
        (
            "en",
            "Our technician will swap the modem on Monday and I'll add a 10 EUR credit to your next invoice.",
            ["backoffice", "agent"],
        ),
        (
            "de",
            "Ich schicke Ihnen heute eine Bestätigung per E-Mail und unsere Buchhaltung richtet das Mandat bis "
            "Freitag ein.",
            ["agent", "backoffice"],
        ),
    ],
)
def test_two_commitments_in_one_sentence_are_two_actions(
    extractor: Extractor, lang: str, sentence: str, owners: list[str]
) -> None:
    actions = extractor.actions([{"speaker": "agent", "text": sentence}], lang, lambda s, lang: None)
    assert [a["owner"] for a in actions] == owners
    assert all(a["sentence"] == sentence for a in actions)  # the evidence is the whole sentence
