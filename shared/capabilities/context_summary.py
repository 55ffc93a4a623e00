"""Context summary: the agent's "context overview" panel for one customer.

request → prepared context (customer + one document, masked when the snapshot was written)
→ policy + budget → prompt → model → restore → response + ``suggestion.generated`` event.
"""

from __future__ import annotations

from statistics import mean
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.capabilities import _pipeline as suggestions
from shared.capabilities._context import PREPARED, customer_context
from shared.capabilities._pipeline import SuggestionMeta
from shared.decisions.commitments import CommitmentView
from shared.engine.prompts import Prompt
from shared.platform.calls import ID_PATTERN, CallContext

if TYPE_CHECKING:
    from shared.runtime import Runtime

CAPABILITY = "context_summary"
READS = PREPARED
"""The customer document and the prepared context; the current ticket only when older than the snapshot's."""
RECENT_FOR_TREND = 10


class ContextSummaryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    customer_id: str = Field(pattern=ID_PATTERN, description="Customer document id.")
    ticket_id: str | None = Field(default=None, pattern=ID_PATTERN, description="Current ticket.")
    language: str | None = Field(
        default=None, pattern=r"^[a-z]{2}$", description="Agent's language; default from settings."
    )
    channel: Literal["email", "chat", "phone", "social", "web"] | None = Field(
        default=None, description="Channel of the current contact; selects the context policy."
    )


class SummaryOutput(BaseModel):
    """What the model returns (also Gemini's response_schema)."""

    bullets: list[str] = Field(min_length=1, max_length=5)
    recurring_issues: list[str] = Field(default_factory=list, max_length=5)
    preferences: list[str] = Field(default_factory=list, max_length=5)
    sentiment_trend: Literal["positive", "neutral", "negative"]
    sentiment_reason: str
    personalization_hints: list[str] = Field(min_length=2, max_length=2)


class ContextSummaryResponse(SuggestionMeta, SummaryOutput):
    language: str
    commitments: list[CommitmentView] = Field(
        default_factory=list, description="What the company owes this customer: open and overdue, oldest first."
    )


def summarize(req: ContextSummaryRequest, rt: Runtime, call: CallContext | None = None) -> ContextSummaryResponse:
    call = call or CallContext()
    ctx = customer_context(rt, call, CAPABILITY, req.customer_id, channel=req.channel, ticket_id=req.ticket_id)
    view, built, pseudo = ctx.view, ctx.built, ctx.pseudo
    language = req.language or rt.settings.agent_language
    template = suggestions.template_for(rt, CAPABILITY, req)
    prompt = template.render(context=ctx.prompt_context(), language=language)

    output, usage = suggestions.ask(rt, prompt, SummaryOutput, pseudo)
    owed = rt.commitments.owed(req.customer_id)  # the overview opens with what we owe the customer
    if owed:
        output.bullets = [rt.commitments.summary_line(owed, language), *output.bullets[:4]]
    meta = suggestions.record(
        rt,
        call,
        pseudo=pseudo,
        customer_id=req.customer_id,
        prompt=prompt,
        policy_version=view.policy_version,
        usage=usage,
        attributes={"context_tokens": built.estimated_tokens, "omitted": built.omitted},
        text="\n".join(output.bullets + output.personalization_hints),
        review_flags=pseudo.review_flags,
    )
    return ContextSummaryResponse(
        **output.model_dump(), **meta.model_dump(), language=language, commitments=rt.commitments.views(owed)
    )


# --- offline engine ----------------------------------------------------------------


def _trend(recent: list[dict[str, Any]], prompt: Prompt) -> tuple[str, str]:
    window = recent[:RECENT_FOR_TREND]
    if not window:
        return "neutral", prompt.text("no_trend")
    scores = [float(i["score"]) for i in window]
    avg = mean(scores)
    earlier = [float(i["score"]) for i in recent[RECENT_FOR_TREND:]]
    label = "positive" if avg > 0.2 else "negative" if avg < -0.2 else "neutral"
    if earlier and avg - mean(earlier) > 0.2:
        direction = prompt.text("improving")
    elif earlier and mean(earlier) - avg > 0.2:
        direction = prompt.text("worsening")
    else:
        direction = prompt.text("stable")
    counts = {s: sum(1 for i in window if i["sentiment"] == s) for s in ("positive", "neutral", "negative")}
    reason = prompt.text(
        "trend_reason",
        n=len(window),
        pos=counts["positive"],
        neu=counts["neutral"],
        neg=counts["negative"],
        avg=f"{avg:+.2f}",
        direction=direction,
    )
    return label, reason


def offline_summary(prompt: Prompt) -> SummaryOutput:
    """Deterministic overview from the (pseudonymized, policy-filtered) context."""
    from shared.language.extraction import condense  # on the offline path only: keeps the module's cold start as it was

    ctx = prompt.context
    cust = ctx.get("customer", {})
    history = ctx.get("history", {})
    interactions = ctx.get("recent_interactions", [])
    open_tickets = ctx.get("open_tickets", [])
    orders = ctx.get("recent_orders", [])

    bullets: list[str] = []
    if "tenure_months" in cust:
        key = "relationship" if "lifetime_value" in cust else "relationship_short"
        bullets.append(
            prompt.text(
                key,
                segment=str(cust.get("segment", "")).capitalize(),
                tenure=cust["tenure_months"],
                since=cust.get("customer_since"),
                ltv=f"{cust.get('lifetime_value', 0):,.0f}",
                currency=cust.get("currency", ""),
            )
        )
    if (cust.get("churn_risk") or 0) >= 0.6:
        bullets.append(prompt.text("churn_high", risk=f"{cust['churn_risk']:.2f}"))
    active = [p for p in cust.get("products", []) if p.get("status") == "active"]
    if "products" in cust:
        names = ", ".join(p["name"] for p in active[:4])
        bullets.append(prompt.text("products", products=names) if active else prompt.text("no_products"))
    if open_tickets:
        listed = "; ".join(f"{t['subject']} ({t['status']}, {t['priority']})" for t in open_tickets[:2])
        bullets.append(prompt.text("open_tickets", count=len(open_tickets), tickets=listed))
    elif "open_tickets" in ctx:
        bullets.append(prompt.text("no_open_tickets"))
    if interactions:
        last = interactions[0]
        bullets.append(
            prompt.text(
                "last_contact",
                total=history.get("interactions_total", len(interactions)),
                first=history.get("first_contact") or last["date"],
                date=last["date"],
                channel=last["channel"],
                summary=condense(last["summary"]),
            )
        )
        if len(interactions) > 1 and interactions[1]["summary"].strip() != last["summary"].strip():
            prev = interactions[1]
            bullets.append(
                prompt.text(
                    "earlier_contact", date=prev["date"], channel=prev["channel"], summary=condense(prev["summary"])
                )
            )
    elif orders:
        o = orders[0]
        bullets.append(
            prompt.text(
                "last_order",
                order_id=o["order_id"],
                status=o["status"],
                date=o["placed"],
                total=o["total"],
                currency=o["currency"],
            )
        )
    if not bullets:
        bullets.append(prompt.text("no_history"))

    categories = history.get("top_categories") or {}
    recurring = [prompt.text("recurring", category=cat, count=n) for cat, n in categories.items() if n >= 2][:3]
    preferences = list(cust.get("preferences", []))[:5]
    label, reason = _trend(interactions, prompt)

    hints: list[str] = []
    if label == "negative":
        hints.append(prompt.text("hint_negative"))
    if open_tickets:
        hints.append(prompt.text("hint_open_ticket", subject=open_tickets[0]["subject"]))
    if preferences:
        hints.append(prompt.text("hint_preference", preference=preferences[0]))
    if active:
        hints.append(prompt.text("hint_product", product=active[0]["name"], since=active[0].get("since")))
    if cust.get("language"):
        table = (prompt.texts.get(prompt.language) or prompt.texts["en"]).get("language_names", {})
        hints.append(prompt.text("hint_language", language_name=table.get(cust["language"], cust["language"])))
    if cust.get("name"):
        hints.append(prompt.text("hint_name", name=cust["name"]))
    if (cust.get("tenure_months") or 0) >= 24:
        hints.append(prompt.text("hint_loyalty", years=cust["tenure_months"] // 12))
    hints += [prompt.text("hint_generic"), prompt.text("hint_generic_2")]  # padding when data is thin

    return SummaryOutput(
        bullets=bullets[:5],
        recurring_issues=recurring,
        preferences=preferences,
        sentiment_trend=label,
        sentiment_reason=reason,
        personalization_hints=hints[:2],
    )
