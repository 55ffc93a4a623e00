"""Builds the model's view of a customer: policy-filtered, budgeted, then pseudonymized.

One orchestration step for every capability and channel, so personalization is the
same wherever a contact starts. Data flows one way: snapshot → policy filter → budget
→ pseudonymizer → prompt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field

from shared.data.snapshots import IDENTIFIERS, Customer, CustomerSnapshot, Interaction, Order, Ticket
from shared.platform.tokens import estimate_tokens
from shared.safety.pii.base import PiiDetector, Pseudonymizer

FIELDS = (
    "name",
    "language",
    "segment",
    "tenure",
    "lifetime_value",
    "churn_risk",
    "products",
    "preferences",
    "notes",
    "history_stats",
    "current_ticket",
    "open_tickets",
    "orders",
    "interactions",
)
SUMMARY_CHARS = 280
OMITTED_RESERVE = 30


MATCH_KEYS = ("channel", "region", "role", "capability")


class PolicyRule(BaseModel):
    match: dict[str, str] = Field(default_factory=dict)
    allow: list[str]

    def applies(self, facts: dict[str, str | None]) -> bool:
        return all(facts.get(key) == value for key, value in self.match.items())


class ContextPolicy(BaseModel):
    """Which snapshot fields may reach a prompt. Every matching rule applies: a field is allowed
    only if the default and each matching rule allow it (the most restrictive wins, per field),
    so a rule for a restricted channel can never be undone by a broader region rule."""

    version: str
    default: PolicyRule
    rules: list[PolicyRule] = Field(default_factory=list)

    def model_post_init(self, _: Any) -> None:
        for rule in [self.default, *self.rules]:
            unknown = set(rule.allow) - set(FIELDS)
            if unknown:
                raise ValueError(f"context policy names unknown fields {sorted(unknown)}")
            if set(rule.match) - set(MATCH_KEYS):
                raise ValueError(f"context policy rules match only on {list(MATCH_KEYS)}")

    def allowed(
        self, channel: str | None, region: str | None, *, role: str | None = None, capability: str | None = None
    ) -> frozenset[str]:
        facts = {"channel": channel, "region": region, "role": role, "capability": capability}
        allowed = set(self.default.allow)
        for rule in self.rules:
            if rule.applies(facts):
                allowed &= set(rule.allow)
        return frozenset(allowed)

    @classmethod
    def load(cls, path: Path) -> ContextPolicy:
        return cls.model_validate(yaml.safe_load(path.read_text("utf-8")))


@dataclass(frozen=True)
class BuiltContext:
    data: dict[str, Any]
    estimated_tokens: int
    included: dict[str, int]
    omitted: dict[str, int]


def pseudonymizer_for(snapshot: CustomerSnapshot, detector: PiiDetector) -> Pseudonymizer:
    """Every known identifier of this customer, registered before any text is masked by ``detector``."""
    c = snapshot.customer
    p = Pseudonymizer(detector)
    p.add_known(c.profile.name, "[CUSTOMER_NAME]")
    parts = c.profile.name.split()
    if len(parts) > 1:
        p.add_known(parts[0], "[CUSTOMER_FIRST_NAME]")
        p.add_known(parts[-1], "[CUSTOMER_LAST_NAME]")
    p.add_known(c.profile.email, "[CUSTOMER_EMAIL]")
    p.add_known(c.profile.phone, "[CUSTOMER_PHONE]")
    if c.profile.address:
        p.add_known(c.profile.address.street, "[CUSTOMER_STREET]")
        p.add_known(f"{c.profile.address.postal_code} {c.profile.address.city}", "[CUSTOMER_CITY]")
        p.add_known(c.profile.address.postal_code, "[CUSTOMER_POSTCODE]")
    p.add_known(c.customer_id, "[CUSTOMER_ID]")
    p.add_numbered(c.account_ids, "ACCOUNT")
    p.add_numbered([o.order_id for o in snapshot.orders], "ORDER")
    return p


def minimizer_for(repo: Any, customer_id: str, detector: PiiDetector) -> Pseudonymizer:
    """The placeholders a prompt for this customer uses, for free text stored after the request
    (feedback comments, final texts, confirmed next steps): stored minimized, like the suggestion."""
    from shared.platform.errors import NotFound

    try:
        return pseudonymizer_for(repo.get_snapshot(customer_id, limit=50, reads=IDENTIFIERS), detector)
    except NotFound:  # erased or never synced: detected PII is still masked
        return Pseudonymizer(detector)


def minimize_next_steps(doc: dict[str, Any], pseudo: Pseudonymizer) -> dict[str, Any]:
    """A next-steps suggestion (as stored JSON) with every free text pseudonymized."""
    out = dict(doc)
    texts = [out.get("issue_summary") or "", out.get("customer_facing_closing_text") or ""]
    actions = [dict(a) for a in out.get("actions") or []]
    kb = [dict(k) for k in out.get("kb_suggestions") or []]
    fields = ("description", "evidence", "due_text", "due_question")
    texts += [a.get(f) or "" for a in actions for f in fields] + [k.get("why") or "" for k in kb]
    masked = iter(pseudo.mask_many(texts))
    for key in ("issue_summary", "customer_facing_closing_text"):
        value = next(masked)
        if key in out:
            out[key] = value or out[key]
    for a in actions:
        for f in fields:
            value = next(masked)
            if a.get(f):
                a[f] = value
    for k in kb:
        value = next(masked)
        if k.get("why"):
            k["why"] = value
    if "actions" in out:
        out["actions"] = actions
    if "kb_suggestions" in out:
        out["kb_suggestions"] = kb
    return out


def _day(value: datetime | None) -> str | None:
    return value.astimezone(UTC).date().isoformat() if value else None


def _clip(text: str, limit: int = SUMMARY_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _ticket(t: Ticket) -> dict[str, Any]:
    return {
        "ticket_id": t.ticket_id,
        "subject": _clip(t.subject, 120),
        "status": t.status,
        "category": t.category,
        "priority": t.priority,
        "opened": _day(t.opened_at),
        "handoffs": t.handoffs,
    }


def _order(o: Order) -> dict[str, Any]:
    return {
        "order_id": o.order_id,
        "placed": _day(o.placed_at),
        "status": o.status,
        "items": [i.name for i in o.items][:5],
        "total": round(o.total, 2),
        "currency": o.currency,
    }


def _interaction(i: Interaction) -> dict[str, Any]:
    return {
        "date": _day(i.occurred_at),
        "channel": i.channel,
        "category": i.category,
        "sentiment": i.sentiment,
        "score": round(i.sentiment_score, 2),
        "summary": _clip(i.summary),
    }


def customer_facts(c: Customer, now: datetime | None = None) -> list[tuple[str, str, Any]]:
    """(policy field, key in the context's ``customer``, value), in the order the context shows them."""
    return [
        ("name", "name", c.profile.name),
        ("language", "language", c.profile.language),
        ("segment", "segment", c.segment),
        ("tenure", "tenure_months", c.tenure_months(now)),
        ("tenure", "customer_since", _day(c.customer_since)),
        ("lifetime_value", "lifetime_value", round(c.lifetime_value, 2)),
        ("lifetime_value", "currency", c.currency),
        ("churn_risk", "churn_risk", round(c.churn_risk, 2)),
        ("products", "products", [{"name": p.name, "status": p.status, "since": _day(p.since)} for p in c.products]),
        ("preferences", "preferences", c.preferences),
        ("notes", "notes", [_clip(n) for n in c.notes[:5]]),
    ]


def history_fact(c: Customer) -> dict[str, Any]:
    s = c.stats
    top = sorted(s.category_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    return {
        "interactions_total": s.interactions_total,
        "sentiment_counts": s.sentiment_counts,
        "top_categories": dict(top),
        "first_contact": _day(s.first_contact_at),
        "last_contact": _day(s.last_contact_at),
    }


def ticket_fact(t: Ticket) -> dict[str, Any]:
    return _ticket(t)


def interaction_fact(i: Interaction) -> dict[str, Any]:
    return _interaction(i)


def order_fact(o: Order) -> dict[str, Any]:
    return _order(o)


def item_cost(item: Any) -> int:
    """What one list item costs the budget: its estimated tokens and one for the separator."""
    return estimate_tokens(item) + 1


def fill(used: int, pools: list[tuple[str, list[int]]], token_budget: int) -> dict[str, int]:
    """How many items of each pool (name, item costs) fit after ``used`` tokens, taken round-robin.

    Round-robin so a long interaction history cannot crowd out orders entirely; a pool whose next
    item would cross the budget is closed, so what is taken is always a prefix of each pool.
    """
    included = {name: 0 for name, _ in pools}
    closed: set[str] = set()
    progress = True
    while progress:
        progress = False
        for name, costs in pools:
            i = included[name]
            if name in closed or i >= len(costs):
                continue
            if used + costs[i] > token_budget:
                closed.add(name)
                continue
            used += costs[i]
            included[name] += 1
            progress = True
    return included


def build_context(
    snapshot: CustomerSnapshot,
    *,
    allowed: frozenset[str],
    token_budget: int,
    current_ticket: Ticket | None = None,
    now: datetime | None = None,
) -> BuiltContext:
    """The policy-allowed facts, newest first, cut to ``token_budget`` estimated tokens.

    Fixed facts (profile, whole-history stats, the current ticket) always fit; lists are
    then filled in priority order (open tickets, interactions, orders) one item at a time
    until the next item would cross the budget, so cost is flat however long the history.
    A prepared context (shared.safety.prepared_context) makes the same choice from stored sizes.
    """
    c = snapshot.customer
    customer = {key: value for field, key, value in customer_facts(c, now) if field in allowed}
    data: dict[str, Any] = {"customer": customer}
    if "history_stats" in allowed:
        data["history"] = history_fact(c)
    if current_ticket is not None and "current_ticket" in allowed:
        data["current_ticket"] = _ticket(current_ticket)

    pools: list[tuple[str, list[dict[str, Any]]]] = []
    if "open_tickets" in allowed:
        pools.append(("open_tickets", [_ticket(t) for t in snapshot.open_tickets]))
    if "interactions" in allowed:
        pools.append(("recent_interactions", [_interaction(i) for i in snapshot.interactions]))
    if "orders" in allowed:
        pools.append(("recent_orders", [_order(o) for o in snapshot.orders]))

    # Reserve room for the omitted_counts block added after the fill.
    used = estimate_tokens(data) + OMITTED_RESERVE
    included = fill(used, [(name, [item_cost(item) for item in items]) for name, items in pools], token_budget)
    for name, items in pools:
        data[name] = items[: included[name]]
    omitted = {name: len(items) - included[name] for name, items in pools}
    if "interactions" in allowed:
        omitted["recent_interactions"] = max(
            omitted.get("recent_interactions", 0), c.stats.interactions_total - included.get("recent_interactions", 0)
        )
    data["omitted_counts"] = {k: v for k, v in omitted.items() if v}
    return BuiltContext(data=data, estimated_tokens=estimate_tokens(data), included=included, omitted=omitted)
