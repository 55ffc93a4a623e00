"""A small multinomial naive-Bayes text classifier over labelled examples kept as data.

Trained in milliseconds at first use from ``config/language/intent_examples.yaml`` (or any
labelled list), deterministic, language-agnostic (word unigrams and bigrams, lower-cased,
umlauts kept), and explainable enough for agents and operations. The same class serves
the offline reply intent and, in evaluation, ticket → resolver-queue routing.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)


def features(text: str) -> list[str]:
    words = [w.lower() for w in _WORD.findall(text)]
    return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float


class NaiveBayes:
    def __init__(self, alpha: float = 0.5) -> None:
        self.alpha = alpha
        self.labels: list[str] = []
        self._log_prior: dict[str, float] = {}
        self._log_lik: dict[str, dict[str, float]] = {}
        self._log_unseen: dict[str, float] = {}

    def fit(self, texts: Iterable[str], labels: Iterable[str]) -> NaiveBayes:
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        docs: Counter[str] = Counter()
        for text, label in zip(texts, labels, strict=True):
            counts[label].update(features(text))
            docs[label] += 1
        vocabulary = {f for c in counts.values() for f in c}
        total_docs = sum(docs.values())
        self.labels = sorted(docs)
        for label in self.labels:
            total = sum(counts[label].values()) + self.alpha * (len(vocabulary) + 1)
            self._log_prior[label] = math.log(docs[label] / total_docs)
            self._log_lik[label] = {f: math.log((n + self.alpha) / total) for f, n in counts[label].items()}
            self._log_unseen[label] = math.log(self.alpha / total)
        return self

    def predict(self, text: str) -> Prediction:
        feats = features(text)
        scores = {
            label: self._log_prior[label] + sum(self._log_lik[label].get(f, self._log_unseen[label]) for f in feats)
            for label in self.labels
        }
        best = max(self.labels, key=lambda lab: (scores[lab], lab))
        top = scores[best]
        z = sum(math.exp(s - top) for s in scores.values())
        return Prediction(best, round(1.0 / z, 3))

    @classmethod
    def from_examples_file(cls, path: Path) -> tuple[NaiveBayes, str]:
        raw = yaml.safe_load(path.read_text("utf-8"))
        pairs = [(text, label) for label, texts in raw["examples"].items() for text in texts]
        model = cls().fit([t for t, _ in pairs], [lab for _, lab in pairs])
        return model, str(raw["version"])
