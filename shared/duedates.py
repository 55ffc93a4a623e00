"""Spoken deadlines ("by Friday", "within 3 business days", "bis Ende der Woche",
"morgen") turned into real dates, in code.

Dates count from the conversation's end in the customer's time zone. Deadlines landing
on a weekend or public holiday of the customer's country (``holidays``) move to the
next business day; "end of week/month" deadlines move back to the last business day of
that period. Explicit dates ("15 December", "15.12.") go through ``dateparser``. With no
phrase, the resolver group's SLA applies. Phrases are per-language data
(config/due_phrases.yaml); the logic has no language branches.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml


@dataclass(frozen=True)
class Due:
    due_by: date | None
    rule: str
    phrase: str | None = None


def _alt(words: list[str] | Any) -> str:
    return "|".join(re.escape(str(w)) for w in sorted({str(w) for w in words}, key=len, reverse=True))


@dataclass(frozen=True)
class _Lang:
    table: dict[str, Any]
    within: re.Pattern[str]
    keyword: re.Pattern[str]
    weekday: re.Pattern[str]
    explicit: re.Pattern[str]
    find: re.Pattern[str]


def _anon(pattern: str) -> str:
    """The same alternation without named groups, so several can sit in one regex."""
    return re.sub(r"\?P<\w+>", "?:", pattern)


KEYWORD_RULES = ("day_after_tomorrow", "tomorrow", "today", "end_of_month", "end_of_week", "next_week")


def _compile(t: dict[str, Any]) -> _Lang:
    numbers = _alt(t["numbers"])
    units = _alt([u for forms in t["units"].values() for u in forms])
    within = rf"(?:{_alt(t['within'])})\s+(?P<num>\d+|{numbers})\s*(?P<unit>{units})"
    keywords = {rule: _alt(t[rule]) for rule in KEYWORD_RULES}
    keyword = "|".join(f"(?P<{rule}>{alt})" for rule, alt in keywords.items())
    weekday = rf"(?:(?P<next>{_alt(t['next_marker'])})\s+)?(?P<day>{_alt(t['weekdays'])})"
    months = _alt(t["months"])
    explicit = (rf"\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}\.\s?\d{{1,2}}\.(?:\d{{2,4}})?|\d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?"
                rf"|\d{{1,2}}(?:st|nd|rd|th|\.)?\s+(?:of\s+)?(?:{months})\b\.?(?:\s+\d{{4}})?"
                rf"|(?:{months})\b\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?")  # fmt: skip
    prefix = rf"(?:(?:{_alt(t['prefixes'])})\s+)?"
    bounded = lambda p: rf"(?<!\w)(?:{p})(?!\w)"  # noqa: E731
    flags = re.IGNORECASE
    return _Lang(
        table=t,
        within=re.compile(bounded(within), flags),
        keyword=re.compile(bounded(keyword), flags),
        weekday=re.compile(bounded(weekday), flags),
        explicit=re.compile(bounded(explicit), flags),
        find=re.compile(bounded(prefix + f"(?:{within}|{_anon(keyword)}|{explicit}|{_anon(weekday)})"), flags),
    )  # fmt: skip


class DueDateResolver:
    def __init__(self, path: Path) -> None:
        raw = yaml.safe_load(path.read_text("utf-8"))
        self.version = str(raw.pop("version"))
        self._langs = {lang: _compile(table) for lang, table in raw.items()}

    def _lang(self, language: str) -> list[_Lang]:
        return [self._langs[language]] if language in self._langs else list(self._langs.values())

    def find_phrase(self, text: str, language: str) -> str | None:
        """The first deadline phrase in a sentence, with its preposition ("by Friday")."""
        best: re.Match[str] | None = None
        for lang in self._lang(language):
            m = lang.find.search(text)
            if m and (best is None or m.start() < best.start()):
                best = m
        if best is None:
            return None
        phrase = best.group().strip()
        # A sentence's full stop after a word is not part of the phrase ("15.12." keeps its dot).
        return phrase[:-1] if re.search(r"[^\W\d]\.$", phrase) else phrase

    def resolve(
        self,
        phrase: str | None,
        *,
        end: datetime,
        tz: str,
        country: str | None,
        language: str,
        sla_business_days: int | None = None,
        subdivision: str | None = None,
    ) -> Due:
        local = end.astimezone(ZoneInfo(tz))
        cal = _Calendar(country, subdivision, local.year)
        start = local.date()
        if phrase:
            for lang in self._lang(language):
                due = _resolve(lang, phrase.lower(), local, start, cal)
                if due is not None:
                    return Due(due[0], due[1], phrase)
        if sla_business_days is not None:
            return Due(cal.add_business_days(start, sla_business_days), "sla_default", None)
        return Due(None, "none", phrase)


def _resolve(lang: _Lang, phrase: str, local: datetime, start: date, cal: _Calendar) -> tuple[date, str] | None:
    t = lang.table
    m = lang.explicit.search(phrase)
    if m:
        parsed = _explicit(m.group(), local, t)
        if parsed is not None:
            return cal.forward(parsed), "explicit_date"
    m = lang.within.search(phrase)
    if m:
        raw = m.group("num").lower()
        n = int(raw) if raw.isdigit() else int(t["numbers"][raw])
        unit = next(u for u, forms in t["units"].items() if m.group("unit").lower() in forms)
        if unit == "business_day":
            return cal.add_business_days(start, n), "within_business_days"
        if unit == "day":
            return cal.forward(start + timedelta(days=n)), "within_days"
        if unit == "hour":
            return cal.forward((local + timedelta(hours=n)).date()), "within_hours"
        if unit == "week":
            return cal.forward(start + timedelta(weeks=n)), "within_weeks"
        month = start.month - 1 + n
        year, month = start.year + month // 12, month % 12 + 1
        return cal.forward(date(year, month, min(start.day, calendar.monthrange(year, month)[1]))), "within_months"
    m = lang.keyword.search(phrase)
    if m:
        rule = next(r for r in KEYWORD_RULES if m.group(r))
        if rule == "today":
            return cal.forward(start), rule
        if rule == "tomorrow":
            return cal.forward(start + timedelta(days=1)), rule
        if rule == "day_after_tomorrow":
            return cal.forward(start + timedelta(days=2)), rule
        friday = start + timedelta(days=4 - start.weekday())
        if rule == "end_of_week":
            if start.weekday() > 4:
                friday += timedelta(days=7)
            return cal.backward(friday, floor=start), rule
        if rule == "next_week":
            return cal.backward(friday + timedelta(days=7), floor=start), rule
        last = date(start.year, start.month, calendar.monthrange(start.year, start.month)[1])
        due = cal.backward(last, floor=start)
        return due, rule
    m = lang.weekday.search(phrase)
    if m:
        wd = int(t["weekdays"][m.group("day").lower()])
        ahead = (wd - start.weekday()) % 7 or 7
        target = start + timedelta(days=ahead)
        if m.group("next") and target.isocalendar()[1] == start.isocalendar()[1]:
            target += timedelta(days=7)
        return cal.forward(target), "weekday"
    return None


_NUMERIC = re.compile(
    r"^(?:(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})|(?P<d2>\d{1,2})[./]\s?(?P<m2>\d{1,2})[./]?(?P<y2>\d{2,4})?)$"
)


def _explicit(text: str, local: datetime, table: dict[str, Any]) -> date | None:
    """Numeric dates directly (day first, year inferred forward); month names via dateparser."""
    m = _NUMERIC.match(text.strip())
    if m:
        day, month = int(m.group("d") or m.group("d2")), int(m.group("m") or m.group("m2"))
        year_text = m.group("y") or m.group("y2")
        year = int(year_text) + (2000 if year_text and len(year_text) == 2 else 0) if year_text else local.year
        try:
            parsed = date(year, month, day)
        except ValueError:
            return None
        if not year_text and parsed < local.date():
            parsed = date(year + 1, month, day)
        return parsed
    import dateparser

    cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text, flags=re.IGNORECASE).replace(" of ", " ")
    cleaned = re.sub(r"^(\d{1,2})\.\s?(\d{1,2})\.$", r"\1.\2.", cleaned.strip())
    settings = {"RELATIVE_BASE": local.replace(tzinfo=None), "PREFER_DATES_FROM": "future", "DATE_ORDER": "DMY"}
    parsed = dateparser.parse(cleaned, settings=settings)  # type: ignore[arg-type]
    return parsed.date() if parsed else None


@lru_cache(maxsize=64)
def _public_holidays(country: str | None, subdivision: str | None, year: int) -> Any:
    """The country's public holidays for this year and the next; none for unsupported countries."""
    if not country:
        return {}
    import holidays

    if country not in holidays.list_supported_countries():
        return {}
    return holidays.country_holidays(country, subdiv=subdivision, years=[year, year + 1])


class _Calendar:
    def __init__(self, country: str | None, subdivision: str | None, year: int) -> None:
        self._holidays = _public_holidays(country, subdivision, year)

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


@lru_cache(maxsize=2)
def resolver(path: Path) -> DueDateResolver:
    return DueDateResolver(path)
