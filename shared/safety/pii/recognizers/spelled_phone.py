"""Phone numbers written with dots ("0151.234.56789", "+49.30.1234567") or as number words
("null eins fünf eins …", "zero one five one …"); number words per language in ``spelled_phone``."""

from __future__ import annotations

import re

from shared.safety.pii.base import PiiConfig, Recognizer, Span

# a leading 0 or +/00 country code, then dot-separated groups; a date (12.03.1985) never starts so
_DOTTED = re.compile(r"(?<![\w.+])(?:\+|00)?\d{1,5}(?:\.\d{2,8}){2,5}(?![\w]|\.\d)")
_DATE = re.compile(r"\d{1,2}\.\d{1,2}\.\d{2,4}$")
_TOKEN = re.compile(r"[^\W_]+|\+")


class SpelledPhoneRecognizer(Recognizer):
    name = "spelled_phone"

    def __init__(self, config: PiiConfig) -> None:
        super().__init__(config)
        if config.spelled_phone is None:
            raise ValueError("pii.yaml: recognizer spelled_phone needs a `spelled_phone` section")
        self._conf = config.spelled_phone
        self._digits = {w.lower(): d for words in self._conf.digit_words.values() for w, d in words.items()}

    def analyze(self, text: str) -> list[Span]:
        out = []
        for m in _DOTTED.finditer(text):
            value = m.group(0)
            digits = sum(ch.isdigit() for ch in value)
            if _DATE.match(value) or not (
                value.startswith(("0", "+")) and self._conf.min_digits <= digits <= self._conf.max_digits
            ):
                continue
            out.append(Span("PHONE", m.start(), m.end(), value))
        out.extend(self._spelled(text))
        return out

    def _spelled(self, text: str) -> list[Span]:
        """Runs of number words and digits, separated only by spaces, commas or hyphens."""
        out: list[Span] = []
        run: list[re.Match[str]] = []
        count = 0
        words = 0

        def flush() -> None:
            if run and words >= 3 and self._conf.min_digits <= count <= self._conf.max_digits:
                out.append(Span("PHONE", run[0].start(), run[-1].end(), text[run[0].start() : run[-1].end()]))

        for m in _TOKEN.finditer(text):
            token = m.group(0).lower()
            value = self._digits.get(token)
            if value is None and token.isdigit() and len(token) <= 4:
                value = token
            gap = text[run[-1].end() : m.start()] if run else ""
            if value is None or (run and gap.strip(" ,-") != ""):
                flush()
                run, count, words = [], 0, 0
                if value is None:
                    continue
            run.append(m)
            count += len(value)
            words += token in self._digits
        flush()
        return out
