"""Sentiment on the project's labelled EN/DE set and on the complaint kinds it must see."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from shared.language.sentiment import SentimentOut, SentimentScorer

ROOT = Path(__file__).resolve().parents[2]
SCORER = SentimentScorer(ROOT / "config" / "language/sentiment_lexicon.yaml")
LABELLED = yaml.safe_load((ROOT / "tests" / "fixtures" / "sentiment_labelled.yaml").read_text("utf-8"))


@pytest.mark.parametrize("lang", ["en", "de"])
def test_labelled_set_accuracy_and_negative_recall(lang: str) -> None:
    from scripts.eval_router import labelled_rates  # the eval command's scorer, one definition

    rates = labelled_rates(SCORER, LABELLED[lang], lang)
    assert rates["n"] >= 48
    assert rates["accuracy"] >= 0.8, f"{lang} accuracy {rates['accuracy']:.2f}"
    assert rates["negative_recall"] >= 0.65, f"{lang} negative recall {rates['negative_recall']:.2f}"
    assert rates["angry_recall"] == 1.0  # openly angry text is never neutral


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("What language do you people understand?", "en"),
        ("Your app sucks.", "en"),
        ("This is the fourth time I am writing about the same invoice.", "en"),
        ("I CALLED YESTERDAY AND NOTHING HAPPENED", "en"),
        ("Seriously? Nobody ever calls back.", "en"),
        ("Ich schreibe jetzt zum vierten Mal wegen derselben Rechnung.", "de"),
        ("Welche Sprache verstehen Sie eigentlich?", "de"),
        ("Ich bin überhaupt nicht zufrieden.", "de"),
        ("Das ist eine Zumutung!", "de"),
        ("Ihr seid völlig unfähig.", "de"),
    ],
)
def test_complaints_are_negative(text: str, lang: str) -> None:
    assert SCORER.score(text, lang).label == "negative", SCORER.score(text, lang)


@pytest.mark.parametrize(
    ("text", "lang", "label"),
    [
        ("Thank you so much, the technician was great!", "en", "positive"),
        ("Vielen Dank, alles hat einwandfrei geklappt.", "de", "positive"),
        ("Please send me the invoice for March.", "en", "neutral"),
        ("Bitte schicken Sie mir die Rechnung für März.", "de", "neutral"),
        ("Merci beaucoup, service excellent", "fr", "positive"),
    ],  # no French block: the merged lexicon
)
def test_polite_and_plain_messages(text: str, lang: str, label: str) -> None:
    assert SCORER.score(text, lang).label == label, SCORER.score(text, lang)


def test_negation_flips_and_scores_stay_in_range() -> None:
    assert SCORER.score("Ich bin zufrieden.", "de").score > 0 > SCORER.score("Ich bin nicht zufrieden.", "de").score
    for texts in LABELLED["en"].values():
        for text in texts:
            assert -1.0 <= SCORER.score(text, "en").score <= 1.0


def test_interface_used_by_nba_and_reply_is_unchanged() -> None:
    s = SCORER.score("terrible service", "en")
    out = SentimentOut(label=s.label, score=s.score)
    assert out.label == "negative" and SCORER.version
