"""The analytics warehouse: BigQuery in production, DuckDB locally, one SQL source.

``infra/bigquery/*.sql`` holds the BigQuery DDL and views, applied in file order. The
local warehouse transpiles the same files with sqlglot and runs them on an embedded
DuckDB file, so a KPI definition changes in one place only. The loader consumes the
events subscription (as the production BigQuery subscription does) into ``events_raw``
and acknowledges after the rows are committed: duplicates may land, and the ``events``
view removes them by ``event_id``.

Materialization: the views re-parse the raw JSON on every query, so a daily job
(BigQuery scheduled query in ``infra/terraform/bigquery.tf``; :func:`materialize` locally)
writes each view into a ``mat_<view>`` table, reading the already materialized
``mat_events`` / ``mat_tickets`` instead of the views. The statements are derived from the
view files by :func:`materialize_sql` (Terraform applies the same regex). Analysts read
the ``cx_kpi`` dataset: one view per KPI over its ``mat_`` table, nothing else.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from shared.settings import ROOT

SQL_DIR = ROOT / "infra" / "bigquery"
DATASET = "cx_analytics"
KPI_DATASET = "cx_kpi"  # what analysts see (authorized dataset in Terraform)
# Same pattern as infra/terraform/bigquery.tf (local.mat_pattern): views read materialized inputs.
MAT_PATTERN = r"cx_analytics\.(events|tickets)\b"
VIEW_HEADER = re.compile(r"(?s)^.*?CREATE OR REPLACE VIEW \S+ AS")
# BigQuery-only table options of the large materialized tables (dropped for DuckDB).
MAT_OPTIONS = {
    "events": "PARTITION BY DATE(publish_time) CLUSTER BY event_type",
    "tickets": "PARTITION BY DATE(closed_at) CLUSTER BY journey",
}


def sql_files() -> list[Path]:
    return sorted(SQL_DIR.glob("*.sql"))


def to_duckdb(sql: str) -> str:
    """BigQuery SQL as DuckDB SQL; BigQuery-only table options (partitioning, clustering) are dropped."""
    import logging

    import sqlglot

    logging.getLogger("sqlglot").setLevel(logging.ERROR)

    return sqlglot.transpile(sql, read="bigquery", write="duckdb")[0]


def connect(path: Path | str = ":memory:") -> Any:
    """A DuckDB connection with the dataset's tables and views, the materialized tables (built on
    first use) and the analysts' ``cx_kpi`` views over them."""
    import duckdb

    con = duckdb.connect(str(path))
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {DATASET}")
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {KPI_DATASET}")
    for file in sql_files():
        con.execute(to_duckdb(file.read_text("utf-8")))
    present = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE'",
            [DATASET],
        ).fetchall()
    }
    if not {f"mat_{v}" for v in MATERIALIZED} <= present:
        materialize(con)
    for view in KPI_VIEWS:
        con.execute(to_duckdb(kpi_view_sql(view)))
    return con


def view_names() -> list[str]:
    """Every view, in file (dependency) order."""
    return [f.stem[3:] for f in sql_files() if not f.name.startswith("00_")]


def view_body(name: str) -> str:
    (file,) = [f for f in sql_files() if f.stem[3:] == name]
    return VIEW_HEADER.sub("", file.read_text("utf-8")).strip()


def materialize_sql(name: str) -> str:
    """BigQuery statement that (re)writes ``mat_<name>`` from the view's own SQL."""
    body = re.sub(MAT_PATTERN, rf"{DATASET}.mat_\1", view_body(name))
    options = f" {MAT_OPTIONS[name]}" if name in MAT_OPTIONS else ""
    return f"CREATE OR REPLACE TABLE {DATASET}.mat_{name}{options} AS\n{body}"


def materialize_script() -> str:
    """The daily scheduled query: every view materialized, inputs first."""
    return ";\n\n".join(materialize_sql(v) for v in view_names()) + ";\n"


def kpi_view_sql(name: str) -> str:
    return f"CREATE OR REPLACE VIEW {KPI_DATASET}.{name} AS SELECT * FROM {DATASET}.mat_{name}"


def materialize(con: Any) -> dict[str, float]:
    """Run the materialization locally (what the scheduled query does daily); seconds per table."""
    took = {}
    for view in view_names():
        start = time.perf_counter()
        con.execute(to_duckdb(materialize_sql(view)))
        took[view] = time.perf_counter() - start
    return took


def insert_raw(con: Any, rows: Iterable[tuple[str, str, Any, str, str]]) -> int:
    """(subscription, message_id, publish_time, data JSON text, attributes JSON text) rows.

    Written as newline-delimited JSON and ingested by DuckDB's native reader in one
    statement: row-by-row ``executemany`` managed only a few thousand rows a second.
    """
    import tempfile

    n = 0
    with tempfile.NamedTemporaryFile("w", suffix=".ndjson", encoding="utf-8", delete=False) as f:
        for sub, message_id, published, data, attributes in rows:
            stamp = published.isoformat() if hasattr(published, "isoformat") else str(published)
            f.write(json.dumps({"s": sub, "m": message_id, "p": stamp, "d": data, "a": attributes}) + "\n")
            n += 1
        path = f.name
    try:
        if n:
            columns = "{'s': 'VARCHAR', 'm': 'VARCHAR', 'p': 'VARCHAR', 'd': 'VARCHAR', 'a': 'VARCHAR'}"
            con.execute(f"""INSERT INTO {DATASET}.events_raw
                SELECT s, m, CAST(p AS TIMESTAMPTZ), CAST(d AS JSON), CAST(a AS JSON)
                FROM read_json('{path}', format = 'newline_delimited', columns = {columns})""")
    finally:
        Path(path).unlink(missing_ok=True)
    return n


def load_from_subscription(
    con: Any,
    subscriber: Any,
    subscription: str,
    *,
    max_batches: int = 1000,
    batch_size: int = 1000,
    timeout: float = 5.0,
) -> int:
    """Pull, insert, then acknowledge; stops when a pull returns nothing."""
    total = 0
    for _ in range(max_batches):
        resp = subscriber.pull(subscription=subscription, max_messages=batch_size, timeout=timeout)
        msgs = resp.received_messages
        if not msgs:
            break
        total += insert_raw(
            con,
            (
                (
                    subscription.rsplit("/", 1)[-1],
                    m.message.message_id,
                    m.message.publish_time,
                    m.message.data.decode("utf-8"),
                    json.dumps(dict(m.message.attributes)),
                )
                for m in msgs
            ),
        )
        subscriber.acknowledge(subscription=subscription, ack_ids=[m.ack_id for m in msgs])
    return total


def query(con: Any, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


KPI_VIEWS = (
    "kpi_first_contact_resolution",
    "kpi_repeat_contacts",
    "kpi_handoffs",
    "kpi_handle_time",
    "kpi_suggestion_ratings",
    "kpi_nba",
    "kpi_resolver_overrides",
    "kpi_experiments",
    "kpi_qa_verdicts",
    "kpi_model_cost",
    "kpi_cost_per_contact",
    "kpi_promises_kept",
    "kpi_broken_promises",
)
MATERIALIZED = ("events", "tickets", "audit_events", *KPI_VIEWS)  # audit_events: for auditors, never in cx_kpi
