"""Prompt experiments: does the candidate prompt version do better than the control?

    python -m scripts.experiment_report [--db .local/warehouse.duckdb] [--project P] [--alpha 0.05]

Reads ``cx_kpi.kpi_experiments`` (the local warehouse, or BigQuery when a project is set) and,
per experiment, compares the arms with a two-sided two-proportion z-test: NBA acceptance
(accepted / offered) for next_best_action, the share of suggestions used unchanged or lightly
edited (used / rated) for the other capabilities. Plain math (the z-test is the 2x2 chi-square
test without continuity correction), so no statistics package is needed at run time.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.warehouse_db import KPI_DATASET, query

METRIC = {"next_best_action": ("accepted", "offered", "NBA acceptance")}
DEFAULT_METRIC = ("used", "rated", "used unchanged or lightly edited")


@dataclass(frozen=True)
class Comparison:
    capability: str
    experiment: str
    metric: str
    control: tuple[int, int]  # successes, trials
    candidate: tuple[int, int]
    z: float | None
    p_value: float | None
    diff: float | None
    ci95: tuple[float, float] | None

    def significant(self, alpha: float) -> bool:
        return self.p_value is not None and self.p_value < alpha


def two_proportion_z(s1: int, n1: int, s2: int, n2: int) -> tuple[float, float]:
    """z of p2 - p1 with the pooled standard error, and its two-sided p-value."""
    pooled = (s1 + s2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 0.0, 1.0
    z = (s2 / n2 - s1 / n1) / se
    return z, math.erfc(abs(z) / math.sqrt(2))


def compare(rows: list[dict[str, Any]]) -> list[Comparison]:
    totals: dict[tuple[str, str], dict[str, dict[str, int]]] = {}
    for r in rows:
        arms = totals.setdefault((r["capability"], r["experiment"]), {})
        arm = arms.setdefault(r["arm"], {"accepted": 0, "offered": 0, "used": 0, "rated": 0})
        for k in arm:
            arm[k] += int(r[k] or 0)
    out = []
    for (capability, experiment), arms in sorted(totals.items()):
        num, den, label = METRIC.get(capability, DEFAULT_METRIC)
        c = arms.get("control", {num: 0, den: 0})
        k = arms.get("candidate", {num: 0, den: 0})
        control, candidate = (c[num], c[den]), (k[num], k[den])
        z = p = diff = ci = None
        if control[1] and candidate[1]:
            z, p = two_proportion_z(*control, *candidate)
            p1, p2 = control[0] / control[1], candidate[0] / candidate[1]
            diff = p2 - p1
            se = math.sqrt(p1 * (1 - p1) / control[1] + p2 * (1 - p2) / candidate[1])
            ci = (diff - 1.96 * se, diff + 1.96 * se)
        out.append(Comparison(capability, experiment, label, control, candidate, z, p, diff, ci))
    return out


def report(con: Any, alpha: float = 0.05) -> list[str]:
    rows = query(
        con,
        f"SELECT capability, experiment, arm, SUM(accepted) AS accepted, SUM(offered) AS offered, "
        f"SUM(used) AS used, SUM(rated) AS rated FROM {KPI_DATASET}.kpi_experiments "
        f"GROUP BY capability, experiment, arm",
    )  # noqa: S608 - constant names
    lines = []
    for c in compare(rows):
        rate = lambda s, n: f"{s}/{n} = {s / n:.1%}" if n else f"{s}/0"  # noqa: E731
        lines.append(
            f"{c.experiment} ({c.capability}), {c.metric}: control {rate(*c.control)}, candidate {rate(*c.candidate)}"
        )
        if c.p_value is None:
            lines.append("  not enough data in one of the arms")
            continue
        verdict = "significant" if c.significant(alpha) else "not significant"
        lines.append(
            f"  difference {c.diff:+.1%} (95% CI {c.ci95[0]:+.1%} to {c.ci95[1]:+.1%}), z = {c.z:.2f}, "
            f"p = {c.p_value:.4f}: {verdict} at alpha {alpha}"
        )  # type: ignore[index]
    return lines or ["no experiment data yet (suggestion.generated events with an arm)"]


def main(argv: list[str] | None = None) -> int:
    from scripts.warehouse import DEFAULT_DB, open_warehouse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=DEFAULT_DB)
    parser.add_argument("--project", help="read BigQuery in this project (default: CX_PROJECT; unset = local)")
    parser.add_argument("--alpha", type=float, default=0.05)
    args = parser.parse_args(argv)
    con = open_warehouse(args.db, args.project)
    print("\n".join(report(con, args.alpha)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
