"""Names of people introduced by a cue, in every configured language ("Mr", "Frau", "my name is",
"mein Nachbar", a sign-off line): the capitalised words right after the cue (``names`` in pii.yaml)."""

from __future__ import annotations

import re

from shared.safety.pii.base import PiiConfig, Recognizer, Span


class CueNameRecognizer(Recognizer):
    name = "cue_names"

    def __init__(self, config: PiiConfig) -> None:
        super().__init__(config)
        name = config.names.name_word
        self._name_cues = [re.compile(rx.replace("NAME", name)) for rxs in config.names.cues.values() for rx in rxs]
        self._not_names = {w.lower() for w in config.names.not_names}

    def analyze(self, text: str) -> list[Span]:
        if not any(ch.isupper() for ch in text):
            return []
        out = []
        for rx in self._name_cues:
            for m in rx.finditer(text):
                words = []
                for w in m.group(1).split():
                    if not w[0].isupper() or w.lower() in self._not_names:
                        break
                    words.append(w)
                if not words:
                    continue
                value = " ".join(words)
                start = m.start(1)
                out.append(Span("PERSON", start, start + len(value), value))
        return out
