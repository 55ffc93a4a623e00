"""The next-step development gold sets (tests/fixtures/next_steps_gold/{en,de}.yaml) are well formed.

The files are data other tests and the eval command score engines against, so a broken case must fail
here (schema, ids, channels, sources, owners, resolver groups, seeded customers, dates, class coverage)
rather than silently shift a figure. The second half mutates a valid file and checks each rule bites.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, Literal

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from scripts.seed import SEEDS

ROOT = Path(__file__).resolve().parents[2]
GOLD_DIR = ROOT / "tests" / "fixtures" / "next_steps_gold"
QUEUES = ROOT / "config" / "decisions/queues.yaml"
LANGUAGES = ("en", "de")
END = "2026-11-19T14:00:00Z"
TODAY = dt.date(2026, 11, 19)
LATEST_DUE = dt.date(2027, 12, 31)
MIN_CASES = 60
LONG_TURNS = 15

FailureClass = Literal[
    "negation",
    "question",
    "plain_instruction",
    "passive_thirdparty",
    "owner_swap",
    "german_word_order",
    "conditional",
    "no_action",
    "relative_deadline",
    "multi_deadline",
    "vague_deadline",
    "completed_fact",
    "customer_commitment",
    "long_transcript",
]
ALL_CLASSES = frozenset(FailureClass.__args__)  # type: ignore[attr-defined]


class GoldAction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    owner: Literal["agent", "customer", "backoffice"]
    key: str = Field(min_length=1)
    due_by: dt.date | Literal["ask"] | None


class GoldCase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^(en|de)-g\d{3}$")
    language: Literal["en", "de"]
    channel: Literal["chat", "email", "phone"]
    source: Literal["abcd", "tweetsumm", "original"]
    classes: list[FailureClass] = Field(min_length=1)
    customer_id: str
    subject: str = Field(min_length=3)
    group: str
    transcript: list[tuple[Literal["customer", "agent"], str]] = Field(min_length=4, max_length=20)
    actions: list[GoldAction]
    first_contact_resolvable: bool
    not_actions: list[str] = []


class GoldFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    end: Literal["2026-11-19T14:00:00Z"]
    cases: list[GoldCase]


@cache
def _raw(language: str) -> dict[str, Any]:
    return yaml.safe_load((GOLD_DIR / f"{language}.yaml").read_text(encoding="utf-8"))


def _groups() -> set[str]:
    return {g["label"] for g in yaml.safe_load(QUEUES.read_text(encoding="utf-8"))["groups"]}


def _customers() -> dict[str, str]:
    return {s.customer_id: s.language for s in SEEDS}


def problems(raw: dict[str, Any], language: str) -> list[str]:
    """Every rule the gold file breaks (empty when valid); schema errors raise ValidationError."""
    gold = GoldFile.model_validate(raw)
    groups, customers = _groups(), _customers()
    out: list[str] = []
    ids = [c.id for c in gold.cases]
    out += [f"duplicate id {i}" for i in sorted({i for i in ids if ids.count(i) > 1})]
    if len(gold.cases) < MIN_CASES:
        out.append(f"{len(gold.cases)} cases < {MIN_CASES}")
    if {c.channel for c in gold.cases} != {"chat", "email", "phone"}:
        out.append("not all three channels present")
    adapted = sum(c.source != "original" for c in gold.cases)
    if 2 * adapted < len(gold.cases):
        out.append(f"only {adapted}/{len(gold.cases)} cases adapted from abcd/tweetsumm")
    missing = ALL_CLASSES - {k for c in gold.cases for k in c.classes}
    if missing:
        out.append(f"classes never exercised: {sorted(missing)}")
    for c in gold.cases:
        where = c.id
        if c.language != language or not c.id.startswith(f"{language}-"):
            out.append(f"{where}: language/id prefix is not {language}")
        if c.group not in groups:
            out.append(f"{where}: group {c.group!r} not in config/decisions/queues.yaml")
        if c.customer_id not in customers:
            out.append(f"{where}: customer {c.customer_id} not seeded")
        elif customers[c.customer_id] != c.language:
            out.append(f"{where}: customer {c.customer_id} speaks {customers[c.customer_id]}")
        if c.first_contact_resolvable != (not c.actions):
            out.append(f"{where}: first_contact_resolvable must be true exactly when no action remains")
        if ("no_action" in c.classes) != (not c.actions):
            out.append(f"{where}: no_action class and empty actions must go together")
        if "long_transcript" in c.classes and len(c.transcript) < LONG_TURNS:
            out.append(f"{where}: long_transcript with only {len(c.transcript)} turns")
        text = " ".join(t for _, t in c.transcript).lower()
        keys = [a.key.lower() for a in c.actions]
        if len(set(keys)) != len(keys):
            out.append(f"{where}: two actions share a key")
        for a in c.actions:
            if a.key.lower() not in text:
                out.append(f"{where}: key {a.key!r} does not occur in the transcript")
            if isinstance(a.due_by, dt.date) and not TODAY <= a.due_by <= LATEST_DUE:
                out.append(f"{where}: due date {a.due_by} outside {TODAY}..{LATEST_DUE}")
        for word in c.not_actions:
            if any(word.lower() in k or k in word.lower() for k in keys):
                out.append(f"{where}: not_action {word!r} overlaps an action key")
    return out


@pytest.mark.parametrize("language", LANGUAGES)
def test_gold_file_is_valid(language: str) -> None:
    assert problems(_raw(language), language) == []


def test_ids_are_unique_across_languages() -> None:
    ids = [c["id"] for lang in LANGUAGES for c in _raw(lang)["cases"]]
    assert len(ids) == len(set(ids)) and len(ids) >= 2 * MIN_CASES


def test_every_class_appears_in_both_languages_and_on_several_cases() -> None:
    for lang in LANGUAGES:
        counts = {k: 0 for k in ALL_CLASSES}
        for c in _raw(lang)["cases"]:
            for k in c["classes"]:
                counts[k] += 1
        assert min(counts.values()) >= 3, (lang, {k: v for k, v in counts.items() if v < 3})


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(raw: dict[str, Any]) -> None:
        node: Any = raw
        for p in path[:-1]:
            node = node[p]
        node[path[-1]] = value

    return mutate


def _first_with_actions(raw: dict[str, Any]) -> int:
    return next(i for i, c in enumerate(raw["cases"]) if c["actions"])


BREAKAGES: dict[str, Callable[[dict[str, Any]], None]] = {
    "duplicate id": lambda r: r["cases"][1].update(id=r["cases"][0]["id"]),
    "unknown group": _set(("cases", 0, "group"), "Billing"),
    "unknown customer": _set(("cases", 0, "customer_id"), "C-9999"),
    "wrong-language customer": lambda r: r["cases"][0].update(
        customer_id=next(s.customer_id for s in SEEDS if s.language != r["cases"][0]["language"])
    ),
    "too few cases": lambda r: r.update(cases=r["cases"][:59]),
    "one channel missing": lambda r: r.update(cases=[c for c in r["cases"] if c["channel"] != "email"]),
    "mostly original": lambda r: [c.update(source="original") for c in r["cases"]],
    "class missing": lambda r: [
        c.update(classes=[k for k in c["classes"] if k != "negation"] or ["question"]) for c in r["cases"]
    ],
    "fcr with open actions": lambda r: r["cases"][_first_with_actions(r)].update(first_contact_resolvable=True),
    "key not in transcript": lambda r: r["cases"][_first_with_actions(r)]["actions"][0].update(key="zebra"),
    "due in the past": lambda r: r["cases"][_first_with_actions(r)]["actions"][0].update(due_by=dt.date(2026, 11, 1)),
    "not_action is an action key": lambda r: r["cases"][_first_with_actions(r)].update(
        not_actions=[r["cases"][_first_with_actions(r)]["actions"][0]["key"]]
    ),
}
SCHEMA_BREAKAGES: dict[str, Callable[[dict[str, Any]], None]] = {
    "bad owner": lambda r: r["cases"][_first_with_actions(r)]["actions"][0].update(owner="supervisor"),
    "unparsable date": lambda r: r["cases"][_first_with_actions(r)]["actions"][0].update(due_by="next week"),
    "unknown class": _set(("cases", 0, "classes"), ["sarcasm"]),
    "unknown speaker": lambda r: r["cases"][0]["transcript"].append(["bot", "hello"]),
    "bad channel": _set(("cases", 0, "channel"), "sms"),
    "bad end": _set(("end",), "2026-11-20T14:00:00Z"),
    "missing field": lambda r: r["cases"][0].pop("first_contact_resolvable"),
    "unexpected field": _set(("cases", 0, "owner"), "agent"),
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", sorted(BREAKAGES))
def test_a_broken_file_is_reported(language: str, name: str) -> None:
    raw = copy.deepcopy(_raw(language))
    BREAKAGES[name](raw)
    assert problems(raw, language) != []


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", sorted(SCHEMA_BREAKAGES))
def test_a_schema_violation_is_rejected(language: str, name: str) -> None:
    raw = copy.deepcopy(_raw(language))
    SCHEMA_BREAKAGES[name](raw)
    with pytest.raises(ValidationError):
        problems(raw, language)
