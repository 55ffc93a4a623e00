"""Price promises written in digits or words, per language (``offers`` in output_policy.yaml).

Read by the price check on each sentence of a reply, and by :meth:`OutputPolicy.approved_from`
on the approved actions' titles and pitches: a promise is allowed when an approved action makes it.
"""

from __future__ import annotations

import re
from typing import Any

from shared.safety.output_policy.base import Promise, alt, merged, phrases

MONEY = re.compile(
    r"(?:[€£$]\s?(\d[\d.,]*)|(\d[\d.,]*)\s?(?:[€£$]|(?:eur|euro|euros|gbp|usd|pounds?|quid|dollars?|franken|chf)\b))",
    re.IGNORECASE,
)


class OfferRules:
    """Price promises written in digits or words, per language (data in output_policy.yaml)."""

    def __init__(self, per_language: dict[str, Any]) -> None:
        self.percent = re.compile(
            r"(?<![\w%])(\d{1,3}(?:[.,]\d+)?\s?(?:%|" + alt(merged(per_language, "percent_words")) + r")(?!\w)|"
            r"[^\W\d_]+(?:-[^\W\d_]+)?\s(?:" + alt(merged(per_language, "percent_words")) + r")(?!\w))",
            re.IGNORECASE,
        )
        self.price = phrases(merged(per_language, "price_context"))
        self.non_price = phrases(merged(per_language, "non_price_context"))
        self.fractions: dict[str, float] = {}
        self.numbers: dict[str, float] = {}
        self.units: dict[str, float] = {}
        for block in per_language.values():
            self.fractions.update({k.lower(): float(v) for k, v in block.get("fractions", {}).items()})
            self.numbers.update({k.lower(): float(v) for k, v in block.get("numbers", {}).items()})
            self.units.update({k.lower(): float(v) for k, v in block.get("units", {}).items()})
        self.fraction_re = phrases(list(self.fractions))
        self.bundles = phrases(merged(per_language, "bundles"))
        free = alt(merged(per_language, "free_words"))
        forever = alt(merged(per_language, "forever_words"))
        number = r"(?:\d{1,3}|" + alt(list(self.numbers)) + ")"
        filler = r"(?:\s+(?:" + alt(merged(per_language, "fillers")) + "))?"
        unit = alt(list(self.units))
        links = r"(?:\s+(?:" + alt(merged(per_language, "links")) + ")){0,2}"
        lead = r"(?:" + alt(merged(per_language, "fillers")) + r")\s+"  # "die ersten zwei Monate"
        self.free_after = re.compile(
            rf"(?<!\w)(?:{lead})?({number}){filler}\s+({unit})(?:'s|’s)?{links}\s+(?:{free})(?!\w)", re.IGNORECASE
        )
        self.free_before = re.compile(
            rf"(?<!\w)(?:{free})\s+(?:for|für)\s+(?:the\s+|die\s+|den\s+)?(?:first\s+|next\s+|ersten\s+|nächsten\s+)?"
            rf"({number}){filler}\s+({unit})(?!\w)",
            re.IGNORECASE,
        )
        self.forever = re.compile(
            rf"(?<!\w)(?:(?:{free})\W+(?:\w+\W+){{0,2}}?(?:{forever})|(?:{forever})\W+"
            rf"(?:\w+\W+){{0,3}}?(?:{free}))(?!\w)",
            re.IGNORECASE,
        )
        self.amount_ctx = phrases(merged(per_language, "amount_context"))

    def _number(self, token: str) -> float | None:
        token = token.lower()
        try:
            return float(token.replace(",", "."))
        except ValueError:
            return self.numbers.get(token)

    def promises(self, text: str) -> set[Promise]:
        out: set[Promise] = set()
        non_price = bool(self.non_price and self.non_price.search(text))
        for m in self.percent.finditer(text):
            head = re.match(r"[\d.,]*\d|[^\W\d_]+(?:-[^\W\d_]+)?", m.group(1))
            value = self._number(head.group(0)) if head else None
            if value is not None and not non_price:
                out.add(Promise("percent", value))
        if self.fraction_re and self.price and self.price.search(text):
            for m in self.fraction_re.finditer(text):
                out.add(Promise("fraction", self.fractions[m.group(0).lower()]))
        if self.bundles and self.bundles.search(text):
            out.add(Promise("bundle", 0))
        for m in [*self.free_after.finditer(text), *self.free_before.finditer(text)]:
            n, unit = self._number(m.group(1)), self.units.get(m.group(2).lower())
            if n is not None and unit is not None:
                out.add(Promise("free_period", round(n * unit, 2)))
        if self.forever.search(text):
            out.add(Promise("forever_free", 0))
        if self.amount_ctx and self.amount_ctx.search(text):
            for m in MONEY.finditer(text):
                raw = (m.group(1) or m.group(2) or "").rstrip(".,")
                value = money(raw)
                if value is not None:
                    out.add(Promise("amount", value))
            for m in re.finditer(
                r"(?<!\w)(" + alt(list(self.numbers)) + r")\s+(?:euros?|pounds?|dollars?|franken)", text, re.IGNORECASE
            ):
                out.add(Promise("amount", self.numbers[m.group(1).lower()]))
        return out


def money(raw: str) -> float | None:
    if not raw:
        return None
    cleaned = raw.replace(".", "").replace(",", ".") if re.search(r",\d{1,2}$", raw) else raw.replace(",", "")
    try:
        return float(cleaned)
    except ValueError:
        return None
