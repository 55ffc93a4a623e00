"""Price, discount, fraction ("half price"), free-period and amount promises that no approved
action of this request makes, or that go above the discount cap."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.safety.output_policy.base import Approved, Check, Hit, PolicyContext, Promise, without_links
from shared.safety.output_policy.offers import OfferRules


class PriceCheck(Check):
    name = "prices"

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self._offers = OfferRules(raw["offers"]["per_language"])

    def sentence(self, s: str, plain: str, ctx: PolicyContext) -> list[Hit]:
        hits = []
        for p in self._offers.promises(without_links(plain)):
            if not approved(p, ctx.approved):
                above = p.kind in ("percent", "fraction") and p.value > ctx.approved.max_discount
                hits.append(Hit("discount_above_cap" if above else "unapproved_offer", s, p.describe()))
        return hits


def approved(p: Promise, approved: Approved) -> bool:
    if p.kind in ("percent", "fraction") and p.value > approved.max_discount:
        return False
    if p.kind == "fraction":
        return Promise("percent", round(p.value)) in approved.promises or p in approved.promises
    return p in approved.promises
