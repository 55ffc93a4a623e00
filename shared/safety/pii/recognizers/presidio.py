"""Presidio's predefined recognisers named in ``presidio.recognizers`` (cards with Luhn, US SSN,
IPv4/IPv6, German tax and VAT ids, UK NINO, Italian fiscal code), used as classes without the
AnalyzerEngine, with Presidio's context-word boost applied over the words before a match.
Presidio (which imports spaCy) loads on the first text that could hold one of them."""

from __future__ import annotations

import threading
from typing import Any

from shared.safety.pii.base import PiiConfig, Recognizer, Span, words_before


class PresidioRecognizer(Recognizer):
    name = "presidio"

    def __init__(self, config: PiiConfig) -> None:
        super().__init__(config)
        self._lock = threading.Lock()
        self._loaded: list[tuple[Any, str, list[str]]] | None = None

    def _recognizers(self) -> list[tuple[Any, str, list[str]]]:
        with self._lock:
            if self._loaded is None:
                import presidio_analyzer.predefined_recognizers as predefined
                from presidio_analyzer import Pattern

                loaded = []
                for rc in self.config.presidio.recognizers:
                    cls = getattr(predefined, rc.class_)
                    kwargs: dict[str, Any] = {}
                    if rc.extra_patterns:
                        kwargs["patterns"] = [*cls.PATTERNS, *(Pattern(**p) for p in rc.extra_patterns)]
                    if rc.replacement_pairs is not None:
                        kwargs["replacement_pairs"] = [tuple(p) for p in rc.replacement_pairs]
                    rec = cls(**kwargs)
                    loaded.append((rec, rc.entity, [w.lower() for w in [*(rec.context or []), *rc.extra_context]]))
                self._loaded = loaded
            return self._loaded

    def analyze(self, text: str) -> list[Span]:
        if sum(ch.isdigit() for ch in text) < 4 and ":" not in text:
            return []
        cfg = self.config.presidio
        out = []
        for rec, entity, context in self._recognizers():
            for r in rec.analyze(text, rec.supported_entities, None):
                score = r.score
                if score < cfg.score_threshold and _has_cue(text, r.start, context, cfg.context_words):
                    score += cfg.context_boost
                if score >= cfg.score_threshold:
                    out.append(Span(entity, r.start, r.end, text[r.start : r.end]))
        return out


def _has_cue(text: str, start: int, cues: list[str], n: int) -> bool:
    words = words_before(text, start, n)
    return any(c in w for w in words for c in cues)
