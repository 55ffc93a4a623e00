"""Card numbers split over two lines ("4111 1111\n1111 1111"): the two digit groups joined, 13-19
digits, Luhn-valid (ISO/IEC 7812) — the single-line shapes are Presidio's and the patterns'."""

from __future__ import annotations

import re

from shared.safety.pii.base import Recognizer, Span

_SPLIT = re.compile(
    r"(?<![\w.-])(\d{4}(?:[ .-]?\d{1,4}){0,3})[ \t]*\r?\n[ \t]*(\d{1,4}(?:[ .-]?\d{1,4}){0,4})(?![\w-]|[.,]\d)"
)


def luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


class SplitCardRecognizer(Recognizer):
    name = "split_card"

    def analyze(self, text: str) -> list[Span]:
        if "\n" not in text:
            return []
        out = []
        for m in _SPLIT.finditer(text):
            digits = re.sub(r"\D", "", m.group(0))
            if 13 <= len(digits) <= 19 and luhn(digits):
                out.append(Span("CARD", m.start(), m.end(), m.group(0)))
        return out
