"""Smoke test of a deployment's Gemini path: every capability once, through Gemini, on a demo customer.

    cx smoke --project P [--location global] [--customer C-1004] [--seed] [--json]

Run it first after deploying (credentials from the environment: ``gcloud auth application-default
login`` or a service account). Prints per capability: the model called, latency, tokens (input,
cached, output, thinking), cost, whether Gemini's answer was schema-valid (answered by Gemini, not
degraded to the offline engine), the degradation class if any, and the policy flags the checks
raised. Exit status 1 when any capability did not get a schema-valid Gemini answer.

``--seed`` first writes the demo customers (scripts/seed.py) into the project's Firestore: use it on
a test project only. ``--vertex-base-url`` with ``--anonymous`` points it at a local stand-in
endpoint (the tests' fake Vertex).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import Any

CAPABILITIES = ("context_summary", "next_best_action", "reply_draft", "next_steps", "closing_message")
FLAG_FIELDS = (
    "review_codes",
    "draft_replaced",
    "requires_human_review",
    "overridden",
    "suppressed",
    "routing_flagged",
    "needs_review",
)
MESSAGE = "My bill went up again this month and I was charged twice. Can you fix it and call me back by Friday?"


def _calls(customer: str, ticket: str) -> dict[str, Callable[[Any, Any], Any]]:
    """One request per capability, built the way the functions build them."""
    from datetime import UTC, datetime

    from shared.capabilities.closing_message import ClosingRequest, closing_message
    from shared.capabilities.context_summary import ContextSummaryRequest, summarize
    from shared.capabilities.next_best_action import NbaRequest, recommend
    from shared.capabilities.next_steps import NextStepsRequest, extract
    from shared.capabilities.reply_draft import ReplyRequest, draft_reply

    turns = [
        {"speaker": "customer", "text": MESSAGE},
        {"speaker": "agent", "text": "I have refunded the duplicate charge and will call you back by Friday."},
    ]
    return {
        "context_summary": lambda rt, call: summarize(
            ContextSummaryRequest(customer_id=customer, ticket_id=ticket), rt, call
        ),
        "next_best_action": lambda rt, call: recommend(
            NbaRequest(customer_id=customer, channel="chat", transcript=turns[:1]), rt, call
        ),
        "reply_draft": lambda rt, call: draft_reply(
            ReplyRequest(customer_id=customer, message=MESSAGE, channel="chat", ticket_id=ticket), rt, call
        ),
        "next_steps": lambda rt, call: extract(
            NextStepsRequest(
                customer_id=customer,
                ticket_id=ticket,
                channel="chat",
                transcript=turns,
                ticket_metadata={"subject": "Duplicate charge"},
                conversation_end_time=datetime.now(UTC),
            ),
            rt,
            call,
        ),
        "closing_message": lambda rt, call: closing_message(
            ClosingRequest(customer_id=customer, ticket_id=ticket, channel="chat"), rt, call
        ),
    }


def _flags(fields: dict[str, Any]) -> list[str]:
    flags: list[str] = []
    for name in FLAG_FIELDS:
        value = fields.get(name)
        if isinstance(value, list):
            flags += [f"{name}:{v}" for v in value]
        elif value:
            flags.append(name if value is True else f"{name}={value}")
    return flags


def run(rt: Any, customer: str, ticket: str, capabilities: tuple[str, ...] = CAPABILITIES) -> list[dict[str, Any]]:
    """One call per capability; a row of figures each (never raises for a capability's failure)."""
    from shared.platform.calls import CallContext

    rows: list[dict[str, Any]] = []
    calls = _calls(customer, ticket)
    for capability in capabilities:
        call = CallContext()
        started = time.perf_counter()
        try:
            resp = calls[capability](rt, call)
            error = None
        except Exception as exc:  # noqa: BLE001 - a smoke test reports every capability, whatever one does
            resp, error = None, f"{type(exc).__name__}: {exc}"[:200]
        f = call.log_fields
        degraded = bool(getattr(resp, "degraded", True))
        rows.append(
            {
                "capability": capability,
                "model": f.get("model"),
                "engine": getattr(resp, "engine", None),
                "latency_ms": round((time.perf_counter() - started) * 1000, 1),
                "tokens_in": f.get("tokens_in", 0),
                "tokens_out": f.get("tokens_out", 0),
                "tokens_thinking": f.get("tokens_thinking", 0),
                "cost_usd": f.get("cost_usd"),
                "schema_valid": resp is not None and getattr(resp, "engine", None) == "vertex" and not degraded,
                "degraded_reason": getattr(resp, "degraded_reason", None) or error,
                "policy_flags": _flags(f),
            }
        )
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    head = f"{'capability':<18}{'model':<24}{'ms':>8}{'in':>7}{'out':>6}{'think':>7}{'usd':>11}  {'schema':<7}flags"
    lines = [head]
    for r in rows:
        cost = "-" if r["cost_usd"] is None else f"{r['cost_usd']:.6f}"
        valid = "yes" if r["schema_valid"] else "no"
        lines.append(
            f"{r['capability']:<18}{r['model'] or '-':<24}{r['latency_ms']:>8.0f}{r['tokens_in']:>7}"
            f"{r['tokens_out']:>6}{r['tokens_thinking']:>7}{cost:>11}  {valid:<7}"
            f"{', '.join(r['policy_flags']) or '-'}"
        )
        if r["degraded_reason"]:
            lines.append(f"{'':<18}degraded: {r['degraded_reason']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", required=True, help="Google Cloud project the functions are deployed in")
    parser.add_argument("--location", help="Gemini location (default: CX_GEMINI_LOCATION or global)")
    parser.add_argument("--customer", default="C-1004", help="demo customer id (scripts/seed.py)")
    parser.add_argument("--ticket", default="T-1004-01", help="the customer's ticket id")
    parser.add_argument("--capability", action="append", choices=CAPABILITIES, help="only these (repeatable)")
    parser.add_argument("--seed", action="store_true", help="write the demo customers first (test projects only)")
    parser.add_argument("--vertex-base-url", help="a stand-in Vertex endpoint (tests, private endpoints)")
    parser.add_argument("--anonymous", action="store_true", help="no credentials (only with --vertex-base-url)")
    parser.add_argument("--json", action="store_true", help="one JSON object per capability instead of the table")
    args = parser.parse_args(argv)

    from shared.runtime import Runtime
    from shared.settings import SettingsError, load_settings

    overrides: dict[str, Any] = {"project": args.project, "model_backend": "vertex"}
    if args.location:
        overrides["gemini_location"] = args.location
    if args.vertex_base_url:
        overrides["vertex_base_url"] = args.vertex_base_url
    if args.anonymous:
        overrides["vertex_anonymous"] = True
    try:
        rt = Runtime(load_settings(**overrides))
    except (SettingsError, RuntimeError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if args.seed:
        from scripts.seed import seed_all

        seed_all(rt, offers=rt.offers, kb=rt.kb, embedder=rt.embedder)
    rows = run(rt, args.customer, args.ticket, tuple(args.capability or CAPABILITIES))
    rt.events.flush()
    if args.json:
        for r in rows:
            print(json.dumps(r, ensure_ascii=False))
    else:
        print(f"project={args.project} location={rt.settings.gemini_location} customer={args.customer}")
        print(table(rows))
    return 0 if all(r["schema_valid"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
