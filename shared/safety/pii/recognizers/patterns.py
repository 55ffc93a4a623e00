"""The configured patterns (``patterns`` in pii.yaml) for what Presidio lacks: Unicode emails,
Swiss AHV and UID, Austrian UID, labelled tax ids, card and SSN shapes after their label."""

from __future__ import annotations

import re

from shared.safety.pii.base import PiiConfig, Recognizer, Span


class PatternRecognizer(Recognizer):
    name = "patterns"

    def __init__(self, config: PiiConfig) -> None:
        super().__init__(config)
        self._patterns = [(p.entity, re.compile(p.regex), p.group) for p in config.patterns]

    def analyze(self, text: str) -> list[Span]:
        spans: list[Span] = []
        for entity, pattern, group in self._patterns:
            for m in pattern.finditer(text):
                spans.append(Span(entity, m.start(group), m.end(group), m.group(group)))
        return spans
