from __future__ import annotations

import json
from datetime import date

import pytest

from scripts.eval_next_steps import score
from scripts.kb_ingest import load_articles
from shared.capabilities.confirm_next_steps import FinalAction, diff
from shared.data.kb import HashEmbedder
from shared.decisions.queues import QueueCatalogue
from shared.language.extraction import Extractor
from shared.settings import ROOT

EXTRACTOR = Extractor(ROOT / "config" / "language/extraction.yaml")
QUEUES = QueueCatalogue.load(ROOT / "config" / "decisions/queues.yaml")


@pytest.mark.parametrize(
    ("speaker", "sentence", "lang", "owner"),
    [
        ("agent", "I'll send you the tracking link today.", "en", "agent"),
        ("agent", "Our billing team will refund the duplicate.", "en", "backoffice"),
        ("agent", "Could you send me a photo of the damage?", "en", "customer"),
        ("agent", "Shall I send you the link?", "en", None),  # an offer, not a commitment
        ("agent", "Thanks for waiting.", "en", None),
        ("customer", "I'll post the router back tomorrow.", "en", "customer"),
        ("agent", "Der Techniker kommt am Montag.", "de", "backoffice"),
        ("agent", "Bitte schicken Sie uns den Kontoauszug.", "de", "customer"),
        ("agent", "Ich rufe Sie morgen an.", "de", "agent"),
        ("customer", "Ich schicke die Unterlagen heute.", "de", "customer"),
    ],
)
def test_commitment_owner(speaker: str, sentence: str, lang: str, owner: str | None) -> None:
    found = EXTRACTOR.actions(
        [{"speaker": speaker, "text": sentence}], lang, lambda text, language: "heute" if "heute" in text else None
    )
    assert [a["owner"] for a in found] == ([owner] if owner else [])


def test_routing_aliases_and_triage() -> None:
    assert QUEUES.route("Abrechnung").queue_code == "Q-BILL"
    assert QUEUES.route("  technical support ").queue_code == "Q-TECH"
    unknown = QUEUES.route("Moon base")
    assert (unknown.queue_code, unknown.flagged) == ("Q-TRIAGE", True)
    assert QUEUES.for_intent("outage").resolver_group == "Service Outages and Maintenance"
    assert len({g.code for g in QUEUES.groups}) == len(QUEUES.groups)


def test_diff_pairs_edited_actions() -> None:
    suggested = [
        {"owner": "backoffice", "description": "Billing team refunds the duplicate", "due_by": "2026-11-26"},
        {"owner": "customer", "description": "Send a bank statement", "due_by": "2026-11-20"},
        {"owner": "agent", "description": "Call back next week", "due_by": "2026-11-27"},
    ]
    final = [
        FinalAction(owner="agent", description="Billing team refunds the duplicate payment", due_by=date(2026, 11, 26)),
        FinalAction(owner="customer", description="Send a bank statement", due_by=date(2026, 11, 23)),
        FinalAction(owner="agent", description="Offer a goodwill voucher"),
    ]
    assert diff(suggested, final) == (1, 1, 1, 1)  # owner changed, added, removed, due moved


def test_gold_scoring() -> None:
    cases = [
        {
            "id": "a",
            "group": "Technical Support",
            "actions": [
                {"owner": "agent", "key": "router", "due_by": date(2026, 11, 20)},
                {"owner": "customer", "key": "return", "due_by": None},
            ],
        }
    ]
    predictions = {
        "a": {
            "resolver_group": "Technical Support",
            "actions": [
                {"owner": "agent", "description": "Send a new router", "due_by": "2026-11-20"},
                {"owner": "agent", "description": "Return the old one", "due_by": None},
                {"owner": "agent", "description": "Something extra", "due_by": None},
            ],
        }
    }
    result = score(cases, predictions)
    assert (result["action_recall"], result["action_precision"]) == (1.0, round(2 / 3, 3))
    assert (result["owner_accuracy"], result["due_date_exact"], result["resolver_accuracy"]) == (0.5, 1.0, 1.0)


def test_kb_ingest_formats(tmp_path) -> None:
    abcd = {
        "Order Issue": {
            "description": "orders",
            "subflows": {
                "Status Delivery Time": {
                    "instructions": ["Tell the customer"],
                    "actions": [{"text": "Check the order", "subtext": ["Order ID"]}],
                }
            },
        }
    }
    path = tmp_path / "guidelines.json"
    path.write_text(json.dumps(abcd))
    (article,) = load_articles(path)
    assert article.kb_id == "abcd-order-issue-status-delivery-time" and "Check the order" in article.body
    seed = load_articles(ROOT / "scripts" / "seed_data" / "kb_articles.yaml")
    assert len(seed) >= 10 and {a.language for a in seed} == {"en", "de"}
    with pytest.raises(ValueError):
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps({"x": 1}))
        load_articles(bad)


def test_hash_embedder_is_deterministic_and_normalised() -> None:
    e = HashEmbedder(1024)
    (a,), (b,) = e.embed(["Router startet neu"], query=True), e.embed(["Router startet neu"], query=False)
    assert a == b and abs(sum(x * x for x in a) - 1.0) < 1e-9
    (c,) = e.embed(["Doppelte Abbuchung"], query=True)
    assert sum(x * y for x, y in zip(a, c, strict=True)) < 0.5
