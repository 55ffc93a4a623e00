"""A prepared context assembles exactly the context today's path builds, for every policy and budget."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scripts.seed import SEEDS
from scripts.seed import build as build_seed
from shared.data.snapshots import CustomerSnapshot, Interaction, Order, Ticket
from shared.safety.context_policy import FIELDS, ContextPolicy, build_context, pseudonymizer_for
from shared.safety.pii.base import PiiConfig, Pseudonymizer, Span
from shared.safety.pii.local import LocalDetector
from shared.safety.prepared_context import (
    LAYOUT,
    PreparedContext,
    array_length,
    build,
    object_length,
    prompt_context,
    stale_reason,
)
from shared.settings import ROOT

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
DAY = timedelta(days=1)
POLICY = ContextPolicy.load(ROOT / "config" / "safety/context_policy.yaml")
CONFIG = PiiConfig.load(ROOT / "config" / "safety/pii.yaml")
ALLOWED = sorted(
    {
        POLICY.allowed(channel, region, capability=capability)
        for channel in (None, "email", "chat", "phone", "social", "web")
        for region in ("EU", "UK", "US")
        for capability in ("context_summary", "reply_draft", "next_best_action")
    }
    | {frozenset(FIELDS), frozenset({"name"}), frozenset({"orders", "interactions"})},
    key=sorted,
)


class NoDetection:
    """Masks known identifiers only: the masked text is then exactly predictable."""

    config = CONFIG

    def detect_many(self, texts: Sequence[str], *, ner: bool = True) -> list[list[Span]]:
        return [[] for _ in texts]


def snapshot(seed: int, limit: int = 50, **changes: Any) -> CustomerSnapshot:
    customer, items = build_seed(replace(SEEDS[seed], **changes))

    def latest(kind: type, by: str) -> list[Any]:
        return sorted((i for i in items if isinstance(i, kind)), key=lambda i: getattr(i, by), reverse=True)[:limit]

    return CustomerSnapshot(
        customer=customer,
        orders=latest(Order, "placed_at"),
        tickets=latest(Ticket, "opened_at"),
        interactions=latest(Interaction, "occurred_at"),
    )


def prepare(snap: CustomerSnapshot, detector: Any, budget: int = 1200) -> PreparedContext:
    prepared = build(snap, detector, token_budget=budget, config_key="k", interaction_days=1095, now=NOW)
    return PreparedContext.model_validate_json(prepared.model_dump_json())  # as read back from Firestore


@pytest.mark.parametrize("seed", range(len(SEEDS)))
@pytest.mark.parametrize("budget", [300, 1200, 4000])
def test_assembled_context_is_todays_context_masked_for_every_policy(seed: int, budget: int) -> None:
    snap = snapshot(seed)
    prepared = prepare(snap, NoDetection(), budget)
    tickets: list[Ticket | None] = [None, *snap.tickets[:2]]
    for allowed in ALLOWED:
        for ticket in tickets:
            today = build_context(snap, allowed=allowed, token_budget=budget, current_ticket=ticket, now=NOW)
            stored = prepared.ticket(ticket.ticket_id) if ticket else None
            built, pseudo = prompt_context(prepared, NoDetection(), allowed, stored)
            expected = pseudonymizer_for(snap, NoDetection()).mask_obj(today.data)
            assert json.dumps(built.data) == json.dumps(expected)  # same facts, same order, same masking
            assert (built.estimated_tokens, built.included, built.omitted) == (
                today.estimated_tokens,
                today.included,
                today.omitted,
            )
            assert pseudo.restore_obj(built.data) == pseudonymizer_for(snap, NoDetection()).restore_obj(expected)


def test_a_current_ticket_older_than_the_snapshot_is_read_and_masked_in_the_request() -> None:
    snap = snapshot(3)
    old = Ticket(ticket_id="T-OLD-1", subject="Refund for Sabine Hoffmann", opened_at=NOW - timedelta(days=3000))
    prepared = prepare(snap, NoDetection())
    assert prepared.ticket("T-OLD-1") is None
    built, pseudo = prompt_context(prepared, NoDetection(), frozenset(FIELDS), old)
    today = build_context(snap, allowed=frozenset(FIELDS), token_budget=1200, current_ticket=old, now=NOW)
    assert built.data["current_ticket"]["subject"] == "Refund for [CUSTOMER_NAME]"
    assert built.estimated_tokens == today.estimated_tokens and built.included == today.included
    assert pseudo.restore(built.data["current_ticket"]["subject"]) == old.subject


def test_json_lengths_compose_exactly() -> None:
    value = {"a": [1, "zwölf", {"x": None}], "bé": {"n": 2.5, "l": []}, "e": {}}
    members = [(k, len(json.dumps(v, ensure_ascii=False))) for k, v in value.items()]
    assert object_length(members) == len(json.dumps(value, ensure_ascii=False))
    items = value["a"]
    lengths = [len(json.dumps(i, ensure_ascii=False)) for i in items]
    assert array_length(lengths) == len(json.dumps(items, ensure_ascii=False))
    assert object_length([]) == 2 and array_length([]) == 2


@pytest.fixture(scope="module")
def local() -> LocalDetector:
    return LocalDetector(CONFIG)


@pytest.mark.parametrize("seed", [0, 3, 8])
def test_with_ner_the_request_restores_what_todays_path_restores(seed: int, local: LocalDetector) -> None:
    """With detection the numbers differ (the stored mapping numbers every stored text), the values do not."""
    snap = snapshot(seed)
    prepared = prepare(snap, local)
    for allowed in ALLOWED:
        today = build_context(snap, allowed=allowed, token_budget=1200, now=NOW)
        legacy = pseudonymizer_for(snap, local)
        masked = legacy.mask_obj(today.data)
        built, pseudo = prompt_context(prepared, local, allowed)
        assert pseudo.restore_obj(built.data) == legacy.restore_obj(masked)
        shown = set(pseudo.placeholders)  # only what the assembled context shows (and the identifiers)
        assert shown == set(legacy.placeholders) | (shown & set(prepared.mapping.identifiers))
        assert len(shown) == len(legacy.placeholders)


def test_text_masked_in_the_request_never_reuses_a_stored_number(local: LocalDetector) -> None:
    snap = snapshot(3)
    snap.interactions[0] = snap.interactions[0].model_copy(update={"summary": "Spoke with Peter Brandt today."})
    prepared = prepare(snap, local)
    stored = dict(prepared.mapping.originals)
    assert any(v == "Peter Brandt" for v in stored.values())
    _, pseudo = prompt_context(prepared, local, frozenset({"name"}))  # the note is not shown: not restorable
    assert "Peter Brandt" not in pseudo.placeholders.values()
    masked = pseudo.mask("Please ask Maria Gonzalez to call me back.")
    (new,) = [p for p in pseudo.placeholders if p in masked]
    assert new not in stored and pseudo.restore(masked) == "Please ask Maria Gonzalez to call me back."


def test_own_values_are_the_customers_record_only(local: LocalDetector) -> None:
    snap = snapshot(3)
    snap.interactions[0] = snap.interactions[0].model_copy(update={"summary": "Call Peter Brandt on 0171 2345678."})
    prepared = prepare(snap, local)
    today = {v.lower() for v in pseudonymizer_for(snap, local).placeholders.values()}
    assert prepared.own_values == today
    assert "peter brandt" not in prepared.own_values


def test_a_partial_snapshot_is_refused() -> None:
    snap = snapshot(0).model_copy(update={"parts": frozenset({"orders"})})
    with pytest.raises(ValueError, match="whole bounded snapshot"):
        build(snap, NoDetection(), token_budget=1200, config_key="k")


def test_expiry_is_the_end_of_the_month_or_the_oldest_stored_contact() -> None:
    prepared = prepare(snapshot(0), NoDetection())
    assert prepared.expire_at == datetime(2026, 12, 1, tzinfo=UTC)
    old = snapshot(0)
    old.interactions[:] = [old.interactions[0].model_copy(update={"occurred_at": NOW - timedelta(days=1094)})]
    assert prepare(old, NoDetection()).expire_at == NOW - timedelta(days=1094) + timedelta(days=1095)
    old.interactions[0] = old.interactions[0].model_copy(update={"occurred_at": NOW - timedelta(days=2000)})
    assert prepare(old, NoDetection()).expire_at == NOW + timedelta(days=1)  # past retention: until the TTL runs


@pytest.mark.parametrize(
    ("stored", "reason"),
    [
        (None, "missing"),
        ({"version": 3}, "missing"),
        ({"version": 3, "built_version": 2, "built": "{}"}, "stale"),
        ({"version": 3, "built_version": 3, "built": "{}", "config_key": "other", "layout": LAYOUT}, "config_changed"),
        ({"version": 3, "built_version": 3, "built": "{}", "config_key": "k", "layout": 0}, "config_changed"),
        ({"built_version": 0, "built": "{}", "config_key": "k", "layout": LAYOUT, "expire_at": NOW}, "expired"),
        ({"built_version": 0, "built": "{}", "config_key": "k", "layout": LAYOUT, "expire_at": NOW + DAY}, None),
    ],
)
def test_stale_reasons(stored: dict[str, Any] | None, reason: str | None) -> None:
    assert stale_reason(stored, "k", NOW) == reason


def test_mapping_round_trip_keeps_counters_whole() -> None:
    p = Pseudonymizer(NoDetection())
    p.add_numbered(["O-1", "O-2"], "ORDER")
    q = Pseudonymizer.from_mapping(NoDetection(), p.mapping(["[ORDER_1]", "[ORDER_2]"]), keep=[])
    q.add_numbered(["O-3"], "ORDER")
    assert q.placeholders == {"[ORDER_1]": "O-1", "[ORDER_2]": "O-2", "[ORDER_3]": "O-3"}
