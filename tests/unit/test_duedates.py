"""Spoken deadlines to real dates: a table of English and German phrases."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from shared.config import ROOT
from shared.duedates import resolver

R = resolver(ROOT / "config" / "due_phrases.yaml")
THU = datetime(2026, 11, 19, 14, 0, tzinfo=UTC)  # Thursday 15:00 in Berlin
XMAS = datetime(2026, 12, 23, 10, 0, tzinfo=UTC)  # Wednesday before Christmas

D = date
CASES = [
    # (language, phrase, expected due date) — conversation ends Thu 19 Nov 2026, Berlin, Germany
    ("en", "today", D(2026, 11, 19)), ("en", "by end of day", D(2026, 11, 19)), ("en", "asap", D(2026, 11, 19)),
    ("en", "tonight", D(2026, 11, 19)), ("en", "tomorrow", D(2026, 11, 20)),
    ("en", "by tomorrow morning", D(2026, 11, 20)), ("en", "the day after tomorrow", D(2026, 11, 23)),
    ("en", "by Friday", D(2026, 11, 20)), ("en", "on Monday", D(2026, 11, 23)), ("en", "next Monday", D(2026, 11, 23)),
    ("en", "next Friday", D(2026, 11, 27)), ("en", "by Wednesday", D(2026, 11, 25)),
    ("en", "Thursday", D(2026, 11, 26)),
    ("en", "within 3 business days", D(2026, 11, 24)), ("en", "within two working days", D(2026, 11, 23)),
    ("en", "in 2 days", D(2026, 11, 23)), ("en", "within 5 days", D(2026, 11, 24)),
    ("en", "within 24 hours", D(2026, 11, 20)), ("en", "within 48 hours", D(2026, 11, 23)),
    ("en", "in a week", D(2026, 11, 26)), ("en", "within two weeks", D(2026, 12, 3)),
    ("en", "in a month", D(2026, 12, 21)), ("en", "by the end of the week", D(2026, 11, 20)),
    ("en", "this week", D(2026, 11, 20)), ("en", "next week", D(2026, 11, 27)),
    ("en", "end of the month", D(2026, 11, 30)), ("en", "by 15 December", D(2026, 12, 15)),
    ("en", "December 3rd", D(2026, 12, 3)), ("en", "by 3/12", D(2026, 12, 3)),
    ("en", "until 2027-01-08", D(2027, 1, 8)), ("en", "within a couple of days", D(2026, 11, 23)),
    ("en", "over the next few days", D(2026, 11, 23)),
    ("de", "heute", D(2026, 11, 19)), ("de", "noch heute", D(2026, 11, 19)), ("de", "sofort", D(2026, 11, 19)),
    ("de", "morgen", D(2026, 11, 20)), ("de", "bis morgen", D(2026, 11, 20)), ("de", "übermorgen", D(2026, 11, 23)),
    ("de", "bis Freitag", D(2026, 11, 20)), ("de", "am Montag", D(2026, 11, 23)),
    ("de", "nächsten Freitag", D(2026, 11, 27)), ("de", "bis Mittwoch", D(2026, 11, 25)),
    ("de", "innerhalb von 3 Werktagen", D(2026, 11, 24)), ("de", "innerhalb von zwei Werktagen", D(2026, 11, 23)),
    ("de", "in zwei Tagen", D(2026, 11, 23)), ("de", "binnen 5 Tagen", D(2026, 11, 24)),
    ("de", "innerhalb von 24 Stunden", D(2026, 11, 20)), ("de", "innerhalb von 48 Stunden", D(2026, 11, 23)),
    ("de", "in einer Woche", D(2026, 11, 26)), ("de", "in zwei Wochen", D(2026, 12, 3)),
    ("de", "bis Ende der Woche", D(2026, 11, 20)), ("de", "diese Woche", D(2026, 11, 20)),
    ("de", "nächste Woche", D(2026, 11, 27)), ("de", "bis Monatsende", D(2026, 11, 30)),
    ("de", "bis zum 15.12.", D(2026, 12, 15)), ("de", "bis 24.12.2026", D(2026, 12, 24)),
    ("de", "am 1.1.", D(2027, 1, 4)),  # New Year's Day is a holiday, then a weekend
    ("de", "bis zum 3. Dezember", D(2026, 12, 3)), ("de", "in den nächsten paar Tagen", D(2026, 11, 23)),
    ("de", "Anfang nächster Woche", D(2026, 11, 27)),
]  # fmt: skip


@pytest.mark.parametrize(("lang", "phrase", "expected"), CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_phrases(lang: str, phrase: str, expected: date) -> None:
    due = R.resolve(phrase, end=THU, tz="Europe/Berlin", country="DE", language=lang)
    assert due.due_by == expected, due


@pytest.mark.parametrize(
    ("phrase", "country", "tz", "end", "expected"),
    [
        ("within 3 business days", "DE", "Europe/Berlin", XMAS, D(2026, 12, 29)),  # 25th and 26th are holidays
        ("tomorrow", "DE", "Europe/Berlin", XMAS, D(2026, 12, 24)),  # Christmas Eve is a working day
        ("by Friday", "DE", "Europe/Berlin", XMAS, D(2026, 12, 28)),  # Friday is Christmas Day
        ("end of the week", "GB", "Europe/London", XMAS, D(2026, 12, 24)),  # moves back, not past the holiday
        ("bis Ende des Monats", "DE", "Europe/Berlin", datetime(2026, 12, 30, 9, tzinfo=UTC), D(2026, 12, 31)),
        ("tomorrow", "US", "America/Los_Angeles", datetime(2026, 11, 25, 20, tzinfo=UTC), D(2026, 11, 27)),
        # 23:30 UTC is already Friday in Berlin: "tomorrow" is Saturday, so Monday
        ("tomorrow", "DE", "Europe/Berlin", datetime(2026, 11, 19, 23, 30, tzinfo=UTC), D(2026, 11, 23)),
    ],
)  # fmt: skip
def test_holidays_weekends_and_time_zones(phrase: str, country: str, tz: str, end: datetime, expected: date) -> None:
    lang = "de" if phrase.startswith("bis") else "en"
    assert R.resolve(phrase, end=end, tz=tz, country=country, language=lang).due_by == expected


def test_sla_default_and_nothing_said() -> None:
    due = R.resolve(None, end=THU, tz="Europe/Berlin", country="DE", language="en", sla_business_days=2)
    assert (due.due_by, due.rule) == (D(2026, 11, 23), "sla_default")
    assert R.resolve(None, end=THU, tz="Europe/Berlin", country="DE", language="en").due_by is None
    assert R.resolve("whenever", end=THU, tz="Europe/Berlin", country="DE", language="en").due_by is None


@pytest.mark.parametrize(
    ("sentence", "lang", "phrase"),
    [
        ("I'll send you the replacement router by Friday.", "en", "by Friday"),
        ("Our billing team will correct it within 5 business days.", "en", "within 5 business days"),
        ("Could you send me a photo tomorrow?", "en", "tomorrow"),
        ("I'm in the office all day and we'll sort it out.", "en", None),
        ("Unser Abrechnungsteam meldet sich innerhalb von 5 Werktagen.", "de", "innerhalb von 5 Werktagen"),
        ("Ich rufe Sie morgen an.", "de", "morgen"),
        ("Bitte schicken Sie uns das Foto bis zum 3. Dezember.", "de", "bis zum 3. Dezember"),
        ("Der Techniker kommt übermorgen vorbei.", "de", "übermorgen"),
    ],
)
def test_phrases_are_found_in_sentences(sentence: str, lang: str, phrase: str | None) -> None:
    assert R.find_phrase(sentence, lang) == phrase


def test_table_size() -> None:
    assert len(CASES) >= 60 and {c[0] for c in CASES} == {"en", "de"}


def test_unknown_country_counts_weekends_only() -> None:
    due = R.resolve("within 3 business days", end=XMAS, tz="Europe/Berlin", country="XX", language="en")
    assert due.due_by == D(2026, 12, 28)  # 24, 25, 28: no holidays known, weekends still skipped
