"""Spoken deadlines ("by Friday", "within 3 business days", "Mitte Januar", "bis 17 Uhr") turned into
real dates, in code — or, when a date cannot be given with confidence, an explicit question for the agent.

Every answer is a typed :class:`Due`:

- ``resolved``: a date (and sometimes a time of day) with the rule that produced it;
- ``confirm``: a proposed date the agent should confirm (two deadlines in one sentence, "next Friday"
  said mid-week, "tomorrow" said after local midnight, a weekday that does not match the date);
- ``ask_agent``: no date, the phrase, a reason code and a question in the agent's language — a deadline
  relative to another event ("within two weeks after the contract ends", "nach Erhalt der Rechnung"),
  a date in the past, a date that does not exist, or words that are not understood;
- ``none``: nothing was said and no service level applies.

Dates count from the conversation's end in the customer's time zone. Company-side work (agent,
back office) follows business days of the customer's country and ISO 3166-2 subdivision
(``holidays``): deadlines landing on a weekend or public holiday move to the next business day, "end
of week/month" moves back to the last business day of that period. A named day ("Saturday", "on 2 January",
"tomorrow", "übermorgen") is the day the speaker promised: kept on a weekend, and on a public holiday moved
to the next business day for the agent to confirm. The customer's own deadlines
follow calendar days. Phrases, questions and rules are per-language data (config/language/due_phrases.yaml);
the logic has no language branches.

Rule for several deadlines: the deadline in the action's clause wins (``action=``); within a clause a
deadline marked "at the latest"/"spätestens" wins, alternatives ("today or tomorrow") give the latest,
a date inside a named period refines it ("next week, on Tuesday"), and anything else gives the
earliest date flagged for confirmation.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from shared.language.duedates.calendar import BusinessCalendar
from shared.language.duedates.phrases import Group, Mention, Phrases, content_words, find_groups, is_binding, load
from shared.language.lexicon import Lexicons, load_lexicons

Status = Literal["resolved", "confirm", "ask_agent", "none"]
CALENDAR_DAY_OWNERS = frozenset({"customer"})  # everyone else is company-side and works business days


@dataclass(frozen=True)
class Due:
    due_by: date | None
    rule: str
    phrase: str | None = None
    status: Status = "resolved"
    reason: str | None = None
    question: str | None = None
    due_time: time | None = None
    options: tuple[date, ...] = ()


SPECIFICITY = {
    "explicit": 6,
    "day_of_month": 5,
    "weekday": 4,
    "keyword": 3,
    "time": 3,
    "duration": 2,
    "period": 1,
    "period_alone": 1,
}


# --- evaluation -------------------------------------------------------------------------------


@dataclass
class _Val:
    day: date | None
    rule: str
    kind: str
    status: Status = "resolved"
    reason: str | None = None
    at: time | None = None
    # forward/backward: to a business day (company side); named: a day the speaker chose, kept on a
    # weekend, confirmed on a public holiday; none: as computed
    adjust: Literal["forward", "backward", "named", "none"] = "forward"
    period: tuple[date, date] | None = None
    weekday: int | None = None
    info: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Ctx:
    lang: Phrases
    local: datetime
    start: date
    cal: BusinessCalendar
    rules: dict[str, Any]
    month_first: bool


def _ask(reason: str, kind: str, **info: str) -> _Val:
    return _Val(None, reason, kind, status="ask_agent", reason=reason, info=dict(info))


def _add_months(d: date, n: int, day: int | None = None) -> date:
    month = d.month - 1 + n
    year, month = d.year + month // 12, month % 12 + 1
    return date(year, month, min(day or d.day, calendar.monthrange(year, month)[1]))


def _number(ctx: _Ctx, raw: str) -> int:
    raw = raw.lower()
    return int(raw) if raw.isdigit() else int(ctx.lang.table["numbers"][raw])


def _eval(m: Mention, ctx: _Ctx) -> _Val:
    g = {k: v for k, v in m.m.groupdict().items() if v is not None}
    start, local, t = ctx.start, ctx.local, ctx.lang.table
    if m.kind == "relative":
        return _ask("relative_event", m.kind, event=g["event"].strip())
    if m.kind == "duration":
        # "3 to 5 working days": the promise is kept until the upper bound
        n, unit = _number(ctx, g.get("num2") or g["num"]), ctx.lang.units[g["unit"].lower()]
        if unit == "business_day":
            return _Val(ctx.cal.add_business_days(start, n), "within_business_days", m.kind, adjust="none")
        if unit in ("hour", "minute"):  # clock time: "within 48 hours" on a Thursday afternoon is Saturday afternoon
            due = local + (timedelta(hours=n) if unit == "hour" else timedelta(minutes=n))
            return _Val(
                due.date(), f"within_{unit}s", m.kind, at=due.time().replace(second=0, microsecond=0), adjust="none"
            )
        if unit == "month":
            return _Val(_add_months(start, n), "within_months", m.kind)
        days = {"day": 1, "week": 7, "fortnight": 14}[unit] * n
        return _Val(start + timedelta(days=days), f"within_{unit}s", m.kind)
    if m.kind == "keyword":
        if "within_hour" in g:
            due = local + timedelta(hours=1)
            return _Val(
                due.date(), "within_the_hour", m.kind, at=due.time().replace(second=0, microsecond=0), adjust="none"
            )
        if "next_business_day" in g:  # said in business days: counted so whoever the owner is
            return _Val(ctx.cal.add_business_days(start, 1), "next_business_day", m.kind, adjust="none")
        rule = next(k for k in ("day_after_tomorrow", "tomorrow", "today", "asap", "few_days") if k in g)
        # today / tomorrow / the day after tomorrow name one calendar day, as a weekday does: kept on a weekend
        named = rule in ("today", "tomorrow", "day_after_tomorrow")
        val = _Val(
            start + timedelta(days={"tomorrow": 1, "day_after_tomorrow": 2, "few_days": 3}.get(rule, 0)),
            rule,
            m.kind,
            adjust="named" if named else "forward",
        )
        if rule == "asap":
            val.status, val.reason = "confirm", "asap"
        elif rule != "today" and local.hour < int(ctx.rules["small_hours_end"]):
            val.status, val.reason = "confirm", "small_hours"
        return val
    if m.kind in ("period", "period_alone"):
        if m.kind == "period_alone":
            pos, ref = ctx.lang.alone[g["alone"].lower()].split(".")
        else:
            pos, ref = ctx.lang.positions[g["pos"].lower()], g["ref"].lower()
            ref = ctx.lang.periods.get(ref, ref)
        return _period(ctx, pos, ref, g.get("year"), m.kind)
    if m.kind == "weekday":
        wd = int(t["weekdays"][g["day"].lower()])
        target = start + timedelta(days=(wd - start.weekday()) % 7 or 7)
        val = _Val(target, "weekday", m.kind, weekday=wd, adjust="named")
        nxt = g.get("rel", "").lower() in {w.lower() for w in t["next_marker"]}
        if nxt and target.isocalendar()[:2] == start.isocalendar()[:2]:
            # "next Friday" said on Thursday: the week after (the common reading), for the agent to confirm
            val.day, val.rule = target + timedelta(days=7), "next_weekday"
            val.status, val.reason = "confirm", "next_weekday"
            val.info = {"near": target.isoformat(), "far": (target + timedelta(days=7)).isoformat()}
        return val
    if m.kind == "explicit":
        return _explicit(ctx, g, m.kind)
    if m.kind == "day_of_month":
        dom = int(g["dom"])
        if not 1 <= dom <= 31:
            return _ask("invalid_date", m.kind)
        months_ahead = 0 if dom >= start.day else 1
        first = _add_months(start.replace(day=1), months_ahead, 1)
        if dom > calendar.monthrange(first.year, first.month)[1]:
            return _ask("invalid_date", m.kind)
        return _Val(first.replace(day=dom), "day_of_month", m.kind, adjust="named")
    # time of day
    if "named" in g:
        hh, mm = (int(x) for x in t["named_times"][g["named"].lower()].split(":"))
    else:
        hh, mm = int(g["h"]), int(g.get("mi") or 0)
        ampm = g.get("ampm", "").lower().replace(".", "")
        hh = hh % 12 + (12 if ampm == "pm" else 0) if ampm else hh
    if hh > 23 or mm > 59:
        return _ask("invalid_date", m.kind)
    at = time(hh, mm)
    day = start if at > local.time().replace(tzinfo=None) else start + timedelta(days=1)
    return _Val(day, "time_of_day", m.kind, at=at, adjust="none")


def _period(ctx: _Ctx, pos: str, ref: str, year_text: str | None, kind: str) -> _Val:
    start = ctx.start
    if ref.endswith("weekend"):
        # a weekend is chosen on purpose: kept as said, its Sunday as the deadline
        saturday = start + timedelta(days=5 - start.weekday() if start.weekday() <= 5 else -1)
        saturday += timedelta(days=7 if ref == "next_weekend" else 0)
        sunday = saturday + timedelta(days=1)
        return _Val(
            max(sunday if pos == "end" else saturday, start),
            f"{pos}_of_{ref}",
            kind,
            adjust="none",
            period=(saturday, sunday),
        )
    if ref.endswith("week"):
        monday = start - timedelta(days=start.weekday())
        if start.weekday() > 4 and ref == "this_week":
            monday += timedelta(days=7)  # said at the weekend: the coming working week
        if ref == "next_week":
            monday += timedelta(days=7)
        first, last, mid = monday, monday + timedelta(days=4), monday + timedelta(days=2)
    elif ref.endswith("year"):
        year = start.year + (1 if ref == "next_year" else 0)
        first, last, mid = date(year, 1, 1), date(year, 12, 31), date(year, 7, 1)
    else:
        if ref in ("this_month", "next_month"):
            first = _add_months(start.replace(day=1), 1 if ref == "next_month" else 0, 1)
        else:
            month = int(ctx.lang.table["months"][ref])
            year = int(year_text) if year_text else start.year + (1 if month < start.month else 0)
            first = date(year, month, 1)
        last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
        mid = first.replace(day=int(ctx.rules["mid_month_day"]))
    day = {"start": first, "mid": mid, "end": last}[pos]
    if day < start and pos != "end":
        return _ask("past_date", kind, date=day.isoformat())
    if last < start:
        return _ask("past_date", kind, date=last.isoformat())
    return _Val(
        max(day, start),
        f"{pos}_of_{ref if ref in ctx.lang.periods.values() else 'named_month'}",
        kind,
        adjust="backward" if pos == "end" else "forward",
        period=(first, last),
    )


def _explicit(ctx: _Ctx, g: dict[str, str], kind: str) -> _Val:
    months = ctx.lang.table["months"]
    if "iy" in g:
        y, mo, d = int(g["iy"]), int(g["im"]), int(g["id"])
    elif "nd" in g:
        first, second = int(g["nd"]), int(g.get("nm") or g["sm"])
        d, mo = (second, first) if "sm" in g and ctx.month_first else (first, second)
        raw = g.get("ny") or g.get("sy")
        y = (int(raw) + (2000 if len(raw) == 2 else 0)) if raw else 0
    elif "mw" in g:
        d, mo = int(ctx.lang.table["ordinal_words"][g["mw"].lower()]), int(months[g["mm3"].lower()])
        y = int(g.get("my3") or 0)
    else:
        d, mo = int(g.get("md") or g["md2"]), int(months[(g.get("mm") or g["mm2"]).lower()])
        y = int(g.get("my") or g.get("my2") or 0)
    try:
        parsed = date(y or ctx.start.year, mo, d)
    except ValueError:
        return _ask("invalid_date", kind)
    if parsed < ctx.start:
        if y or (ctx.start - parsed).days <= int(ctx.rules["past_reference_days"]):
            return _ask("past_date", kind, date=parsed.isoformat())
        parsed = parsed.replace(year=parsed.year + 1)  # "15 January" said in November: next year
    return _Val(parsed, "explicit_date", kind, adjust="named")


def _combine(group: Group, ctx: _Ctx) -> _Val:
    """One deadline from mentions that belong together: a relative part makes it unresolved; a time of
    day attaches to the date; a weekday inside a named week is that week's day; otherwise the most
    specific mention gives the date."""
    vals = [_eval(m, ctx) for m in group.mentions]
    asks = [v for v in vals if v.status == "ask_agent"]
    dated_event = next((v for v in vals if v.kind in ("explicit", "day_of_month") and v.status != "ask_agent"), None)
    if dated_event and asks and all(v.reason == "relative_event" for v in asks):
        return replace(dated_event, rule="event_on_date")  # "with the next bill on 1 December"
    if asks:
        return next((v for v in asks if v.reason == "relative_event"), asks[0])
    at = next((v.at for v in vals if v.kind == "time"), None)
    dated = [v for v in vals if v.kind != "time"] or vals
    best = max(dated, key=lambda v: SPECIFICITY[v.kind])
    week = next((v for v in dated if v.period and (v.period[1] - v.period[0]).days == 4), None)
    weekday = next((v for v in dated if v.kind == "weekday"), None)
    if week and weekday and week.period and weekday.weekday is not None and best is weekday:
        # "next week, on Tuesday": the weekday inside the named week, whatever "next" alone would mean
        best = _Val(week.period[0] + timedelta(days=weekday.weekday), "weekday_in_week", "weekday")
    elif weekday and best.kind in ("explicit", "day_of_month"):
        # "Friday, 4 December": the date says which Friday; a weekday that does not match is a question
        if best.day and best.day.weekday() != weekday.weekday and best.status == "resolved":
            best = replace(best, status="confirm", reason="inconsistent")
    else:
        pending = next((v for v in dated if v.status == "confirm"), None)
        if pending and best.status == "resolved":
            best = replace(best, status="confirm", reason=pending.reason, info=pending.info)
    if at is not None and best.kind != "time":
        best = replace(best, at=at)
    return best


def _final(val: _Val, ctx: _Ctx, calendar_days: bool) -> date | None:
    if val.day is None or calendar_days or val.adjust == "none":
        return val.day
    if val.adjust == "named":
        return ctx.cal.forward(val.day) if ctx.cal.is_holiday(val.day) else val.day
    if val.adjust == "backward":
        return ctx.cal.backward(val.day, floor=ctx.start)
    return ctx.cal.forward(val.day)


class DueDateResolver:
    """Deadlines from ``path`` (the phrase file) and the languages' lexicons (month and weekday names,
    function words); without ``lexicons``, the ``lexicon/`` directory next to the phrase file."""

    def __init__(self, path: Path, lexicons: Lexicons | None = None) -> None:
        self.version, self.rules, self._langs = load(path, lexicons or load_lexicons(path.parent / "lexicon"))

    @property
    def languages(self) -> list[str]:
        return list(self._langs)

    def _lang(self, language: str) -> list[Phrases]:
        return [self._langs[language]] if language in self._langs else list(self._langs.values())

    def _bestfind_groups(self, text: str, language: str) -> tuple[Phrases, list[Group]] | None:
        for lang in self._lang(language):
            groups = find_groups(lang, text)
            if groups:
                return lang, groups
        return None

    def mention_spans(self, text: str, language: str) -> list[tuple[int, int]]:
        """Character spans of deadline phrases: a sentence splitter must not break inside one
        ("bis spätestens 11. Dezember", "am 3. 12.", "by 5 p.m.")."""
        found = self._bestfind_groups(text, language)
        return [(g.start, g.end) for g in found[1]] if found else []

    def find_phrase(self, text: str, language: str, action: str | None = None) -> str | None:
        """The deadline phrase of a sentence, with its preposition ("by Friday").

        With several deadlines: the clause that shares most words with ``action`` (else the first clause
        with a deadline); inside it, the deadline marked "at the latest" or the first, together with the
        deadlines linked to it by a comma, "or" or glue words ("Friday or Monday at the latest")."""
        found = self._bestfind_groups(text, language)
        if not found:
            return None
        lang, groups = found
        clauses = lang.clause.split(text)
        candidates = sorted({g.clause for g in groups})
        quoted = (
            [
                c
                for c in candidates
                if any(text[g.start : g.end].lower() in action.lower() for g in groups if g.clause == c)
            ]
            if action
            else []
        )
        if len(quoted) > 1:
            candidates = quoted  # the action quotes several clauses with their deadlines: no clause of its own
        elif action:
            words = content_words(lang, action)
            scores = {c: len(words & content_words(lang, clauses[c])) for c in candidates}
            top = max(scores.values())
            candidates = [c for c in candidates if scores[c] == top] if top > 0 else candidates
        # "It leaves today and is with you the day after tomorrow": a shipment is due when it arrives
        arrivals = [c for c in candidates if lang.arrival.search(clauses[c])]
        clause = arrivals[-1] if arrivals and len(candidates) > 1 else candidates[0]
        members = [g for g in groups if g.clause == clause]
        anchor = next((i for i, g in enumerate(members) if is_binding(lang, g)), 0)
        lo = hi = anchor

        def linked(a: Any, b: Any) -> bool:
            gap = text[a.end : b.start]
            return len(gap) <= 30 and bool(lang.alternatives.match(gap) or is_binding(lang, b) or is_binding(lang, a))

        while lo > 0 and linked(members[lo - 1], members[lo]):
            lo -= 1
        while hi < len(members) - 1 and linked(members[hi], members[hi + 1]):
            hi += 1
        phrase = text[members[lo].start : members[hi].end].strip()
        # A sentence's full stop after a word is not part of the phrase ("zum 3." keeps its dot).
        return phrase[:-1] if re.search(r"[^\W\d]\.$", phrase) and not phrase.lower().endswith("std.") else phrase

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
        owner: str | None = None,
        sentence: str | None = None,
        action: str | None = None,
        agent_language: str | None = None,
    ) -> Due:
        """A date for ``phrase`` counted from the conversation end ``end`` in time zone ``tz``.

        ``owner`` "customer" counts calendar days; agent/back office (or unknown) count business days of
        ``country``/``subdivision`` (ISO 3166-2, "DE-BY" or "BY"). ``sentence`` (the evidence) lets the
        resolver see other deadlines and event anchors ("Once we receive it, ...") around the phrase;
        ``action`` says which clause the deadline belongs to. Questions are in ``agent_language``."""
        local = end.astimezone(ZoneInfo(tz))
        ctx = _Ctx(
            self._langs[language] if language in self._langs else next(iter(self._langs.values())),
            local,
            local.date(),
            BusinessCalendar(country, subdivision, local.year),
            self.rules,
            month_first=(country or "").upper() == "US",
        )
        calendar_days = (owner or "").lower() in CALENDAR_DAY_OWNERS
        questions = self._questions(agent_language or language)
        phrase = (phrase or "").strip() or None
        if phrase is None:
            step = self._earlier_step(sentence, action, ctx) if sentence and action else None
            if step:
                # "... sends it back within ten working days, and then we'll pay it to your card": no date of its own,
                # after a step that has a period; the agent is asked rather than given a service-level guess
                return self._due(None, step, questions, _ask("after_step", "relative", event=step), ctx)
            after_event = sentence is not None and self._after_event(sentence, action, ctx)
            if sla_business_days is not None and not calendar_days and after_event:
                # "Once it has shipped, you'll get a text": the service level counts from that event, whose date
                # nobody said; a date counted from the call would be confidently wrong
                return Due(None, "sla_after_event", None, status="none", reason="after_event")
            if sla_business_days is not None and not calendar_days:
                return Due(ctx.cal.add_business_days(ctx.start, sla_business_days), "sla_default", None)
            return Due(None, "none", None, status="none")
        found = self._bestfind_groups(phrase, language)
        if not found:
            return self._due(None, phrase, questions, _ask("not_understood", "none"), ctx)
        lang, groups = found
        ctx = replace(ctx, lang=lang)
        val, options = self._choose(lang, phrase, groups, ctx, calendar_days)
        if sentence and val.status != "ask_agent":
            val, options = self._check_sentence(lang, phrase, sentence, action, val, options, ctx, calendar_days)
        day = _final(val, ctx, calendar_days)
        if val.status == "resolved" and val.adjust == "named" and day != val.day:
            val = replace(val, status="confirm", reason="holiday", info={"named": str(val.day)})
        return self._due(day, phrase, questions, val, ctx, options)

    def _after_event(self, sentence: str, action: str | None, ctx: _Ctx) -> bool:
        """The work waits for another step: an anchor anywhere in the sentence ("once", "sobald"), or a follow-up
        word ("then", "danach") leading into the action's own words (not "We'll check it and then call you" for
        the check)."""
        lang = ctx.lang
        if lang.anchors.search(sentence):
            return True
        at = sentence.lower().find(action.lower().strip(" .!?")) if action else -1
        if at < 0:
            return bool(lang.follow_up.search(sentence))
        head = re.split(r"[,;]", sentence[:at])[-1]
        return bool(lang.follow_up.search(f"{head} {action}"))

    def _earlier_step(self, sentence: str, action: str, ctx: _Ctx) -> str | None:
        """The deadline phrase of an earlier step this action follows ("X within 10 days, and then we'll pay"):
        the action's own part of the sentence starts with a follow-up word and has no deadline, an earlier part has."""
        lang = ctx.lang
        at = sentence.lower().find(action.lower().strip(" .!?"))
        if at <= 0:
            return None
        head = re.split(r"[,;]", sentence[:at])[-1]  # "..., und danach überweisen wir": the words leading into it
        if not lang.follow_up.search(f"{head} {action}"[: len(head) + 20]):
            return None
        earlier = find_groups(lang, sentence[:at])
        return sentence[earlier[-1].start : earlier[-1].end] if earlier else None

    def _choose(
        self, lang: Phrases, text: str, groups: list[Group], ctx: _Ctx, calendar_days: bool
    ) -> tuple[_Val, tuple[date, ...]]:
        vals = [_combine(g, ctx) for g in groups]
        if len(vals) == 1:
            return vals[0], ()
        binding = [v for g, v in zip(groups, vals, strict=True) if is_binding(lang, g)]
        if binding:
            vals = binding[:1] if len(binding) == 1 else binding
            if len(vals) == 1:
                return vals[0], ()
        asks = [v for v in vals if v.status == "ask_agent"]
        if asks:
            return asks[0], ()
        finals = [_final(v, ctx, calendar_days) for v in vals]
        gaps = [text[a.end : b.start] for a, b in zip(groups, groups[1:], strict=False)]
        if not binding and gaps and all(lang.alternatives.match(gap) for gap in gaps):
            i = max(range(len(vals)), key=lambda k: finals[k])  # type: ignore[arg-type,return-value]
            return replace(vals[i], rule=f"{vals[i].rule}+latest_alternative"), ()
        specific = [
            v
            for v in vals
            if not any(
                o is not v and o.period and v.day and o.period[0] <= v.day <= o.period[1] and v.period is None
                for o in vals
            )
            or v.period is None
        ]
        specific = [v for v in specific if v.period is None] or specific
        dates = sorted({_final(v, ctx, calendar_days) for v in specific})  # type: ignore[type-var]
        first = min(specific, key=lambda v: _final(v, ctx, calendar_days))  # type: ignore[arg-type,return-value]
        if len(dates) == 1:
            return first, ()
        return replace(first, status="confirm", reason="two_deadlines"), tuple(dates)  # type: ignore[arg-type]

    def _check_sentence(
        self,
        lang: Phrases,
        phrase: str,
        sentence: str,
        action: str | None,
        val: _Val,
        options: tuple[date, ...],
        ctx: _Ctx,
        calendar_days: bool,
    ) -> tuple[_Val, tuple[date, ...]]:
        """Deadlines and event anchors elsewhere in the sentence: a duration counted from an event
        ("Once we receive it, ... within 2 days") is unresolved; another deadline in another clause
        makes the answer one to confirm unless the action's words tie the phrase to its clause."""
        at = sentence.lower().find(phrase.lower())
        if at < 0:
            return val, options
        span = (at, at + len(phrase))
        outside = sentence[: span[0]] + " " * len(phrase) + sentence[span[1] :]
        if val.kind == "duration" or val.rule == "within_the_hour":
            cuts = [0, *[m.start() for m in lang.clause.finditer(sentence)], len(sentence)]
            lo = max(c for c in cuts if c <= span[0])
            hi = min(c for c in cuts if c >= span[1])
            # the word before a clause break belongs to an anchor that ends with it ("ab dann braucht ... 5 Werktage")
            before = re.search(r"\w+\s*$", sentence[:lo])
            lo = before.start() if before and lo > 0 else lo
            anchor = lang.anchors.search(outside[lo:hi])  # "Once we receive it, ... within 2 days" (same clause)
            if anchor:
                return _ask("relative_event", "relative", event=anchor.group().strip()), ()
        others = [
            g
            for g in find_groups(lang, sentence)
            if (g.end <= span[0] or g.start >= span[1]) and any(m.kind != "time" for m in g.mentions)
        ]  # "between 8am and 12pm" is a window, not a deadline
        mine = _final(val, ctx, calendar_days)
        differ = sorted({d for g in others if (d := _final(_combine(g, ctx), ctx, calendar_days)) and d != mine})
        if not differ:
            return val, options
        if action:
            clauses = lang.clause.split(sentence)
            breaks = [m.start() for m in lang.clause.finditer(sentence)]
            own = sum(1 for b in breaks if b <= span[0])
            words = content_words(lang, action)
            scores = [len(words & content_words(lang, c)) for c in clauses]
            if scores[own] > 0 and all(s < scores[own] for i, s in enumerate(scores) if i != own):
                return val, options
            if (
                lang.arrival.search(clauses[own])
                and phrase.lower() in action.lower()
                and all(sentence[g.start : g.end].lower() in action.lower() for g in others)
            ):
                return val, options  # "leaves today and is with you on Saturday" as one action: due on arrival
        if val.status == "resolved":
            val = replace(val, status="confirm", reason="two_deadlines")
        return val, tuple(sorted({*options, *([mine] if mine else []), *differ}))

    def _questions(self, language: str) -> dict[str, str]:
        lang = (
            self._langs.get(language)
            or self._langs.get(str(self.rules.get("question_language")))
            or next(iter(self._langs.values()))
        )
        return lang.questions

    @staticmethod
    def _due(
        day: date | None, phrase: str, questions: dict[str, str], val: _Val, ctx: _Ctx, options: tuple[date, ...] = ()
    ) -> Due:
        if val.status == "resolved":
            return Due(day, val.rule, phrase, "resolved", due_time=val.at)
        fields = {
            "phrase": phrase,
            "event": "",
            "options": ", ".join(o.isoformat() for o in options),
            "date": (day or ctx.start).isoformat(),
            "time": ctx.local.strftime("%H:%M"),
            "near": "",
            "far": "",
            **val.info,
        }
        question = questions.get(val.reason or "not_understood", questions["not_understood"]).format(**fields)
        if val.status == "ask_agent":
            return Due(None, val.rule, phrase, "ask_agent", reason=val.reason, question=question)
        return Due(
            day, val.rule, phrase, "confirm", reason=val.reason, question=question, due_time=val.at, options=options
        )


@lru_cache(maxsize=2)
def resolver(path: Path) -> DueDateResolver:
    return DueDateResolver(path)
