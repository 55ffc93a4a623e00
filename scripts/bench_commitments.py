"""Benchmark of the overdue sweep on the Firestore and Pub/Sub emulators: commitments marked per second.

    python -m scripts.bench_commitments [--commitments 20000] [--page 500] [--json]

Writes N open commitments whose due instant has passed (plus N/10 not yet due, which the query must
skip), runs the sweep once (one indexed query, cursor pages of ``--page``, one batch write per page,
one ``commitment.overdue`` event each) and again (nothing left: the idempotent re-run). Prints the
measured rate and what it implies for 1,000,000 due commitments at the deployed time budget
(CX_COMMITMENT_SWEEP_BUDGET_S per run, continuing in the next run). The emulator is one local Java
process sharing the machine's cores: the figure is a floor for the code path, not a forecast of
Firestore's own throughput. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

PAST = datetime(2026, 11, 2, tzinfo=UTC)


def _commitment(i: int, due_at: datetime, now: datetime) -> dict[str, Any]:
    from shared.data.commitments import Commitment, HistoryEntry

    due = due_at.date() - timedelta(days=1)
    return Commitment(
        commitment_id=f"{i:032x}",
        customer_id=f"C-B{i % 5000:05d}",
        ticket_id=f"T-B{i:07d}",
        suggestion_id=f"{i:032x}",
        action_index=0,
        owner="backoffice" if i % 3 else "agent",
        queue_code="Q-BILL",
        resolver_group="Billing and Payments",
        description="Refund the duplicate charge",
        due=due,
        original_due=due,
        due_source="said",
        due_at=due_at,
        timezone="Europe/Berlin",
        country="DE",
        created_at=now,
        updated_at=now,
        history=[HistoryEntry(at=now, action="created", status="open", version=1, due=due)],
    ).doc()


def load(rt: Any, n: int, later: int, now: datetime) -> float:
    """Write n due and ``later`` not-yet-due commitments in parallel batches; seconds taken."""
    col = rt.firestore.collection(rt.settings.commitments_collection)

    def write(chunk: range) -> None:
        batch = rt.firestore.batch()
        for i in chunk:
            due_at = PAST - timedelta(minutes=i % 1440) if i < n else now + timedelta(days=30)
            batch.set(col.document(f"{i:032x}"), _commitment(i, due_at, now))
        batch.commit()

    start = time.perf_counter()
    chunks = [range(s, min(s + 500, n + later)) for s in range(0, n + later, 500)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, chunks))
    return time.perf_counter() - start


def run(n: int, page: int) -> dict[str, Any]:
    from scripts.emulators import Emulators, ensure_topics
    from shared.platform import clients
    from shared.runtime import Runtime
    from shared.settings import load_settings

    with tempfile.TemporaryDirectory() as tmp, Emulators(Path(tmp)) as emu:
        os.environ.update(emu.env)
        clients.reset()
        settings = load_settings(model_backend="offline")
        ensure_topics(settings.gcp_project_or_local, settings.local_topics)
        rt = Runtime(settings)
        now = datetime.now(UTC)
        later = n // 10
        loaded = load(rt, n, later, now)
        first = rt.commitments.sweep(page_size=page, budget_s=3000, now=now)
        second = rt.commitments.sweep(page_size=page, budget_s=3000, now=now)
        rt.events.flush()
        rate = first.marked / first.seconds if first.seconds else 0.0
        budget = settings.commitment_sweep_budget_s
        per_run = rate * budget
        return {
            "commitments_due": n,
            "not_yet_due": later,
            "page_size": page,
            "load_seconds": round(loaded, 2),
            "sweep": {
                "marked": first.marked,
                "scanned": first.scanned,
                "pages": first.pages,
                "seconds": round(first.seconds, 2),
                "commitments_per_s": round(rate, 1),
            },
            "rerun": {"marked": second.marked, "seconds": round(second.seconds, 3)},
            "extrapolated_1m": {
                "seconds_at_measured_rate": round(1_000_000 / rate) if rate else None,
                "budget_s_per_run": budget,
                "commitments_per_run": round(per_run),
                "runs_needed": math.ceil(1_000_000 / per_run) if per_run else None,
            },
            "measured_on": f"{date.today()} emulators, {os.cpu_count()} cores shared",
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commitments", type=int, default=20_000, help="due commitments to sweep")
    parser.add_argument("--page", type=int, default=500, help="query page = batch size (Firestore max 500)")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    args = parser.parse_args(argv)
    report = run(args.commitments, args.page)
    if args.json:
        print(json.dumps(report))
        return 0
    s, x = report["sweep"], report["extrapolated_1m"]
    print(
        f"loaded {report['commitments_due']} due + {report['not_yet_due']} not yet due commitments "
        f"in {report['load_seconds']} s"
    )
    print(
        f"sweep: {s['marked']} marked overdue in {s['seconds']} s over {s['pages']} pages of {args.page} "
        f"= {s['commitments_per_s']} commitments/s (query page + preconditioned batch + event each)"
    )
    print(f"re-run: {report['rerun']['marked']} marked in {report['rerun']['seconds']} s (idempotent)")
    print(
        f"1,000,000 due at this rate: {x['seconds_at_measured_rate']} s; at {x['budget_s_per_run']} s per run "
        f"that is {x['commitments_per_run']} per run, {x['runs_needed']} chained run(s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
