"""Intent over a configurable taxonomy: keyword cues (config/language/intents.yaml) and examples.

:class:`IntentDetector` is transparent and cheap: cues are word starts per language; the
intent with the most cue hits wins; on a tie, the one mentioned last. It weights
next-best-actions by topic.

:class:`IntentClassifier` (reply intent, routing fallback) lets the labelled examples
(config/language/intent_examples.yaml, naive Bayes) propose and the cues confirm: a label needs
evidence of its own topic in the text. Without any cue of the taxonomy the answer is the
configured ``unknown_label`` with ``known=False``, instead of the confident wrong label
naive Bayes gives to text from another domain (its posteriors are near 1.0 either way).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

GENERAL = "general"


@dataclass(frozen=True)
class IntentGuess:
    intent: str
    hits: int
    cues: tuple[str, ...]


class IntentDetector:
    def __init__(self, path: Path) -> None:
        raw = yaml.safe_load(path.read_text("utf-8"))
        self.version = str(raw["version"])
        self.intents = list(raw["intents"])
        self._patterns: dict[str, dict[str, re.Pattern[str]]] = {}
        for intent, by_lang in raw["intents"].items():
            for lang, cues in by_lang.items():
                alternatives = sorted(cues, key=len, reverse=True)
                self._patterns.setdefault(lang, {})[intent] = re.compile(
                    r"(?<!\w)(?:" + "|".join(re.escape(c) for c in alternatives) + ")", re.IGNORECASE
                )

    def hits(self, text: str, language: str | None = None) -> dict[str, tuple[int, int, tuple[str, ...]]]:
        """Per intent with at least one cue: (hits, end of the last hit, distinct cues)."""
        languages = [language] if language in self._patterns else list(self._patterns)
        found: dict[str, tuple[int, int, tuple[str, ...]]] = {}
        for intent in self.intents:
            matches = [m for lang in languages if (p := self._patterns[lang].get(intent)) for m in p.finditer(text)]
            if matches:
                cues = tuple(dict.fromkeys(m.group().lower() for m in matches))
                found[intent] = (len(matches), max(m.end() for m in matches), cues)
        return found

    def detect(self, text: str, language: str | None = None) -> IntentGuess:
        best, best_key = IntentGuess(GENERAL, 0, ()), (0, -1)
        for intent, (n, last, cues) in self.hits(text, language).items():
            if (n, last) > best_key:  # ties: mentioned last wins
                best, best_key = IntentGuess(intent, n, cues), (n, last)
        return best


@dataclass(frozen=True)
class IntentPrediction:
    label: str
    confidence: float
    known: bool = True
    cues: tuple[str, ...] = ()


class IntentClassifier:
    """Examples propose, cues confirm; no topic evidence → ``unknown_label``, ``known=False``.

    The confidence is the examples model's posterior when the cues agree, a flat 0.5 when
    only the cues decide, and 0.0 when nothing in the text belongs to the taxonomy.
    """

    def __init__(self, intents_path: Path, examples_path: Path) -> None:
        from shared.language.classifier import NaiveBayes

        raw = yaml.safe_load(examples_path.read_text("utf-8"))
        self.detector = IntentDetector(intents_path)
        self.model, examples_version = NaiveBayes.from_examples_file(examples_path)
        self.unknown_label = str(raw.get("unknown_label", GENERAL))
        self.cue_free = set(raw.get("cue_free_labels", [GENERAL]))
        self.version = f"{self.detector.version}+{examples_version}"

    @property
    def labels(self) -> list[str]:
        return sorted({*self.model.labels, *self.detector.intents, self.unknown_label})

    def predict(self, text: str, language: str | None = None) -> IntentPrediction:
        proposed = self.model.predict(text)
        hits = self.detector.hits(text, language)
        if proposed.label in hits:
            return IntentPrediction(proposed.label, proposed.confidence, True, hits[proposed.label][2])
        if hits:
            intent, (_, _, cues) = max(hits.items(), key=lambda kv: (kv[1][0], kv[1][1]))
            return IntentPrediction(intent, 0.5, True, cues)
        if proposed.label in self.cue_free:
            return IntentPrediction(proposed.label, proposed.confidence, True)
        return IntentPrediction(self.unknown_label, 0.0, False)

    def classify(self, text: str) -> tuple[str, float, bool]:
        """(label, confidence, known): the router's fallback when no trained artefact exists."""
        p = self.predict(text)
        return p.label, p.confidence, p.known


@lru_cache(maxsize=4)
def detector(path: Path) -> IntentDetector:
    return IntentDetector(path)
