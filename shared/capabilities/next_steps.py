"""Next steps at the end of a contact: owners, real due dates, routing, knowledge articles.

request → snapshot + ticket → language, intent, routing hint → KB retrieval (vector
search) → pseudonymized, budgeted transcript → model (or offline extractor) → code
resolves due dates, maps the resolver group to a queue (unknown → triage, flagged),
keeps only retrieved KB ids, checks evidence → stored suggestion + event.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.capabilities import _pipeline as suggestions
from shared.capabilities._context import open_customer
from shared.capabilities._pipeline import SuggestionMeta
from shared.data.snapshots import ORDER_IDS, Reads
from shared.decisions.router import Candidate, final_route
from shared.engine.prompts import Prompt
from shared.language.conversation import MAX_CALL_TURNS, Turn
from shared.language.detect import choose_language
from shared.language.windows import prompt_turns
from shared.platform.calls import ID_PATTERN, CallContext
from shared.safety.context_policy import pseudonymizer_for

if TYPE_CHECKING:
    from shared.runtime import Runtime

CAPABILITY = "next_steps"
READS = Reads(orders=ORDER_IDS)
"""The profile (language, time zone, address for holidays, name) and the order ids its placeholders number."""
Owner = Literal["agent", "customer", "backoffice"]
TRANSCRIPT_TOKEN_BUDGET = 3000
NON_TASK_CONFIDENCE = 0.2
_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="cx-kb")


class TicketMetadata(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str | None = Field(default=None, max_length=500)
    category: str | None = Field(default=None, max_length=100)
    priority: Literal["low", "medium", "high", "critical"] | None = None
    queue: str | None = Field(default=None, max_length=100, description="Current queue label, if any.")


class NextStepsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    customer_id: str = Field(pattern=ID_PATTERN)
    ticket_id: str = Field(pattern=ID_PATTERN)
    channel: Literal["chat", "email", "phone"]
    transcript: list[Turn] = Field(min_length=1, max_length=MAX_CALL_TURNS)
    ticket_metadata: TicketMetadata = Field(default_factory=TicketMetadata)
    conversation_end_time: datetime | None = Field(default=None, description="Default: last turn's time, else now.")
    timezone: str | None = Field(default=None, description="IANA zone; default: the customer's.")
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value

    @field_validator("conversation_end_time")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("needs a UTC offset, e.g. 2026-11-19T15:00:00+01:00")
        return value


class ModelAction(BaseModel):
    owner: Owner
    description: str
    due_text: str | None = Field(default=None, description="The words that set or imply the deadline, verbatim.")
    evidence: str = Field(description="The transcript sentence this action comes from, verbatim.")
    confidence: float = Field(default=0.8, ge=0.0, le=1.0, description="How sure the extractor is that it was agreed.")
    done: bool = Field(default=False, description="Already completed during the contact (nothing left to do).")


class FirstContact(BaseModel):
    value: bool
    reason: str


class KbPick(BaseModel):
    kb_id: str
    why: str


class NextStepsModelOutput(BaseModel):
    """What the model returns (Gemini response_schema)."""

    issue_summary: str
    actions: list[ModelAction] = Field(default_factory=list, max_length=10)
    resolver_group: str
    first_contact_resolvable: FirstContact
    kb_suggestions: list[KbPick] = Field(default_factory=list, max_length=3)
    customer_facing_closing_text: str


class ActionOut(BaseModel):
    owner: Owner
    description: str
    due_by: date | None
    due_text: str | None
    due_rule: str
    due_status: Literal["resolved", "confirm", "ask_agent", "none"] = Field(
        default="none",
        description="resolved: a date; confirm: a proposed date to confirm; ask_agent: no date "
        "(e.g. relative to another event), see due_question; none: no deadline.",
    )
    due_question: str | None = Field(default=None, description="For the agent, in the agent's language.")
    due_time: str | None = Field(default=None, description="Local time of day (HH:MM) when one was said.")
    evidence: str
    evidence_verified: bool
    confidence: float = Field(ge=0.0, le=1.0)
    done: bool = False
    needs_review: bool = Field(description="Low confidence or unverified evidence: the agent must confirm it.")


class KbSuggestion(BaseModel):
    kb_id: str
    title: str
    why: str


class NextStepsResponse(SuggestionMeta):
    issue_summary: str
    actions: list[ActionOut]
    resolver_group: str
    queue_code: str
    routing_flagged: bool = Field(description="Unknown group or the router was unsure: triage or agent check.")
    router_version: str = Field(description="The routing model (or fallback mapping) that suggested the group.")
    route_confidence: float = Field(ge=0, le=1, description="Router's calibrated probability of its best group.")
    route_candidates: list[Candidate] = Field(description="Router's top groups with probabilities (dropdown).")
    first_contact_resolvable: FirstContact
    kb_suggestions: list[KbSuggestion] = Field(max_length=3)
    customer_facing_closing_text: str
    language: str
    ticket_id: str


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def extract(req: NextStepsRequest, rt: Runtime, call: CallContext | None = None) -> NextStepsResponse:
    call = call or CallContext()
    settings = rt.settings
    # The customer first: who may not see them learns nothing about their tickets either.
    view, _ = open_customer(rt, call, CAPABILITY, req.customer_id, READS, channel=req.channel)
    snapshot = view.snapshot
    c = snapshot.customer
    ticket = rt.snapshots.get_ticket(req.customer_id, req.ticket_id)
    customer_text = "\n".join(t.text for t in req.transcript if t.speaker == "customer")
    subject = req.ticket_metadata.subject or ticket.subject
    kb_future = _pool.submit(rt.kb.search, f"{subject}\n{customer_text[:1500]}", rt.embedder, 3)
    language = req.language or choose_language(customer_text, tuple(settings.detect_languages), c.profile.language)[0]
    tz = req.timezone or c.profile.timezone
    end = (
        req.conversation_end_time
        or next((t.timestamp for t in reversed(req.transcript) if t.timestamp), None)
        or datetime.now(UTC)
    )
    intent = rt.reply_intents.predict(f"{subject}\n{customer_text}", language)
    others = "\n".join(t.text for t in req.transcript if t.speaker != "customer")
    routing = rt.router.route(subject, customer_text, others, current_queue=req.ticket_metadata.queue)
    hint = routing.as_route()
    retrieved = kb_future.result()

    pseudo = pseudonymizer_for(snapshot, rt.pii_detector)
    # The whole call, however long (read in windows): a promise in its first minutes is a step too, and
    # the model is shown the turns it was made in beside the end of the call.
    turns = [{"i": i, "speaker": t.speaker, "text": t.text} for i, t in enumerate(req.transcript)]
    commitments = rt.extractor.actions(turns, language, rt.due_dates.find_phrase)
    context = {
        "subject": subject,
        "intent": intent.label,
        "channel": req.channel,
        "language": language,
        "route_hint": hint.resolver_group,
        "resolver_groups": rt.queues.labels,
        "route_candidates": [c.model_dump() for c in routing.candidates],
        "route_abstained": routing.abstained,
        "route_examples": [e.model_dump() for e in routing.examples],
        "customer_name": c.profile.name if "name" in view.allowed else None,
        "conversation_end": end.astimezone(ZoneInfo(tz)).strftime("%A %Y-%m-%d %H:%M"),
        "transcript": prompt_turns(turns, TRANSCRIPT_TOKEN_BUDGET, keep=[a["turn"] for a in commitments]),
        "kb_candidates": [{"kb_id": a.kb_id, "title": a.title, "snippet": a.body[:300]} for a, _ in retrieved],
    }
    context["commitments"] = commitments
    context["summary"] = rt.extractor.summary_sentences(turns, language, limit=3)
    context["review_below"] = rt.extractor.review_below
    template = suggestions.template_for(rt, CAPABILITY, req)
    prompt = template.render(
        context=pseudo.mask_obj(context), language=settings.agent_language, customer_language=language
    )
    output, usage = suggestions.ask(rt, prompt, NextStepsModelOutput, pseudo)

    route = final_route(rt.queues, routing, output.resolver_group)
    spoken = _norm(" ".join(t.text for t in req.transcript))
    country = c.profile.address.country if c.profile.address else None
    subdivision = c.profile.address.subdivision if c.profile.address else None
    actions = []
    for a in output.actions:
        sla = route.sla_business_days if a.owner == "backoffice" else None
        due = rt.due_dates.resolve(
            a.due_text,
            end=end,
            tz=tz,
            country=country,
            language=language,
            sla_business_days=sla,
            subdivision=subdivision,
            owner=a.owner,
            sentence=a.evidence,
            action=a.description,
            agent_language=settings.agent_language,
        )
        verified = bool(a.evidence) and _norm(a.evidence) in spoken
        # Any engine: an action quoting only a negation, question or offer is never asserted.
        suspect = verified and rt.extractor.non_task(a.evidence, language)
        confidence = min(a.confidence, NON_TASK_CONFIDENCE) if suspect else a.confidence
        actions.append(
            ActionOut(
                owner=a.owner,
                description=a.description,
                due_by=due.due_by,
                due_text=a.due_text,
                due_rule=due.rule,
                due_status=due.status,
                due_question=due.question,
                due_time=due.due_time.strftime("%H:%M") if due.due_time else None,
                evidence=a.evidence,
                evidence_verified=verified,
                confidence=confidence,
                done=a.done,
                needs_review=not verified or confidence < rt.extractor.review_below,
            )
        )
    titles = {a.kb_id: a.title for a, _ in retrieved}
    kb = [
        KbSuggestion(kb_id=k.kb_id, title=titles[k.kb_id], why=k.why)
        for k in output.kb_suggestions
        if k.kb_id in titles
    ][:3]  # the model never invents an article
    fcr = _first_contact(output, actions, rt.queues.first_contact(intent.label, f"{subject}\n{spoken}"), prompt)

    meta = suggestions.record(
        rt,
        call,
        pseudo=pseudo,
        customer_id=req.customer_id,
        prompt=prompt,
        policy_version=rt.queues.version,
        usage=usage,
        attributes={
            "ticket_id": req.ticket_id,
            "actions": len(actions),
            "resolver_group": route.resolver_group,
            "routing_flagged": route.flagged,
            "kb": [k.kb_id for k in kb],
            "turns": len(req.transcript),
            "router_version": routing.router_version,
            "route_confidence": routing.confidence,
            "route_candidates": [c.model_dump() for c in routing.candidates],
        },
        text=output.customer_facing_closing_text,
        review_flags=pseudo.review_flags,
    )
    response = NextStepsResponse(
        **meta.model_dump(),
        issue_summary=output.issue_summary,
        actions=actions,
        resolver_group=route.resolver_group,
        queue_code=route.queue_code,
        routing_flagged=route.flagged,
        router_version=routing.router_version,
        route_confidence=routing.confidence,
        route_candidates=routing.candidates,
        first_contact_resolvable=fcr,
        kb_suggestions=kb,
        customer_facing_closing_text=output.customer_facing_closing_text,
        language=language,
        ticket_id=req.ticket_id,
    )
    rt.next_steps_store.save_suggestion(req.customer_id, req.ticket_id, minimized(response, pseudo))
    return response


def minimized(response: NextStepsResponse, pseudo: Any) -> NextStepsResponse:
    """The copy kept for quality work: every free text pseudonymized with the prompt's placeholders."""
    texts = [response.issue_summary, response.customer_facing_closing_text]
    for a in response.actions:
        texts += [a.description, a.evidence, a.due_text or "", a.due_question or ""]
    texts += [k.why for k in response.kb_suggestions]
    masked = iter(pseudo.mask_many(texts))
    summary, closing = next(masked), next(masked)
    actions = []
    for a in response.actions:
        description, evidence, due_text, question = next(masked), next(masked), next(masked), next(masked)
        actions.append(
            a.model_copy(
                update={
                    "description": description,
                    "evidence": evidence,
                    "due_text": due_text or None,
                    "due_question": question or None,
                }
            )
        )
    kb = [k.model_copy(update={"why": next(masked)}) for k in response.kb_suggestions]
    return response.model_copy(
        update={
            "issue_summary": summary,
            "customer_facing_closing_text": closing,
            "actions": actions,
            "kb_suggestions": kb,
        }
    )


def _first_contact(
    output: NextStepsModelOutput, actions: list[ActionOut], pattern: Any, prompt: Prompt
) -> FirstContact:
    """Resolvable in this contact only when no back-office or future step remains (any engine)."""
    pending = [a for a in actions if not a.done]
    if any(a.owner == "backoffice" for a in pending):
        return FirstContact(value=False, reason=prompt.text("fcr_backoffice"))
    if pending:
        return FirstContact(value=False, reason=prompt.text("fcr_pending"))
    if pattern:
        return FirstContact(value=True, reason=pattern.reason)
    if not output.first_contact_resolvable.value:
        return output.first_contact_resolvable
    return FirstContact(value=True, reason=prompt.text("fcr_no_backoffice"))


# --- offline engine ----------------------------------------------------------------


def offline_next_steps(prompt: Prompt) -> NextStepsModelOutput:
    """Actions from sentence structure (shared/extraction.py): owner, act, confidence, due words."""
    ctx = prompt.context
    actions = [
        ModelAction(
            owner=item["owner"],
            description=item["description"],
            due_text=item["due_text"],
            evidence=item["sentence"],
            confidence=item["confidence"],
            done=item["act"] == "completed",
        )
        for item in ctx["commitments"]
    ][:10]
    pending = [a for a in actions if not a.done]
    backoffice = any(a.owner == "backoffice" for a in pending)
    key = "fcr_backoffice" if backoffice else "fcr_pending" if pending else "fcr_no_backoffice"
    fcr = FirstContact(value=not pending, reason=prompt.text(key))
    kb = [KbPick(kb_id=k["kb_id"], why=prompt.text("kb_why", title=k["title"])) for k in ctx["kb_candidates"]]
    return NextStepsModelOutput(
        issue_summary=_issue_summary(prompt),
        actions=actions,
        resolver_group=ctx["route_hint"],
        first_contact_resolvable=fcr,
        kb_suggestions=kb[:3],
        customer_facing_closing_text=_closing(prompt, actions),
    )


def _issue_summary(prompt: Prompt) -> str:
    """Intent label + the customer's problem sentence (extractive), else the subject; never a bare label + colon."""
    ctx = prompt.context
    problem = next((s["text"] for s in ctx.get("summary", []) if s["speaker"] == "customer"), None)
    detail = (problem or ctx.get("subject") or "").strip()
    intent = ctx.get("intent") or "general"
    if not detail:
        return prompt.text(f"label_{intent}") if f"label_{intent}" in prompt.texts["en"] else prompt.text("no_summary")
    key = f"summary_{intent}" if f"summary_{intent}" in prompt.texts["en"] else "summary_general"  # any taxonomy
    return prompt.text(key, subject=detail)


def _closing(prompt: Prompt, actions: list[ModelAction]) -> str:
    """What happens next, for the customer: only confident steps; no "what we need" section without one."""
    lang = prompt.customer_language or "en"
    sure = [a for a in actions if a.confidence >= prompt.context.get("review_below", 0.0) and not a.done]
    ours = [a for a in sure if a.owner in ("agent", "backoffice")]
    yours = [a for a in sure if a.owner == "customer"]
    if not ours and not yours:
        return " ".join([prompt.text_in(lang, "closing_none"), prompt.text_in(lang, "closing_outro")])
    lines = [prompt.text_in(lang, "closing_intro")]
    if ours:
        lines.append(prompt.text_in(lang, "closing_ours", items="; ".join(_plain(a) for a in ours)))
    if yours:
        lines.append(prompt.text_in(lang, "closing_yours", items="; ".join(_plain(a) for a in yours)))
    lines.append(prompt.text_in(lang, "closing_outro"))
    return " ".join(lines)


def _plain(action: ModelAction) -> str:
    return action.description.rstrip(".!")
