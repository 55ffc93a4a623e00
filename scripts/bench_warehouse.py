"""KPI view query times at scale, before and after materialization (local DuckDB warehouse).

    python -m scripts.bench_warehouse [--events 1000000]

Before: the live views in cx_analytics (JSON parsed and de-duplicated on every query).
After: the analysts' cx_kpi views over the mat_ tables the daily job writes.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

EVENTS_PER_TICKET = 3.7  # close, re-close, repeat, confirmation, suggestion and its feedback (synth_events)
CLOCK = datetime(2026, 12, 1, tzinfo=UTC)  # after the synthetic stream: within the 400-day retention, whenever run


def run(n_events: int) -> dict[str, object]:
    from scripts.synth_events import deliver, generate
    from scripts.warehouse_db import KPI_DATASET, KPI_VIEWS, connect, insert_raw, materialize, query

    events = generate(1, n_tickets=max(1, int(n_events / EVENTS_PER_TICKET)))
    rows = deliver(events, 1)
    con = connect(Path(tempfile.mkdtemp()) / "bench.duckdb", now=CLOCK)
    for start in range(0, len(rows), 100_000):
        insert_raw(con, rows[start : start + 100_000])

    def timed(sql: str) -> float:
        t = time.perf_counter()
        query(con, sql)
        return round(time.perf_counter() - t, 3)

    before = {v: timed(f"SELECT * FROM cx_analytics.{v}") for v in KPI_VIEWS}  # noqa: S608
    took = materialize(con)
    after = {v: timed(f"SELECT * FROM {KPI_DATASET}.{v}") for v in KPI_VIEWS}  # noqa: S608
    return {
        "events": len(events),
        "delivered_rows": len(rows),
        "before_s": before,
        "after_s": after,
        "materialize_s": {k: round(v, 2) for k, v in took.items()},
        "materialize_total_s": round(sum(took.values()), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    print(json.dumps(run(parser.parse_args(argv).events), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
