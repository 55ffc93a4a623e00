"""Phone numbers in a reply (phonenumbers, the configured regions): only configured ones or the customer's own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.safety.output_policy.base import Check, Hit, PolicyContext, e164


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
                number = phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164)
                spans.append((m.start, m.end, m.raw_string, number in self.phones or number in ctx.own_phones))
        # a number read as allowed in one region is allowed, even where another region splits it
        allowed = [(a, b) for a, b, _, ok in spans if ok]
        bad = {raw for a, b, raw, ok in spans if not ok and not any(a < y and x < b for x, y in allowed)}
        return [Hit("unapproved_contact", s, f"phone {raw}") for raw in sorted(bad)]
