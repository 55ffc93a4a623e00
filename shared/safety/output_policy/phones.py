"""Phone numbers in a reply (phonenumbers, the configured regions): only configured ones or the customer's own."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from shared.safety.output_policy.base import Check, Hit, PolicyContext, e164

_UNIT_AFTER = re.compile(r"[^\W\d_]")
_RANGE = re.compile(r"\d+\s?[-–]\s?\d+")
_HEX_BEFORE = re.compile(r"(?:0x|[^\W_])$", re.IGNORECASE)


def _dialable(text: str, start: int, end: int, raw: str) -> bool:
    """Written the way a number someone should dial is written: an international or trunk prefix
    ("+49 …", "030 …", "0800…") or grouped ("800-123-4567", "(030) 1234"). Not a bare run of digits
    ("12345678": a reference, a code, a password), not part of a word or hex value ("0x80300024"),
    not a range ("4500-9000 kbps")."""
    if _HEX_BEFORE.search(text[max(0, start - 2) : start]) or _UNIT_AFTER.match(text, end):
        return False
    compact = raw.strip()
    if any(c.isalpha() for c in compact) or (_RANGE.fullmatch(compact) and not compact.startswith("0")):
        return False
    return compact.startswith(("+", "0", "(")) or any(not c.isdigit() for c in compact)


class PhoneCheck(Check):
    name = "phones"

    def __init__(self, raw: Mapping[str, Any]) -> None:
        contacts = raw["contacts"]
        self.phone_regions = list(contacts["phone_regions"])
        self.phone_leniency = str(contacts.get("phone_leniency", "valid"))
        self.phones = {p for p in (e164(x, self.phone_regions) for x in contacts["phones"]) if p}

    def sentence(self, s: str, plain: str, ctx: PolicyContext) -> list[Hit]:
        if sum(c.isdigit() for c in plain) < 7:
            return []
        import phonenumbers

        leniency = phonenumbers.Leniency.POSSIBLE if self.phone_leniency == "possible" else phonenumbers.Leniency.VALID
        spans: list[tuple[int, int, str, bool]] = []
        for region in self.phone_regions:
            for m in phonenumbers.PhoneNumberMatcher(plain, region, leniency=leniency):
                if sum(c.isdigit() for c in m.raw_string) < 7:
                    continue  # "2021", "64": years and sizes, not phone numbers
                if not _dialable(plain, m.start, m.end, m.raw_string):
                    continue
                number = phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164)
                spans.append((m.start, m.end, m.raw_string, number in self.phones or number in ctx.own_phones))
        # a number read as allowed in one region is allowed, even where another region splits it
        allowed = [(a, b) for a, b, _, ok in spans if ok]
        bad = {raw for a, b, raw, ok in spans if not ok and not any(a < y and x < b for x, y in allowed)}
        return [Hit("unapproved_contact", s, f"phone {raw}") for raw in sorted(bad)]
