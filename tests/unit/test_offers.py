"""Business rules and arbitration, rule by rule, then proven over random inputs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.capabilities.next_best_action import NbaModelOutput, check_choice, finalize
from shared.data.offers import OFFER_TYPES, Eligibility, Offer, load_catalogue_file
from shared.decisions.nba import CustomerFacts, Rules, arbitrate, discounts_mentioned, eligibility, propensity
from shared.settings import ROOT

NOW = datetime(2026, 11, 20, tzinfo=UTC)
RULES = Rules.load(ROOT / "config" / "decisions/nba_rules.yaml")
CATALOGUE = load_catalogue_file(ROOT / "scripts" / "seed_data" / "offers.yaml")


def facts(**kw: object) -> CustomerFacts:
    values: dict = dict(
        segment="standard",
        tenure_months=36,
        products=["FIB-100", "TV-BASIC"],
        region="EU",
        channel="chat",
        marketing_consent=True,
        churn_risk=0.1,
        sentiment=0.3,
        intent="general",
    )
    values.update(kw)
    return CustomerFacts(**values)


def offer(**kw: object) -> Offer:
    values: dict = dict(offer_id="O-1", type="cross_sell", title="t", pitch={"en": "p"}, value_estimate=100)
    values.update(kw)
    return Offer(**values)


def suppressed_by(o: Offer, f: CustomerFacts) -> str | None:
    eligible, suppressed = eligibility([o], f, RULES, NOW)
    return suppressed[0].rule if suppressed else None


@pytest.mark.parametrize(
    ("o", "f", "rule"),
    [
        (offer(), facts(), None),
        (offer(active=False), facts(), "inactive"),
        (offer(eligibility=Eligibility(valid_until=NOW - timedelta(days=1))), facts(), "validity_window"),
        (offer(eligibility=Eligibility(valid_from=NOW + timedelta(days=1))), facts(), "validity_window"),
        (offer(discount_percent=25), facts(), "max_discount"),
        (offer(pitch={"en": "now 90 % off"}), facts(), "pitch_discount_above_cap"),
        (offer(pitch={"de": "jetzt 50 Prozent günstiger"}), facts(), "pitch_discount_above_cap"),
        (offer(type="cross_sell"), facts(segment="platinum"), "segment_offer_types"),
        (offer(type="upsell"), facts(segment="unknown"), "segment_offer_types"),
        (offer(eligibility=Eligibility(segments=["gold"])), facts(), "segment"),
        (offer(eligibility=Eligibility(min_tenure_months=48)), facts(), "min_tenure"),
        (offer(eligibility=Eligibility(required_products=["MOB-S"])), facts(), "required_products"),
        (offer(eligibility=Eligibility(excluded_products=["TV-BASIC"])), facts(), "excluded_products"),
        (offer(eligibility=Eligibility(regions=["UK"])), facts(), "region"),
        (offer(eligibility=Eligibility(channels=["phone"])), facts(), "channel"),
        (offer(), facts(marketing_consent=False), "marketing_consent"),
        (
            offer(type="service", eligibility=Eligibility(marketing_consent_required=True)),
            facts(marketing_consent=False),
            "marketing_consent",
        ),
        (offer(type="service"), facts(marketing_consent=False), None),
        (offer(), facts(sentiment=-0.3), "negative_sentiment"),
        (offer(), facts(sentiment=-0.29), None),
        (offer(type="upsell"), facts(churn_risk=0.6), "retention_first"),
        (offer(type="retention"), facts(churn_risk=0.6), None),
        (offer(type="retention"), facts(churn_risk=0.1), "retention_not_needed"),
        (offer(type="retention"), facts(churn_risk=0.1, intent="cancellation"), None),
        (offer(type="goodwill"), facts(), "goodwill_not_needed"),
        (offer(type="goodwill"), facts(intent="billing"), None),
        (offer(type="goodwill"), facts(sentiment=-0.5), None),
        (offer(), facts(recently_rejected={"O-1": NOW - timedelta(days=29)}), "recently_rejected"),
        (offer(), facts(recently_rejected={"O-1": NOW - timedelta(days=31)}), None),
    ],
)
def test_each_rule(o: Offer, f: CustomerFacts, rule: str | None) -> None:
    assert suppressed_by(o, f) == rule


def test_propensity_shrinks_thin_data_to_the_prior() -> None:
    assert propensity(0, 0, RULES) == pytest.approx(0.2)
    assert propensity(1, 1, RULES) == pytest.approx(3 / 11)  # one success barely moves it
    assert propensity(600, 1000, RULES) == pytest.approx(602 / 1010)
    assert propensity(5, 3, RULES) == propensity(3, 3, RULES)  # accepted never exceeds offered


def test_arbitration_formula_and_determinism() -> None:
    f = facts(intent="upgrade")
    a = offer(offer_id="A", type="upsell", value_estimate=100)
    b = offer(offer_id="B", type="cross_sell", value_estimate=100)
    c = offer(offer_id="C", type="cross_sell", value_estimate=100)
    ranked = arbitrate([c, b, a], f, RULES, {"A": (10, 50), "B": (0, 0)})
    score_a = ranked[0]
    assert score_a.offer_id == "A"
    assert score_a.priority == pytest.approx(propensity(10, 50, RULES) * 2.5 * 100 * 1.0, rel=1e-4)
    assert [s.offer_id for s in ranked[1:]] == ["B", "C"]  # equal priority: by id
    assert ranked == arbitrate([a, b, c], f, RULES, {"A": (10, 50), "B": (0, 0)})


def test_churn_and_negative_sentiment_shift_weights() -> None:
    retention = offer(offer_id="R", type="retention", value_estimate=100)
    calm = arbitrate([retention], facts(churn_risk=0.3), RULES, {})[0].context_weight
    risky = arbitrate([retention], facts(churn_risk=0.9), RULES, {})[0].context_weight
    assert risky > calm > 1.0
    goodwill = offer(offer_id="G", type="goodwill")
    assert arbitrate([goodwill], facts(sentiment=-0.5), RULES, {})[0].context_weight == pytest.approx(1.8)


def test_discount_mentions_are_found_in_any_wording() -> None:
    assert discounts_mentioned("10 % off, or 15%; even 12,5 Prozent and 20 percent") == [10, 15, 12.5, 20]
    assert discounts_mentioned("call 0800 100 200") == []


def _out(primary: str, fallback: str | None = None, phrasing: str = "ok", reasons: list[str] | None = None):
    return NbaModelOutput(
        customer_goal="g",
        sentiment="neutral",
        primary_offer_id=primary,
        fallback_offer_id=fallback,
        reasons=reasons or ["a", "b"],
        phrasing=phrasing,
    )


@pytest.mark.parametrize(
    ("out", "problem"),
    [
        (_out("A", "B"), None),
        (_out("A"), None),
        (_out("X", "B"), "primary 'X' is not an eligible candidate"),
        (_out("A", "X"), "fallback 'X' is not an eligible candidate"),
        (_out("A", "A"), "fallback repeats the primary"),
        (_out("A", "B", phrasing="I can give you 90 % off"), "mentions a discount of 90 % above the 20 % cap"),
        (_out("A", "B", reasons=["ok", "offer 25 Prozent"]), "mentions a discount of 25 % above the 20 % cap"),
        (_out("A", "B", phrasing="20 % off"), None),
    ],
)
def test_post_check(out: NbaModelOutput, problem: str | None) -> None:
    assert check_choice(out, ["A", "B"], RULES.max_discount_percent) == problem


# --- property-based: no input and no model output can break a rule ------------------

SKUS = ["FIB-100", "FIB-500", "MOB-S", "MOB-XL", "TV-BASIC", "TV-SPORT", "ROUTER-6"]
SEGMENTS = ["standard", "gold", "platinum", "vip-unknown"]

eligibilities = st.builds(
    Eligibility,
    segments=st.none() | st.lists(st.sampled_from(SEGMENTS), max_size=2),
    min_tenure_months=st.integers(0, 60),
    required_products=st.lists(st.sampled_from(SKUS), max_size=2),
    excluded_products=st.lists(st.sampled_from(SKUS), max_size=2),
    regions=st.none() | st.lists(st.sampled_from(["EU", "UK", "US"]), max_size=2),
    channels=st.none() | st.lists(st.sampled_from(["email", "chat", "phone"]), max_size=2),
    valid_from=st.none() | st.just(NOW - timedelta(days=10)) | st.just(NOW + timedelta(days=10)),
    valid_until=st.none() | st.just(NOW + timedelta(days=10)) | st.just(NOW - timedelta(days=1)),
    marketing_consent_required=st.booleans(),
)
percent_text = st.sampled_from(["", " now 10 % off", " save 90 %", " 25 Prozent Rabatt", " 20% off"])
offers = st.lists(
    st.builds(
        Offer,
        offer_id=st.from_regex(r"O[0-9]{1,3}", fullmatch=True),
        type=st.sampled_from(OFFER_TYPES),
        title=st.just("title"),
        pitch=st.builds(lambda t: {"en": "pitch" + t, "de": "Angebot" + t}, percent_text),
        eligibility=st.one_of(st.just(Eligibility()), eligibilities),  # half unrestricted: rules get exercised
        discount_percent=st.sampled_from([0, 5, 10, 15, 20, 25, 50, 90]),
        value_estimate=st.floats(0, 1000),
        active=st.booleans(),
    ),
    min_size=1,
    max_size=25,
    unique_by=lambda o: o.offer_id,
)
customer_facts = st.builds(
    CustomerFacts,
    segment=st.sampled_from(SEGMENTS),
    tenure_months=st.integers(0, 120),
    products=st.lists(st.sampled_from(SKUS), unique=True),
    region=st.sampled_from(["EU", "UK", "US"]),
    channel=st.sampled_from(["email", "chat", "phone"]),
    marketing_consent=st.booleans(),
    churn_risk=st.floats(0, 1),
    sentiment=st.floats(-1, 1),
    intent=st.sampled_from(["general", "cancellation", "billing", "outage", "upgrade", "delivery"]),
)
model_outputs = st.builds(
    lambda p, f, text, reason: (p, f, text, reason),
    st.text(alphabet="O0123456789XYZ", min_size=1, max_size=4),
    st.none() | st.text(alphabet="O0123456789XYZ", min_size=1, max_size=4),
    st.sampled_from(["Great deal", "I can give you 90 % off!", "50 Prozent nur heute", "10 % off"]),
    st.sampled_from(["fits", "We offer 95 percent", "ok"]),
)


def oracle_violations(o: Offer, f: CustomerFacts, rejected_days: dict[str, int]) -> list[str]:
    """An independent statement of the business rules, to check the engine against."""
    e, v = o.eligibility, []
    sale = o.type in ("cross_sell", "upsell")
    if o.discount_percent > 20:
        v.append("discount above cap")
    if sale and f.sentiment <= -0.3:
        v.append("sale despite clearly negative sentiment")
    if sale and f.churn_risk >= 0.6:
        v.append("sale before retention at high churn")
    if (sale or e.marketing_consent_required) and not f.marketing_consent:
        v.append("sale without marketing consent")
    if rejected_days.get(o.offer_id, 999) < 30:
        v.append("recently rejected offer repeated")
    allowed = {
        "standard": OFFER_TYPES,
        "gold": OFFER_TYPES,
        "platinum": ("retention", "upsell", "service", "goodwill", "follow_up"),
    }.get(f.segment, ("retention", "service", "follow_up"))
    if o.type not in allowed:
        v.append("type not allowed for segment")
    if not o.active or (e.valid_until and e.valid_until < NOW) or (e.valid_from and e.valid_from > NOW):
        v.append("inactive or outside validity")
    if e.segments is not None and f.segment not in e.segments:
        v.append("segment")
    if any(p not in f.products for p in e.required_products) or any(p in f.products for p in e.excluded_products):
        v.append("products")
    return v


REJECTIONS = st.dictionaries(st.from_regex(r"O[0-9]{1,3}", fullmatch=True), st.integers(0, 60), max_size=5)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(catalogue=offers, f=customer_facts, proposal=model_outputs, rejected=REJECTIONS)
def test_no_rule_is_ever_violated(
    catalogue: list[Offer], f: CustomerFacts, proposal: tuple, rejected: dict[str, int]
) -> None:
    f = f.model_copy(update={"recently_rejected": {k: NOW - timedelta(days=d) for k, d in rejected.items()}})
    eligible, suppressed = eligibility(catalogue, f, RULES, NOW)
    assert {o.offer_id for o in eligible} | {s.offer_id for s in suppressed} == {o.offer_id for o in catalogue}
    for o in eligible:  # every candidate the model could ever see obeys every rule
        assert oracle_violations(o, f, rejected) == []
    ranked = arbitrate(eligible, f, RULES, {})
    top = ranked[:5]
    if not top:
        return
    primary, fallback, text, reason = proposal
    # Adversarial model: sometimes a real candidate, sometimes anything it likes.
    proposed = _out(primary, fallback, phrasing=text, reasons=["r", reason])
    ranked_choice = _out(top[0].offer_id, top[1].offer_id if len(top) > 1 else None)
    final, why = finalize(proposed, top, RULES, lambda: ranked_choice)
    by_id = {o.offer_id: o for o in catalogue}
    for chosen in filter(None, [final.primary_offer_id, final.fallback_offer_id]):
        assert chosen in {s.offer_id for s in top}
        assert oracle_violations(by_id[chosen], f, rejected) == []
    assert final.fallback_offer_id != final.primary_offer_id
    for text_out in (final.phrasing, *final.reasons):
        assert all(d <= RULES.max_discount_percent for d in discounts_mentioned(text_out))
    assert (why is None) == (final is proposed)


@settings(max_examples=200, deadline=None)
@given(f=customer_facts)
def test_seed_catalogue_never_yields_a_violation(f: CustomerFacts) -> None:
    eligible, _ = eligibility(CATALOGUE, f, RULES, NOW)
    for o in eligible:
        assert oracle_violations(o, f, {}) == []
        assert all(d <= 20 for text in o.pitch.values() for d in discounts_mentioned(text))
