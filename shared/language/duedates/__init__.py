"""Spoken deadlines turned into dates: ``phrases`` (per-language data compiled to patterns, matching),
``calendar`` (business days and public holidays), ``resolver`` (the rules that turn a phrase into a
``Due``). Import the public names from here."""

from shared.language.duedates.calendar import BusinessCalendar, business_calendar
from shared.language.duedates.resolver import CALENDAR_DAY_OWNERS, Due, DueDateResolver, Status, resolver

__all__ = [
    "CALENDAR_DAY_OWNERS",
    "BusinessCalendar",
    "Due",
    "DueDateResolver",
    "Status",
    "business_calendar",
    "resolver",
]
