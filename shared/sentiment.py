"""Rule-based sentiment for English, German and any language with a lexicon block.

Lexicon entries are word starts ("frustrat" matches "frustrated", "frustrating"); a
negator within the three preceding tokens flips and dampens polarity; an intensifier
right before scales it. The sum is squashed to [-1, 1] as VADER does. Per-language
behaviour is data (config/sentiment_lexicon.yaml), never a code branch.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field

Label = Literal["positive", "neutral", "negative"]
_TOKEN = re.compile(r"[\w'’]+", re.UNICODE)
NEGATION_WINDOW = 3
SQUASH_ALPHA = 4.0
THRESHOLD = 0.2


class SentimentOut(BaseModel):
    """Sentiment as responses report it."""

    label: Label
    score: float = Field(description="Rule-based score in [-1, 1]; the one business rules use.")


@dataclass(frozen=True)
class SentimentScore:
    label: Label
    score: float


@dataclass(frozen=True)
class _Lexicon:
    pattern: re.Pattern[str]
    weights: dict[str, float]
    negators: frozenset[str]
    intensifiers: dict[str, float]


def _compile(block: dict) -> _Lexicon:
    weights = {**block.get("positive", {}), **block.get("negative", {})}
    alternatives = sorted(weights, key=len, reverse=True)
    pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(a) for a in alternatives) + r")[\w'’]*", re.IGNORECASE)
    return _Lexicon(
        pattern=pattern,
        weights={k.lower(): float(v) for k, v in weights.items()},
        negators=frozenset(n.lower() for n in block.get("negators", [])),
        intensifiers={k.lower(): float(v) for k, v in block.get("intensifiers", {}).items()},
    )


class SentimentScorer:
    def __init__(self, lexicon_path: Path) -> None:
        raw = yaml.safe_load(lexicon_path.read_text("utf-8"))
        self.version = str(raw.pop("version"))
        self._by_language = {lang: _compile(block) for lang, block in raw.items()}
        merged: dict = {"positive": {}, "negative": {}, "negators": [], "intensifiers": {}}
        for block in raw.values():
            for key in ("positive", "negative", "intensifiers"):
                merged[key].update(block.get(key, {}))
            merged["negators"] += block.get("negators", [])
        self._any = _compile(merged)

    def score(self, text: str, language: str | None = None) -> SentimentScore:
        lex = self._by_language.get(language or "", self._any)
        tokens = [(m.start(), m.group().lower()) for m in _TOKEN.finditer(text)]
        starts = [s for s, _ in tokens]
        total = 0.0
        for match in lex.pattern.finditer(text):
            value = lex.weights[match.group(1).lower()]
            index = _bisect(starts, match.start())
            before = [tok for _, tok in tokens[max(0, index - NEGATION_WINDOW) : index]]
            if any(tok in lex.negators for tok in before):
                value *= -0.6
            if before and before[-1] in lex.intensifiers:
                value *= lex.intensifiers[before[-1]]
            total += value
        total *= 1.0 + min(text.count("!"), 3) * 0.1 if total < 0 else 1.0
        score = total / math.sqrt(total * total + SQUASH_ALPHA)
        label: Label = "positive" if score >= THRESHOLD else "negative" if score <= -THRESHOLD else "neutral"
        return SentimentScore(label, round(score, 3))


def _bisect(starts: list[int], position: int) -> int:
    lo, hi = 0, len(starts)
    while lo < hi:
        mid = (lo + hi) // 2
        if starts[mid] < position:
            lo = mid + 1
        else:
            hi = mid
    return lo


@lru_cache(maxsize=4)
def scorer(lexicon_path: Path) -> SentimentScorer:
    return SentimentScorer(lexicon_path)
