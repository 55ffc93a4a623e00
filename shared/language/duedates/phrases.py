"""Deadline phrases per language: the words (``config/language/due_phrases.yaml`` plus the language's lexicon:
month and weekday names, function words) compiled to patterns, and the matching — the deadline
mentions of a text, grouped by clause. Per-language data only; no language branches."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from shared.language.lexicon import Lexicons, require

# --- per-language patterns ----------------------------------------------------------------------


def _alt(words: Any) -> str:
    items = sorted({str(w).lower() for w in words if str(w)}, key=len, reverse=True)
    return "|".join(re.escape(w) for w in items) or r"(?!x)x"


KEYWORDS = ("day_after_tomorrow", "tomorrow", "today", "within_hour", "asap", "few_days", "next_business_day")


@dataclass(frozen=True)
class Phrases:
    code: str
    table: dict[str, Any]
    kinds: list[tuple[str, re.Pattern[str]]]
    clause: re.Pattern[str]
    glue: re.Pattern[str]
    alternatives: re.Pattern[str]
    binding: re.Pattern[str]
    now: re.Pattern[str]
    start: re.Pattern[str]
    anchors: re.Pattern[str]
    follow_up: re.Pattern[str]
    committed_only: frozenset[str]
    arrival: re.Pattern[str]
    commitment_leads: re.Pattern[str]
    units: dict[str, str]
    positions: dict[str, str]
    periods: dict[str, str]
    alone: dict[str, str]
    questions: dict[str, str]
    stopwords: frozenset[str]


def compile_phrases(code: str, t: dict[str, Any]) -> Phrases:
    a = _alt
    flags = re.IGNORECASE
    # a word boundary that also refuses "Monday.com" and "sept-2"
    b = lambda p: re.compile(rf"(?<!\w)(?:{p})(?!\w|[.\-]\w)", flags)  # noqa: E731
    prefix = rf"(?P<prefix>(?:{a(t['prefixes'])})\s+)?"
    suffix = rf"(?P<suffix>,?\s+(?:{a(t['binding'])})(?!\s*\w))?"  # "Monday at the latest", not "…, at the latest by"
    num = rf"(?:\d{{1,3}}|{a(t['numbers'])})"
    units = {form.lower(): unit for unit, forms in t["units"].items() for form in forms or []}
    dur = rf"(?P<num>{num})(?:\s*(?:{a(t['range_words'])})\s*(?P<num2>{num}))?\s*(?P<unit>{a(units)})"
    within = a(t["within"])
    seps = a(t["clause_separators"])
    stop = rf"(?=\s*(?:[,;.!?]|$)|\s+(?:{seps})(?!\w))"
    months = a(t["months"])
    positions = {w.lower(): pos for pos, words in t["positions"].items() for w in words}
    periods = {w.lower(): ref for ref, words in t["periods"].items() for w in words}
    alone = {w.lower(): key for key, words in t["periods_alone"].items() for w in words}
    keyword = "|".join(f"(?P<{k}>{a(t[k])})" for k in KEYWORDS)
    markers = a([*t["this_marker"], *t["next_marker"]])
    ordinal = t["ordinal"]
    explicit = (
        rf"(?P<iy>\d{{4}})-(?P<im>\d{{2}})-(?P<id>\d{{2}})"
        rf"|(?P<nd>\d{{1,2}})(?:\.\s?(?P<nm>\d{{1,2}})\.(?P<ny>\d{{4}}|\d{{2}})|/(?P<sm>\d{{1,2}})/(?P<sy>\d{{4}}|\d{{2}}))"
        rf"|(?:(?:{a(t['day_of_month_lead'])})\s+)?(?P<md>\d{{1,2}})(?:{ordinal}|\.)?\s+(?:of\s+)?(?P<mm>{months})"
        rf"\.?(?:\s+(?P<my>\d{{4}}))?"
        rf"|(?P<mm2>{months})\.?\s+(?P<md2>\d{{1,2}})(?:{ordinal})?(?:,?\s+(?P<my2>\d{{4}}))?"
        rf"|(?:(?:{a(t['day_of_month_lead'])})\s+)?(?P<mw>{a(t['ordinal_words'])})\s+(?:of\s+)?(?P<mm3>{months})"
        rf"(?:\s+(?P<my3>\d{{4}}))?"
    )
    fillers = a(t["event_fillers"])
    noun_tail = r"[^\s,;.!?]*" if t["event_noun_compounds"] else r"s?(?!\w)"
    deadline_words = a([*t["prefixes"], *t["day_of_month_lead"], *t["today"], *t["tomorrow"], *t["within"]])
    event = (
        rf"(?:(?:{fillers})\s+){{0,4}}(?:{a(t['event_nouns'])}){noun_tail}"
        rf"(?:\s+(?!(?:{seps}|{deadline_words})(?!\w))[^\s,;.!?]+){{0,2}}"
    )
    kinds: list[tuple[str, re.Pattern[str]]] = [
        ("not_deadline", b(a(t["not_deadlines"]))),
        # "within a further 5 working days": counted from an earlier step, not from the call
        ("relative", b(rf"(?:(?:{within})\s+)?(?P<event>(?P<marker>{a(t['further_markers'])})\s+{dur})")),
        (
            "relative",
            b(
                rf"(?:(?:{within})\s+)?{dur}\s+(?P<marker>{a(t['relative_markers'])})\s+"
                rf"(?P<event>[^,;.!?]+?){stop}"
            ),
        ),
        ("relative", b(rf"(?P<marker>{a(t['relative_prefixes'])})\s+(?P<event>{event})")),
        ("duration", b(rf"{prefix}(?:{within})\s+{dur}{suffix}")),
        ("duration", b(rf"(?P<prefix>(?:{a(t['duration_leads'])})\s+)(?:[^\W\d]+\s+){{0,2}}?{dur}{suffix}")),
        ("keyword", b(rf"{prefix}(?:{keyword}){suffix}")),
        (
            "period",
            b(
                rf"{prefix}(?P<pos>{a(positions)})[\s-]*(?P<ref>{a(periods)}|{months})"
                rf"(?:\s+(?P<year>\d{{4}}))?{suffix}"
            ),
        ),
        ("period_alone", b(rf"{prefix}(?P<alone>{a(alone)}){suffix}")),
        (
            "weekday",
            b(
                rf"{prefix}(?:(?P<rel>{markers})\s+)?(?P<day>{a(t['weekdays'])})(?:{a(t['weekday_suffixes'])})?"
                rf"{suffix}"
            ),
        ),
        ("explicit", b(rf"{prefix}(?:{explicit}){suffix}")),
        # without a year, a numeric date needs its preposition ("am 15.12.", "by 3/12"): "Redis 6.2." is a version
        (
            "explicit",
            b(
                rf"(?P<prefix>(?:{a(t['prefixes'])})\s+)(?P<nd>\d{{1,2}})"
                rf"(?:\.\s?(?P<nm>\d{{1,2}})\.|/(?P<sm>\d{{1,2}})){suffix}"
            ),
        ),
        (
            "day_of_month",
            b(
                rf"{prefix}(?:{a(t['day_of_month_lead'])})\s+(?P<dom>\d{{1,2}}){ordinal}"
                rf"(?!\s*\d){suffix}"
            ),
        ),
        ("time", b(rf"{prefix}(?P<named>{a(t['named_times'])}){suffix}")),
    ] + [("time", b(rf"{prefix}(?:{p}){suffix}")) for p in t["time_patterns"]]
    return Phrases(
        code=code,
        table=t,
        kinds=kinds,
        clause=re.compile(rf"(?<!\w)(?:{seps})(?!\w)|;", flags),
        glue=re.compile(rf"^[\s,]*(?:(?:{a(t['glue'])})[\s,]+)*$", flags),
        alternatives=re.compile(rf"^[\s,]*(?:{a(t['alternatives'])})[\s,]*$", flags),
        binding=re.compile(rf"(?:^|\s)(?:{a(t['binding'])})(?:\s|,|$)", flags),
        now=re.compile(rf"^(?:{a(t['now_words'])})(?!\w)", flags),
        start=re.compile(rf"(?<!\w)(?:{a(t['start_markers'])})\s+(?:the\s+)?$", flags),
        anchors=re.compile(
            rf"(?<!\w)(?!(?:{a(t['anchor_exceptions'])})(?!\w))(?:{a(t['sentence_anchors'])})(?!\w)[^,;.!?]*", flags
        ),
        follow_up=re.compile(rf"(?<!\w)(?:{a(t['follow_up_words'])})(?!\w)", flags),
        arrival=re.compile(rf"(?<!\w)(?:{a(t['arrival_words'])})(?!\w)", flags),
        committed_only=frozenset(w.lower() for w in t["committed_only"]),
        commitment_leads=re.compile(rf"(?<!\w)(?:{a(t['commitment_leads'])})(?!\w)", flags),
        units=units,
        positions=positions,
        periods=periods,
        alone=alone,
        questions=dict(t["questions"]),
        stopwords=frozenset(w.lower() for w in t["stopwords"]),
    )


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    kind: str
    m: re.Match[str]

    @property
    def text(self) -> str:
        return self.m.group()


@dataclass
class Group:
    mentions: list[Mention]
    clause: int = 0

    @property
    def start(self) -> int:
        return self.mentions[0].start

    @property
    def end(self) -> int:
        return self.mentions[-1].end


def _scan(lang: Phrases, text: str) -> list[Mention]:
    found: list[Mention] = []
    for kind, pattern in lang.kinds:
        for m in pattern.finditer(text):
            if kind == "relative" and lang.now.match(m.group("event").strip()):
                if "num" not in m.groupdict():
                    continue
                kind_here = "duration"  # "within 5 days from today" counts from now: an ordinary duration
            elif kind == "keyword" and m.group().strip().lower() in lang.committed_only and not _committed(lang, m):
                continue  # "Let me walk you through it now": no deadline without "I'll"/"we'll" before it
            else:
                kind_here = kind
            found.append(Mention(m.start(), m.end(), kind_here, m))
    found.sort(key=lambda x: (x.start, -(x.end - x.start), x.kind != "relative"))
    chosen: list[Mention] = []
    for mention in found:
        if chosen and mention.start < chosen[-1].end:
            continue
        chosen.append(mention)
    chosen = [m for m in chosen if m.kind != "not_deadline"]
    # "From the first of December the new plan applies, the old one ends on the thirtieth": a start is no deadline
    starts = [m for m in chosen if m.kind != "relative" and lang.start.search(text[max(0, m.start - 25) : m.start])]
    return [m for m in chosen if m not in starts] if len(starts) < len(chosen) else chosen


def _committed(lang: Phrases, m: re.Match[str]) -> bool:
    """A speaker's own commitment ("I'll", "we're") earlier in the same clause as the match."""
    if m.string.strip().lower() == m.group().strip().lower():
        return True  # the phrase on its own: whoever chose it saw its sentence
    head = re.split(r"[,;.!?]", m.string[: m.start()])[-1]
    return bool(lang.commitment_leads.search(head))


def find_groups(lang: Phrases, text: str) -> list[Group]:
    """Mentions that belong together ("Friday, 4 December at 5pm") form one group; groups carry their clause."""
    breaks = [m.start() for m in lang.clause.finditer(text)]
    groups: list[Group] = []
    for mention in _scan(lang, text):
        clause = sum(1 for b in breaks if b <= mention.start)
        last = groups[-1].mentions[-1] if groups else None
        gap = text[last.end : mention.start] if last else ""
        if (
            last
            and groups[-1].clause == clause
            and _belong_together(last, mention)
            and lang.glue.match(gap)
            and not _binding_mention(lang, mention)
        ):
            groups[-1].mentions.append(mention)
        else:
            groups.append(Group([mention], clause))
    return groups


_REFINES = {
    frozenset(p)
    for p in (
        ("weekday", "explicit"),
        ("weekday", "day_of_month"),
        ("weekday", "period"),
        ("weekday", "period_alone"),
        ("relative", "weekday"),
        ("relative", "explicit"),
    )
}


def _belong_together(a: Mention, b: Mention) -> bool:
    """A time of day joins any date; a weekday joins a date or a named week. Two full deadlines
    ("by Friday, within 2 weeks") stay apart."""
    return "time" in (a.kind, b.kind) and a.kind != b.kind or frozenset((a.kind, b.kind)) in _REFINES


def _binding_mention(lang: Phrases, m: Mention) -> bool:
    return any(lang.binding.search(f" {(m.m.groupdict().get(k) or '')} ") for k in ("prefix", "suffix"))


def is_binding(lang: Phrases, group: Group) -> bool:
    return any(_binding_mention(lang, m) for m in group.mentions)


def content_words(lang: Phrases, text: str) -> set[str]:
    """Word stems (first four letters) without the language's function words: enough to tie an action
    description to its clause across inflections ("zurücksenden" ~ "zurück")."""
    stop = lang.stopwords
    return {w[:4] for w in re.findall(r"[^\W\d_]{3,}", text.lower()) if w not in stop}


# --- loading ------------------------------------------------------------------------------------

# Keys of a language's table that come from its lexicon (config/language/lexicon/<code>.yaml),
# never from the phrase file.
LEXICON_KEYS = ("months", "weekdays", "stopwords")


def validate(path: Path, languages: dict[str, Any]) -> None:
    """Every language has the same keys, and every phrase is text (YAML reads a bare `on` as true)."""
    keys = {code: set(table) for code, table in languages.items()}
    first = next(iter(keys.values()))
    for code, have in keys.items():
        if have != first:
            raise ValueError(f"{path}: language {code!r} differs in keys {sorted(have ^ first)}")
        for key, value in languages[code].items():
            items = list(value) if isinstance(value, dict | list) else []  # scalars are settings
            bad = [i for i in items if isinstance(i, bool) or i is None]
            if bad:
                raise ValueError(f"{path}: {code}.{key} has non-text entries {bad!r}: quote them")


def load(path: Path, lexicons: Lexicons) -> tuple[str, dict[str, Any], dict[str, Phrases]]:
    """(version, rules, compiled phrases per language) from the phrase file and the lexicons."""
    # the C loader when libyaml is there: the pure-Python one spends ~160 ms on this file at cold start
    raw = yaml.load(path.read_text("utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    languages: dict[str, Any] = {}
    for code, table in raw["languages"].items():
        moved = [k for k in LEXICON_KEYS if k in table]
        if moved:
            raise ValueError(f"{path}: {code}.{moved} belong in the language's lexicon (lexicon/{code}.yaml)")
        lexicon = require(lexicons, code, str(path))
        languages[code] = {
            **table,
            "months": lexicon.month_numbers,
            "weekdays": lexicon.weekday_numbers,
            "stopwords": lexicon.function_words,
        }
    validate(path, languages)
    return str(raw["version"]), dict(raw["rules"]), {code: compile_phrases(code, t) for code, t in languages.items()}
