"""Business days of a country and ISO 3166-2 subdivision: weekends and public holidays (``holidays``)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Any


def _subdivision_code(country: str | None, subdivision: str | None) -> str | None:
    """'DE-BY' or 'BY' → 'BY'; a code for another country is ignored."""
    if not subdivision:
        return None
    code = subdivision.strip().upper()
    if "-" in code:
        prefix, _, code = code.partition("-")
        if country and prefix != country.upper():
            return None
    return code or None


@lru_cache(maxsize=128)
def _public_holidays(country: str | None, subdivision: str | None, year: int) -> Any:
    """Public holidays of the country (and subdivision, when the package knows it) for this year and the next."""
    if not country:
        return {}
    import holidays

    supported = holidays.list_supported_countries()
    if country not in supported:
        return {}
    subdiv = subdivision if subdivision in supported[country] else None
    return holidays.country_holidays(country, subdiv=subdiv, years=[year, year + 1, year + 2])


class BusinessCalendar:
    def __init__(self, country: str | None, subdivision: str | None, year: int) -> None:
        self._holidays = _public_holidays(country, _subdivision_code(country, subdivision), year)

    def is_holiday(self, d: date) -> bool:
        return d in self._holidays

    def is_business_day(self, d: date) -> bool:
        return d.weekday() < 5 and d not in self._holidays

    def forward(self, d: date) -> date:
        while not self.is_business_day(d):
            d += timedelta(days=1)
        return d

    def backward(self, d: date, floor: date) -> date:
        candidate = d
        while not self.is_business_day(candidate) and candidate > floor:
            candidate -= timedelta(days=1)
        return candidate if self.is_business_day(candidate) else self.forward(d)

    def add_business_days(self, start: date, n: int) -> date:
        d = start
        while n > 0:
            d += timedelta(days=1)
            if self.is_business_day(d):
                n -= 1
        return d


def business_calendar(country: str | None, subdivision: str | None, year: int) -> BusinessCalendar:
    """The public-holiday calendar company-side deadlines follow (commitments count overdue by it)."""
    return BusinessCalendar(country, subdivision, year)
