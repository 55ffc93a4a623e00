"""The customer-facing closing text, written from the confirmed actions in the company's own phrasing
(the offline templates of the prompt version, per language), never by copying transcript sentences.

Rules every engine's text follows (the offline engine applies them; the Gemini prompt states them):

* one line per confirmed action: who ("We", "Our team", "You"), the action, its condition, its time;
* a conditional step keeps its condition ("if the replacement has not arrived by Friday …");
* a due date says where it comes from (``due_source``): ``said`` / ``agent`` — a date given in the contact
  ("by Friday, 4 December 2026", "today", "tomorrow"); ``service_level`` — the queue's standard processing
  time, worded as the usual time ("usually within 5 working days"), never as a promised date."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Literal, Protocol

DueSource = Literal["said", "service_level", "agent"]
Phrase = Callable[..., str]  # (key, **values) -> the prompt version's text in the customer's language


class ClosingAction(Protocol):
    owner: str
    description: str
    due_by: date | None
    due_source: DueSource | None
    condition: str | None


def working_days(start: date, end: date) -> int:
    """Monday-to-Friday days after ``start`` up to and including ``end`` (the usual-time wording)."""
    days, day = 0, start
    while day < end:
        day += timedelta(days=1)
        days += day.weekday() < 5
    return days


def when_phrase(action: ClosingAction, phrase: Phrase, format_day: Callable[[date], str], today: date | None) -> str:
    """The time of one action, worded after its source; "" when there is none."""
    if action.due_by is None:
        return ""
    if action.due_source == "service_level":
        if today is not None and action.due_by > today:
            return phrase("usual_time_days", days=working_days(today, action.due_by))
        return phrase("usual_time")
    if today is not None and action.due_by == today:
        return phrase("due_today")
    if today is not None and action.due_by == today + timedelta(days=1):
        return phrase("due_tomorrow")
    return phrase("by", day=format_day(action.due_by))


def action_line(action: ClosingAction, phrase: Phrase, format_day: Callable[[date], str], today: date | None) -> str:
    who = phrase(f"who_{action.owner}")
    what = action.description.strip().rstrip(".!")
    condition = (action.condition or "").strip().rstrip(".!,")
    if condition:
        return phrase(
            "line_conditional",
            who=who,
            what=what,
            condition=condition,
            when=when_phrase(action, phrase, format_day, today),
        )
    return phrase("line", who=who, what=what, when=when_phrase(action, phrase, format_day, today))


def action_lines(
    actions: Sequence[ClosingAction], phrase: Phrase, format_day: Callable[[date], str], today: date | None = None
) -> list[str]:
    """Our steps first, then the customer's; one line each."""
    ours = [a for a in actions if a.owner != "customer"]
    yours = [a for a in actions if a.owner == "customer"]
    return [action_line(a, phrase, format_day, today) for a in ours + yours]
