"""Sentiment for customer messages in English, German and any language with a lexicon block.

English uses VADER (vaderSentiment: a validated valence lexicon with rules for negation,
intensifiers, capitals, exclamation marks and "but"), with domain overrides as data.
Other languages use a lexicon of word starts ("frustrat" matches "frustrated"): a negator
within the three preceding tokens flips and dampens polarity; an intensifier right before
scales it; exclamation marks and shouting (capitals) amplify negative text.

On top, per language, complaint patterns (config/language/sentiment_lexicon.yaml ``patterns``)
catch what word lexicons miss: repeated contact ("third time I call", "schon wieder"),
insults, threats to escalate, rhetorical questions ("what language do you people
understand"). Everything per language is data (config/language/sentiment_lexicon.yaml), never a
code branch. The score is in [-1, 1]; business rules use it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field

Label = Literal["positive", "neutral", "negative"]
_TOKEN = re.compile(r"[\w'’]+", re.UNICODE)
NEGATION_WINDOW = 3
SQUASH_ALPHA = 4.0
VADER_ALPHA = 15.0  # vaderSentiment's normalisation constant
THRESHOLD = 0.2


class SentimentOut(BaseModel):
    """Sentiment as responses report it."""

    label: Label
    score: float = Field(description="Score in [-1, 1]; the one business rules use.")


@dataclass(frozen=True)
class SentimentScore:
    label: Label
    score: float


@dataclass(frozen=True)
class _Lexicon:
    pattern: re.Pattern[str] | None
    weights: dict[str, float]
    negators: frozenset[str]
    intensifiers: dict[str, float]


@dataclass(frozen=True)
class _Language:
    engine: Literal["vader", "lexicon"]
    lexicon: _Lexicon
    patterns: tuple[tuple[re.Pattern[str], float], ...]
    shouting: float


def _compile(block: dict[str, Any]) -> _Lexicon:
    weights = {**block.get("positive", {}), **block.get("negative", {})}
    alternatives = sorted(weights, key=len, reverse=True)
    pattern = (
        re.compile(r"(?<!\w)(" + "|".join(re.escape(a) for a in alternatives) + r")[\w'’]*", re.IGNORECASE)
        if alternatives
        else None
    )
    return _Lexicon(
        pattern=pattern,
        weights={k.lower(): float(v) for k, v in weights.items()},
        negators=frozenset(n.lower() for n in block.get("negators", [])),
        intensifiers={k.lower(): float(v) for k, v in block.get("intensifiers", {}).items()},
    )


def _language(block: dict[str, Any]) -> _Language:
    patterns = tuple((re.compile(p, re.IGNORECASE), float(w)) for p, w in block.get("patterns", {}).items())
    return _Language(
        engine=block.get("engine", "lexicon"),
        lexicon=_compile(block),
        patterns=patterns,
        shouting=float(block.get("shouting", 0.0)),
    )


def _shouting(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 8 and sum(c.isupper() for c in letters) / len(letters) >= 0.7


class SentimentScorer:
    def __init__(self, lexicon_path: Path) -> None:
        raw = yaml.safe_load(lexicon_path.read_text("utf-8"))
        self.version = str(raw.pop("version"))
        self.threshold = float(raw.pop("threshold", THRESHOLD))
        overrides = raw.pop("vader_overrides", {})
        self._by_language = {lang: _language(block) for lang, block in raw.items()}
        merged: dict[str, Any] = {"positive": {}, "negative": {}, "negators": [], "intensifiers": {}, "patterns": {}}
        for block in raw.values():
            for key in ("positive", "negative", "intensifiers", "patterns"):
                merged[key].update(block.get(key, {}))
            merged["negators"] += block.get("negators", [])
        self._any = _language(
            {
                **merged,
                "engine": "lexicon",
                "shouting": max((float(b.get("shouting", 0.0)) for b in raw.values()), default=0.0),
            }
        )
        self._vader: Any = None
        if any(lang.engine == "vader" for lang in self._by_language.values()):
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            self._vader = SentimentIntensityAnalyzer()
            self._vader.lexicon.update({k.lower(): float(v) for k, v in overrides.items()})

    def score(self, text: str, language: str | None = None) -> SentimentScore:
        lang = self._by_language.get(language or "", self._any)
        if lang.engine == "vader" and self._vader is not None:
            compound = max(-0.999, min(0.999, self._vader.polarity_scores(text)["compound"]))
            raw, alpha = compound * math.sqrt(VADER_ALPHA / (1 - compound * compound)), VADER_ALPHA
        else:
            raw, alpha = self._lexicon_raw(lang.lexicon, text), SQUASH_ALPHA
        cues = sum(w for p, w in lang.patterns if p.search(text))
        if lang.shouting and _shouting(text):
            cues += lang.shouting
        raw += cues * math.sqrt(alpha / SQUASH_ALPHA)  # cue weights are in lexicon units
        score = raw / math.sqrt(raw * raw + alpha) if raw else 0.0
        label: Label = "positive" if score >= self.threshold else "negative" if score <= -self.threshold else "neutral"
        return SentimentScore(label, round(score, 3))

    @staticmethod
    def _lexicon_raw(lex: _Lexicon, text: str) -> float:
        if lex.pattern is None:
            return 0.0
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
        if total < 0:
            total *= 1.0 + min(text.count("!"), 3) * 0.1
        return total


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
