"""Next-best-action eligibility and arbitration, shared by next_best_action and reply_draft.

Pure functions over typed data, so the rules can be proven with property tests:

* :func:`eligibility` runs every rule over every offer and returns the eligible
  candidates plus ``(offer_id, rule)`` for each suppressed one;
* :func:`arbitrate` ranks candidates by priority = propensity × context weight ×
  value × business lever, deterministically (ties by offer id).

The model never sees a suppressed offer, and its choice is checked again afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from shared.data.offers import Offer, OfferRepository, OfferType

if TYPE_CHECKING:
    from shared.data.snapshots import CustomerSnapshot


_PERCENT = re.compile(r"(\d{1,3}(?:[.,]\d+)?)\s?(?:%|percent\b|per cent\b|prozent\b|pct\b)", re.IGNORECASE)


def discounts_mentioned(text: str) -> list[float]:
    """Every percentage written in a text ("15 %", "15%", "15 Prozent")."""
    return [float(m.group(1).replace(",", ".")) for m in _PERCENT.finditer(text)]


class Need(BaseModel):
    """When an offer type is relevant at all; any one condition suffices."""

    model_config = ConfigDict(extra="forbid")

    min_churn_risk: float | None = Field(default=None, ge=0, le=1)
    max_sentiment: float | None = Field(default=None, ge=-1, le=1)
    intents: list[str] = Field(default_factory=list)

    def met(self, facts: CustomerFacts) -> bool:
        return (
            (self.min_churn_risk is not None and facts.churn_risk >= self.min_churn_risk)
            or (self.max_sentiment is not None and facts.sentiment <= self.max_sentiment)
            or facts.intent in self.intents
        )


class Rules(BaseModel):
    version: str
    max_discount_percent: float = Field(ge=0, le=100)
    clearly_negative_sentiment: float = Field(ge=-1, le=0)
    churn_risk_threshold: float = Field(ge=0, le=1)
    rejection_cooldown_days: int = Field(ge=0)
    sales_types: list[OfferType]
    hold_sales_while_promise_overdue: bool = True
    needs: dict[OfferType, Need] = Field(default_factory=dict)
    allowed_types_per_segment: dict[str, list[OfferType]]
    propensity_prior: dict[str, float]
    levers: dict[str, dict[str, float]]
    value_floor: float = Field(ge=0)
    context_weights: dict[str, Any]

    @classmethod
    def load(cls, path: Path) -> Rules:
        return cls.model_validate(yaml.safe_load(path.read_text("utf-8")))

    def allowed_types(self, segment: str) -> list[OfferType]:
        return self.allowed_types_per_segment.get(segment, self.allowed_types_per_segment["default"])


class CustomerFacts(BaseModel):
    """What the rules need to know about the customer and the contact."""

    segment: str
    tenure_months: int
    products: list[str]
    region: str
    channel: str
    marketing_consent: bool
    churn_risk: float = Field(ge=0, le=1)
    sentiment: float = Field(ge=-1, le=1)
    intent: str = "general"
    promise_overdue: bool = Field(default=False, description="A promise to this customer is overdue (commitments).")
    recently_rejected: dict[str, datetime] = Field(default_factory=dict)


class Suppressed(BaseModel):
    offer_id: str
    rule: str


class Score(BaseModel):
    offer_id: str
    type: OfferType
    priority: float
    propensity: float
    context_weight: float
    value: float
    lever: float


def _rule_failures(offer: Offer, facts: CustomerFacts, rules: Rules, now: datetime) -> list[str]:
    """Every rule the offer breaks for this customer, in a stable order (first = reported)."""
    e = offer.eligibility
    failures: list[str] = []
    if not offer.active:
        failures.append("inactive")
    if (e.valid_from and now < e.valid_from) or (e.valid_until and now > e.valid_until):
        failures.append("validity_window")
    if offer.discount_percent > rules.max_discount_percent:
        failures.append("max_discount")
    if any(d > rules.max_discount_percent for text in offer.pitch.values() for d in discounts_mentioned(text)):
        failures.append("pitch_discount_above_cap")
    if offer.type not in rules.allowed_types(facts.segment):
        failures.append("segment_offer_types")
    if e.segments is not None and facts.segment not in e.segments:
        failures.append("segment")
    if facts.tenure_months < e.min_tenure_months:
        failures.append("min_tenure")
    if any(p not in facts.products for p in e.required_products):
        failures.append("required_products")
    if any(p in facts.products for p in e.excluded_products):
        failures.append("excluded_products")
    if e.regions is not None and facts.region not in e.regions:
        failures.append("region")
    if e.channels is not None and facts.channel not in e.channels:
        failures.append("channel")
    is_sale = offer.type in rules.sales_types
    if (is_sale or e.marketing_consent_required) and not facts.marketing_consent:
        failures.append("marketing_consent")
    if is_sale and facts.sentiment <= rules.clearly_negative_sentiment:
        failures.append("negative_sentiment")
    if is_sale and facts.churn_risk >= rules.churn_risk_threshold:
        failures.append("retention_first")
    if is_sale and facts.promise_overdue and rules.hold_sales_while_promise_overdue:
        failures.append("promise_overdue")
    need = rules.needs.get(offer.type)
    if need is not None and not need.met(facts):
        failures.append(f"{offer.type}_not_needed")
    rejected_at = facts.recently_rejected.get(offer.offer_id)
    if rejected_at is not None and now - rejected_at < timedelta(days=rules.rejection_cooldown_days):
        failures.append("recently_rejected")
    return failures


def eligibility(
    offers: Iterable[Offer], facts: CustomerFacts, rules: Rules, now: datetime | None = None
) -> tuple[list[Offer], list[Suppressed]]:
    now = now or datetime.now(UTC)
    eligible: list[Offer] = []
    suppressed: list[Suppressed] = []
    for offer in offers:
        failures = _rule_failures(offer, facts, rules, now)
        if failures:
            suppressed.append(Suppressed(offer_id=offer.offer_id, rule=failures[0]))
        else:
            eligible.append(offer)
    return eligible, suppressed


def propensity(accepted: int, offered: int, rules: Rules) -> float:
    """Observed acceptance shrunk toward the prior: (accepted + a) / (offered + a + b)."""
    prior = rules.propensity_prior
    a = prior["mean"] * prior["strength"]
    b = (1 - prior["mean"]) * prior["strength"]
    accepted = max(0, min(accepted, offered))
    return (accepted + a) / (offered + a + b)


def context_weight(offer: Offer, facts: CustomerFacts, rules: Rules) -> float:
    weights = rules.context_weights
    w = float(weights.get("intent", {}).get(facts.intent, {}).get(offer.type, 1.0))
    if facts.sentiment < 0:
        w *= float(weights.get("negative_sentiment", {}).get(offer.type, 1.0))
    churn_factor = float(weights.get("churn", {}).get(offer.type, 1.0))
    w *= 1.0 + facts.churn_risk * (churn_factor - 1.0)
    return w


def arbitrate(
    candidates: Iterable[Offer],
    facts: CustomerFacts,
    rules: Rules,
    stats: dict[str, tuple[int, int]],
) -> list[Score]:
    """Rank candidates; ``stats`` maps offer id → (accepted, offered) for the segment."""
    scores = []
    for offer in candidates:
        accepted, offered = stats.get(offer.offer_id, (0, 0))
        p = propensity(accepted, offered, rules)
        w = context_weight(offer, facts, rules)
        v = max(offer.value_estimate, rules.value_floor)
        lever = rules.levers.get("by_offer", {}).get(offer.offer_id, rules.levers["by_type"].get(offer.type, 1.0))
        scores.append(
            Score(
                offer_id=offer.offer_id,
                type=offer.type,
                priority=round(p * w * v * lever, 6),
                propensity=round(p, 4),
                context_weight=round(w, 4),
                value=v,
                lever=lever,
            )
        )
    return sorted(scores, key=lambda s: (-s.priority, s.offer_id))


# --- Firestore ----------------------------------------------------------------------


@dataclass(frozen=True)
class Ranking:
    facts: CustomerFacts
    ranked: list[Score]
    suppressed: list[Suppressed]
    catalogue: dict[str, Offer]


def rank_actions(
    rules: Rules,
    offers: OfferRepository,
    snapshot: CustomerSnapshot,
    *,
    channel: str,
    sentiment: float,
    intent: str,
    promise_overdue: bool = False,
) -> Ranking:
    """Rules and arbitration for one customer and contact; shared by NBA and reply drafts."""
    c = snapshot.customer
    facts = CustomerFacts(
        segment=c.segment,
        tenure_months=c.tenure_months(),
        products=[p.sku for p in c.products if p.status == "active"],
        region=c.profile.region,
        channel=channel,
        marketing_consent=c.profile.consent.marketing,
        churn_risk=c.churn_risk,
        sentiment=sentiment,
        intent=intent,
        promise_overdue=promise_overdue,
        recently_rejected=offers.recent_rejections(c.customer_id, rules.rejection_cooldown_days),
    )
    catalogue = {o.offer_id: o for o in offers.catalogue()}
    eligible, suppressed = eligibility(catalogue.values(), facts, rules)
    return Ranking(facts, arbitrate(eligible, facts, rules, offers.acceptance(c.segment)), suppressed, catalogue)
