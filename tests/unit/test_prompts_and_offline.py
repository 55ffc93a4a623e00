from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import jinja2
import pytest

from scripts.seed import SEEDS, build
from shared.capabilities.context_summary import SummaryOutput
from shared.data.snapshots import CustomerSnapshot, Interaction, Order, Ticket
from shared.engine.prompts import PromptLibrary
from shared.runtime import offline_engine
from shared.safety.context_policy import FIELDS, build_context, pseudonymizer_for
from shared.safety.pii.local import LocalDetector
from shared.settings import ROOT

NOW = datetime(2026, 11, 20, tzinfo=UTC)
LIB = PromptLibrary(ROOT / "prompts", {"context_summary": "v1"})

PII = LocalDetector.load(ROOT / "config" / "safety/pii.yaml")


def prompt_for(seed_index: int, language: str = "en", **changes):
    customer, items = build(replace(SEEDS[seed_index], **changes))
    snap = CustomerSnapshot(
        customer=customer,
        orders=sorted((i for i in items if isinstance(i, Order)), key=lambda o: o.placed_at, reverse=True),
        tickets=[i for i in items if isinstance(i, Ticket)],
        interactions=sorted(
            (i for i in items if isinstance(i, Interaction)), key=lambda i: i.occurred_at, reverse=True
        )[:50],
    )
    built = build_context(snap, allowed=frozenset(FIELDS), token_budget=1200, now=NOW)
    pseudo = pseudonymizer_for(snap, PII)
    return LIB.get("context_summary").render(context=pseudo.mask_obj(built.data), language=language), pseudo, snap


def test_prompt_renders_pseudonymized_context_and_version() -> None:
    prompt, _, snap = prompt_for(3)
    assert prompt.version_id == "context_summary/v1"
    assert "<customer_context>" in prompt.user and "[CUSTOMER_NAME]" in prompt.user
    assert snap.customer.profile.name not in prompt.user + prompt.system
    assert "T-1004-01" in prompt.user  # ticket ids are internal references, not personal data


def test_templates_fail_on_undefined_variables(tmp_path) -> None:
    folder = tmp_path / "cap" / "v9"
    folder.mkdir(parents=True)
    (folder / "system.j2").write_text("Hello {{ missing }}")
    (folder / "user.j2").write_text("x")
    with pytest.raises(jinja2.UndefinedError):
        PromptLibrary(tmp_path, {"cap": "v9"}).get("cap").render(context={}, language="en")


def test_unknown_prompt_version_is_an_error() -> None:
    with pytest.raises(FileNotFoundError):
        LIB.get("context_summary", "v999")


def test_offline_summary_describes_the_customer() -> None:
    prompt, pseudo, snap = prompt_for(1)  # Jonas Becker: high churn, outages, open ticket
    out, usage = offline_engine().generate(prompt, SummaryOutput)
    out = pseudo.restore_model(out)
    assert usage.engine == "offline" and usage.tokens_estimated and usage.input_tokens > 0
    assert 1 <= len(out.bullets) <= 5 and len(out.personalization_hints) == 2
    assert out.sentiment_trend == "negative"
    assert any("churn" in b.lower() for b in out.bullets)
    assert any("Repeated broadband outages" in h or "Wiederholte" in h for h in out.personalization_hints)
    assert out.recurring_issues[0].startswith("outage")
    assert out.preferences == ["bevorzugt Chat", "duzt gerne"]


def test_offline_summary_speaks_the_agents_language() -> None:
    prompt, _, _ = prompt_for(1, language="de")
    out, _ = offline_engine().generate(prompt, SummaryOutput)
    assert out.bullets[0].startswith("Standard-Kunde seit")
    assert "Kontakte" in out.sentiment_reason


def test_offline_summary_with_no_history_still_gives_two_hints() -> None:
    prompt, _, _ = prompt_for(19)  # Hannah Clarke: no interactions, no preferences beyond email
    out, _ = offline_engine().generate(prompt, SummaryOutput)
    assert len(out.personalization_hints) == 2
    assert out.sentiment_trend == "neutral" and out.recurring_issues == []


def test_positive_history_reads_positive() -> None:
    prompt, _, _ = prompt_for(2)  # Olivia Martin: long, happy relationship
    out, _ = offline_engine().generate(prompt, SummaryOutput)
    assert out.sentiment_trend == "positive"
