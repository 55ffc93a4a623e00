"""Synthetic event streams for warehouse tests and benchmarks: Pub/Sub as it really delivers
(duplicates, late and out-of-order messages), with known ground truth."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

START = datetime(2026, 9, 7, tzinfo=UTC)  # a Monday
JOURNEYS = ("billing_dispute", "outage", "delivery")
EXPERIMENT = "nba-goal-first"
NBA_OUTCOME_WEIGHTS = {"control": (0.35, 0.45, 0.2), "candidate": (0.45, 0.35, 0.2)}  # accepted, rejected, converted


# Gemini usage on suggestion events: (input, output, thinking) token ranges and USD per 1M tokens
# (input, output incl. thinking). Drawn from their own generator so the rest of the stream is unchanged.
USAGE = {
    "context_summary": ((900, 1500), (120, 300), (0, 600), (0.30, 2.50)),
    "next_best_action": ((700, 1200), (60, 160), (100, 900), (0.30, 2.50)),
    "reply_draft": ((1000, 1800), (150, 400), (200, 1500), (1.50, 9.00)),
    "next_steps": ((1200, 2500), (200, 600), (200, 1500), (1.50, 9.00)),
}


def _usage(urng: random.Random, capability: str) -> dict[str, Any]:
    """engine/model/tokens/cost of one suggestion: mostly Gemini, some offline or degraded, a few unpriced."""
    if urng.random() < 0.2:
        return {
            "engine": "offline",
            "model": "offline-rules",
            "tokens_in": urng.randint(300, 900),
            "tokens_out": 90,
            "tokens_thinking": 0,
            "tokens_cached": 0,
            "cost_usd": 0.0,
            "tokens_estimated": True,
        }
    if urng.random() < 0.05:  # Gemini answered without usageMetadata: kept, priced as unknown
        return {
            "engine": "vertex",
            "model": "gemini-3.5-flash",
            "tokens_in": 0,
            "tokens_out": 0,
            "tokens_thinking": 0,
            "tokens_cached": 0,
            "cost_usd": None,
            "tokens_estimated": True,
        }
    (i0, i1), (o0, o1), (t0, t1), (p_in, p_out) = USAGE[capability]
    tin, tout, think = urng.randint(i0, i1), urng.randint(o0, o1), urng.randint(t0, t1)
    cached = urng.choice([0, 0, 512])
    cost = round(((tin - cached) * p_in + cached * p_in / 10 + (tout + think) * p_out) / 1e6, 8)
    engine = "offline" if urng.random() < 0.05 else "vertex"  # truncated/blocked: offline answer, still billed
    return {
        "engine": engine,
        "model": "gemini-3.5-flash",
        "tokens_in": tin,
        "tokens_out": tout,
        "tokens_thinking": think,
        "tokens_cached": cached,
        "cost_usd": cost,
        "tokens_estimated": False,
    }


def generate(
    seed: int, n_tickets: int = 300, *, start: datetime = START, span_days: float = 28, prefix: str = ""
) -> list[dict[str, Any]]:
    """Tickets closed over ``span_days`` from ``start``, their suggestions, feedback and promises.

    ``prefix`` keeps ticket, commitment and customer ids apart when several streams are combined
    (:func:`daily_stream`); the defaults give the stream the KPI tests were written against.
    """
    rng = random.Random(seed)
    urng = random.Random(seed * 7919 + 13)
    events: list[dict[str, Any]] = []

    def ev(event_type: str, at: datetime, **fields: Any) -> dict[str, Any]:
        e = {
            "event_id": uuid.UUID(int=rng.getrandbits(128)).hex,
            "event_type": event_type,
            "occurred_at": at.isoformat(),
            "schema_version": 1,
            **fields,
        }
        events.append(e)
        return e

    for i in range(n_tickets):
        closed = start + timedelta(days=rng.uniform(0, span_days))
        fields = dict(
            ticket_id=f"{prefix}T{i}",
            journey=rng.choice(JOURNEYS),
            ai_assisted=rng.random() < 0.5,
            channel=rng.choice(["chat", "email", "phone"]),
            handoffs=rng.choice([0, 0, 1, 2]),
            handle_time_s=rng.uniform(60, 1200),
            after_contact_work_s=rng.uniform(0, 300),
            csat=rng.choice([None, 1, 3, 4, 5]),
            closed_at=closed.isoformat(),
        )
        ev("ticket.closed", closed, **fields)
        if rng.random() < 0.1:  # reopened and closed again later: the latest close counts
            later = closed + timedelta(days=rng.uniform(1, 5))
            ev("ticket.closed", later, **{**fields, "closed_at": later.isoformat(), "handoffs": 3})
        if rng.random() < 0.3:
            days = rng.uniform(0.5, 30)
            ev(
                "ticket.repeat_contact",
                closed + timedelta(days=days),
                earlier_ticket_id=f"{prefix}T{i}",
                later_ticket_id=f"{prefix}T{i}-r",
                days_between=round(days, 3),
            )
        if rng.random() < 0.4:
            ev(
                "next_steps.confirmed",
                closed,
                ticket_id=f"{prefix}T{i}",
                diff={"resolver_overridden": rng.random() < 0.25},
            )
    for _ in range(n_tickets):
        at = start + timedelta(days=rng.uniform(0, span_days))
        cap = rng.choice(["reply_draft", "next_steps", "context_summary"])
        nba = rng.random() < 0.3
        capability = "next_best_action" if nba else cap
        # NBA runs the experiment (config/engine/experiments.yaml); the candidate is accepted more often
        arm = rng.choice(["control", "candidate"]) if nba else None
        version = (2 if arm == "candidate" else 1) if nba else rng.choice([1, 2])
        suggestion_id = uuid.UUID(int=rng.getrandbits(128)).hex
        ev(
            "suggestion.generated",
            at - timedelta(seconds=rng.uniform(5, 600)),
            suggestion_id=suggestion_id,
            capability=capability,
            prompt_version=f"{capability}/v{version}",
            experiment=EXPERIMENT if nba else None,
            arm=arm,
            **_usage(urng, capability),
        )
        # the customer read behind the suggestion (ids derived, not drawn: the random sequence is unchanged)
        events.append(
            {
                "event_id": f"audit-{suggestion_id}",
                "event_type": "audit.customer_access",
                "occurred_at": (at - timedelta(seconds=700)).isoformat(),
                "schema_version": 1,
                "request_id": f"req-{suggestion_id}",
                "capability": capability,
                "decision": "allow",
                "agent_id": "agent-synthetic",
                "role": "agent",
                "auth_source": "iap",
                "grant": "synthetic",
                "tenant": "acme",
                "customer_key": suggestion_id[:24],
                "fields": ["language", "segment"],
                "details": [],
                "access_policy_version": "synthetic",
                "context_policy_version": "synthetic",
            }
        )
        if rng.random() < 0.1:  # no feedback on this one
            continue
        outcome = rng.choices(["accepted", "rejected", "converted"], NBA_OUTCOME_WEIGHTS[arm])[0] if nba else None
        ev(
            "feedback.recorded",
            at,
            suggestion_id=suggestion_id,
            capability=capability,
            prompt_version=f"{capability}/v{version}",
            rating=None if nba else rng.choice(["used_unchanged", "lightly_edited", "heavily_edited", "not_helpful"]),
            nba_offer_id=rng.choice(["RET-1", "UP-2"]) if nba else None,
            segment=rng.choice(["gold", "standard"]),
            nba_outcome=outcome,
        )
    events += _commitments(seed, n_tickets, start, span_days, prefix)
    return events


QUEUES = ("Q-BILL", "Q-TECH", "Q-RMA")


def _commitments(seed: int, n_tickets: int, start: datetime, span_days: float, prefix: str) -> list[dict[str, Any]]:
    """Promises on the generated tickets (own random stream: the events above stay as they were): kept on
    time, overdue then kept late, still overdue, superseded, cancelled; and the customer's next contacts."""
    rng = random.Random(seed * 7919 + 1)
    events: list[dict[str, Any]] = []

    def change(c: dict[str, Any], kind: str, status: str, at: datetime, **extra: Any) -> None:
        c["version"] += 1
        events.append(
            {
                "event_id": uuid.UUID(int=rng.getrandbits(128)).hex,
                "event_type": f"commitment.{kind}",
                "occurred_at": at.isoformat(),
                "schema_version": 1,
                **c,
                "status": status,
                "changed_at": at.isoformat(),
                **extra,
            }
        )

    for i in range(n_tickets):
        if rng.random() >= 0.4:
            continue
        due = start + timedelta(days=rng.uniform(0, span_days))
        c = {
            "commitment_id": f"{prefix}CM{i}",
            "customer_key": f"{prefix}K{i}",
            "ticket_id": f"{prefix}T{i}",
            "owner": rng.choice(["agent", "backoffice", "backoffice", "customer"]),
            "queue_code": rng.choice(QUEUES),
            "due_at": due.isoformat(),
            "original_due_at": due.isoformat(),
            "version": 0,
        }
        change(c, "created", "open", due - timedelta(days=5))
        fate = rng.random()
        if fate < 0.5:
            change(c, "done", "done", due - timedelta(hours=rng.uniform(1, 90)))
        elif fate < 0.75:
            change(c, "overdue", "overdue", due + timedelta(minutes=5))
            change(c, "done", "done", due + timedelta(days=rng.uniform(0.2, 6)))
        elif fate < 0.85:
            change(c, "overdue", "overdue", due + timedelta(minutes=5))
        elif fate < 0.95:
            change(c, "superseded", "superseded", due - timedelta(days=4))
        else:
            change(c, "cancelled", "cancelled", due - timedelta(days=2))
        broken = 0.5 < fate < 0.85
        if rng.random() < (0.5 if broken else 0.15):  # the customer gets in touch again
            opened = due + timedelta(days=rng.uniform(0.1, 10))
            closed = opened + timedelta(hours=2)
            events.append(
                {
                    "event_id": uuid.UUID(int=rng.getrandbits(128)).hex,
                    "event_type": "ticket.closed",
                    "occurred_at": closed.isoformat(),
                    "schema_version": 1,
                    "ticket_id": f"{prefix}T{i}-c",
                    "customer_key": f"{prefix}K{i}",
                    "journey": rng.choice(JOURNEYS),
                    "ai_assisted": rng.random() < 0.5,
                    "channel": "phone",
                    "handoffs": 0,
                    "handle_time_s": 300.0,
                    "after_contact_work_s": 60.0,
                    "csat": None,
                    "opened_at": opened.isoformat(),
                    "closed_at": closed.isoformat(),
                }
            )
    return events


def deliver(events: list[dict[str, Any]], seed: int) -> list[tuple[str, str, datetime, str, str]]:
    """Pub/Sub as it is: some messages twice, some hours or days late, in any order."""
    rng = random.Random(seed + 1)
    rows = []
    for e in events:
        occurred = datetime.fromisoformat(e["occurred_at"])
        for _ in range(1 + (rng.random() < 0.25) + (rng.random() < 0.05)):
            late = timedelta(days=rng.uniform(2, 10)) if rng.random() < 0.1 else timedelta(seconds=rng.uniform(0, 60))
            rows.append(("cx-events-warehouse", uuid.uuid4().hex, occurred + late, json.dumps(e), "{}"))
    rng.shuffle(rows)
    return rows


def daily_stream(
    days: int, events_per_day: int, seed: int = 1, *, start: datetime = START
) -> list[tuple[str, str, datetime, str, str]]:
    """``days`` of delivered rows (duplicates, late and out of order, as :func:`deliver`), about
    ``events_per_day`` events a day: one :func:`generate` stream per week, each with its own ids, so a
    warehouse can be grown day by day for as long as wanted. Sorted by publish time."""
    tickets_per_week = max(1, round(events_per_day * 7 / EVENTS_PER_TICKET))
    rows: list[tuple[str, str, datetime, str, str]] = []
    for week in range((days + 6) // 7):
        block = generate(
            seed * 1000 + week,
            tickets_per_week,
            start=start + timedelta(days=7 * week),
            span_days=7,
            prefix=f"W{week}-",
        )
        rows += deliver(block, seed * 1000 + week)
    end = start + timedelta(days=days)
    return sorted((r for r in rows if r[2] < end), key=lambda r: r[2])


# Events per generated ticket (close, re-close, repeat, confirmation, suggestion with its audit read and
# feedback, promises and follow-up contacts), measured on generate(1, 3000): sizes a stream by events.
EVENTS_PER_TICKET = 5.7
