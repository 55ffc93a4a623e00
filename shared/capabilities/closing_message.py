"""The closing confirmation message to the customer: who does what by when, in the customer's language."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from shared.capabilities import _pipeline as suggestions
from shared.capabilities._context import open_customer
from shared.capabilities._pipeline import SuggestionMeta
from shared.data.snapshots import ORDER_IDS, Part, Reads
from shared.decisions import closing
from shared.decisions.actions import FinalAction
from shared.engine.prompts import Prompt
from shared.platform.calls import ID_PATTERN, CallContext
from shared.safety.context_policy import pseudonymizer_for

if TYPE_CHECKING:
    from shared.runtime import Runtime

CLOSING = "closing_message"
READS = Reads(orders=Part(fields=ORDER_IDS.fields, limit=1))
"""The profile (name, language, time zone) and the latest order's id (its placeholder)."""


class ClosingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    customer_id: str = Field(pattern=ID_PATTERN)
    ticket_id: str | None = Field(default=None, pattern=ID_PATTERN)
    actions: list[FinalAction] = Field(
        default_factory=list, max_length=20, description="Confirmed actions; none = settled in the contact."
    )
    channel: Literal["email", "chat"]
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$")
    today: date | None = Field(
        default=None,
        description="The contact's day (today/tomorrow wording); default: today in the customer's time zone.",
    )


class ClosingOutput(BaseModel):
    message: str


class ClosingResponse(SuggestionMeta):
    message: str
    language: str


def _format_day(day: date, language: str) -> str:
    from babel.core import UnknownLocaleError
    from babel.dates import format_date

    try:
        return format_date(day, format="full", locale=language)
    except (UnknownLocaleError, ValueError):
        return format_date(day, format="full", locale="en")


def closing_message(req: ClosingRequest, rt: Runtime, call: CallContext | None = None) -> ClosingResponse:
    call = call or CallContext()
    view, _ = open_customer(rt, call, CLOSING, req.customer_id, READS, channel=req.channel)
    snapshot = view.snapshot
    c = snapshot.customer
    language = req.language or c.profile.language
    pseudo = pseudonymizer_for(snapshot, rt.pii_detector)
    today = req.today or datetime.now(UTC).astimezone(ZoneInfo(c.profile.timezone)).date()
    actions = [
        {
            "owner": a.owner,
            "description": a.description.rstrip(".!"),
            "due": _format_day(a.due_by, language) if a.due_by else None,
            "due_by": a.due_by.isoformat() if a.due_by else None,
            "due_source": a.due_source,
            "condition": a.condition,
        }
        for a in req.actions
    ]
    context = {
        "name": c.profile.name if "name" in view.allowed else None,
        "channel": req.channel,
        "actions": actions,
        "today": today.isoformat(),
        "still_open": rt.commitments.still_open(req.customer_id, req.ticket_id, language),
    }
    template = suggestions.template_for(rt, CLOSING, req)
    prompt = template.render(context=pseudo.mask_obj(context), language=language, customer_language=language)
    output, usage = suggestions.ask(rt, prompt, ClosingOutput, pseudo)
    meta = suggestions.record(
        rt,
        call,
        pseudo=pseudo,
        customer_id=req.customer_id,
        prompt=prompt,
        policy_version=rt.queues.version,
        usage=usage,
        attributes={"actions": len(actions), "ticket_id": req.ticket_id},
        text=output.message,
        review_flags=pseudo.review_flags,
    )
    return ClosingResponse(**meta.model_dump(), message=output.message, language=language)


def offline_closing(prompt: Prompt) -> ClosingOutput:
    ctx = prompt.context
    lines = [prompt.text("greeting", name=ctx["name"]) if ctx.get("name") else prompt.text("greeting_anonymous")]
    if not ctx["actions"]:  # nothing open: no list, no "what we need from you"
        lines.append(prompt.text("intro_none"))
    else:
        lines.append(prompt.text("intro"))
        # the company's phrasing from the confirmed actions (shared/decisions/closing.py), never transcript text
        items = [
            SimpleNamespace(**{**a, "due_by": date.fromisoformat(a["due_by"]) if a.get("due_by") else None})
            for a in ctx["actions"]
        ]
        today = date.fromisoformat(ctx["today"]) if ctx.get("today") else None
        lines += closing.action_lines(items, prompt.text, lambda d: _format_day(d, prompt.language), today)
        if not any(a["owner"] == "customer" for a in ctx["actions"]):
            lines.append(prompt.text("nothing_from_you"))
    if ctx.get("still_open"):  # promises from earlier contacts, worded by shared/decisions/commitments.py
        lines += [ctx["still_open"]["heading"], *ctx["still_open"]["lines"]]
    lines.append(prompt.text("outro"))
    if ctx["channel"] == "email":
        lines.append(prompt.text("signature"))
    return ClosingOutput(message="\n".join(lines))
