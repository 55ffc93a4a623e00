"""Incremental vs full materialization on a growing warehouse: rows read per nightly run, and BigQuery cost.

    python -m scripts.bench_analytics [--days 100] [--events-per-day 250] [--at 1,10,50,100] [--json out.json]

Grows a synthetic warehouse day by day on DuckDB (``scripts/synth_events.py`` ``daily_stream``:
duplicates, late and shuffled deliveries), runs the incremental materialization every morning
and, on the checkpoint days, a full rebuild of an identical second warehouse, and checks that
both hold the same KPIs. Rows read are DuckDB's own count (its profiler's ``rows_scanned``) with
2,048-row zone maps standing in for BigQuery's date partitions. The measured row sizes (BigQuery's
logical sizes of the columns each scan read) turn them into bytes scanned per day at 1 M and
100 M events a day, and dollars at the on-demand price. A benchmark: nothing here is asserted.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

# BigQuery on-demand analysis, US and EU multi-regions: USD 6.25 per TiB scanned (first TiB a month
# free), the list price since 2023-07-05; read 2026-12-02 (not in config/engine/pricing.yaml, which prices
# Gemini). Check https://cloud.google.com/bigquery/pricing before quoting a figure.
USD_PER_TIB = 6.25
PRICE_READ = "2026-12-02"
RETENTION_DAYS = 400  # events_raw's partition expiration: where a full rebuild's reads stop growing
ROW_GROUP = 2048  # DuckDB's smallest row group: zone maps this fine act as date partitions
SCALES = (1_000_000, 100_000_000)
FIXED = {"DATE": 8, "TIMESTAMP": 8, "TIMESTAMP WITH TIME ZONE": 8, "BIGINT": 8, "INTEGER": 8, "DOUBLE": 8}


def column_bytes(con: Any) -> dict[str, dict[str, float]]:
    """Average BigQuery logical size per column of every table in cx_analytics (STRING: 2 + UTF-8
    bytes; JSON: its minified text; INT64, FLOAT64, DATE, TIMESTAMP: 8; BOOL: 1)."""
    cols: dict[str, list[tuple[str, str]]] = {}
    for table, name, kind in con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'cx_analytics' AND table_name IN (SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'cx_analytics' AND table_type = 'BASE TABLE') ORDER BY table_name, ordinal_position"
    ).fetchall():
        cols.setdefault(table, []).append((name, kind))
    sizes: dict[str, dict[str, float]] = {}
    for table, columns in cols.items():
        exprs = []
        for name, kind in columns:
            if kind == "VARCHAR":
                exprs.append(f"AVG(2 + strlen(COALESCE({name}, '')))")
            elif kind == "JSON":
                exprs.append(f"AVG(strlen(COALESCE(CAST(json({name}) AS VARCHAR), '')))")
            elif kind == "BOOLEAN":
                exprs.append("1")
            else:
                exprs.append(str(FIXED.get(kind, 8)))
        row = con.execute(f"SELECT {', '.join(exprs)} FROM cx_analytics.{table}").fetchone()  # noqa: S608
        sizes[table] = {name: float(v or 0) for (name, _), v in zip(columns, row, strict=True)}
    sizes["_batch"] = sizes["_changed"] = sizes["mat_events"]  # the run's temporary tables: mat_events' columns
    return sizes


def type_shares(con: Any) -> dict[str, float]:
    """Share of mat_events' rows of the event types each view reads (all types: 1.0)."""
    from scripts.warehouse_db import view_body, view_names

    counts = dict(con.execute("SELECT event_type, COUNT(*) FROM cx_analytics.mat_events GROUP BY 1").fetchall())
    total = sum(counts.values()) or 1
    shares = {}
    for view in view_names():
        body = view_body(view)
        exact = set(re.findall(r"event_type\s*=\s*'([^']+)'", body))
        prefixes = [p.rstrip("%") for p in re.findall(r"event_type\s+LIKE\s+'([^']+)'", body)]
        if not exact and not prefixes:
            shares[view] = 1.0
            continue
        read = sum(n for t, n in counts.items() if t in exact or any(t.startswith(p) for p in prefixes))
        shares[view] = read / total
    return shares


def scanned_bytes(scans: list[Any], sizes: dict[str, dict[str, float]], shares: dict[str, float]) -> dict[str, float]:
    """What BigQuery would bill, per mat_ table written: for each statement and each table it reads, the
    rows of the partitions read (a table read twice in one statement counts once, as BigQuery bills the
    columns a query references) times the sizes of the columns read; on mat_events, clustered by event
    type, only the share of rows of the types the statement's view reads (block pruning taken as exact)."""
    reads: dict[tuple[int, str], tuple[str, int, set[str]]] = {}
    for scan in scans:
        writer, rows, cols = reads.get((scan.statement, scan.table), (scan.writer, 0, set()))
        reads[(scan.statement, scan.table)] = (writer, max(rows, scan.rows), cols | scan.columns)
    out: dict[str, float] = {}
    for (_, table), (writer, rows, columns) in reads.items():
        per_col = sizes.get(table, {})
        read = {c for c in columns if c in per_col} or set(per_col)
        share = shares.get(writer, 1.0) if table == "mat_events" else 1.0
        key = writer or "state"
        out[key] = out.get(key, 0.0) + rows * share * sum(per_col[c] for c in read)
    return out


def _kpis(con: Any) -> dict[str, list[str]]:
    from scripts.warehouse_db import KPI_DATASET, KPI_VIEWS

    out = {}
    for view in KPI_VIEWS:
        rows = con.execute(f"SELECT * FROM {KPI_DATASET}.{view}").fetchall()  # noqa: S608
        out[view] = sorted(repr(tuple(round(v, 9) if isinstance(v, float) else v for v in r)) for r in rows)
    return out


def run(
    days: int, events_per_day: int, checkpoints: list[int], late_arrival_days: int, seed: int = 1
) -> dict[str, Any]:
    from scripts.synth_events import START, daily_stream
    from scripts.warehouse_db import connect, insert_raw, materialize_run, set_clock

    t0 = time.perf_counter()
    stream = daily_stream(days, events_per_day, seed)
    events = len({json.loads(r[3])["event_id"] for r in stream})
    folder = Path(tempfile.mkdtemp(prefix="bench-analytics-"))
    inc = connect(folder / "incremental.duckdb", now=START, row_group_size=ROW_GROUP)
    full = connect(folder / "full.duckdb", now=START, row_group_size=ROW_GROUP)
    results: list[dict[str, Any]] = []
    at = iter(sorted(set(checkpoints)))
    next_at = next(at, None)
    position = 0
    for day in range(1, days + 1):
        end = START + timedelta(days=day)
        batch = []
        while position < len(stream) and stream[position][2] < end:
            batch.append(stream[position])
            position += 1
        morning = end + timedelta(hours=3)
        for con in (inc, full):
            insert_raw(con, batch)
            set_clock(con, morning)
        measure = day == next_at
        started = time.perf_counter()
        stats = materialize_run(inc, late_arrival_days=late_arrival_days, profile=measure)
        took = time.perf_counter() - started
        inc.execute("CHECKPOINT")  # deleted rows leave the files, as BigQuery never bills them
        if not measure:
            continue
        started = time.perf_counter()
        rebuilt = materialize_run(full, late_arrival_days=late_arrival_days, full=True, profile=True)
        full_took = time.perf_counter() - started
        full.execute("CHECKPOINT")
        (raw_rows,) = inc.execute("SELECT COUNT(*) FROM cx_analytics.events_raw").fetchone()
        (held,) = inc.execute("SELECT COUNT(*) FROM cx_analytics.mat_events").fetchone()
        results.append(
            {
                "day": day,
                "raw_rows": raw_rows,
                "events_held": held,
                "incremental": {"stats": stats, "seconds": round(took, 2)},
                "full": {"stats": rebuilt, "seconds": round(full_took, 2)},
                "same_kpis": _kpis(inc) == _kpis(full),
            }
        )
        next_at = next(at, None)
    sizes = column_bytes(inc)
    shares = type_shares(inc)
    for r in results:
        for kind in ("incremental", "full"):
            st = r[kind].pop("stats")
            by_writer = scanned_bytes(st.scans, sizes, shares)
            r[kind] |= {
                "rows_read": st.total_rows_read,
                "rows_read_by_table": dict(sorted(st.rows_read.items(), key=lambda kv: -kv[1])),
                "bigquery_bytes": round(sum(by_writer.values())),
                "bigquery_bytes_by_table_written": {
                    k: round(v) for k, v in sorted(by_writer.items(), key=lambda kv: -kv[1])
                },
            }
    (raw_rows,) = inc.execute("SELECT COUNT(*) FROM cx_analytics.events_raw").fetchone()
    delivered_per_event = raw_rows / events
    raw_bytes = sum(sizes["events_raw"].values())
    mat_bytes = sum(sizes["mat_events"].values())
    last = results[-1]
    per_day = events / days  # events a day, as generated
    per_event_inc = last["incremental"]["bigquery_bytes"] / per_day
    per_event_full = last["full"]["bigquery_bytes"] / last["events_held"]
    bigquery = {}
    for scale in SCALES:
        inc_b = per_event_inc * scale
        full_b = per_event_full * scale * RETENTION_DAYS
        bigquery[f"{scale:,}"] = {
            "incremental_bytes_per_day": round(inc_b),
            "incremental_usd_per_day": round(inc_b / 2**40 * USD_PER_TIB, 2),
            "full_rebuild_bytes_per_day_at_400_days": round(full_b),
            "full_rebuild_usd_per_day_at_400_days": round(full_b / 2**40 * USD_PER_TIB, 2),
        }
    return {
        "days": days,
        "events_per_day": events_per_day,
        "events": events,
        "events_per_day_generated": round(per_day),
        "late_arrival_days": late_arrival_days,
        "delivered_rows_per_event": round(delivered_per_event, 3),
        "bytes_per_events_raw_row": round(raw_bytes, 1),
        "bytes_per_mat_events_row": round(mat_bytes, 1),
        "bytes_per_event_read_by_an_incremental_run": round(per_event_inc, 1),
        "bytes_per_event_held_read_by_a_full_rebuild": round(per_event_full, 1),
        "checkpoints": results,
        "bigquery": bigquery,
        "usd_per_tib": USD_PER_TIB,
        "price_read": PRICE_READ,
        "seconds": round(time.perf_counter() - t0, 1),
    }


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:,.1f} {unit}"
        n /= 1024
    return str(n)


def print_report(out: dict[str, Any]) -> None:
    print(
        f"{out['days']} days x ~{out['events_per_day']:,} events/day ({out['events']:,} events, "
        f"{out['delivered_rows_per_event']} delivered rows each), late_arrival_days={out['late_arrival_days']}"
    )
    print(
        f"{'day':>4} {'raw rows':>9} | {'incremental: rows read':>22} {'BQ bytes':>11} {'s':>5} | "
        f"{'full rebuild: rows read':>23} {'BQ bytes':>11} {'s':>5} | same KPIs"
    )
    for r in out["checkpoints"]:
        i, f = r["incremental"], r["full"]
        print(
            f"{r['day']:>4} {r['raw_rows']:>9,} | {i['rows_read']:>22,} {_human(i['bigquery_bytes']):>11} "
            f"{i['seconds']:>5} | {f['rows_read']:>23,} {_human(f['bigquery_bytes']):>11} {f['seconds']:>5} | "
            f"{r['same_kpis']}"
        )
    print(
        f"bytes per row (BigQuery logical size): events_raw {out['bytes_per_events_raw_row']}, "
        f"mat_events {out['bytes_per_mat_events_row']}; an incremental run reads "
        f"{out['bytes_per_event_read_by_an_incremental_run']} B per event of the day, a full rebuild "
        f"{out['bytes_per_event_held_read_by_a_full_rebuild']} B per event held"
    )
    print(f"BigQuery on demand at USD {out['usd_per_tib']}/TiB (price read {out['price_read']}):")
    for scale, b in out["bigquery"].items():
        print(
            f"  {scale} events/day: incremental {_human(b['incremental_bytes_per_day'])}/day = "
            f"USD {b['incremental_usd_per_day']}/day; full rebuild at the 400-day plateau "
            f"{_human(b['full_rebuild_bytes_per_day_at_400_days'])}/day = "
            f"USD {b['full_rebuild_usd_per_day_at_400_days']}/day"
        )
    print(f"took {out['seconds']} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cx bench analytics", description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=100)
    parser.add_argument("--events-per-day", type=int, default=250)
    parser.add_argument("--at", default="1,10,50,100", help="checkpoint days (measured, full rebuild beside)")
    parser.add_argument("--late-arrival-days", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    checkpoints = [int(d) for d in re.split(r"[,\s]+", args.at) if d and int(d) <= args.days]
    out = run(args.days, args.events_per_day, checkpoints or [args.days], args.late_arrival_days)
    print_report(out)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
