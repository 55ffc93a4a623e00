"""Street addresses by pattern, per language (``addresses`` in pii.yaml), with a following
postcode and town (``town_suffix``); the NER recogniser adds FAC entities for English."""

from __future__ import annotations

import re

from shared.safety.pii.base import PiiConfig, Recognizer, Span


class AddressRecognizer(Recognizer):
    name = "address"

    def __init__(self, config: PiiConfig) -> None:
        super().__init__(config)
        suffix = config.addresses.town_suffix
        self._addresses = [re.compile(rx + suffix) for rxs in config.addresses.per_language().values() for rx in rxs]

    def analyze(self, text: str) -> list[Span]:
        if not any(ch.isupper() for ch in text):
            return []
        out = []
        for rx in self._addresses:
            for m in rx.finditer(text):
                start = m.start(1) if rx.groups else m.start()
                out.append(Span("ADDRESS", start, m.end(), text[start : m.end()]))
        return out
