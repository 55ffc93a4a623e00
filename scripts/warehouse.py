"""Analytics warehouse: load events from Pub/Sub into DuckDB, materialize, report the KPIs.

    python -m scripts.warehouse load   [--db .local/warehouse.duckdb]   # emulator subscription -> DuckDB
    python -m scripts.warehouse report [--db …] [--from 2026-09-01] [--to 2026-12-31] [--html report.html]
    python -m scripts.warehouse report --project my-project …           # the same report from BigQuery
    python -m scripts.warehouse template [--check]   # infra/bigquery/materialize.sql.tftpl from the views

The views are the BigQuery SQL in infra/bigquery, transpiled (shared/warehouse.py). The
report reads the materialized tables (``mat_tickets``, ``cx_kpi.*``): locally it refreshes
them first (what the daily scheduled query does in BigQuery; ``--no-refresh`` skips it).
With a project (``--project`` or CX_PROJECT) the same queries run on BigQuery through
google-cloud-bigquery, imported only then.
"""

from __future__ import annotations

import argparse
import html
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from scripts.warehouse_db import DATASET, KPI_DATASET, connect, load_from_subscription, materialize, query
from shared.settings import ROOT, load_settings

DEFAULT_DB = ROOT / ".local" / "warehouse.duckdb"
SERIES = (
    ("first_contact_resolution", "kpi_first_contact_resolution", "First-contact resolution", "{:.0%}"),
    ("repeat_rate_7d", "kpi_repeat_contacts", "Repeat contacts within 7 days", "{:.0%}"),
    ("handoffs_per_case", "kpi_handoffs", "Queue handoffs per case", "{:.2f}"),
    ("avg_handle_time_s", "kpi_handle_time", "Average handle time (s)", "{:.0f}"),
)


def load(db: Path) -> int:
    from google.cloud import pubsub_v1

    settings = load_settings()
    subscriber = pubsub_v1.SubscriberClient()
    name = f"{settings.events_topic}-warehouse"
    path = subscriber.subscription_path(settings.gcp_project_or_local, name)
    db.parent.mkdir(parents=True, exist_ok=True)
    con = connect(db)
    with subscriber:
        n = load_from_subscription(con, subscriber, path)
    materialize(con)
    con.close()
    print(f"loaded {n} messages from {name} into {db}")
    return n


class _Cursor:
    def __init__(self, rows: list[Any]) -> None:
        self._rows = rows
        fields = rows[0].keys() if rows else []
        self.description = [(name,) for name in fields]

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [tuple(r.values()) for r in self._rows]


class BigQueryConnection:
    """The DuckDB connection's ``execute`` over BigQuery, so every report query runs on either.

    ``cx_analytics.x`` / ``cx_kpi.x`` resolve in the client's project. The client is created
    here (scripts only, never in a function) unless one is injected.
    """

    def __init__(self, project: str, client: Any = None, location: str = "EU") -> None:
        if client is None:
            from google.cloud import bigquery

            client = bigquery.Client(project=project, location=location)
        self.client = client

    def execute(self, sql: str) -> _Cursor:
        return _Cursor([dict(row.items()) for row in self.client.query(sql).result()])


def open_warehouse(db: Path, project: str | None = None, *, refresh: bool = False) -> Any:
    """BigQuery when a project is given or set (CX_PROJECT), else the local DuckDB file."""
    project = project or load_settings().project
    if project:
        return BigQueryConnection(project)
    con = connect(db)
    if refresh:
        materialize(con)
    return con


def kpi_table(con: Any, start: date, end: date) -> list[dict[str, Any]]:
    """Per journey, AI-assisted vs control, over the date range."""
    return query(
        con,
        f"""
        SELECT t.journey, t.ai_assisted, COUNT(*) AS tickets,
               AVG(CASE WHEN t.repeat_7d THEN 0 ELSE 1 END) AS first_contact_resolution,
               AVG(CASE WHEN t.repeat_7d THEN 1 ELSE 0 END) AS repeat_rate_7d,
               AVG(CASE WHEN t.repeat_30d THEN 1 ELSE 0 END) AS repeat_rate_30d,
               AVG(t.handoffs) AS handoffs_per_case, AVG(t.handle_time_s) AS avg_handle_time_s,
               AVG(t.after_contact_work_s) AS avg_after_contact_work_s, AVG(t.csat) AS avg_csat
        FROM {DATASET}.mat_tickets AS t
        WHERE CAST(t.closed_at AS DATE) BETWEEN DATE '{start}' AND DATE '{end}'
        GROUP BY 1, 2 ORDER BY 1, 2""",
    )  # noqa: S608 - dates are parsed date objects


def promises_table(con: Any, start: date, end: date) -> list[dict[str, Any]]:
    """Promises kept on time per queue (by week of the original due date), with the repeat-contact rate
    within 7 days after a broken promise beside the rate after the others (docs/commitments.md)."""
    kept = query(
        con,
        f"""
        SELECT queue_code, SUM(promises) AS promises, SUM(kept_on_time) AS kept_on_time,
               SUM(kept_on_time) / SUM(promises) AS kept_on_time_rate, SUM(kept_late) AS kept_late,
               SUM(not_kept_yet) AS not_kept_yet,
               SUM(avg_days_late * kept_late) / NULLIF(SUM(kept_late), 0) AS avg_days_late
        FROM {KPI_DATASET}.kpi_promises_kept
        WHERE CAST(week AS DATE) BETWEEN DATE '{start - timedelta(days=6)}' AND DATE '{end}'
        GROUP BY 1 ORDER BY 1""",
    )  # noqa: S608 - dates are parsed date objects
    cost = query(
        con,
        f"""
        SELECT queue_code, broken, SUM(repeat_rate_7d * promises) / SUM(promises) AS rate
        FROM {KPI_DATASET}.kpi_broken_promises GROUP BY 1, 2""",
    )  # noqa: S608
    rates = {(r["queue_code"], r["broken"]): r["rate"] for r in cost}
    for row in kept:
        row["repeat_7d_after_broken"] = rates.get((row["queue_code"], True))
        row["repeat_7d_after_kept"] = rates.get((row["queue_code"], False))
    return kept


def _svg(title: str, weeks: list[Any], lines: dict[str, list[float | None]], fmt: str) -> str:
    """A small inline SVG line chart: no JavaScript, no network, renders anywhere."""
    w, h, pad = 520, 220, 40
    values = [v for vs in lines.values() for v in vs if v is not None]
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    hi = hi if hi > lo else lo + 1
    x = lambda i: pad + i * (w - 2 * pad) / max(1, len(weeks) - 1)  # noqa: E731
    y = lambda v: h - pad - (v - lo) * (h - 2 * pad) / (hi - lo)  # noqa: E731
    colors = {"AI-assisted": "#1a73e8", "control": "#9aa0a6"}
    parts = [
        f'<svg width="{w}" height="{h}" role="img"><title>{html.escape(title)}</title>',
        f'<text x="{pad}" y="18" font-weight="bold">{html.escape(title)}</text>',
    ]
    for label, vs in lines.items():
        pts = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(vs) if v is not None)
        parts.append(f'<polyline fill="none" stroke="{colors[label]}" stroke-width="2" points="{pts}"/>')
        last = next((v for v in reversed(vs) if v is not None), None)
        if last is not None:
            parts.append(
                f'<text x="{w - pad + 4}" y="{y(last):.1f}" fill="{colors[label]}" font-size="11">'
                f"{html.escape(fmt.format(last))}</text>"
            )
    for i, wk in enumerate(weeks):
        parts.append(f'<text x="{x(i):.1f}" y="{h - 12}" font-size="10" text-anchor="middle">{str(wk)[5:10]}</text>')
    parts.append(
        f'<text x="{w - 170}" y="18" font-size="11" fill="#1a73e8">AI-assisted</text>'
        f'<text x="{w - 90}" y="18" font-size="11" fill="#9aa0a6">control</text></svg>'
    )
    return "".join(parts)


def html_report(con: Any, start: date, end: date) -> str:
    table = kpi_table(con, start, end)
    charts = []
    for column, view, title, fmt in SERIES:
        rows = query(
            con,
            f"""
            SELECT week, ai_assisted, SUM({column} * tickets) / SUM(tickets) AS value
            FROM {KPI_DATASET}.{view}
            WHERE CAST(week AS DATE) BETWEEN DATE '{start}' AND DATE '{end}'
            GROUP BY 1, 2 ORDER BY 1""",
        )  # noqa: S608
        weeks = sorted({r["week"] for r in rows})
        by = {(r["week"], r["ai_assisted"]): r["value"] for r in rows}
        lines = {"AI-assisted": [by.get((wk, True)) for wk in weeks], "control": [by.get((wk, False)) for wk in weeks]}
        charts.append(_svg(title, weeks, lines, fmt))
    promises = promises_table(con, start, end)
    p_head = "".join(f"<th>{html.escape(k)}</th>" for k in (promises[0] if promises else {}))
    p_body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row.values()) + "</tr>" for row in promises)
    head = "".join(f"<th>{html.escape(k.replace('ai_assisted', 'group'))}</th>" for k in (table[0] if table else {}))
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row.values()) + "</tr>" for row in table)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>CX Copilot KPIs</title>"
        f"<style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:4px 8px;border-bottom:1px solid #ddd}}"
        f"svg{{margin:1em 1em 0 0}}</style></head><body><h1>CX Copilot KPIs, {start} to {end}</h1>"
        f"<h2>Per journey: AI-assisted vs control</h2><table><tr>{head}</tr>{body}</table>"
        f"<h2>Promises kept on time per queue</h2><table><tr>{p_head}</tr>{p_body}</table>"
        f"<h2>Weekly trends</h2>{''.join(charts)}</body></html>"
    )


def write_template(*, check: bool = False) -> int:
    """The Terraform template of the scheduled query, generated from the views (scripts/warehouse_db.py)."""
    from scripts.warehouse_db import TEMPLATE, template_text

    text = template_text()
    if check:
        if TEMPLATE.read_text("utf-8") != text:
            print(f"{TEMPLATE} is out of date: run python -m scripts.warehouse template", file=sys.stderr)
            return 1
        return 0
    TEMPLATE.write_text(text, "utf-8")
    print(f"wrote {TEMPLATE}")
    return 0


def _cell(v: Any) -> str:
    if isinstance(v, bool):
        return "AI-assisted" if v else "control"
    return f"{v:.3f}" if isinstance(v, float) else html.escape(str(v))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["load", "report", "template"])
    parser.add_argument("--db", type=Path, default=DEFAULT_DB)
    parser.add_argument("--from", dest="start", type=date.fromisoformat, default=date(2000, 1, 1))
    parser.add_argument("--to", dest="end", type=date.fromisoformat, default=date(2100, 1, 1))
    parser.add_argument("--html", type=Path, help="also write the HTML report with charts here")
    parser.add_argument("--project", help="report from BigQuery in this project (default: CX_PROJECT)")
    parser.add_argument("--no-refresh", action="store_true", help="locally: report the tables as last materialized")
    parser.add_argument("--check", action="store_true", help="template: fail if the committed file is out of date")
    args = parser.parse_args(argv)
    if args.command == "template":
        return write_template(check=args.check)
    if args.command == "load":
        load(args.db)
        return 0
    con = open_warehouse(args.db, args.project, refresh=not args.no_refresh)
    rows = kpi_table(con, args.start, args.end)
    if not rows:
        print("no closed tickets in that range")
    for row in rows:
        print("  ".join(f"{k}={_cell(v)}" for k, v in row.items()))
    promises = promises_table(con, args.start, args.end)
    print("promises kept on time per queue:" if promises else "no promises due in that range")
    for row in promises:
        print("  " + "  ".join(f"{k}={_cell(v)}" for k, v in row.items()))
    if args.html:
        args.html.write_text(html_report(con, args.start, args.end), "utf-8")
        print(f"wrote {args.html}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
