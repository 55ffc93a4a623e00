"""Allowed acts by meaning (config/safety/acts.yaml + wordllama) and the model loader.

The examples are the ``test`` items of tests/fixtures/acts_labelled.yaml (written by hand, apart from
the frozen evaluation set; the ``tune`` items chose the thresholds). The classes the static embeddings
do NOT separate yet are asserted as known misses (strict xfail), so a change that starts catching
them shows up.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from shared.language.nlp import splitter_for
from shared.safety import sentence_model as sm
from shared.safety.output_policy.acts_meaning import ActsByMeaning
from shared.safety.output_policy.policy import OutputPolicy
from shared.settings import ROOT

LABELLED = yaml.safe_load((ROOT / "tests" / "fixtures" / "acts_labelled.yaml").read_text("utf-8"))
RAW = yaml.safe_load((ROOT / "config" / "safety/acts.yaml").read_text("utf-8"))
MODEL = sm.SentenceModel()
CHECK = ActsByMeaning(RAW, MODEL)
POLICY = OutputPolicy(
    ROOT / "config" / "safety/output_policy.yaml",
    ("en", "de"),
    sentences=splitter_for(ROOT / "config" / "language/extraction.yaml").split,
    meaning=CHECK,
)
APPROVED = POLICY.approved_from([], [], 20)


def _items(label: str | None = None, *, lang: str | None = None) -> list[tuple[str, str, str, str]]:
    return [
        (language, block["message"], item["label"], item["text"])
        for language, block in LABELLED.items()
        for item in block["items"]
        if item["split"] == "test" and (label is None or item["label"] == label) and lang in (None, language)
    ]


def meaning_codes(text: str, lang: str, message: str) -> set[str]:
    ctx = POLICY.context(language=lang, approved=APPROVED, grounding=message)
    return {h.code for h in CHECK.reply(text, text, ctx, [text])}


# --- the classifier ---------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "message", "label", "text"), _items("ok"))
def test_benign_agent_sentences_pass(lang: str, message: str, label: str, text: str) -> None:
    assert meaning_codes(text, lang, message) == set()


_MISS = "known miss: static embeddings place it nearer an allowed act (docs/safety.md, figures)"


@pytest.mark.parametrize(
    ("lang", "label"),
    [
        ("en", "rules_void"),
        ("de", "rules_void"),
        ("de", "tool_claim"),
        ("en", "off_task"),
        pytest.param("en", "tool_claim", marks=pytest.mark.xfail(strict=True, reason=_MISS)),
        pytest.param("de", "off_task", marks=pytest.mark.xfail(strict=True, reason=_MISS)),
        pytest.param("en", "condescending", marks=pytest.mark.xfail(strict=True, reason=_MISS)),
        pytest.param("de", "condescending", marks=pytest.mark.xfail(strict=True, reason=_MISS)),
    ],
)
def test_disallowed_acts_reworded_are_flagged(lang: str, label: str) -> None:
    """At least one re-worded example per class and language is flagged with the class's own code."""
    found = [meaning_codes(text, lang, message) for _, message, _, text in _items(label, lang=lang)]
    assert any(label in codes for codes in found), found


def test_flags_go_through_the_policy_actions_and_version() -> None:
    """A meaning hit uses the lexical check's code, so config/safety/output_policy.yaml decides the action."""
    text = "I executed a query against the billing database and it returned three rows."
    hits = POLICY.check(text, language="en", approved=APPROVED, grounding="Why is my bill so high?")
    assert ("policy:tool_claim", text) in {(h.code, h.sentence) for h in hits}
    assert POLICY.version.endswith(f"+acts-{RAW['version']}")


def test_relevance_to_the_customer_matter_keeps_a_long_answer() -> None:
    text = "Interference on the wireless channel in the evening often causes the router to drop the connection."
    message = "My internet router keeps dropping the connection every evening."
    assert meaning_codes(text, "en", message) == set()


def test_switched_by_config(tmp_path: Path) -> None:
    (tmp_path / "acts.yaml").write_text(yaml.safe_dump({**RAW, "enabled": True}), "utf-8")
    assert ActsByMeaning.from_file(tmp_path / "acts.yaml", MODEL) is not None
    (tmp_path / "acts.yaml").write_text(yaml.safe_dump({**RAW, "enabled": False}), "utf-8")
    assert ActsByMeaning.from_file(tmp_path / "acts.yaml", MODEL) is None


# --- the loader -------------------------------------------------------------------------------


def test_loader_copies_the_bundled_tokenizer_and_never_downloads(tmp_path: Path, monkeypatch: Any) -> None:
    import requests

    def no_network(*a: object, **k: object) -> None:
        raise AssertionError("wordllama tried the network")

    monkeypatch.setattr(requests, "get", no_network)
    model = sm.load_wordllama(tmp_path)
    copied = tmp_path / "tokenizers" / sm.bundled_tokenizer().name
    assert copied.read_bytes() == sm.bundled_tokenizer().read_bytes()
    vectors = model.embed(["The parcel arrives on Friday.", "Your parcel will be delivered Friday."], norm=True)
    assert vectors.shape == (2, sm.DIM)
    assert float(vectors[0] @ vectors[1]) > 0.5
    sm.load_wordllama(tmp_path)  # a second instance reuses the copy
    assert copied.exists()


def test_import_keeps_the_root_logger(monkeypatch: Any) -> None:
    import logging
    import sys

    monkeypatch.delitem(sys.modules, "wordllama", raising=False)
    root = logging.getLogger()
    before = (root.level, list(root.handlers))
    sm._import_wordllama()
    assert (root.level, list(root.handlers)) == before


class _Fake:
    def embed(self, texts: list[str], norm: bool = False) -> np.ndarray:
        return np.array([[float(len(t)), 0.0] for t in texts], dtype=np.float32)


def test_model_loads_once_across_threads_and_blank_text_is_zero() -> None:
    calls = []
    barrier = threading.Barrier(8)

    def loader() -> _Fake:
        calls.append(1)
        return _Fake()

    model = sm.SentenceModel(loader)
    assert calls == []  # lazy: nothing loaded before the first embed
    out: list[np.ndarray] = []

    def work() -> None:
        barrier.wait()
        out.append(model.embed(["abc", ""]))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert all(np.array_equal(o, np.array([[1.0, 0.0], [0.0, 0.0]], dtype=np.float32)) for o in out)


def test_runtime_builds_one_lazy_model(tmp_path: Path) -> None:
    import shutil

    from shared.runtime import Runtime
    from shared.settings import load_settings

    shutil.copytree(ROOT / "config", tmp_path / "config")
    (tmp_path / "config" / "safety/acts.yaml").write_text(yaml.safe_dump({**RAW, "enabled": True}), "utf-8")
    rt = Runtime(load_settings(config_dir=tmp_path / "config"))
    assert rt.sentence_model is rt.sentence_model
    assert rt.sentence_model._model is None  # nothing loaded before the first reply
    meaning = [c for c in rt.output_policy.checks if isinstance(c, ActsByMeaning)]
    assert len(meaning) == 1 and meaning[0].model is rt.sentence_model
    assert rt.output_policy.version.endswith(f"+acts-{RAW['version']}")
    off = Runtime(load_settings(config_dir=ROOT / "config")) if not RAW["enabled"] else None
    assert off is None or not any(isinstance(c, ActsByMeaning) for c in off.output_policy.checks)
