"""Pseudonymize personal data before any prompt and restore it in the model's output.

Two layers:

* **known identifiers** of the customer in the request (name, email, phone, address,
  customer/account/order ids) become stable role placeholders such as
  ``[CUSTOMER_NAME]``, so the model can still write "Dear [CUSTOMER_FIRST_NAME]";
* **pattern-detected PII** in free text (emails, phone numbers, IBANs with the mod-97
  check, payment cards with the Luhn check) becomes numbered placeholders
  (``[EMAIL_1]``), each distinct value keeping its number for the whole request.

A :class:`Pseudonymizer` lives for one request; its mapping never leaves the process.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

PLACEHOLDER = re.compile(r"\[[A-Z]+(?:_[A-Z]+)*(?:_\d+)?\]")


@dataclass(frozen=True)
class Span:
    entity: str
    start: int
    end: int
    text: str


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _iban_ok(candidate: str) -> bool:
    iban = re.sub(r"\s", "", candidate).upper()
    if not 15 <= len(iban) <= 34:
        return False
    rearranged = iban[4:] + iban[:4]
    try:
        number = int("".join(str(int(ch, 36)) for ch in rearranged))
    except ValueError:
        return False
    return number % 97 == 1


_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_IBAN = re.compile(r"\b[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{1,4}){3,8}\b")
_CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){11,18}(?![\w-])")
# International numbers, or national ones written with separators; bare digit runs are
# too ambiguous (amounts, ids) and are left to the known-identifier layer.
_PHONE = re.compile(
    r"(?<![\w+-])(?:"
    r"(?:\+|00)\d{1,3}[ .-]?(?:\(0?\d{1,4}\)[ .-]?)?\d{1,5}(?:[ .-]?\d{1,5}){1,4}"
    r"|\(\d{2,5}\)[ .-]?\d{2,5}(?:[ .-]?\d{2,5}){0,3}"
    r"|\d{2,5}(?:[ .-]\d{2,8}){1,4}"
    r")(?:\s?(?:x|ext\.?)\s?\d{1,5})?(?![\w-])"
)
_NOT_PHONE = re.compile(
    r"^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}"  # ISO dates (and "date hour")
    r"|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}"  # European / US dates
    r"|\d{1,3}(?:\.\d{1,3}){3}$)"  # IPv4 addresses
)


def _phone_ok(candidate: str) -> bool:
    number = re.split(r"\s?(?:x|ext)", candidate)[0]
    digits = re.sub(r"\D", "", number)
    if not 7 <= len(digits) <= 15 or _NOT_PHONE.match(number):
        return False
    if number.startswith(("+", "00", "(")):
        return True
    groups = re.split(r"[ .-]+", number)
    # Two bare digit groups ("43 73313") are mostly house numbers and postcodes; a
    # national number written that way starts with its trunk prefix 0.
    return len(groups) >= 3 or number.startswith("0")


def detect(text: str) -> list[Span]:
    """Pattern-detected PII spans, longest-first, non-overlapping."""
    found: list[Span] = []
    for entity, pattern, check in (
        ("EMAIL", _EMAIL, None),
        ("IBAN", _IBAN, _iban_ok),
        ("CARD", _CARD, lambda s: _luhn_ok(re.sub(r"\D", "", s))),
        ("PHONE", _PHONE, _phone_ok),
    ):
        for m in pattern.finditer(text):
            candidate = m.group()
            # A match may run into the next word ("DE89 ... 00 for"): drop trailing
            # groups until the checksum holds.
            while check is not None and candidate and not check(candidate):
                candidate = candidate.rsplit(" ", 1)[0] if " " in candidate else ""
            if candidate:
                found.append(Span(entity, m.start(), m.start() + len(candidate), candidate))
    found.sort(key=lambda s: (s.start, -(s.end - s.start)))
    result: list[Span] = []
    for span in found:
        if result and span.start < result[-1].end:
            continue
        result.append(span)
    return result


def customer_key(customer_id: str, key: str) -> str:
    """Pseudonymous, stable customer key for events and logs (HMAC-SHA256, 96 bits)."""
    return hmac.new(key.encode(), customer_id.encode(), hashlib.sha256).hexdigest()[:24]


class Pseudonymizer:
    """Masks one request's personal data and restores it in what comes back."""

    def __init__(self) -> None:
        self._known: dict[str, str] = {}
        self._by_placeholder: dict[str, str] = {}
        self._counters: dict[str, int] = {}
        self._pattern: re.Pattern[str] | None = None

    def add_known(self, value: str | None, placeholder: str) -> None:
        if not value or len(value.strip()) < 2:
            return
        value = value.strip()
        key = value.lower()
        if key not in self._known:
            self._known[key] = placeholder
            self._by_placeholder.setdefault(placeholder, value)
            self._pattern = None

    def add_numbered(self, values: Iterable[str], kind: str) -> None:
        for value in values:
            if value and value.strip().lower() not in self._known:
                self.add_known(value, self._next(kind))

    def _next(self, kind: str) -> str:
        self._counters[kind] = self._counters.get(kind, 0) + 1
        return f"[{kind}_{self._counters[kind]}]"

    def _known_pattern(self) -> re.Pattern[str] | None:
        if self._pattern is None and self._known:
            alternatives = sorted(self._known, key=len, reverse=True)
            self._pattern = re.compile(
                r"(?<!\w)(?:" + "|".join(re.escape(a) for a in alternatives) + r")(?!\w)",
                re.IGNORECASE,
            )
        return self._pattern

    def mask(self, text: str) -> str:
        pattern = self._known_pattern()
        if pattern is not None:
            text = pattern.sub(lambda m: self._known[m.group().lower()], text)
        spans = detect(text)
        placeholders = []
        for span in spans:  # number in reading order
            key = span.text.lower()
            if key not in self._known:
                self._known[key] = self._next(span.entity)
                self._by_placeholder[self._known[key]] = span.text
                self._pattern = None
            placeholders.append(self._known[key])
        for span, placeholder in zip(reversed(spans), reversed(placeholders), strict=True):
            text = text[: span.start] + placeholder + text[span.end :]
        return text

    def mask_obj(self, obj: Any) -> Any:
        """Mask every string inside a JSON-like structure (keys are left alone)."""
        if isinstance(obj, str):
            return self.mask(obj)
        if isinstance(obj, dict):
            return {k: self.mask_obj(v) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return [self.mask_obj(v) for v in obj]
        return obj

    def restore(self, text: str) -> str:
        return PLACEHOLDER.sub(lambda m: self._by_placeholder.get(m.group(), m.group()), text)

    def restore_obj(self, obj: Any) -> Any:
        if isinstance(obj, str):
            return self.restore(obj)
        if isinstance(obj, dict):
            return {k: self.restore_obj(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.restore_obj(v) for v in obj]
        return obj

    def restore_model(self, model: M) -> M:
        return type(model).model_validate(self.restore_obj(model.model_dump(mode="json")))

    @property
    def placeholders(self) -> dict[str, str]:
        """Placeholder → original; for tests and in-process restoration only, never logged."""
        return dict(self._by_placeholder)
