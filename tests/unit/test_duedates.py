"""Spoken deadlines to real dates: a table of English and German phrases."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from shared.language.duedates import resolver
from shared.language.lexicon import load_lexicons
from shared.settings import ROOT

R = resolver(ROOT / "config" / "language/due_phrases.yaml")
LEXICONS = load_lexicons(ROOT / "config" / "language" / "lexicon")
THU = datetime(2026, 11, 19, 14, 0, tzinfo=UTC)  # Thursday 15:00 in Berlin
XMAS = datetime(2026, 12, 23, 10, 0, tzinfo=UTC)  # Wednesday before Christmas

D = date
CASES = [
    # (language, phrase, expected due date) — conversation ends Thu 19 Nov 2026, Berlin, Germany
    ("en", "today", D(2026, 11, 19)),
    ("en", "by end of day", D(2026, 11, 19)),
    ("en", "asap", D(2026, 11, 19)),
    ("en", "tonight", D(2026, 11, 19)),
    ("en", "tomorrow", D(2026, 11, 20)),
    ("en", "by tomorrow morning", D(2026, 11, 20)),
    ("en", "the day after tomorrow", D(2026, 11, 21)),
    ("en", "by Friday", D(2026, 11, 20)),
    ("en", "on Monday", D(2026, 11, 23)),
    ("en", "next Monday", D(2026, 11, 23)),
    ("en", "next Friday", D(2026, 11, 27)),
    ("en", "by Wednesday", D(2026, 11, 25)),
    ("en", "Thursday", D(2026, 11, 26)),
    ("en", "within 3 business days", D(2026, 11, 24)),
    ("en", "within two working days", D(2026, 11, 23)),
    ("en", "in 2 days", D(2026, 11, 23)),
    ("en", "within 5 days", D(2026, 11, 24)),
    ("en", "within 24 hours", D(2026, 11, 20)),
    ("en", "within 48 hours", D(2026, 11, 21)),
    ("en", "in a week", D(2026, 11, 26)),
    ("en", "within two weeks", D(2026, 12, 3)),
    ("en", "in a month", D(2026, 12, 21)),
    ("en", "by the end of the week", D(2026, 11, 20)),
    ("en", "this week", D(2026, 11, 20)),
    ("en", "next week", D(2026, 11, 27)),
    ("en", "end of the month", D(2026, 11, 30)),
    ("en", "by 15 December", D(2026, 12, 15)),
    ("en", "December 3rd", D(2026, 12, 3)),
    ("en", "by 3/12", D(2026, 12, 3)),
    ("en", "until 2027-01-08", D(2027, 1, 8)),
    ("en", "within a couple of days", D(2026, 11, 23)),
    ("en", "over the next few days", D(2026, 11, 23)),
    ("de", "heute", D(2026, 11, 19)),
    ("de", "noch heute", D(2026, 11, 19)),
    ("de", "sofort", D(2026, 11, 19)),
    ("de", "morgen", D(2026, 11, 20)),
    ("de", "bis morgen", D(2026, 11, 20)),
    ("de", "übermorgen", D(2026, 11, 21)),
    ("de", "bis Freitag", D(2026, 11, 20)),
    ("de", "am Montag", D(2026, 11, 23)),
    ("de", "nächsten Freitag", D(2026, 11, 27)),
    ("de", "bis Mittwoch", D(2026, 11, 25)),
    ("de", "innerhalb von 3 Werktagen", D(2026, 11, 24)),
    ("de", "innerhalb von zwei Werktagen", D(2026, 11, 23)),
    ("de", "in zwei Tagen", D(2026, 11, 23)),
    ("de", "binnen 5 Tagen", D(2026, 11, 24)),
    ("de", "innerhalb von 24 Stunden", D(2026, 11, 20)),
    ("de", "innerhalb von 48 Stunden", D(2026, 11, 21)),
    ("de", "in einer Woche", D(2026, 11, 26)),
    ("de", "in zwei Wochen", D(2026, 12, 3)),
    ("de", "bis Ende der Woche", D(2026, 11, 20)),
    ("de", "diese Woche", D(2026, 11, 20)),
    ("de", "nächste Woche", D(2026, 11, 27)),
    ("de", "bis Monatsende", D(2026, 11, 30)),
    ("de", "bis zum 15.12.", D(2026, 12, 15)),
    ("de", "bis 24.12.2026", D(2026, 12, 24)),
    ("de", "am 1.1.", D(2027, 1, 4)),  # New Year's Day is a holiday, then a weekend
    ("de", "bis zum 3. Dezember", D(2026, 12, 3)),
    ("de", "in den nächsten paar Tagen", D(2026, 11, 23)),
    ("de", "Anfang nächster Woche", D(2026, 11, 23)),  # the beginning of next week, not its end
]


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
        # 23:30 UTC is already Friday in Berlin: "tomorrow" is Saturday, a named day, kept (as "by Saturday" is)
        ("tomorrow", "DE", "Europe/Berlin", datetime(2026, 11, 19, 23, 30, tzinfo=UTC), D(2026, 11, 21)),
        # said on Friday, company-side: Saturday is kept, not moved to Monday
        ("tomorrow", "DE", "Europe/Berlin", datetime(2026, 11, 20, 10, tzinfo=UTC), D(2026, 11, 21)),
        # "tomorrow" is Thanksgiving: the named day moves to the next business day (to be confirmed)
        ("tomorrow", "US", "America/New_York", datetime(2026, 11, 25, 15, tzinfo=UTC), D(2026, 11, 27)),
    ],
)
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
        # ordinal dates stay whole (the sentence splitter cut "11." from "Dezember" before)
        ("Bitte schicken Sie die Unterlagen bis spätestens 11. Dezember zurück.", "de", "bis spätestens 11. Dezember"),
        ("Die Gutschrift erfolgt am 3. 12. automatisch.", "de", "am 3. 12."),
        ("Bitte bis zum 3. zurückschicken.", "de", "bis zum 3."),
        ("Please send it by 5 p.m. tomorrow.", "en", "by 5 p.m. tomorrow"),
        ("Ich kläre das und melde mich bis übermorgen.", "de", "bis übermorgen"),
        ("I'll call you back today or tomorrow.", "en", "today or tomorrow"),
        ("We'll ship it by Friday, at the latest by Monday.", "en", "by Friday, at the latest by Monday"),
        ("You can cancel within two weeks after the contract ends.", "en", "within two weeks after the contract ends"),
        ("Die Gutschrift kommt mit der nächsten Rechnung.", "de", "mit der nächsten Rechnung"),
        ("Bitte kündigen Sie bis zum Vertragsende.", "de", "bis zum Vertragsende"),
        ("I'll get back to you within the hour.", "en", "within the hour"),
        ("Mitte Januar kommt der Techniker.", "de", "Mitte Januar"),
        # no deadline: versions, teams and platforms are not dates or events
        ("It stopped working, maybe because of Redis 6.2.", "en", None),
        ("Es liegt vielleicht an Redis 6.2.", "de", None),
        ("It might be an issue with the payment processing platform.", "en", None),
        ("Könnten Sie mehr Details zum Rechnungsstellungsverfahren geben?", "de", None),
        ("Bitte zahlen Sie bis 24.12.2026.", "de", "bis 24.12.2026"),
        ("The engineer will visit on the 2nd of December between 8am and 12pm.", "en", "on the 2nd of December"),
        ("Der Techniker kommt am Dienstag, den 24.11., zwischen 8 und 12 Uhr.", "de", "am Dienstag, den 24.11."),
        ("Please allow 5 business days for the refund.", "en", "Please allow 5 business days"),
        ("Sie haben 14 Tage Zeit, das Gerät zurückzuschicken.", "de", "Sie haben 14 Tage"),
        ("I have 2 questions about my bill.", "en", None),
        ("I'll text you as soon as it's confirmed.", "en", None),  # an event, no date: the extractor's call
        ("Till now, we've optimized database queries.", "en", None),
        ("Let me walk you through it now.", "en", None),  # done in the call: no deadline
        (
            "From the first of December the new allowance applies, and the old plan ends on the thirtieth of November.",
            "en",
            "on the thirtieth of November",
        ),
        ("Ab 1. Dezember gilt der neue Tarif, der alte endet am 30. November.", "de", "am 30. November"),
        ("In today's digital environment this matters.", "en", None),
        ("We use the integration with Monday.com for this.", "en", None),
        ("Bis jetzt hat sich nichts geändert.", "de", None),
    ],
)
def test_phrases_are_found_in_sentences(sentence: str, lang: str, phrase: str | None) -> None:
    assert R.find_phrase(sentence, lang) == phrase


def test_table_size() -> None:
    assert len(CASES) >= 60 and {c[0] for c in CASES} == {"en", "de"}


def test_unknown_country_counts_weekends_only() -> None:
    due = R.resolve("within 3 business days", end=XMAS, tz="Europe/Berlin", country="XX", language="en")
    assert due.due_by == D(2026, 12, 28)  # 24, 25, 28: no holidays known, weekends still skipped


# --- typed results: resolved / confirm / ask_agent ----------------------------------------------------
# Expected dates were worked out from a calendar (python -c with datetime and holidays), not from the
# resolver: Thu 19 Nov 2026 15:00 Berlin; 1 Jan 2027 is a Friday; DE-BY keeps 6 Jan and Corpus Christi
# (4 Jun 2026); GB-SCT keeps 2 Jan and St Andrew's Day (Mon 30 Nov 2026) and observes 4 Jan 2027;
# US-MA keeps Patriots' Day (Mon 19 Apr 2027); US-TX keeps the Friday after Thanksgiving (27 Nov 2026).

FRI = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)  # Friday 15:00 Berlin
AFTER_MIDNIGHT = datetime(2026, 11, 19, 23, 30, tzinfo=UTC)  # Friday 00:30 in Berlin, Thursday in UTC
OK, CONFIRM, ASK = "resolved", "confirm", "ask_agent"


def row(cls: str, lang: str, phrase: str, expected: date | None, status: str = OK, **kw: object) -> tuple:
    return (cls, lang, phrase, expected, status, kw)


TYPED = [
    # vague periods: beginning / middle / end of a week, month or named month
    row("vague", "en", "by mid-January", D(2027, 1, 15)),
    row("vague", "de", "bis Mitte Januar", D(2027, 1, 15)),
    row("vague", "en", "end of next month", D(2026, 12, 31)),
    row("vague", "de", "Ende nächsten Monats", D(2026, 12, 31)),
    row("vague", "en", "beginning of next week", D(2026, 11, 23)),
    row("vague", "en", "early next week", D(2026, 11, 23)),
    row("vague", "de", "Anfang nächster Woche", D(2026, 11, 23)),
    row("vague", "de", "Anfang kommender Woche", D(2026, 11, 23)),
    row("vague", "en", "mid next week", D(2026, 11, 25)),
    row("vague", "de", "Mitte nächster Woche", D(2026, 11, 25)),
    row("vague", "en", "by the end of next week", D(2026, 11, 27)),
    row("vague", "de", "Ende nächster Woche", D(2026, 11, 27)),
    row("vague", "en", "by the end of the month", D(2026, 11, 30)),
    row("vague", "de", "bis Ende des Monats", D(2026, 11, 30)),
    row("vague", "en", "beginning of next month", D(2026, 12, 1)),
    row("vague", "de", "Anfang nächsten Monats", D(2026, 12, 1)),
    row("vague", "en", "mid-December", D(2026, 12, 15)),
    row("vague", "de", "Mitte Dezember", D(2026, 12, 15)),
    row("vague", "en", "end of January", D(2027, 1, 29)),
    row("vague", "de", "Ende Januar", D(2027, 1, 29)),  # 31st: Sunday
    row("vague", "en", "early January", D(2027, 1, 4)),
    row("vague", "de", "Anfang Januar", D(2027, 1, 4)),  # 1st: holiday
    row("vague", "en", "early January", D(2027, 1, 1), owner="customer"),
    row("vague", "en", "by the end of the year", D(2026, 12, 31)),
    row("vague", "de", "bis Jahresende", D(2026, 12, 31)),
    row("vague", "en", "end of January", D(2027, 1, 31), owner="customer"),
    # a period already over is a question, not next year's
    row("vague", "en", "beginning of this week", None, ASK),
    row("vague", "de", "Monatsmitte", None, ASK),
    # within the hour, hours, times of day
    row("hour", "en", "within the hour", D(2026, 11, 19)),
    row("hour", "de", "innerhalb der nächsten Stunde", D(2026, 11, 19)),
    row("hour", "en", "within 2 hours", D(2026, 11, 19)),
    row("hour", "de", "in zwei Stunden", D(2026, 11, 19)),
    row("time", "en", "by 5pm", D(2026, 11, 19)),
    row("time", "de", "bis 17 Uhr", D(2026, 11, 19)),
    row("time", "en", "by 9am", D(2026, 11, 20)),
    row("time", "de", "bis 9 Uhr", D(2026, 11, 20)),  # 9:00 has passed
    row("time", "en", "tomorrow by noon", D(2026, 11, 20)),
    row("time", "de", "morgen bis 12 Uhr", D(2026, 11, 20)),
    row("time", "en", "Friday at 10am", D(2026, 11, 20)),
    row("time", "de", "Freitag um 10 Uhr", D(2026, 11, 20)),
    # fortnight, day after tomorrow, weekdays with this/next/kommenden, day of month
    row("fortnight", "en", "in a fortnight", D(2026, 12, 3)),
    row("fortnight", "de", "in vierzehn Tagen", D(2026, 12, 3)),
    row("day_after", "de", "bis übermorgen", D(2026, 11, 21)),  # a named day: Saturday is kept, as "bis Samstag" is
    row("day_after", "de", "bis übermorgen", D(2026, 11, 21), owner="customer"),
    row("day_after", "en", "the day after tomorrow", D(2026, 11, 21), owner="customer"),
    row("weekday", "en", "this Friday", D(2026, 11, 20)),
    row("weekday", "de", "kommenden Freitag", D(2026, 11, 20)),
    row("weekday", "en", "next Friday", D(2026, 11, 27), CONFIRM),
    row("weekday", "de", "nächsten Freitag", D(2026, 11, 27), CONFIRM),
    row("weekday", "en", "next Tuesday", D(2026, 11, 24)),
    row("weekday", "de", "nächsten Dienstag", D(2026, 11, 24)),
    row("weekday", "de", "kommenden Montag", D(2026, 11, 23)),
    row("weekday", "en", "Friday next week", D(2026, 11, 27)),
    row("weekday", "en", "next week, on Tuesday", D(2026, 11, 24)),
    row("weekday", "de", "nächste Woche am Dienstag", D(2026, 11, 24)),
    row("day_of_month", "en", "by the 3rd", D(2026, 12, 3)),
    row("day_of_month", "de", "bis zum 3.", D(2026, 12, 3)),
    row("day_of_month", "en", "by the 25th", D(2026, 11, 25)),
    row("day_of_month", "de", "bis zum 25.", D(2026, 11, 25)),
    row("day_of_month", "en", "by the 31st", None, ASK),  # November has no 31st
    row("ordinal", "de", "bis spätestens 11. Dezember", D(2026, 12, 11)),
    row("ordinal", "en", "no later than December 11th", D(2026, 12, 11)),
    row("ordinal", "en", "Friday, 4 December", D(2026, 12, 4)),
    row("ordinal", "de", "Freitag, den 4. Dezember", D(2026, 12, 4)),
    row("ordinal", "en", "Friday, 5 December", D(2026, 12, 5), CONFIRM),  # 5 Dec is a Saturday: which one?
    # relative to another event: never counted from the call
    row("relative", "en", "within two weeks after the contract ends", None, ASK),
    row("relative", "de", "innerhalb von zwei Wochen nach Vertragsende", None, ASK),
    row("relative", "en", "within 14 days of receipt", None, ASK),
    row("relative", "de", "14 Tage nach Erhalt der Rechnung", None, ASK),
    row("relative", "en", "before your contract renews", None, ASK),
    row("relative", "de", "bis zum Vertragsende", None, ASK),
    row("relative", "en", "with your next invoice", None, ASK),
    row("relative", "de", "mit der nächsten Rechnung", None, ASK),
    row("relative", "en", "2 business days after delivery", None, ASK, sla_business_days=5, owner="backoffice"),
    row("relative", "en", "within 5 days from today", D(2026, 11, 24)),
    row("relative", "de", "innerhalb von 5 Tagen ab heute", D(2026, 11, 24)),
    # two deadlines in one phrase: "at the latest" wins, alternatives give the latest, else earliest to confirm
    row("two", "en", "today or tomorrow", D(2026, 11, 20)),
    row("two", "de", "heute oder morgen", D(2026, 11, 20)),
    row("two", "en", "by Friday, at the latest by Monday", D(2026, 11, 23)),
    row("two", "de", "bis Freitag, spätestens Montag", D(2026, 11, 23)),
    row("two", "en", "by Friday, within 2 weeks", D(2026, 11, 20), CONFIRM),
    # customer deadlines count calendar days; company work counts business days
    row("owner", "en", "by tomorrow", D(2026, 11, 21), owner="customer", end=FRI),
    row("owner", "de", "bis morgen", D(2026, 11, 21), owner="customer", end=FRI),
    # "tomorrow" names one day, as "Saturday" does: kept on a weekend for every owner
    row("owner", "en", "by tomorrow", D(2026, 11, 21), owner="agent", end=FRI),
    row("owner", "de", "bis morgen", D(2026, 11, 21), owner="backoffice", end=FRI),
    row("owner", "en", "by Friday", D(2026, 12, 25), owner="customer", end=XMAS),
    row("owner", "de", "bis Freitag", D(2026, 12, 25), owner="customer", end=XMAS),
    row("owner", "de", "bis Freitag", D(2026, 12, 28), CONFIRM, owner="agent", end=XMAS),  # named day on a holiday
    row("owner", "en", "within 3 business days", D(2026, 12, 29), owner="customer", end=XMAS),  # said business days
    row("owner", "en", "within 5 days", D(2026, 11, 29), owner="customer", end=datetime(2026, 11, 24, 9, tzinfo=UTC)),
    row(
        "owner",
        "de",
        "innerhalb von 5 Tagen",
        D(2026, 11, 30),
        owner="agent",
        end=datetime(2026, 11, 24, 9, tzinfo=UTC),
    ),
    # regional holidays through the ISO 3166-2 subdivision
    # a named day on a public holiday: the next business day, for the agent to confirm
    row(
        "region", "en", "tomorrow", D(2027, 1, 7), CONFIRM, subdivision="DE-BY", end=datetime(2027, 1, 5, 9, tzinfo=UTC)
    ),
    row("region", "de", "morgen", D(2027, 1, 7), CONFIRM, subdivision="BY", end=datetime(2027, 1, 5, 9, tzinfo=UTC)),
    row("region", "de", "morgen", D(2027, 1, 6), end=datetime(2027, 1, 5, 9, tzinfo=UTC)),  # not a holiday in Berlin
    row(
        "region",
        "de",
        "innerhalb von 2 Werktagen",
        D(2026, 6, 8),
        subdivision="DE-BY",
        end=datetime(2026, 6, 3, 9, tzinfo=UTC),
    ),  # Corpus Christi
    row(
        "region",
        "de",
        "innerhalb von 2 Werktagen",
        D(2026, 6, 5),
        subdivision="DE-BE",
        end=datetime(2026, 6, 3, 9, tzinfo=UTC),
    ),
    row(
        "region",
        "en",
        "within 1 business day",
        D(2026, 1, 5),
        country="GB",
        subdivision="GB-SCT",
        tz="Europe/London",
        end=datetime(2025, 12, 31, 12, tzinfo=UTC),
    ),  # 1 and 2 Jan
    row(
        "region",
        "en",
        "within 1 business day",
        D(2026, 1, 2),
        country="GB",
        subdivision="GB-ENG",
        tz="Europe/London",
        end=datetime(2025, 12, 31, 12, tzinfo=UTC),
    ),
    row(
        "region",
        "en",
        "by Monday",
        D(2026, 12, 1),
        CONFIRM,
        country="GB",
        subdivision="GB-SCT",
        tz="Europe/London",
        end=FRI + timedelta(days=7),
    ),
    row(
        "region",
        "en",
        "by Monday",
        D(2026, 11, 30),
        country="GB",
        subdivision="GB-ENG",
        tz="Europe/London",
        end=FRI + timedelta(days=7),
    ),
    row(
        "region",
        "en",
        "within 1 business day",
        D(2027, 1, 5),
        country="GB",
        subdivision="GB-SCT",
        tz="Europe/London",
        end=datetime(2026, 12, 31, 12, tzinfo=UTC),
    ),  # 4 Jan 2027 observed in Scotland only
    row(
        "region",
        "en",
        "by Monday",
        D(2027, 4, 20),
        CONFIRM,
        country="US",
        subdivision="US-MA",
        tz="America/New_York",
        end=datetime(2027, 4, 16, 15, tzinfo=UTC),
    ),  # Patriots' Day
    row(
        "region",
        "en",
        "by Monday",
        D(2027, 4, 19),
        country="US",
        subdivision="US-CA",
        tz="America/Los_Angeles",
        end=datetime(2027, 4, 16, 18, tzinfo=UTC),
    ),
    row(
        "region",
        "en",
        "tomorrow",
        D(2026, 11, 30),
        CONFIRM,
        country="US",
        subdivision="US-TX",
        tz="America/Chicago",
        end=datetime(2026, 11, 25, 18, tzinfo=UTC),
    ),  # Thanksgiving, then the Texan Friday after
    row(
        "region",
        "en",
        "tomorrow",
        D(2027, 1, 6),
        subdivision="GB-SCT",  # another country's code: ignored
        end=datetime(2027, 1, 5, 9, tzinfo=UTC),
    ),
    # year rollover
    row("year", "en", "by 15 January", D(2027, 1, 15)),
    row("year", "de", "bis zum 15. Januar", D(2027, 1, 15)),
    row(
        "year",
        "en",
        "on 2 January",
        D(2027, 1, 2),  # a named Saturday stays
        end=datetime(2026, 12, 30, 9, tzinfo=UTC),
    ),
    row("year", "en", "on 2 January", D(2027, 1, 2), owner="customer", end=datetime(2026, 12, 30, 9, tzinfo=UTC)),
    row("year", "en", "within two weeks", D(2027, 1, 7), subdivision="DE-BY", end=XMAS),  # 6 Jan: Epiphany
    row("year", "de", "innerhalb von zwei Wochen", D(2027, 1, 6), end=XMAS),
    row("year", "en", "end of next month", D(2027, 1, 29), end=datetime(2026, 12, 10, 9, tzinfo=UTC)),
    row("year", "de", "nächste Woche", D(2027, 1, 8), end=datetime(2026, 12, 30, 9, tzinfo=UTC)),
    row("past", "en", "by 3 November", None, ASK),
    row("past", "de", "bis 3.11.", None, ASK),
    row("past", "en", "by 3 March 2026", None, ASK),
    row("invalid", "en", "by 31 November", None, ASK),
    row("invalid", "de", "bis zum 31.11.", None, ASK),
    # conversations ending after local midnight (the local date counts; "tomorrow" at 00:30 is confirmed)
    row("midnight", "en", "today", D(2026, 11, 20), end=AFTER_MIDNIGHT),
    row("midnight", "en", "tomorrow", D(2026, 11, 21), CONFIRM, end=AFTER_MIDNIGHT),
    row("midnight", "de", "morgen", D(2026, 11, 21), CONFIRM, owner="customer", end=AFTER_MIDNIGHT),
    row(
        "midnight",
        "en",
        "tomorrow",
        D(2026, 11, 20),
        country="US",
        tz="America/New_York",
        end=datetime(2026, 11, 20, 4, 30, tzinfo=UTC),
    ),  # still Thursday 23:30 in New York
    row(
        "midnight",
        "en",
        "tomorrow",
        D(2026, 11, 21),
        CONFIRM,
        country="JP",
        tz="Asia/Tokyo",
        end=datetime(2026, 11, 19, 16, tzinfo=UTC),
    ),  # Fri 01:00 Tokyo: Saturday, a named day
    row("midnight", "de", "bis 9 Uhr", D(2026, 11, 20), end=AFTER_MIDNIGHT),  # 9:00 still ahead that morning
    # ranges count to the upper bound; ordinal words; an event with its own date; compounds; weekends
    row("range", "en", "within 3 to 5 working days", D(2026, 11, 26)),
    row("range", "de", "innerhalb von 3 bis 5 Werktagen", D(2026, 11, 26)),
    row("ordinal_word", "en", "on the first of December", D(2026, 12, 1)),
    row("ordinal_word", "de", "am ersten Dezember", D(2026, 12, 1)),
    row("dated_event", "en", "with your next invoice on the first of December", D(2026, 12, 1)),
    row("dated_event", "de", "mit der nächsten Rechnung am ersten Dezember", D(2026, 12, 1)),
    row("weekday", "de", "am Mittwochmorgen", D(2026, 11, 25)),
    row("weekday", "en", "Wednesday morning", D(2026, 11, 25)),
    # minutes, the next business day (counted in business days whoever the owner), a week's course, weekend's end
    row("minutes", "en", "in 20 minutes", D(2026, 11, 19)),
    row("minutes", "de", "innerhalb von 45 Minuten", D(2026, 11, 19)),
    row("next_business_day", "en", "by the next working day", D(2026, 11, 20)),
    row("next_business_day", "de", "am nächsten Werktag", D(2026, 11, 23), owner="customer", end=FRI),
    row(
        "next_business_day",
        "en",
        "next business day",
        D(2026, 11, 27),
        country="US",
        tz="America/New_York",
        end=datetime(2026, 11, 25, 15, tzinfo=UTC),
    ),  # Thanksgiving in between
    row("next_business_day", "de", "innerhalb eines Werktages", D(2026, 11, 23), end=FRI),
    row("week_course", "de", "noch in dieser Woche", D(2026, 11, 20)),
    row("week_course", "de", "im Laufe der Woche", D(2026, 11, 20)),
    row("weekend", "en", "by the end of the weekend", D(2026, 11, 22), owner="customer"),
    row("weekend", "de", "bis Ende des Wochenendes", D(2026, 11, 22), owner="customer"),
    row("week_course", "en", "later this week", D(2026, 11, 20)),
    row("first_thing", "en", "first thing tomorrow morning", D(2026, 11, 20)),
    row("first_thing", "de", "gleich morgen früh", D(2026, 11, 20)),
    row("first_thing", "de", "morgen im Laufe des Tages", D(2026, 11, 20)),
    row("weekend", "en", "this weekend", D(2026, 11, 22), owner="customer"),
    row("weekend", "de", "am Wochenende", D(2026, 11, 22), owner="customer"),
    row("weekend", "en", "next weekend", D(2026, 11, 29), owner="agent"),  # a weekend is chosen on purpose
    row("named_day", "en", "on Saturday", D(2026, 11, 21), owner="backoffice"),  # a booked Saturday stays Saturday
    row("named_day", "de", "am Samstag", D(2026, 11, 21), owner="backoffice"),
    row("hour", "en", "within 72 hours", D(2026, 11, 22)),
    row("hour", "de", "innerhalb von 72 Stunden", D(2026, 11, 22)),
    row("hour", "en", "within forty-eight hours", D(2026, 11, 21)),
    row("hour", "de", "innerhalb von achtundvierzig Stunden", D(2026, 11, 21)),
    row("now", "en", "right now", D(2026, 11, 19)),
    row("now", "de", "jetzt gleich", D(2026, 11, 19)),
    row("ordinal_word", "en", "by the twenty-seventh of November", D(2026, 11, 27)),
    row("ordinal_word", "de", "bis zum siebenundzwanzigsten November", D(2026, 11, 27)),
    row("asap", "en", "as soon as possible", D(2026, 11, 19), CONFIRM),
    row("asap", "de", "schnellstmöglich", D(2026, 11, 19), CONFIRM),
    row("now", "de", "heute Morgen", D(2026, 11, 19)),
    row("now", "en", "this morning", D(2026, 11, 19)),
    row("cob", "en", "by COB Friday", D(2026, 11, 20)),
    row("cob", "de", "Freitag bis 17 Uhr", D(2026, 11, 20)),
    row("few_days", "en", "in the coming days", D(2026, 11, 23)),
    row("few_days", "de", "in den nächsten Tagen", D(2026, 11, 23)),
    row("asap", "en", "shortly", D(2026, 11, 19), CONFIRM),
    row("asap", "de", "zeitnah", D(2026, 11, 19), CONFIRM),
    row("relative", "en", "in the next billing cycle", None, ASK),
    row("relative", "de", "auf der nächsten Rechnung", None, ASK),
    row("lead", "en", "please allow 5 business days", D(2026, 11, 26)),
    row("lead", "de", "braucht unsere Vertragsabteilung 5 Werktage", D(2026, 11, 26)),
    # words that are no deadline
    row("none", "en", "whenever suits you", None, ASK),
    row("none", "de", "irgendwann", None, ASK),
]


@pytest.mark.parametrize(
    ("cls", "lang", "phrase", "expected", "status", "kw"),
    TYPED,
    ids=[f"{r[0]}:{r[1]}:{r[2]}:{r[5].get('owner', '')}{r[5].get('subdivision', '')}" for r in TYPED],
)
def test_typed_results(cls: str, lang: str, phrase: str, expected: date | None, status: str, kw: dict) -> None:
    args = {"end": THU, "tz": "Europe/Berlin", "country": "DE", "language": lang} | kw
    due = R.resolve(phrase, **args)  # type: ignore[arg-type]
    assert (due.due_by, due.status) == (expected, status), due
    assert due.phrase == phrase
    if status == OK:
        assert due.question is None and due.reason is None
    else:
        assert due.question and due.reason, due


def test_typed_table_size_and_classes() -> None:
    assert len(TYPED) >= 60
    by_class: dict[str, set[str]] = {}
    for r in TYPED:
        by_class.setdefault(r[0], set()).add(r[1])
    assert all(langs == {"en", "de"} for cls, langs in by_class.items() if cls not in {"past", "invalid"}), by_class


def test_close_of_business_is_a_time_of_day() -> None:
    due = R.resolve("by COB Friday", end=THU, tz="Europe/Berlin", country="DE", language="en")
    assert (due.due_by, due.due_time, due.status) == (D(2026, 11, 20), time(17, 0), OK)


@pytest.mark.parametrize(
    ("phrase", "lang", "end", "expected"),
    [
        ("within the hour", "en", THU, time(16, 0)),
        ("innerhalb einer Stunde", "de", THU, time(16, 0)),
        ("by 5pm", "en", THU, time(17, 0)),
        ("bis 17:30 Uhr", "de", THU, time(17, 30)),
        ("tomorrow by noon", "en", THU, time(12, 0)),
        ("Freitag um 10 Uhr", "de", THU, time(10, 0)),
        ("by 5:30 p.m.", "en", THU, time(17, 30)),
    ],
)
def test_times_of_day(phrase: str, lang: str, end: datetime, expected: time) -> None:
    assert R.resolve(phrase, end=end, tz="Europe/Berlin", country="DE", language=lang).due_time == expected


def test_within_the_hour_near_midnight_is_the_next_day() -> None:
    due = R.resolve(
        "within the hour",
        end=datetime(2026, 11, 19, 22, 30, tzinfo=UTC),
        tz="Europe/Berlin",
        country="DE",
        language="en",
    )
    assert (due.due_by, due.due_time, due.status) == (D(2026, 11, 20), time(0, 30), OK)


# --- sentences: which deadline belongs to the action, and event anchors around the phrase -------------

ROUTER_DE = (
    "Ich schicke Ihnen den neuen Router bis Freitag und bitte senden Sie das alte Gerät innerhalb von 14 Tagen zurück."
)
SENTENCES = [
    # (lang, sentence, action, owner, expected phrase, expected date, status)
    (
        "en",
        "I'll send the new router by Friday and please return the old one within 14 days.",
        "Return the old router",
        "customer",
        "within 14 days",
        D(2026, 12, 3),
        OK,
    ),
    (
        "en",
        "I'll send the new router by Friday and please return the old one within 14 days.",
        "Send the new router",
        "agent",
        "by Friday",
        D(2026, 11, 20),
        OK,
    ),
    (
        "en",
        "I'll send the new router by Friday and please return the old one within 14 days.",
        None,
        "agent",
        "by Friday",
        D(2026, 11, 20),
        CONFIRM,
    ),
    ("de", ROUTER_DE, "Altes Gerät zurücksenden", "customer", "innerhalb von 14 Tagen", D(2026, 12, 3), OK),
    ("de", ROUTER_DE, "Neuen Router schicken", "agent", "bis Freitag", D(2026, 11, 20), OK),
    ("de", ROUTER_DE, None, "agent", "bis Freitag", D(2026, 11, 20), CONFIRM),
    (
        "en",
        "Once our warehouse receives it, the replacement will ship within 2 business days.",
        "Ship the replacement",
        "backoffice",
        "within 2 business days",
        None,
        ASK,
    ),
    (
        "de",
        "Sobald das Paket bei uns eingeht, schicken wir den Ersatz innerhalb von 2 Werktagen.",
        "Ersatz schicken",
        "backoffice",
        "innerhalb von 2 Werktagen",
        None,
        ASK,
    ),
    (
        "en",
        "The refund will appear on your statement within 5 working days.",
        "Refund",
        "backoffice",
        "within 5 working days",
        D(2026, 11, 26),
        OK,
    ),
    (
        "de",
        "Die Gutschrift erscheint innerhalb von 5 Werktagen auf Ihrem Kontoauszug.",
        "Gutschrift",
        "backoffice",
        "innerhalb von 5 Werktagen",
        D(2026, 11, 26),
        OK,
    ),
    (
        "en",
        "You can cancel within two weeks after the contract ends.",
        "Cancel",
        "customer",
        "within two weeks after the contract ends",
        None,
        ASK,
    ),
    ("de", "Ich kläre das und melde mich bis übermorgen.", "Melden", "agent", "bis übermorgen", D(2026, 11, 21), OK),
    # an anchor in another clause does not touch the deadline
    (
        "en",
        "The network team will restore the service within the hour, and I'll text you as soon as it's confirmed.",
        "Restore the service",
        "backoffice",
        "within the hour",
        D(2026, 11, 19),
        OK,
    ),
    (
        "de",
        "Nach dem Hochladen ändert unsere Vertragsabteilung den Namen innerhalb von 2 Werktagen.",
        "Namen ändern",
        "backoffice",
        "innerhalb von 2 Werktagen",
        None,
        ASK,
    ),
    # "billing team" is a team, not an event; "today" stays the deadline
    (
        "en",
        "I'll file a refund request with our billing team today.",
        "File a refund request",
        "agent",
        "today",
        D(2026, 11, 19),
        OK,
    ),
    (
        "de",
        "Ich leite das heute noch an unsere Rechnungsabteilung weiter.",
        "Weiterleiten",
        "agent",
        "heute noch",
        D(2026, 11, 19),
        OK,
    ),
    (
        "en",
        "We'll look into it as soon as possible and refund you within 5 business days.",
        "Refund",
        "backoffice",
        "within 5 business days",
        D(2026, 11, 26),
        OK,
    ),
    (
        "en",
        "Your bank will show them within 3 to 5 working days.",
        "Refund",
        "backoffice",
        "within 3 to 5 working days",
        D(2026, 11, 26),
        OK,
    ),
    # "now" is today only after the speaker's own commitment; a state or a walkthrough is no deadline
    ("en", "We'll restart the port now.", None, "backoffice", "now", D(2026, 11, 19), OK),
    ("en", "I'm sending the form over now, with the label attached.", None, "agent", "now", D(2026, 11, 19), OK),
    ("en", "You can now sign in with the new password.", None, "customer", None, None, "none"),
    ("en", "Now, you'll need to top up the balance.", None, "customer", None, None, "none"),
    # "right after the call" / "nach dem Telefonat": today
    ("en", "I'll text you the code right after the call.", None, "agent", "right after the call", D(2026, 11, 19), OK),
    (
        "de",
        "Die Zusammenfassung maile ich Ihnen gleich nach dem Telefonat.",
        None,
        "agent",
        "gleich nach dem Telefonat",
        D(2026, 11, 19),
        OK,
    ),
    # before an undated step of the customer's: the agent is asked
    (
        "en",
        "Please remove the SIM card before you post the phone to us.",
        None,
        "customer",
        "before you post",
        None,
        ASK,
    ),
    (
        "de",
        "Bitte löschen Sie Ihre Daten vor dem Zurückschicken des Laptops.",
        None,
        "customer",
        "vor dem Zurückschicken des Laptops",
        None,
        ASK,
    ),
    # "a further N days" counts from an earlier step, not from the call
    (
        "en",
        "The refund reaches your account within a further 3 working days.",
        None,
        "backoffice",
        "within a further 3 working days",
        None,
        ASK,
    ),
    ("de", "Die Gutschrift folgt in weiteren 4 Werktagen.", None, "backoffice", "in weiteren 4 Werktagen", None, ASK),
    # a dispatch and an arrival in one sentence: the shipment is due when it arrives
    (
        "en",
        "Our warehouse dispatches it tomorrow and it should arrive by Tuesday.",
        "Our warehouse dispatches it tomorrow and it should arrive by Tuesday",
        "backoffice",
        "by Tuesday",
        D(2026, 11, 24),
        OK,
    ),
    (
        "de",
        "Das Lager verschickt den Router morgen und er trifft am Dienstag bei Ihnen ein.",
        "Das Lager verschickt den Router morgen und er trifft am Dienstag bei Ihnen ein",
        "backoffice",
        "am Dienstag",
        D(2026, 11, 24),
        OK,
    ),
    (
        "en",
        "Our warehouse dispatches it tomorrow and it should arrive by Tuesday.",
        None,
        "backoffice",
        "by Tuesday",
        D(2026, 11, 24),
        CONFIRM,
    ),  # no action to tie it: the arrival, proposed
    (
        "en",
        "Our warehouse dispatches it tomorrow and it should arrive by Tuesday.",
        "Our warehouse dispatches it",
        "backoffice",
        "tomorrow",
        D(2026, 11, 20),
        OK,
    ),
    # "from that point" / "von da an" anchors a duration to the step named before it
    (
        "en",
        "We need the signed form first; from that point our team takes 4 working days.",
        None,
        "backoffice",
        "takes 4 working days",
        None,
        ASK,
    ),
    (
        "de",
        "Zuerst brauchen wir Ihre Unterschrift; von da an dauert es 4 Werktage.",
        None,
        "backoffice",
        "dauert es 4 Werktage",
        None,
        ASK,
    ),
]


@pytest.mark.parametrize(("lang", "sentence", "action", "owner", "phrase", "expected", "status"), SENTENCES)
def test_sentences(
    lang: str, sentence: str, action: str | None, owner: str, phrase: str, expected: date | None, status: str
) -> None:
    found = R.find_phrase(sentence, lang, action=action)
    assert found == phrase
    due = R.resolve(
        found, end=THU, tz="Europe/Berlin", country="DE", language=lang, owner=owner, sentence=sentence, action=action
    )
    assert (due.due_by, due.status) == (expected, status), due


def test_ambiguous_sentence_lists_both_dates() -> None:
    sentence = "I'll send the new router by Friday and please return the old one within 14 days."
    due = R.resolve("by Friday", end=THU, tz="Europe/Berlin", country="DE", language="en", sentence=sentence)
    assert due.options == (D(2026, 11, 20), D(2026, 12, 3)) and due.reason == "two_deadlines"
    assert "2026-11-20" in (due.question or "") and "2026-12-03" in (due.question or "")


def test_questions_follow_the_agent_language_and_name_the_phrase() -> None:
    kw = {"end": THU, "tz": "Europe/Berlin", "country": "DE"}
    en = R.resolve("within two weeks after the contract ends", language="en", **kw)  # type: ignore[arg-type]
    de = R.resolve("within two weeks after the contract ends", language="en", agent_language="de", **kw)  # type: ignore[arg-type]
    assert en.reason == de.reason == "relative_event" and en.due_by is None and de.due_by is None
    assert "the contract ends" in (en.question or "") and "Which date" in (en.question or "")
    assert "Welches Datum" in (de.question or "") and "within two weeks after the contract ends" in (de.question or "")


def test_relative_deadline_does_not_fall_back_to_the_sla() -> None:
    due = R.resolve(
        "nach Erhalt der Ware",
        end=THU,
        tz="Europe/Berlin",
        country="DE",
        language="de",
        owner="backoffice",
        sla_business_days=3,
    )
    assert (due.due_by, due.status, due.rule) == (None, ASK, "relative_event")


@pytest.mark.parametrize(
    ("lang", "sentence", "expected", "rule"),
    [
        ("en", "Once the meter reading is in, our billing team will redo the invoice.", None, "sla_after_event"),
        ("de", "Unsere Technik prüft die Leitung anschließend.", None, "sla_after_event"),
        ("de", "Danach schaut sich unser Netzteam die Störung an.", None, "sla_after_event"),
        ("en", "Then the network team will look at the fault.", None, "sla_after_event"),
        ("en", "Our billing team will redo the invoice.", D(2026, 11, 24), "sla_default"),  # 3 business days
        ("de", "Unser Netzteam prüft die Störung.", D(2026, 11, 24), "sla_default"),
    ],
)
def test_service_level_is_not_counted_from_the_call_when_work_waits_for_another_step(
    lang: str, sentence: str, expected: date | None, rule: str
) -> None:
    due = R.resolve(
        None,
        end=THU,
        tz="Europe/Berlin",
        country="DE",
        language=lang,
        owner="backoffice",
        sla_business_days=3,
        sentence=sentence,
    )
    assert (due.due_by, due.rule) == (expected, rule), due
    assert due.status == ("none" if expected is None else OK)


@pytest.mark.parametrize(
    ("lang", "sentence", "action", "owner", "step"),
    [
        (
            "en",
            "The courier collects the box within 3 days; after that our lab tests it.",
            "our lab tests it",
            "backoffice",
            "within 3 days",
        ),
        (
            "de",
            "Die Prüfung dauert bis zu 5 Werktage, anschließend erstatten wir den Betrag.",
            "erstatten wir den Betrag",
            "agent",
            "dauert bis zu 5 Werktage",
        ),
        (
            "en",
            "You'll get the paperwork by Monday, and then please sign and return it.",
            "please sign and return it",
            "customer",
            "by Monday",
        ),
        (
            "de",
            "Der Techniker prüft die Leitung bis Freitag, danach schalten wir den Anschluss frei.",
            "schalten wir den Anschluss frei",
            "backoffice",
            "bis Freitag",
        ),
    ],
)
def test_a_step_after_another_dated_step_asks_the_agent(
    lang: str, sentence: str, action: str, owner: str, step: str
) -> None:
    due = R.resolve(
        None,
        end=THU,
        tz="Europe/Berlin",
        country="DE",
        language=lang,
        owner=owner,
        sentence=sentence,
        action=action,
        sla_business_days=3,
    )
    assert (due.due_by, due.status, due.reason, due.phrase) == (None, ASK, "after_step", step), due
    assert step in (due.question or "")


def test_a_follow_up_word_without_an_earlier_deadline_is_just_undated() -> None:
    due = R.resolve(
        None,
        end=THU,
        tz="Europe/Berlin",
        country="DE",
        language="en",
        owner="agent",
        sentence="I'll look at the logs and then call you back.",
        action="call you back",
    )
    assert (due.due_by, due.status) == (None, "none")


def test_minutes_carry_the_clock_time() -> None:
    due = R.resolve("in 20 minutes", end=THU, tz="Europe/Berlin", country="DE", language="en")
    assert (due.due_by, due.due_time, due.rule) == (D(2026, 11, 19), time(15, 20), "within_minutes")


def test_a_follow_up_word_after_the_action_leaves_its_service_level() -> None:
    kw = {"end": THU, "tz": "Europe/Berlin", "country": "DE", "owner": "backoffice", "sla_business_days": 3}
    sentence = "Our billing team will check the meter reading and then issue a corrected bill."
    first = R.resolve(
        None, language="en", sentence=sentence, action="Our billing team will check the meter reading", **kw
    )  # type: ignore[arg-type]
    then = R.resolve(None, language="en", sentence=sentence, action="then issue a corrected bill", **kw)  # type: ignore[arg-type]
    assert (first.due_by, first.rule) == (D(2026, 11, 24), "sla_default")
    assert (then.due_by, then.rule) == (None, "sla_after_event")


def test_customer_without_phrase_gets_no_sla_and_status_none() -> None:
    due = R.resolve(
        None, end=THU, tz="Europe/Berlin", country="DE", language="en", owner="customer", sla_business_days=2
    )
    assert (due.due_by, due.status) == (None, "none")


def test_us_slash_dates_are_month_first() -> None:
    kw = {"end": THU, "tz": "America/New_York", "language": "en"}
    assert R.resolve("by 12/3", country="US", **kw).due_by == D(2026, 12, 3)  # type: ignore[arg-type]
    assert R.resolve("by 3/12", country="GB", **kw).due_by == D(2026, 12, 3)  # type: ignore[arg-type]


def test_mention_spans_keep_ordinal_dates_whole() -> None:
    text = "Bitte schicken Sie die Unterlagen bis spätestens 11. Dezember zurück. Danke!"
    spans = R.mention_spans(text, "de")
    assert [text[a:b] for a, b in spans] == ["bis spätestens 11. Dezember"]


# --- the findings from the first release, one row per class (before: 8 of 14 right) ----------------

FINDINGS = [
    # (class, lang, sentence, action, owner, end, kwargs, expected date, expected status)
    (
        "ordinal date",
        "de",
        "Bitte schicken Sie die Unterlagen bis spätestens 11. Dezember zurück.",
        None,
        "customer",
        THU,
        {},
        D(2026, 12, 11),
        OK,
    ),
    (
        "relative to event",
        "en",
        "You can cancel within two weeks after the contract ends.",
        None,
        "customer",
        THU,
        {},
        None,
        ASK,
    ),
    (
        "two deadlines",
        "en",
        "I'll send the new router by Friday and please return the old one within 14 days.",
        "Return the old router",
        "customer",
        THU,
        {},
        D(2026, 12, 3),
        OK,
    ),
    ("within the hour", "en", "I'll call you back within the hour.", None, "agent", THU, {}, D(2026, 11, 19), OK),
    ("mid-January", "en", "The technician can come by mid-January.", None, "backoffice", THU, {}, D(2027, 1, 15), OK),
    ("Mitte Januar", "de", "Der Techniker kommt bis Mitte Januar.", None, "backoffice", THU, {}, D(2027, 1, 15), OK),
    (
        "end of next month",
        "en",
        "The credit arrives by the end of next month.",
        None,
        "backoffice",
        THU,
        {},
        D(2026, 12, 31),
        OK,
    ),
    (
        "Ende nächsten Monats",
        "de",
        "Die Gutschrift kommt bis Ende nächsten Monats.",
        None,
        "backoffice",
        THU,
        {},
        D(2026, 12, 31),
        OK,
    ),
    (
        "Anfang nächster Woche",
        "de",
        "Ich melde mich Anfang nächster Woche.",
        None,
        "agent",
        THU,
        {},
        D(2026, 11, 23),
        OK,
    ),
    ("fortnight", "en", "The new card will arrive in a fortnight.", None, "backoffice", THU, {}, D(2026, 12, 3), OK),
    ("übermorgen", "de", "Ich kläre das und melde mich bis übermorgen.", None, "agent", THU, {}, D(2026, 11, 21), OK),
    (
        "kommenden weekday",
        "de",
        "Der Techniker kommt kommenden Freitag.",
        None,
        "backoffice",
        THU,
        {},
        D(2026, 11, 20),
        OK,
    ),
    ("by the 3rd", "en", "Please pay the balance by the 3rd.", None, "customer", THU, {}, D(2026, 12, 3), OK),
    (
        "bis zum 3.",
        "de",
        "Bitte zahlen Sie den Betrag bis zum 3. des Monats.",
        None,
        "customer",
        THU,
        {},
        D(2026, 12, 3),
        OK,
    ),
    ("time of day", "en", "I'll email you the quote by 5pm.", None, "agent", THU, {}, D(2026, 11, 19), OK),
    ("customer tomorrow", "en", "I'll send you the photo by tomorrow.", None, "customer", FRI, {}, D(2026, 11, 21), OK),
    (
        "DE-BY holiday",
        "de",
        "Ich rufe Sie morgen zurück.",
        None,
        "agent",
        datetime(2027, 1, 5, 9, tzinfo=UTC),
        {"subdivision": "DE-BY"},
        D(2027, 1, 7),
        CONFIRM,
    ),
    (
        "GB-SCT holiday",
        "en",
        "I'll get back to you within one business day.",
        None,
        "agent",
        FRI + timedelta(days=7),
        {"country": "GB", "subdivision": "GB-SCT", "tz": "Europe/London"},
        D(2026, 12, 1),
        OK,
    ),
]


def _finding_correct(row: tuple) -> bool:
    _, lang, sentence, action, owner, end, kw, expected, status = row
    phrase = R.find_phrase(sentence, lang, action=action)
    args = {"end": end, "tz": "Europe/Berlin", "country": "DE", "language": lang} | kw
    due = R.resolve(phrase, owner=owner, sentence=sentence, action=action, **args)
    return (due.due_by, due.status) == (expected, status)


@pytest.mark.parametrize("finding", FINDINGS, ids=[f[0] for f in FINDINGS])
def test_findings(finding: tuple) -> None:
    assert _finding_correct(finding)


def test_vocabulary_loader_rejects_yaml_booleans_and_missing_keys(tmp_path: Path) -> None:
    from shared.language.duedates import DueDateResolver

    text = (ROOT / "config" / "language/due_phrases.yaml").read_text("utf-8")
    unquoted = tmp_path / "unquoted.yaml"
    unquoted.write_text(text.replace('prefixes: [by, until, till, before, "on",', "prefixes: [by, until, before, on,"))
    with pytest.raises(ValueError, match=r"en\.prefixes has non-text entries \[True\]"):
        DueDateResolver(unquoted, LEXICONS)
    missing = tmp_path / "missing.yaml"
    missing.write_text(text.replace("    start_markers: [ab, ab dem,", "    starts: [ab, ab dem,"))
    with pytest.raises(ValueError, match="language 'de' differs in keys"):
        DueDateResolver(missing, LEXICONS)


def test_address_subdivision_is_iso_3166_2_within_the_country() -> None:
    from pydantic import ValidationError

    from shared.data.snapshots import Address

    base = {"street": "Marienplatz 3", "postal_code": "80331", "city": "München", "country": "DE"}
    assert Address(**base, subdivision="DE-BY").subdivision == "DE-BY"
    assert Address(**base).subdivision is None
    for bad in ("GB-SCT", "BY", "de-by"):
        with pytest.raises(ValidationError):
            Address(**base, subdivision=bad)


def test_subdivision_unknown_to_the_holiday_calendar_falls_back_to_the_country() -> None:
    kw = {"end": datetime(2027, 1, 5, 9, tzinfo=UTC), "tz": "Europe/Berlin", "country": "DE", "language": "en"}
    assert R.resolve("tomorrow", subdivision="DE-ZZ", **kw).due_by == D(2027, 1, 6)  # type: ignore[arg-type]
