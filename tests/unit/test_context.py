from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from scripts.seed import SEEDS, build
from shared.data.snapshots import CustomerSnapshot, Interaction, Order, Ticket
from shared.platform.tokens import estimate_tokens
from shared.safety.context_policy import FIELDS, ContextPolicy, build_context
from shared.settings import ROOT

NOW = datetime(2026, 11, 20, tzinfo=UTC)
POLICY = ContextPolicy.load(ROOT / "config" / "safety/context_policy.yaml")


def snapshot_with(interactions: int, limit: int = 1000) -> CustomerSnapshot:
    customer, items = build(replace(SEEDS[3], interactions=interactions))

    def pick(kind: type) -> list:
        by = {"Order": "placed_at", "Ticket": "opened_at"}.get(kind.__name__, "occurred_at")
        return sorted((i for i in items if isinstance(i, kind)), key=lambda i: getattr(i, by), reverse=True)[:limit]

    return CustomerSnapshot(customer=customer, orders=pick(Order), tickets=pick(Ticket), interactions=pick(Interaction))


@pytest.mark.parametrize("history", [10, 100, 1000])
def test_context_stays_within_budget_for_any_history(history: int) -> None:
    built = build_context(snapshot_with(history), allowed=frozenset(FIELDS), token_budget=1200, now=NOW)
    assert built.estimated_tokens <= 1200
    assert estimate_tokens(built.data) == built.estimated_tokens
    assert built.data["history"]["interactions_total"] == history


def test_budget_is_flat_once_reached() -> None:
    sizes = [
        build_context(snapshot_with(n), allowed=frozenset(FIELDS), token_budget=1200, now=NOW).estimated_tokens
        for n in (100, 1000)
    ]
    assert abs(sizes[0] - sizes[1]) < 80
    small = build_context(snapshot_with(3), allowed=frozenset(FIELDS), token_budget=1200, now=NOW)
    assert small.omitted.get("recent_interactions", 0) == 0
    assert len(small.data["recent_interactions"]) == 3


def test_newest_items_come_first_and_every_list_gets_room() -> None:
    built = build_context(snapshot_with(600), allowed=frozenset(FIELDS), token_budget=1200, now=NOW)
    dates = [i["date"] for i in built.data["recent_interactions"]]
    assert dates == sorted(dates, reverse=True)
    assert built.data["open_tickets"] and built.data["recent_orders"]
    assert built.data["omitted_counts"]["recent_interactions"] >= 550


def test_matching_rules_combine_and_the_most_restrictive_wins_per_field() -> None:
    phone_us = POLICY.allowed("phone", "US")
    assert phone_us == POLICY.allowed("phone", "EU") & POLICY.allowed("chat", "US")
    assert not {"notes", "churn_risk", "lifetime_value"} & phone_us  # phone drops notes, US the scores
    social_us = POLICY.allowed("social", "US")  # a restricted channel stays restricted in any region
    assert social_us <= POLICY.allowed("social", "EU") and "interactions" not in social_us
    nba = POLICY.allowed("chat", "EU", role="agent", capability="next_best_action")
    assert "notes" not in nba and "orders" not in nba and "churn_risk" in nba
    policy = ContextPolicy.model_validate(
        {
            "version": "t",
            "default": {"allow": list(FIELDS)},
            "rules": [
                {"match": {"role": "agent"}, "allow": [f for f in FIELDS if f != "lifetime_value"]},
                {"match": {"role": "agent", "channel": "chat"}, "allow": ["name", "lifetime_value", "language"]},
            ],
        }
    )
    assert policy.allowed("chat", "EU", role="agent") == {"name", "language"}  # never widened by a later rule
    assert "lifetime_value" in policy.allowed("chat", "EU", role="supervisor")
    with pytest.raises(ValueError, match="match only on"):
        ContextPolicy.model_validate(
            {"version": "t", "default": {"allow": ["name"]}, "rules": [{"match": {"segment": "gold"}, "allow": []}]}
        )


def test_policy_picks_the_most_specific_rule() -> None:
    assert "lifetime_value" in POLICY.allowed("email", "EU")
    assert "notes" not in POLICY.allowed("phone", "EU")
    assert "churn_risk" not in POLICY.allowed("chat", "US")
    social = POLICY.allowed("social", "EU")
    assert "name" not in social and "interactions" not in social


def test_policy_is_enforced_in_the_built_context() -> None:
    snap = snapshot_with(20)
    built = build_context(snap, allowed=POLICY.allowed("social", "EU"), token_budget=1200, now=NOW)
    assert "name" not in built.data["customer"]
    assert "recent_interactions" not in built.data and "recent_orders" not in built.data
    assert snap.customer.profile.name not in str(built.data)


def test_policy_rejects_unknown_fields() -> None:
    with pytest.raises(ValueError, match="unknown fields"):
        ContextPolicy.model_validate({"version": "x", "default": {"allow": ["name", "iban"]}})


def test_current_ticket_is_always_included() -> None:
    snap = snapshot_with(600)
    ticket = Ticket(ticket_id="T-OLD", subject="Old dispute", opened_at=NOW, status="closed")
    built = build_context(snap, allowed=frozenset(FIELDS), token_budget=1200, current_ticket=ticket, now=NOW)
    assert built.data["current_ticket"]["ticket_id"] == "T-OLD"
