"""Next-best-action: one primary and one fallback action from the company's catalogue.

request → customer + prepared context (identifiers, latest sentiment) + transcript → facts
(sentiment, intent, churn, consent) → rules
(suppressed with reasons) → arbitration (ranked) → model picks among the top candidates
→ post-check (ids eligible, discounts within the cap; else override) → response +
``suggestion.generated`` + ``nba.recommended``.
"""

from __future__ import annotations

from collections.abc import Callable
from statistics import mean
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.capabilities import _pipeline as suggestions
from shared.capabilities._context import PREPARED, customer_identifiers
from shared.capabilities._pipeline import SuggestionMeta
from shared.capabilities.events import NbaRecommended
from shared.data.offers import Offer
from shared.decisions.nba import (
    CustomerFacts,
    Rules,
    Score,
    Suppressed,
    discounts_mentioned,
    rank_actions,
)
from shared.engine.prompts import Prompt
from shared.language.conversation import MAX_TURNS, Turn, customer_text
from shared.language.sentiment import SentimentOut
from shared.platform.calls import ID_PATTERN, CallContext
from shared.safety.pii.base import customer_key

if TYPE_CHECKING:
    from shared.runtime import Runtime

CAPABILITY = "next_best_action"
READS = PREPARED
"""The customer document and the prepared context (identifiers, latest sentiment scores); the ticket if given."""
PROMPT_TURNS = 20


class NbaRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    customer_id: str = Field(pattern=ID_PATTERN)
    transcript: list[Turn] = Field(default_factory=list, max_length=MAX_TURNS)
    ticket_id: str | None = Field(default=None, pattern=ID_PATTERN)
    channel: Literal["email", "chat", "phone", "social", "web"]
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$", description="Customer's language.")


class NbaModelOutput(BaseModel):
    """What the model returns (Gemini response_schema): a choice among given candidates."""

    customer_goal: str
    sentiment: Literal["positive", "neutral", "negative"]
    primary_offer_id: str
    fallback_offer_id: str | None = None
    reasons: list[str] = Field(min_length=2, max_length=3)
    phrasing: str


class Action(BaseModel):
    offer_id: str
    type: str
    title: str
    discount_percent: float
    requires_agent_confirmation: bool
    auto_suggest_allowed: bool
    priority: float


class NbaResponse(SuggestionMeta):
    customer_goal: str
    sentiment: SentimentOut
    intent: str
    primary: Action | None
    fallback: Action | None
    reasons: list[str]
    phrasing: str
    suppressed: list[Suppressed]
    scores: list[Score] = Field(description="Top eligible candidates by priority (CX_NBA_REPORT_TOP).")
    eligible_count: int
    model_choice_overridden: bool
    override_reason: str | None = None
    language: str


def _sentiment(rt: Runtime, req: NbaRequest, recent_scores: list[float], language: str) -> float:
    """Conversation sentiment (rule-based), blended 70/30 with the latest contacts when both exist."""
    text = customer_text(req.transcript)
    history = mean(recent_scores[:5]) if recent_scores else None
    if not text:
        return round(history or 0.0, 3)
    conversation = rt.sentiment.score(text, language).score
    return round(conversation if history is None else 0.7 * conversation + 0.3 * history, 3)


def check_choice(out: NbaModelOutput, candidates: list[str], max_discount: float) -> str | None:
    """Why the model's choice cannot stand, or None. The model proposes; code disposes."""
    if out.primary_offer_id not in candidates:
        return f"primary {out.primary_offer_id!r} is not an eligible candidate"
    if out.fallback_offer_id is not None:
        if out.fallback_offer_id not in candidates:
            return f"fallback {out.fallback_offer_id!r} is not an eligible candidate"
        if out.fallback_offer_id == out.primary_offer_id:
            return "fallback repeats the primary"
    too_high = [d for text in (out.phrasing, *out.reasons) for d in discounts_mentioned(text) if d > max_discount]
    if too_high:
        return f"mentions a discount of {max(too_high):g} % above the {max_discount:g} % cap"
    return None


def finalize(
    proposed: NbaModelOutput, top: list[Score], rules: Rules, ranked_choice: Callable[[], NbaModelOutput]
) -> tuple[NbaModelOutput, str | None]:
    """Keep the model's choice only if it passes every post-check; else the ranked choice."""
    reason = check_choice(proposed, [s.offer_id for s in top], rules.max_discount_percent)
    return (ranked_choice(), reason) if reason else (proposed, None)


def _action(offer: Offer, score: Score) -> Action:
    return Action(
        offer_id=offer.offer_id,
        type=offer.type,
        title=offer.title,
        discount_percent=offer.discount_percent,
        requires_agent_confirmation=offer.requires_agent_confirmation,
        auto_suggest_allowed=offer.auto_suggest_allowed,
        priority=score.priority,
    )


def recommend(req: NbaRequest, rt: Runtime, call: CallContext | None = None) -> NbaResponse:
    call = call or CallContext()
    settings, rules = rt.settings, rt.nba_rules
    known = customer_identifiers(rt, call, CAPABILITY, req.customer_id, channel=req.channel)
    view, pseudo = known.view, known.pseudo
    snapshot = view.snapshot
    c = snapshot.customer
    language = req.language or c.profile.language
    ticket = rt.snapshots.get_tickets(req.customer_id, [req.ticket_id]) if req.ticket_id else []
    sentiment = _sentiment(rt, req, known.recent_scores, language)
    topic = customer_text(req.transcript) + " " + " ".join(t.subject for t in ticket)
    intent = rt.intents.detect(topic, language).intent if topic.strip() else "general"
    ranking = rank_actions(
        rt.nba_rules,
        rt.offers,
        snapshot,
        channel=req.channel,
        sentiment=sentiment,
        intent=intent,
        promise_overdue=rt.commitments.has_overdue(req.customer_id),
    )
    facts, ranked, suppressed, catalogue = ranking.facts, ranking.ranked, ranking.suppressed, ranking.catalogue
    top = ranked[: settings.nba_max_candidates]

    context = _prompt_context(facts, rules, top, suppressed, catalogue, req, language, c.profile.name, view.allowed)
    agent_language = settings.agent_language
    template = suggestions.template_for(rt, CAPABILITY, req)
    prompt = template.render(context=pseudo.mask_obj(context), language=agent_language, customer_language=language)
    override_reason = None
    if top:
        proposed, usage = suggestions.ask(rt, prompt, NbaModelOutput, pseudo)
        output, override_reason = finalize(
            proposed,
            top,
            rules,
            lambda: pseudo.restore_model(rt.offline.generate(prompt, NbaModelOutput)[0]),
        )
    else:
        output, usage = None, rt.offline.usage_without_call()
    overridden = override_reason is not None

    by_id = {s.offer_id: s for s in ranked}
    primary = _action(catalogue[output.primary_offer_id], by_id[output.primary_offer_id]) if output else None
    fallback = (
        _action(catalogue[output.fallback_offer_id], by_id[output.fallback_offer_id])
        if output and output.fallback_offer_id
        else None
    )
    label = output.sentiment if output else rt.sentiment.score(customer_text(req.transcript), language).label
    meta = suggestions.record(
        rt,
        call,
        pseudo=pseudo,
        customer_id=req.customer_id,
        prompt=prompt,
        policy_version=rules.version,
        usage=usage,
        attributes={
            "intent": intent,
            "candidates": len(ranked),
            "suppressed": len(suppressed),
            "overridden": overridden,
        },
        text=output.phrasing if output else None,
        feedback_context={
            "segment": c.segment,
            "offers": [o for o in (output.primary_offer_id, output.fallback_offer_id) if o] if output else [],
        },
        review_flags=pseudo.review_flags,
    )
    rt.events.publish(
        NbaRecommended(
            suggestion_id=meta.suggestion_id,
            customer_key=customer_key(req.customer_id, settings.pseudonym_key),
            segment=c.segment,
            channel=req.channel,
            intent=intent,
            sentiment_score=sentiment,
            churn_risk=c.churn_risk,
            rules_version=rules.version,
            candidates=ranked[: settings.nba_report_top],
            eligible_count=len(ranked),
            suppressed=suppressed,
            primary_offer_id=primary.offer_id if primary else None,
            fallback_offer_id=fallback.offer_id if fallback else None,
            model_choice_overridden=overridden,
            agent_id=call.agent_id,
        )
    )
    no_action = prompt.text("no_action")
    scoring = "scoring" in view.details  # scores and suppressed offers: supervisors (config/safety/access.yaml)
    return NbaResponse(
        **meta.model_dump(),
        customer_goal=output.customer_goal if output else prompt.text("goal_general"),
        sentiment=SentimentOut(label=label, score=sentiment),
        intent=intent,
        primary=primary,
        fallback=fallback,
        reasons=output.reasons if output else [no_action],
        phrasing=output.phrasing if output else "",
        suppressed=suppressed if scoring else [],
        scores=ranked[: settings.nba_report_top] if scoring else [],
        eligible_count=len(ranked),
        model_choice_overridden=overridden,
        override_reason=override_reason,
        language=language,
    )


def _prompt_context(
    facts: CustomerFacts,
    rules: Rules,
    top: list[Score],
    suppressed: list[Suppressed],
    catalogue: dict[str, Offer],
    req: NbaRequest,
    language: str,
    name: str,
    allowed: frozenset[str],
) -> dict[str, Any]:
    """Everything the model (and the offline engine) may use; nothing it may not: customer facts pass the
    data-access policy (``allowed``) like every other prompt's. The rules already used them in code."""
    facts_by_field = {
        "name": ("name", name),
        "segment": ("segment", facts.segment),
        "tenure": ("tenure_months", facts.tenure_months),
        "churn_risk": ("churn_risk", facts.churn_risk),
        "products": ("products", facts.products),
    }
    customer = {key: value for field, (key, value) in facts_by_field.items() if field in allowed}
    return {
        "customer": {**customer, "language": language},
        "signals": {"intent": facts.intent, "sentiment_score": facts.sentiment, "channel": facts.channel},
        "rules": {
            "max_discount_percent": rules.max_discount_percent,
            "churn_risk_threshold": rules.churn_risk_threshold,
            "clearly_negative_sentiment": rules.clearly_negative_sentiment,
        },
        "transcript": [{"speaker": t.speaker, "text": t.text} for t in req.transcript[-PROMPT_TURNS:]],
        "candidates": [_candidate(catalogue[s.offer_id], s, rank, language) for rank, s in enumerate(top, 1)],
        "suppressed_rules": sorted({s.rule for s in suppressed}),
    }


def _candidate(offer: Offer, score: Score, rank: int, language: str) -> dict[str, Any]:
    return {
        "offer_id": offer.offer_id,
        "type": offer.type,
        "title": offer.title,
        "description": offer.description,
        "discount_percent": offer.discount_percent,
        "pitch": offer.pitch.get(language) or offer.pitch.get("en", ""),
        "rank": rank,
        "priority": score.priority,
        "propensity": score.propensity,
        "context_weight": score.context_weight,
        "value": score.value,
        "lever": score.lever,
    }


# --- offline engine ----------------------------------------------------------------


def offline_nba(prompt: Prompt) -> NbaModelOutput:
    """Top two by arbitration; reasons from the rule trace; phrase from the offer's pitch."""
    ctx = prompt.context
    candidates, signals, rules, customer = ctx["candidates"], ctx["signals"], ctx["rules"], ctx["customer"]
    primary = candidates[0]
    fallback = candidates[1] if len(candidates) > 1 else None
    reasons = []
    if customer.get("churn_risk", 0.0) >= rules["churn_risk_threshold"] and primary["type"] == "retention":
        reasons.append(
            prompt.text(
                "reason_churn", risk=f"{customer['churn_risk']:.2f}", threshold=f"{rules['churn_risk_threshold']:.2f}"
            )
        )
    elif signals["intent"] != "general" and prompt.has_text(f"intent_{signals['intent']}"):  # any taxonomy
        reasons.append(
            prompt.text(
                "reason_intent",
                intent=prompt.text(f"intent_{signals['intent']}"),
                type=prompt.text(f"type_{primary['type']}"),
            )
        )
    reasons.append(
        prompt.text(
            "reason_priority",
            title=primary["title"],
            priority=f"{primary['priority']:.1f}",
            propensity=f"{primary['propensity']:.2f}",
            weight=f"{primary['context_weight']:.2f}",
            value=f"{primary['value']:.0f}",
            lever=f"{primary['lever']:g}",
        )
    )
    if "negative_sentiment" in ctx["suppressed_rules"]:
        reasons.append(prompt.text("reason_negative", score=f"{signals['sentiment_score']:+.2f}"))
    elif "retention_first" in ctx["suppressed_rules"]:
        reasons.append(prompt.text("reason_retention_first"))
    elif fallback is not None:
        reasons.append(prompt.text("reason_fallback", title=fallback["title"]))
    if len(reasons) < 2:
        reasons.append(prompt.text("reason_confirm"))
    score = signals["sentiment_score"]
    return NbaModelOutput(
        customer_goal=prompt.text_for("goal", signals["intent"]),
        sentiment="positive" if score >= 0.2 else "negative" if score <= -0.2 else "neutral",
        primary_offer_id=primary["offer_id"],
        fallback_offer_id=fallback["offer_id"] if fallback else None,
        reasons=reasons[:3],
        phrasing=primary["pitch"],
    )
