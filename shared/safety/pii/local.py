"""The local PII backend: the recognisers that ``recognizers`` in ``config/safety/pii.yaml`` enables.

Each recogniser is one class in :mod:`shared.safety.pii.recognizers` (configured patterns,
IBAN shapes, Presidio's predefined recognisers, phone numbers, street addresses, names after
a cue, spaCy NER for English); the backend runs the enabled ones over each text, the NER
model over the whole batch, and resolves overlaps (longest first, then ``entities`` order).

Presidio (which imports spaCy) loads on the first text that needs it, the NER model on the
first call that needs it; both once per instance.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from shared.safety.pii.base import PiiConfig, Recognizer, Span, resolve_overlaps
from shared.safety.pii.recognizers.registry import RECOGNIZERS
from shared.safety.pii.recognizers.spacy_ner import SpacyNerRecognizer


class LocalDetector:
    """The enabled recognisers; thread-safe (they keep no per-call state), heavy parts loaded lazily."""

    def __init__(self, config: PiiConfig) -> None:
        unknown = [name for name in config.recognizers if name not in RECOGNIZERS]
        if unknown:
            raise ValueError(f"pii.yaml: recognizers: unknown {unknown}; known: {sorted(RECOGNIZERS)}")
        self.config = config
        built = [RECOGNIZERS[name](config) for name in config.recognizers]
        self._text: list[Recognizer] = [r for r in built if not r.batch]
        self._batch: list[Recognizer] = [r for r in built if r.batch]

    @classmethod
    def load(cls, path: Path) -> LocalDetector:
        """From a ``pii.yaml`` (tools and tests; the functions get theirs from ``Runtime.pii_local``)."""
        return cls(PiiConfig.load(path))

    @property
    def ner_loaded(self) -> bool:
        return any(isinstance(r, SpacyNerRecognizer) and r.loaded for r in self._batch)

    def detect_many(self, texts: Sequence[str], *, ner: bool = True) -> list[list[Span]]:
        unique = list(dict.fromkeys(texts))  # a context repeats statuses, channels, templates
        found = [self._detect_patterns(t) for t in unique]
        if ner:
            for recognizer in self._batch:
                for spans, extra in zip(found, recognizer.analyze_batch(unique, found), strict=True):
                    spans.extend(extra)
        by_text = {t: resolve_overlaps(spans, self.config.entities) for t, spans in zip(unique, found, strict=True)}
        return [list(by_text[t]) for t in texts]

    def _detect_patterns(self, text: str) -> list[Span]:
        if not text or len(text) < 5:
            return []
        spans: list[Span] = []
        for recognizer in self._text:
            spans.extend(recognizer.analyze(text))
        return spans
