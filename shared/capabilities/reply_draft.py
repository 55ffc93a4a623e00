"""Personalized reply drafts with human-review flags enforced in code.

request → customer + prepared context (policy-filtered, budgeted, masked when the snapshot was
written) → language (given or detected) → sentiment, intent → next-best-actions (shared engine)
→ the request's own text masked → prompt (customer message delimited as untrusted data) → model
→ restore → output policy (shared/policy.py,
every engine, every configured language) and request-bound violations → draft replaced
by a safe one or flagged → review flags → response + ``suggestion.generated``.

Any intent label is served: one without its own reply text gets the generic template.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.capabilities import _pipeline as suggestions
from shared.capabilities._context import PREPARED, customer_context
from shared.capabilities._pipeline import SuggestionMeta
from shared.data.snapshots import CustomerSnapshot
from shared.decisions.commitments import promised_dates
from shared.decisions.nba import rank_actions
from shared.engine.prompts import Prompt
from shared.language.conversation import Turn
from shared.language.detect import choose_language
from shared.language.sentiment import SentimentOut
from shared.platform.calls import ID_PATTERN, CallContext
from shared.safety.guardrails import Grounds, ReviewReason

if TYPE_CHECKING:
    from shared.runtime import Runtime

CAPABILITY = "reply_draft"
READS = PREPARED
"""The customer document and the prepared context; the current ticket only when older than the snapshot's."""
MAX_MESSAGE_CHARS = 20000
MIN_INTENT_CONFIDENCE = 0.5
CHANNEL_FOR_POLICY = {"email": "email", "chat": "chat", "phone_notes": "phone"}


class ReplyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    customer_id: str = Field(pattern=ID_PATTERN)
    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS, description="The customer's message (untrusted).")
    channel: Literal["email", "chat", "phone_notes"]
    language: str | None = Field(
        default=None, pattern=r"^[a-z]{2}$", description="Customer's language; detected if absent."
    )
    ticket_id: str | None = Field(default=None, pattern=ID_PATTERN)
    conversation: list[Turn] = Field(default_factory=list, max_length=100, description="Earlier turns, oldest first.")


class ReplyModelOutput(BaseModel):
    """What the model returns (Gemini response_schema)."""

    intent_summary: str = Field(description="One sentence for the agent, in the agent's language.")
    reply: str = Field(description="Ready-to-send reply in the customer's language.")
    questions_for_agent: list[str] = Field(default_factory=list, max_length=3)
    personalization_used: list[str] = Field(default_factory=list, max_length=6)
    referenced_offer_ids: list[str] = Field(default_factory=list, max_length=2)


class SuggestedAction(BaseModel):
    offer_id: str
    action: str
    reason: str
    requires_agent_confirmation: bool


class ReplyResponse(SuggestionMeta):
    intent_summary: str
    reply: str
    language: str
    language_detected: bool
    intent: str
    sentiment: SentimentOut
    next_best_actions: list[SuggestedAction] = Field(max_length=2)
    requires_human_review: bool
    review_reasons: list[ReviewReason]
    draft_replaced: bool = Field(description="A guardrail violation replaced the model's draft with a safe one.")
    questions_for_agent: list[str]
    personalization_used: list[str]


def _language(rt: Runtime, req: ReplyRequest, snapshot: CustomerSnapshot) -> tuple[str, bool]:
    if req.language:
        return req.language, False
    return choose_language(req.message, tuple(rt.settings.detect_languages), snapshot.customer.profile.language)


def _formal(texts: dict[str, Any], language: str, message: str, preferences: list[str], channel: str) -> bool:
    table = texts.get(language) or texts["en"]

    def has(markers: list[str], text: str) -> bool:
        return any(re.search(rf"(?<!\w){re.escape(m)}(?!\w)", text) for m in markers)

    prefs = " | ".join(preferences).lower()
    if has(table["prefers_informal"], prefs):
        return False
    if has(table["prefers_formal"], prefs):
        return True
    return not has(table["informal_markers"], message.lower()) and channel != "chat"


def draft_reply(req: ReplyRequest, rt: Runtime, call: CallContext | None = None) -> ReplyResponse:
    call = call or CallContext()
    settings, guard = rt.settings, rt.guardrails
    channel = CHANNEL_FOR_POLICY[req.channel]
    ctx = customer_context(rt, call, CAPABILITY, req.customer_id, channel=channel, ticket_id=req.ticket_id)
    view, built, pseudo, own = ctx.view, ctx.built, ctx.pseudo, ctx.own
    snapshot = view.snapshot
    c = snapshot.customer
    language, detected = _language(rt, req, snapshot)
    sentiment = rt.sentiment.score(req.message, language)
    intent = rt.reply_intents.predict(req.message)
    owed = rt.commitments.owed(req.customer_id)
    ranking = rank_actions(
        rt.nba_rules,
        rt.offers,
        snapshot,
        channel=channel,
        sentiment=sentiment.score,
        intent=intent.label,
        promise_overdue=any(o.status == "overdue" for o in owed),
    )
    top = ranking.ranked[:2]
    actions = [ranking.catalogue[s.offer_id] for s in top]

    template = suggestions.template_for(rt, CAPABILITY, req)
    # ``own``: the customer's values from their stored record only, never from the incoming message:
    # a phone or address that merely appears in it is not theirs (#24).
    policy = rt.policy_snippets.get(intent.label, {})
    request_text = {  # the request's own text: with a prepared context, the only text masked per request
        "message": req.message,
        "conversation": [t.model_dump(include={"speaker", "text"}) for t in req.conversation[-10:]],
        "channel": req.channel,
        "intent": intent.label,
        "intent_confidence": intent.confidence,
        "sentiment": {"label": sentiment.label, "score": sentiment.score},
        "formal": _formal(template.texts, language, req.message, c.preferences, req.channel),
        "policy": policy.get(language) or policy.get("en", ""),
        "actions": [
            {
                "offer_id": o.offer_id,
                "type": o.type,
                "title": o.title,
                "discount_percent": o.discount_percent,
                "pitch": o.pitch.get(language) or o.pitch.get("en", ""),
                "auto_suggest_allowed": o.auto_suggest_allowed,
            }
            for o in actions
        ],
        "allowed_link_domains": sorted(rt.output_policy.allowed_domains),
    }
    prompt = template.render(
        context=ctx.prompt_context(request_text), language=settings.agent_language, customer_language=language
    )
    # a leaked placeholder in the reply replaces the draft (the output policy owns that field)
    output, usage = suggestions.ask(rt, prompt, ReplyModelOutput, pseudo, keep=("reply",))

    offered = [f"{o.title} {' '.join(o.pitch.values())}" for o in actions]
    grounding = " ".join([req.message, _facts(built.data), *offered, policy.get(language) or policy.get("en", "")])
    fields = {
        "reply": output.reply,
        "intent_summary": output.intent_summary,
        **{f"questions_for_agent[{i}]": q for i, q in enumerate(output.questions_for_agent)},
    }
    violations, flags = check_reply_side(
        rt,
        fields=fields,
        message=req.message,
        language=language,
        actions=actions,
        own=own,
        system_prompt=prompt.system,
        grounding=grounding,
        agent_language=settings.agent_language,
    )
    reply = output.reply
    if violations:
        reply = pseudo.restore(prompt.text_in(language, "safe_reply", name=_first_name_placeholder(built.data, pseudo)))
    if owed:  # never a new promise that contradicts an open one; an overdue promise comes first
        flags += rt.commitments.contradictions(owed, promised_dates(rt.due_dates, reply, language, c.profile))
        reply = rt.commitments.acknowledge_overdue(reply, owed, language)
    # amounts, deadlines and refunds are reviewed only when nothing the reply may draw on states them (#24)
    grounds = Grounds(
        record=_facts(built.data), company=policy.get(language) or policy.get("en", ""), actions=" ".join(offered)
    )
    reasons = violations + flags + guard.review_reasons(req.message, reply, language, c.segment, grounds=grounds)
    # an agent-facing field with a replace-level hit is withheld, never shown as written
    withheld = {_field_of(r) for r in flags if r.detail and r.code.startswith("field_violation:")}
    summary = WITHHELD if "intent_summary" in withheld else output.intent_summary
    questions = [q for i, q in enumerate(output.questions_for_agent) if f"questions_for_agent[{i}]" not in withheld]
    if intent.confidence < MIN_INTENT_CONFIDENCE:
        questions.append(prompt.text("q_unclear"))
    reason_text = {
        s.offer_id: prompt.text("action_reason", intent=intent.label, priority=f"{s.priority:.1f}", type=s.type)
        for s in top
    }
    meta = suggestions.record(
        rt,
        call,
        review_flags=pseudo.review_flags,
        pseudo=pseudo,
        customer_id=req.customer_id,
        prompt=prompt,
        policy_version=f"{guard.version}+{rt.output_policy.version}",
        usage=usage,
        attributes={
            "language": language,
            "intent": intent.label,
            "requires_human_review": bool(reasons),
            "review_codes": sorted({r.code for r in reasons}),
            "draft_replaced": bool(violations),
            "context_tokens": built.estimated_tokens,
        },
        text=reply,
    )
    return ReplyResponse(
        **meta.model_dump(),
        intent_summary=summary,
        reply=reply,
        language=language,
        language_detected=detected,
        intent=intent.label,
        sentiment=SentimentOut(label=sentiment.label, score=sentiment.score),
        next_best_actions=[
            SuggestedAction(
                offer_id=o.offer_id,
                action=o.title,
                reason=reason_text[o.offer_id],
                requires_agent_confirmation=o.requires_agent_confirmation,
            )
            for o in actions
        ],
        requires_human_review=bool(reasons),
        review_reasons=reasons,
        draft_replaced=bool(violations),
        questions_for_agent=questions[:4],
        personalization_used=output.personalization_used,
    )


WITHHELD = "(withheld: the model's summary failed the reply checks)"


def _field_of(reason: ReviewReason) -> str:
    return (reason.detail or "").split(": ", 1)[0]


def check_reply_side(
    rt: Runtime,
    *,
    fields: dict[str, str],
    message: str,
    language: str,
    actions: list[Any],
    own: set[str],
    system_prompt: str,
    grounding: str | None = None,
    agent_language: str | None = None,
) -> tuple[list[ReviewReason], list[ReviewReason]]:
    """(violations → the draft is replaced, flags → the agent reviews) over every restored text field the
    agent or customer sees (reply, intent summary, questions for the agent). ``own``: the stored record's
    values only. A field other than ``reply`` is written in the agent's language; its hits are flags whose
    ``detail`` starts with the field name, and a replace-level one is coded ``field_violation:*`` (the
    caller withholds that field) instead of replacing the customer's draft."""
    policy = rt.output_policy
    texts = [p for o in actions for p in (o.title, *o.pitch.values())]
    approved = policy.approved_from(texts, [o.discount_percent for o in actions], rt.nba_rules.max_discount_percent)
    acts = frozenset(o.type for o in actions)
    ground = message if grounding is None else grounding
    violations: list[ReviewReason] = []
    flags: list[ReviewReason] = []
    for name, text in fields.items():
        if not text:
            continue
        lang = language if name == "reply" else (agent_language or language)
        hits = policy.check(
            text, language=lang, approved=approved, own_values=own, grounding=ground, approved_acts=acts
        )
        hits += rt.guardrails.violations(text, message=message, own_values=own, system_prompt=system_prompt)
        for h in hits:
            if name == "reply":
                (violations if h.code.startswith("violation:") else flags).append(h)
                continue
            if h.code.endswith(("wrong_language", "mixed_language", "off_task")):
                continue  # agent-facing text is in the agent's language and summarises, it does not answer
            code = h.code.replace("violation:", "field_violation:", 1)
            flags.append(h.model_copy(update={"code": code, "detail": f"{name}: {h.detail or ''}"}))
    return violations, flags


def _facts(data: dict[str, Any]) -> str:
    """The snapshot facts the reply may draw on, as plain words (values of the built context)."""
    out: list[str] = []

    def walk(o: Any) -> None:
        if isinstance(o, dict):
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
        elif o is not None:
            out.append(str(o))

    walk(data)
    return " ".join(out)


def _first_name_placeholder(customer_context: dict[str, Any], pseudo: Any) -> str:
    name = customer_context.get("customer", {}).get("name")
    return "[CUSTOMER_FIRST_NAME]" if name and "[CUSTOMER_FIRST_NAME]" in pseudo.placeholders else (name or "")


# --- offline engine ----------------------------------------------------------------


def offline_reply(prompt: Prompt) -> ReplyModelOutput:
    """Template reply: greeting, sentiment-adapted opening, intent body, history, action, closing."""
    ctx = prompt.context
    lang = prompt.customer_language or "en"  # texts_in falls back to English for an unknown language too
    t = lambda key, **v: prompt.text_in(lang, key, **v)  # noqa: E731 - customer-language phrasing
    cust = ctx["customer_context"].get("customer", {})
    style = "formal" if ctx["formal"] else "informal"
    used: list[str] = []
    has_name = bool(cust.get("name"))
    name = "[CUSTOMER_NAME]" if style == "formal" else "[CUSTOMER_FIRST_NAME]"
    lines = [t(f"greeting_{style}", name=name) if has_name else t(f"greeting_{style}_anonymous")]
    if has_name:
        used.append("name")
    lines.append(t(f"opening_{ctx['sentiment']['label']}_{style}"))
    lines.append(t(_intent_key(prompt, "body_", ctx["intent"], f"_{style}")))
    open_tickets = ctx["customer_context"].get("open_tickets", [])
    current = ctx["customer_context"].get("current_ticket")
    related = current or next((tk for tk in open_tickets if tk["category"] == ctx["intent"]), None)
    if related:
        lines.append(t(f"history_ticket_{style}", subject=related["subject"]))
        used.append(f"open ticket {related['ticket_id']}")
    if (cust.get("tenure_months") or 0) >= 60:
        lines.append(t(f"loyalty_{style}", years=cust["tenure_months"] // 12))
        used.append(f"tenure {cust['tenure_months'] // 12} years")
    # The top action's pitch goes into the draft only when it may be suggested directly; the
    # catalogue's pitches are written in the formal register.
    top = ctx["actions"][0] if ctx["actions"] else None
    auto = top if top and top["auto_suggest_allowed"] and style == "formal" else None
    if auto:
        lines.append(auto["pitch"])
        used.append(f"action {auto['offer_id']}")
    if ctx["channel"] != "chat":
        lines.append(t(f"closing_{style}"))
    separator = " " if ctx["channel"] == "chat" else "\n\n"
    questions = []
    if prompt.has_text(f"q_{ctx['intent']}"):
        questions.append(prompt.text(f"q_{ctx['intent']}"))
    mood = prompt.text(f"summary_sentiment_{ctx['sentiment']['label']}")
    summary = prompt.text(_intent_key(prompt, "summary_", ctx["intent"], "")) + " " + mood
    return ReplyModelOutput(
        intent_summary=summary,
        reply=separator.join(line for line in lines if line),
        questions_for_agent=questions,
        personalization_used=used,
        referenced_offer_ids=[auto["offer_id"]] if auto else [],
    )


GENERIC_INTENT = "general"


def _intent_key(prompt: Prompt, prefix: str, intent: str, suffix: str) -> str:
    """The intent's own phrase key, or the generic template's for an intent without texts."""
    key = f"{prefix}{intent}{suffix}"
    return key if prompt.has_text(key) else f"{prefix}{GENERIC_INTENT}{suffix}"
