"""Gemini cost per 1,000 contacts per capability, thinking tokens counted.

    python -m scripts.gemini_cost [--json]

Measured, not assumed, where it can be here: every capability runs once per demo customer with an
open ticket on the offline engine (its own emulators), which renders the same prompt Gemini gets;
input = the prompt's tokens plus the response schema's (``estimate_tokens``: 3.5 characters per
token), visible output = the answer's tokens. Thinking cannot be measured offline, so it is given
two ways from the capability's profile (config/engine/models.yaml):

* typical: thinking = 5.6 × the visible output (the ratio in a recorded Gemini 2.5 Flash answer,
  issue #19), capped at the profile's thinking headroom;
* ceiling: thinking = the whole headroom (the request's max_output_tokens fully spent).

Prices from config/engine/pricing.yaml (thinking billed as output, no context cache assumed). One contact =
one call of the capability. Replace the figures with ``kpi_model_cost`` once real traffic flows.
"""

from __future__ import annotations

import argparse
import json
import sys
from statistics import mean
from typing import Any

THINKING_RATIO = 5.6


def measure(rt: Any) -> dict[str, dict[str, float]]:
    """Mean input and visible-output tokens per capability over the demo customers with an open ticket."""
    from scripts.seed import SEEDS
    from scripts.smoke import CAPABILITIES, run
    from shared.platform.tokens import estimate_tokens

    schema_tokens = _schema_tokens(estimate_tokens)
    seen: dict[str, list[tuple[int, int]]] = {c: [] for c in CAPABILITIES}
    for seed in SEEDS:
        if not seed.open_tickets:
            continue
        for row in run(rt, seed.customer_id, f"T-{seed.customer_id[2:]}-01"):
            if row["degraded_reason"] is None and row["tokens_in"]:
                seen[row["capability"]].append((row["tokens_in"] + schema_tokens[row["capability"]], row["tokens_out"]))
    return {
        c: {"calls": len(v), "input": mean(i for i, _ in v), "output": mean(o for _, o in v)}
        for c, v in seen.items()
        if v
    }


def _schema_tokens(estimate: Any) -> dict[str, int]:
    from shared.capabilities.closing_message import ClosingOutput
    from shared.capabilities.context_summary import SummaryOutput
    from shared.capabilities.next_best_action import NbaModelOutput
    from shared.capabilities.next_steps import NextStepsModelOutput
    from shared.capabilities.reply_draft import ReplyModelOutput

    models = {
        "context_summary": SummaryOutput,
        "next_best_action": NbaModelOutput,
        "reply_draft": ReplyModelOutput,
        "next_steps": NextStepsModelOutput,
        "closing_message": ClosingOutput,
    }
    return {c: estimate(json.dumps(m.model_json_schema())) for c, m in models.items()}


def costs(measured: dict[str, dict[str, float]], profiles: Any, pricing: Any) -> list[dict[str, Any]]:
    rows = []
    for capability, m in measured.items():
        prof = profiles.profile(capability)
        typical = min(THINKING_RATIO * m["output"], prof.thinking_headroom)
        per_1000 = {
            name: 1000
            * (
                pricing.cost(
                    prof.model,
                    input_tokens=round(m["input"]),
                    output_tokens=round(m["output"]),
                    thinking_tokens=round(thinking),
                )
                or 0.0
            )
            for name, thinking in (("no_thinking", 0), ("typical", typical), ("ceiling", prof.thinking_headroom))
        }
        rows.append(
            {
                "capability": capability,
                "model": prof.model,
                "thinking": prof.thinking.level or prof.thinking.budget,
                "calls_measured": m["calls"],
                "input_tokens": round(m["input"]),
                "output_tokens": round(m["output"]),
                "thinking_typical": round(typical),
                "thinking_ceiling": prof.thinking_headroom,
                **{f"usd_per_1000_{k}": round(v, 3) for k, v in per_1000.items()},
            }
        )
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    head = (
        "| capability | model (thinking) | input | output | thinking typical / ceiling | USD per 1,000 contacts: "
        "without thinking | typical | ceiling |\n|---|---|---:|---:|---:|---:|---:|---:|"
    )
    lines = [head]
    for r in rows:
        lines.append(
            f"| {r['capability']} | {r['model']} ({r['thinking']}) | {r['input_tokens']} | "
            f"{r['output_tokens']} | {r['thinking_typical']} / {r['thinking_ceiling']} | "
            f"{r['usd_per_1000_no_thinking']:.2f} | {r['usd_per_1000_typical']:.2f} | "
            f"{r['usd_per_1000_ceiling']:.2f} |"
        )
    total = {
        k: sum(r[k] for r in rows) for k in ("usd_per_1000_no_thinking", "usd_per_1000_typical", "usd_per_1000_ceiling")
    }
    lines.append(
        f"| all five | | | | | {total['usd_per_1000_no_thinking']:.2f} | "
        f"{total['usd_per_1000_typical']:.2f} | {total['usd_per_1000_ceiling']:.2f} |"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    from scripts.emulators import start_seeded
    from shared.engine.vertex import load_pricing, load_profiles

    emu, rt = start_seeded("cx-cost-", force_offline=True)
    try:
        rows = costs(measure(rt), load_profiles(rt.settings), load_pricing(rt.settings))
        rt.events.flush()
    finally:
        emu.stop()
    print(json.dumps(rows, indent=1) if args.json else markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
