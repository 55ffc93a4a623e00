"""Keyword-cue intent detection over a configurable taxonomy (config/intents.yaml).

Transparent and cheap: used to weight next-best-actions by topic. Cues are word starts
per language; the intent with the most cue hits wins; on a tie, the one mentioned last.
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

    def detect(self, text: str, language: str | None = None) -> IntentGuess:
        languages = [language] if language in self._patterns else list(self._patterns)
        best, best_key = IntentGuess(GENERAL, 0, ()), (0, -1)
        for intent in self.intents:
            matches = [m for lang in languages if (p := self._patterns[lang].get(intent)) for m in p.finditer(text)]
            if not matches:
                continue
            key = (len(matches), max(m.end() for m in matches))  # ties: mentioned last wins
            if key > best_key:
                cues = tuple(dict.fromkeys(m.group().lower() for m in matches))
                best, best_key = IntentGuess(intent, len(matches), cues), key
        return best


@lru_cache(maxsize=4)
def detector(path: Path) -> IntentDetector:
    return IntentDetector(path)
