"""Next steps from sentence structure, and an extractive conversation summary.

For every clause: who is the actor (speaker + grammatical subject: I / we / you / a team
or person / a thing or passive / none), which act it is (commitment, instruction,
request, question, offer, negation, completed fact, statement; conditional when it
depends on "if / once / sobald …"), and what the action is. Each language has one clause
analyzer (``shared.language.clauses``: English from spaCy's dependency parse, German by
rules over spaCy's tokenizer), named per language in ``config/language/extraction.yaml``
(``clause_analyzer``, ``pipeline``) with the words it uses; month names, abbreviations and
stop words come from the language's lexicon (``config/language/lexicon/<code>.yaml``). The
language-free ``ActionSelector`` picks the next steps; ``Summarizer`` the summary sentences.

Owners: agent (the agent's own commitments, incl. asking another team), customer
(instructions and requests to the customer, the customer's own promises), backoffice
(a team, a third party, a passive process, or something the agent arranged for
someone else to do). Negations and questions are never actions; a low-confidence
action is kept and marked ``needs_review``.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from shared.language.clauses.base import ACTION_ACTS, WORD, Clause, ClauseAnalyzer, Lang
from shared.language.clauses.registry import ANALYZERS
from shared.language.clauses.select import ActionSelector
from shared.language.lexicon import Lexicon, Lexicons, load_lexicons, require
from shared.language.nlp import Pipelines, PipelineSpec, SentenceSplitter
from shared.language.summarize import Summarizer
from shared.language.windows import windows

_SEMICOLON = re.compile(r"(?<=\S);\s+(?=\S)")

__all__ = ["ACTION_ACTS", "Clause", "Extractor", "Lang", "condense", "default_extractor", "guess_language"]


def _lang(table: dict[str, Any], lexicon: Lexicon) -> Lang:
    lists = {k: v for k, v in table.items() if isinstance(v, list)}
    lists["stopwords"] = lexicon.stopwords
    words = {k: {str(w).lower() for w in v} for k, v in lists.items()}
    phrases = {k: [" ".join(WORD.findall(str(w).lower())) for w in v] for k, v in lists.items()}
    return Lang(words, phrases)


class Extractor:
    """Clauses and actions from a transcript; pipelines are loaded lazily by ``Pipelines``.

    ``path`` is ``extraction.yaml``; ``lexicons`` default to the ``lexicon/`` directory next to it,
    the splitter to one built from them (the composition root passes both)."""

    def __init__(
        self,
        path: Path,
        pipelines: Pipelines | None = None,
        *,
        lexicons: Lexicons | None = None,
        splitter: SentenceSplitter | None = None,
    ) -> None:
        raw = yaml.safe_load(path.read_text("utf-8"))
        lexicons = lexicons if lexicons is not None else load_lexicons(path.parent / "lexicon")
        self.version = str(raw["version"])
        self.review_below = float(raw["review_below"])
        self.conf = {k: float(v) for k, v in raw["confidence"].items()}
        self.default_language = str(raw["default_language"])
        self.langs: dict[str, Lang] = {}
        self.analyzers: dict[str, ClauseAnalyzer] = {}
        specs: dict[str, PipelineSpec] = {}
        for code, table in raw.items():
            if not (isinstance(table, dict) and "clause_analyzer" in table):
                continue  # a language is a block that names its clause analyzer
            if table["clause_analyzer"] not in ANALYZERS:
                raise ValueError(
                    f"{path}: {code}.clause_analyzer {table['clause_analyzer']!r} is not one of {sorted(ANALYZERS)}"
                )
            self.langs[code] = _lang(table, require(lexicons, code, str(path)))
            self.analyzers[code] = ANALYZERS[table["clause_analyzer"]](self.conf)
            pipe = table["pipeline"]
            specs[code] = PipelineSpec(
                model=pipe.get("model"),
                blank=pipe.get("blank"),
                disable=tuple(pipe.get("disable", ())),
                components=tuple(pipe["components"]) if "components" in pipe else None,
            )
        if self.default_language not in self.langs:
            raise ValueError(f"{path}: default_language {self.default_language!r} has no language block")
        self.splitter = splitter or SentenceSplitter.from_lexicons(lexicons)
        self.pipelines = pipelines or Pipelines(specs, self.default_language)
        self.selector = ActionSelector(self.conf, self.review_below, self.splitter)
        self.summarizer = Summarizer(self.splitter, self.langs, self.default_language, raw["speaker_labels"])
        self._commit_words = {str(w).lower() for w in raw["customer_commit_words"]}
        self.cache_size = int(raw.get("cache_sentences", 4096))
        self.window_turns = int(raw.get("window_turns", 120))
        self.window_overlap = int(raw.get("window_overlap", 10))
        windows(0, self.window_turns, self.window_overlap)  # a window too small for its context fails at start
        self._cache: OrderedDict[tuple[str, str, str], list[Clause]] = OrderedDict()
        self._lock = threading.Lock()

    def lang(self, language: str) -> tuple[str, Lang]:
        code = language if language in self.langs else self.default_language
        return code, self.langs[code]

    def clauses(self, transcript: list[dict[str, Any]], language: str) -> list[Clause]:
        code, lang = self.lang(language)
        items: list[tuple[int, str, str, str]] = []
        for n, turn in enumerate(transcript):
            if turn["speaker"] not in ("agent", "customer"):
                continue
            for sentence in self.splitter.split(turn["text"]):
                if turn["speaker"] == "customer" and not self._customer_may_commit(sentence, lang):
                    continue  # a customer's sentence is a task only when they promise something themselves
                # "I'll send the e-mail; our accounts team sets up the mandate by Friday": two commitments,
                # each analysed on its own (the evidence stays the whole sentence)
                for part in _SEMICOLON.split(sentence):
                    items.append((turn.get("i", n), turn["speaker"], part, sentence))
        if not items:
            return []
        todo = list(dict.fromkeys((speaker, s) for _, speaker, s, _ in items if (code, speaker, s) not in self._cache))
        if todo:
            # A fragment after a pause ("Let me check... promo codes are valid") is parsed as a sentence.
            # A part after a semicolon keeps its case ("…; sie ruft Sie an": "sie" is not the polite "Sie").
            inner = {(speaker, p) for _, speaker, p, sentence in items if not sentence.startswith(p)}
            docs = self.pipelines.pipe(code, [s if (sp, s) in inner else s[:1].upper() + s[1:] for sp, s in todo])
            analyzer = self.analyzers[code]
            for (speaker, sentence), doc in zip(todo, docs, strict=True):
                self._remember((code, speaker, sentence), analyzer.analyze(doc, speaker, lang))
        out: list[Clause] = []
        for i, speaker, part, sentence in items:
            # "Ich rufe Ihr Konto auf...", "hold both buttons for five seconds...": said while doing it
            trailing = speaker == "agent" and sentence.rstrip().endswith(("...", "…"))
            out += [
                replace(
                    c,
                    turn=i,
                    sentence=sentence,
                    needs_due=c.needs_due
                    or (trailing and c.act in ("commitment", "instruction", "request") and c.actor != "team"),
                )
                for c in self._cache[(code, speaker, part)]
            ]
        return out

    def _remember(self, key: tuple[str, str, str], clauses: list[Clause]) -> None:
        """Per-instance LRU of sentence analyses: a live call re-requests with a growing transcript."""
        with self._lock:
            self._cache[key] = clauses
            self._cache.move_to_end(key)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    def non_task(self, sentence: str, language: str) -> bool:
        """The sentence is only a negation, question or offer (a model's action quoting it is suspect)."""
        clauses = self.clauses([{"speaker": "agent", "text": sentence}], language)
        return (
            bool(clauses)
            and not any(c.is_action for c in clauses)
            and any(c.act in ("negation", "question", "offer") for c in clauses)
        )

    @staticmethod
    def _threat_or_condition(sentence: str, lang: Lang) -> bool:
        """A customer's sentence that sets a condition ("if …", "wenn …", "unless …") or announces a step
        against the company (``customer_threats`` in extraction.yaml: cancel, report, switch, chargeback…)."""
        words = {w.lower() for w in WORD.findall(sentence)}
        return bool(words & lang.words.get("customer_conditions", set())) or bool(
            words & lang.words.get("customer_threats", set())
        )

    def _customer_may_commit(self, sentence: str, lang: Lang) -> bool:
        words = {w.lower() for w in WORD.findall(sentence)}
        return bool(words & (lang.words["first_person"] | lang.words["first_plural"] | self._commit_words))

    def actions(
        self, transcript: list[dict[str, Any]], language: str, find_due: Callable[[str, str], str | None]
    ) -> list[dict[str, Any]]:
        """The clauses that are next steps, with due words, confidence, review flag and ``turn``.

        The whole transcript, however long: past ``window_turns`` turns (config/language/extraction.yaml) it is
        read in overlapping windows (``shared.language.windows``), each keeping the steps of the turns
        it owns; a step said again in a later window is kept once, where it was first said."""
        items = [{**t, "i": t.get("i", n)} for n, t in enumerate(transcript)]
        parts = windows(len(items), self.window_turns, self.window_overlap)
        if len(parts) == 1:
            return self._actions(items, language, find_due)
        found: list[dict[str, Any]] = []
        seen: set[str] = set()
        for w in parts:
            owned = {t["i"] for t in items[w.own_start : w.own_end]}
            for action in self._actions(items[w.start : w.end], language, find_due):
                key = action["description"].lower()
                if action["turn"] in owned and key not in seen:
                    seen.add(key)
                    found.append(action)
        return found

    def _actions(
        self, transcript: list[dict[str, Any]], language: str, find_due: Callable[[str, str], str | None]
    ) -> list[dict[str, Any]]:
        _, lang = self.lang(language)
        found = self.selector.select(transcript, self.clauses(transcript, language), lang, language, find_due)
        # "If this isn't fixed I'm cancelling", "I'll report you to the ombudsman": the customer's complaint,
        # threat or condition is never a task (the clause stays, e.g. as an ``ultimatum`` signal)
        return [a for a in found if not (a["speaker"] == "customer" and self._threat_or_condition(a["sentence"], lang))]

    def summary_sentences(self, turns: list[dict[str, Any]], language: str, limit: int = 3) -> list[dict[str, Any]]:
        """The sentences that state the problem, the resolution and the commitments (see ``Summarizer``)."""
        return self.summarizer.summary_sentences(turns, language, limit=limit)


@lru_cache(maxsize=1)
def default_extractor() -> Extractor:
    """Deprecated: take ``Runtime.extractor``. The repository's own config, for ``condense`` callers
    not yet handed an extractor (the offline context summary)."""
    from shared.language.legacy import repo_config_dir

    return Extractor(repo_config_dir() / "language/extraction.yaml")


def guess_language(text: str, extractor: Extractor) -> str:
    """The language whose stop words the text hits most (cheap; only to pick the summary's word lists)."""
    return extractor.summarizer.guess_language(text)


def condense(text: str, limit: int = 2, extractor: Extractor | None = None) -> str:
    """A stored contact text cut down to the sentences that state the problem and the resolution
    (``Summarizer.condense``); without ``extractor``, the deprecated :func:`default_extractor`."""
    return (extractor or default_extractor()).summarizer.condense(text, limit)
