"""Phone numbers: ``phonenumbers`` (through Presidio's PhoneRecognizer) for national numbers of
the configured regions, plus format rules; bare digit runs and two-group numbers only after a
contact word or before a label ("781 1704 office"), never after an identifier label."""

from __future__ import annotations

import re
import threading
from typing import Any

from shared.safety.pii.base import PiiConfig, Recognizer, Span, words_before

_PHONE = re.compile(
    r"(?<![\w+-])(?:"
    r"(?:\+|00)\d{1,3}[ .-]?(?:\(0?\d{1,4}\)[ .-]?)?\d{1,5}(?:[ .-]?\d{1,5}){1,4}"
    r"|\(\d{2,5}\)[ .-]?\d{2,5}(?:[ .-]?\d{2,5}){0,3}"
    r"|\d{2,5}(?:[ ./-]\d{2,8}){1,4}"
    r")(?:\s?(?:x|ext\.?)\s?\d{1,5})?(?!\w|-\d)"
)
_BARE_DIGITS = re.compile(r"(?<![\w.,/+-])\d{7,15}(?!\w|-\d|[.,]\d)")
_NOT_PHONE = re.compile(
    r"^(?:(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}"  # ISO dates
    r"|\d{1,2}[-./]\d{1,2}[-./](?:\d{4}|\d{2}))(?:[ T]\d{1,2})?"  # European / US dates (and "date hour")
    r"|\d{1,3}(?:\.\d{1,3}){3})$"  # IPv4 addresses
)
_WORD = re.compile(r"[^\s]+")
_AFTER_AMOUNT = re.compile(r"^\s*(?:€|\$|£|eur\b|euro|chf\b|usd\b|gbp\b|franken|dollar|pfund|pcs\b|stück)", re.I)


class PhoneRecognizer(Recognizer):
    name = "phone"

    def __init__(self, config: PiiConfig) -> None:
        super().__init__(config)
        c = config.phone
        self._contact_cues = {w.lower() for words in c.contact_cues.values() for w in words}
        self._negative_cues = {w.lower() for words in c.negative_cues.values() for w in words}
        self._labels_after = {w.lower() for words in c.labels_after.values() for w in words}
        self._lock = threading.Lock()
        self._matcher: Any = None

    def _phone_matcher(self) -> Any:
        with self._lock:
            if self._matcher is None:
                from presidio_analyzer.predefined_recognizers import PhoneRecognizer as PresidioPhone

                self._matcher = PresidioPhone(supported_regions=tuple(self.config.phone.regions), leniency=1)
            return self._matcher

    def analyze(self, text: str) -> list[Span]:
        if sum(ch.isdigit() for ch in text) < self.config.phone.min_digits:
            return []
        candidates = {(m.start(), m.end()) for m in _PHONE.finditer(text)}
        candidates |= {(m.start(), m.end()) for m in _BARE_DIGITS.finditer(text)}
        if any(ch.isspace() for ch in text):  # free text; single tokens (timestamps, ids) need no matcher
            candidates |= {(r.start, r.end) for r in self._phone_matcher().analyze(text, ["PHONE_NUMBER"], None)}
        return [Span("PHONE", s, e, text[s:e]) for s, e in candidates if self._phone_ok(text, s, e)]

    def _phone_ok(self, text: str, start: int, end: int) -> bool:
        cfg = self.config.phone
        number = re.split(r"\s?(?:x|ext)", text[start:end])[0]
        digits = sum(ch.isdigit() for ch in number)
        if not cfg.min_digits <= digits <= cfg.max_digits or _NOT_PHONE.match(number):
            return False
        words = words_before(text, start, cfg.context_words)
        near = words[-cfg.negative_words :]
        if any(
            neg == w or (len(neg) > 3 and neg in w and not any(c in w for c in ("telefon", "handy", "phone")))
            for w in near
            for neg in self._negative_cues
        ) or _AFTER_AMOUNT.match(text[end:]):
            return False
        if number.startswith(("+", "00", "(")):
            return True
        groups = [g for g in re.split(r"[ ./-]+", number) if g]
        if len(groups) >= 3 and len(groups[0]) >= 2:
            return True  # a formatted national number
        if len(groups) == 2 and number.startswith("0"):
            return True  # trunk prefix + subscriber number
        # Bare runs and two-group numbers ("99 668472") are amounts, postcodes and ids as
        # often as phones: only after a contact word, or labelled right after ("781 1704 office").
        if any(c == w or (len(c) > 3 and c in w) for w in words for c in self._contact_cues):
            return True
        after = _WORD.findall(text[end : end + 40])[:1]
        return bool(after) and after[0].strip("-,;:()").lower() in self._labels_after
