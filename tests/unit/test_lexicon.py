"""One lexicon per language (config/language/lexicon/<code>.yaml), read by every language consumer; languages
enabled by data, not by branches on a language code."""

from __future__ import annotations

import ast
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from shared.language.duedates import DueDateResolver
from shared.language.extraction import Extractor
from shared.language.lexicon import cldr_names, load_lexicons
from shared.language.nlp import SentenceSplitter
from shared.settings import ROOT

CONFIG = ROOT / "config"
LEXICONS = load_lexicons(CONFIG / "language" / "lexicon")


@pytest.mark.parametrize("code", sorted(LEXICONS))
def test_month_and_weekday_names_are_cldr_not_hand_typed(code: str) -> None:
    lexicon = LEXICONS[code]
    assert lexicon.cldr == cldr_names(lexicon.locale), (
        f"config/language/lexicon/{code}.yaml `cldr` differs from babel; regenerate it from "
        f"shared.language.lexicon.cldr_names({lexicon.locale!r})"
    )


def test_month_forms_and_abbreviations() -> None:
    en, de = LEXICONS["en"], LEXICONS["de"]
    assert en.month_numbers["sept"] == en.month_numbers["september"] == 9
    assert de.month_numbers["jänner"] == de.month_numbers["jan"] == 1
    assert de.weekday_numbers["sonnabend"] == de.weekday_numbers["samstag"] == 5
    # a shortened month form is an abbreviation; a full name ("Mai", "May") is not
    assert {"dez", "sept", "mär"} <= de.sentence_abbreviations and "mai" not in de.sentence_abbreviations
    assert {"dec", "sept"} <= en.sentence_abbreviations and "may" not in en.sentence_abbreviations


def _relocated(tmp_path: Path) -> Path:
    """A copy of the config directory whose English lexicon has one more month, abbreviation and stop word."""
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    path = config / "language" / "lexicon" / "en.yaml"
    raw = yaml.safe_load(path.read_text("utf-8"))
    raw["months"]["brumaire"] = 11
    raw["abbreviations"].append("zqx")
    raw["stopwords"].append("router")
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    return config


def test_every_consumer_reads_the_lexicon_it_is_given(tmp_path: Path) -> None:
    config = _relocated(tmp_path)
    lexicons = load_lexicons(config / "language" / "lexicon")
    text = "Ask for form zqx. Then call us."
    assert SentenceSplitter.from_lexicons(LEXICONS).split(text) == ["Ask for form zqx.", "Then call us."]
    assert SentenceSplitter.from_lexicons(lexicons).split(text) == [text]

    end = datetime(2026, 11, 19, 14, tzinfo=UTC)
    said = "I'll send it by 3 Brumaire."
    assert DueDateResolver(CONFIG / "language/due_phrases.yaml", LEXICONS).find_phrase(said, "en") is None
    resolver = DueDateResolver(config / "language/due_phrases.yaml", lexicons)
    assert resolver.find_phrase(said, "en") == "by 3 Brumaire"
    due = resolver.resolve("I'll send it by 23 Brumaire.", end=end, tz="Europe/Berlin", country="DE", language="en")
    assert (due.status, due.due_by and due.due_by.isoformat()) == ("resolved", "2026-11-23")

    extractor = Extractor(
        config / "language/extraction.yaml", lexicons=lexicons
    )  # splitter built from the same lexicons
    assert extractor.splitter.split(text) == [text]
    assert "router" in extractor.langs["en"].words["stopwords"]
    assert (
        "router" not in Extractor(CONFIG / "language/extraction.yaml", lexicons=LEXICONS).langs["en"].words["stopwords"]
    )


def test_phrase_file_may_not_keep_lexicon_words(tmp_path: Path) -> None:
    text = (CONFIG / "language/due_phrases.yaml").read_text("utf-8")
    copy = tmp_path / "due_phrases.yaml"
    copy.write_text(text.replace("  en:\n", "  en:\n    months: {january: 1}\n", 1), "utf-8")
    with pytest.raises(ValueError, match=r"en\.\['months'\] belong in the language's lexicon"):
        DueDateResolver(copy, LEXICONS)


def test_a_language_is_enabled_by_data(tmp_path: Path) -> None:
    """Austrian German as data only: a block naming the German analyzer and a lexicon; no code."""
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    raw = yaml.safe_load((config / "language/extraction.yaml").read_text("utf-8"))
    raw["at"] = raw["de"]
    (config / "language/extraction.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    shutil.copy(config / "language" / "lexicon" / "de.yaml", config / "language" / "lexicon" / "at.yaml")
    extractor = Extractor(config / "language/extraction.yaml")
    assert type(extractor.analyzers["at"]).__name__ == "GermanClauses"
    said = "Ich schicke Ihnen die Rechnung bis Freitag. Bitte senden Sie das Gerät zurück."
    turns = [{"speaker": "agent", "text": said}]
    found = [(c.act, c.owner, c.text) for c in extractor.clauses(turns, "at")]
    assert found == [(c.act, c.owner, c.text) for c in extractor.clauses(turns, "de")]
    assert [a for _, a, _ in found] == ["agent", "customer"]


def test_unknown_analyzer_is_named(tmp_path: Path) -> None:
    text = (CONFIG / "language/extraction.yaml").read_text("utf-8")
    text = text.replace("clause_analyzer: german", "clause_analyzer: klingon")
    (tmp_path / "extraction.yaml").write_text(text, "utf-8")
    with pytest.raises(ValueError, match="de.clause_analyzer 'klingon' is not one of"):
        Extractor(tmp_path / "extraction.yaml", lexicons=LEXICONS)


def test_language_modules_never_branch_on_a_language_code() -> None:
    """Outside the per-language analyzers, no code in shared/language names a language code: which
    languages exist, their analyzer, pipeline and fallback are data."""
    found = []
    for path in (ROOT / "shared" / "language").rglob("*.py"):
        if path.parent.name == "clauses" and path.stem in ("en", "de"):
            continue
        tree = ast.parse(path.read_text("utf-8"))
        docstrings = {
            id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)
        }
        found += [
            f"{path.relative_to(ROOT)}:{n.lineno}"
            for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and n.value in ("en", "de") and id(n) not in docstrings
        ]
    assert found == []


def test_runtime_builds_the_language_objects_from_the_configured_directory(tmp_path: Path) -> None:
    """CX_CONFIG_DIR reaches the splitter, the extractor and the due dates (one lexicon set, built once)."""
    from shared.runtime import Runtime
    from shared.settings import load_settings

    config = _relocated(tmp_path)
    prompts = tmp_path / "prompts"
    shutil.copytree(ROOT / "prompts", prompts)
    rt = Runtime(load_settings(config_dir=config, prompts_dir=prompts))
    assert rt.splitter.split("Ask for form zqx. Then call us.") == ["Ask for form zqx. Then call us."]
    assert rt.extractor.splitter is rt.splitter
    assert rt.due_dates.find_phrase("I'll send it by 3 Brumaire.", "en") == "by 3 Brumaire"
    assert "router" in rt.extractor.langs["en"].words["stopwords"]


def test_splitter_from_a_config_file_reads_the_lexicons_beside_it(tmp_path: Path) -> None:
    """Callers that built the splitter from ``<config>/extraction.yaml`` keep working (parallel branches)."""
    config = _relocated(tmp_path)
    splitter = SentenceSplitter.from_config(config / "language/extraction.yaml")
    assert splitter.split("Ask for form zqx. Then call us.") == ["Ask for form zqx. Then call us."]
