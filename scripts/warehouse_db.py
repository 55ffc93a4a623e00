"""The analytics warehouse: BigQuery in production, DuckDB locally, one SQL source.

``infra/bigquery/*.sql`` holds the BigQuery DDL and views, applied in file order. The
local warehouse transpiles the same files with sqlglot and runs them on an embedded
DuckDB file, so a KPI definition changes in one place only. The loader consumes the
events subscription (as the production BigQuery subscription does) into ``events_raw``
and acknowledges after the rows are committed: duplicates may land, and the ``events``
view removes them by ``event_id``.

Materialization: the views re-parse the raw JSON on every query, so a daily job (BigQuery
scheduled query in ``infra/terraform/bigquery.tf``; :func:`materialize` locally) keeps each
view in a ``mat_<view>`` table, **incrementally**: it reads only the ``events_raw`` partitions
published since the last run plus ``late_arrival_days`` before them, merges the new events
into ``mat_events`` (partitioned by event date), then rewrites only the date partitions of
each derived table those events can change (:data:`MATS`: how far back an event reaches, and
how far back a row's inputs lie). The state is in ``mat_state``. One function,
:func:`materialize_steps`, defines the run: :func:`materialize_script` renders it as the
BigQuery script (Terraform's template, ``infra/bigquery/materialize.sql.tftpl``, is that
text with ``${late_arrival_days}``, ``${horizon_days}`` and ``${project_id}`` left in) and
:func:`materialize` executes the same statements on DuckDB. Analysts read the ``cx_kpi``
dataset: one view per KPI over its ``mat_`` table, nothing else.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import tempfile
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, NamedTuple

from shared.settings import ROOT

SQL_DIR = ROOT / "infra" / "bigquery"
TEMPLATE = SQL_DIR / "materialize.sql.tftpl"  # templatefile() in infra/terraform/bigquery.tf
DATASET = "cx_analytics"
KPI_DATASET = "cx_kpi"  # what analysts see (authorized dataset in Terraform)
VIEW_HEADER = re.compile(r"(?s)^.*?CREATE OR REPLACE VIEW \S+ AS")
LATE_ARRIVAL_DAYS = 3  # events_raw partitions re-read before the newest one materialized
HORIZON_DAYS = 400  # materialized history; = events_raw's retention (config/data/retention.yaml)

# The partition column of each input, as a DATE, on the table a materialization reads.
PARTITION_OF = {"events_raw": "DATE(publish_time)", "events": "DATE(occurred_at)", "tickets": "DATE(closed_at)"}

# How far events reach back in time, from the KPI definitions (in days):
REPEAT_REACH = 35  # a repeat contact counts up to 30 days after the close; re-closes and late processing: +5
PROMISE_REACH = 35  # a promise is created, kept late or followed by a contact within 35 days of its due date
FEEDBACK_REACH = 7  # feedback on a suggestion arrives within a week of it


@dataclass(frozen=True)
class Mat:
    """How a view is materialized.

    ``partition`` is the table's partition value (a DATE expression over its own columns).
    A run rewrites the partitions from ``lag_days`` before the earliest changed event's date
    (a repeat contact changes a ticket closed up to 30 days earlier), reading inputs from
    ``lead_days`` before that (a promise's row needs the commitment created before its due date).
    """

    partition: str
    cluster: tuple[str, ...] = ()
    lag_days: int = 0
    lead_days: int = 0
    weekly: bool = True

    def bigquery_options(self) -> str:
        part = "DATE_TRUNC(week, MONTH)" if self.weekly else self.partition  # small tables: monthly partitions
        return f"PARTITION BY {part}" + (f" CLUSTER BY {', '.join(self.cluster)}" if self.cluster else "")


_TICKET_WEEKS = Mat("week", ("journey", "ai_assisted"), lag_days=REPEAT_REACH)
MATS: dict[str, Mat] = {
    "events": Mat("DATE(occurred_at)", ("event_type",), weekly=False),
    # a repeat may come between a ticket's first close and its re-close: lead as well as lag
    "tickets": Mat("DATE(closed_at)", ("journey",), lag_days=REPEAT_REACH, lead_days=REPEAT_REACH, weekly=False),
    "audit_events": Mat("DATE(occurred_at)", ("capability", "agent_id"), weekly=False),
    "kpi_first_contact_resolution": _TICKET_WEEKS,
    "kpi_repeat_contacts": _TICKET_WEEKS,
    "kpi_handoffs": _TICKET_WEEKS,
    "kpi_handle_time": _TICKET_WEEKS,
    "kpi_suggestion_ratings": Mat("week", ("capability", "prompt_version")),
    "kpi_nba": Mat("week", ("offer_id", "segment")),
    "kpi_resolver_overrides": Mat("week", ("journey",), lag_days=REPEAT_REACH, lead_days=REPEAT_REACH),
    "kpi_experiments": Mat("week", ("capability", "experiment"), lag_days=FEEDBACK_REACH),
    "kpi_qa_verdicts": Mat("week", ("journey",), lag_days=REPEAT_REACH, lead_days=REPEAT_REACH),
    "kpi_model_cost": Mat("week", ("capability",)),
    "kpi_cost_per_contact": Mat("week", lag_days=REPEAT_REACH),
    "kpi_promises_kept": Mat("week", ("queue_code", "journey"), lag_days=PROMISE_REACH, lead_days=PROMISE_REACH),
    "kpi_broken_promises": Mat("week", ("queue_code", "journey"), lag_days=PROMISE_REACH, lead_days=PROMISE_REACH),
}


def sql_files() -> list[Path]:
    return sorted(SQL_DIR.glob("*.sql"))


def _clock(node: Any) -> Any:
    """CURRENT_TIMESTAMP/CURRENT_DATE read the connection's clock (:func:`set_clock`), live if unset."""
    from sqlglot import exp, parse_one

    now = "COALESCE(getvariable('cx_now'), get_current_timestamp())"
    if isinstance(node, exp.CurrentTimestamp):
        return parse_one(f"CAST({now} AS TIMESTAMPTZ)", read="duckdb")
    if isinstance(node, exp.CurrentDate):
        return parse_one(f"CAST({now} AS DATE)", read="duckdb")
    return node


@functools.lru_cache(maxsize=1024)
def to_duckdb(sql: str) -> str:
    """BigQuery SQL as DuckDB SQL; BigQuery-only table options (partitioning, clustering) are dropped."""
    import logging

    import sqlglot

    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    return sqlglot.parse_one(sql, read="bigquery").transform(_clock).sql(dialect="duckdb")


def set_clock(con: Any, now: datetime | None) -> None:
    """Pin the local warehouse's CURRENT_TIMESTAMP (a simulated day); ``None`` makes it live again."""
    if now is None:
        con.execute("RESET VARIABLE cx_now")
    else:
        con.execute("SET VARIABLE cx_now = CAST(? AS TIMESTAMPTZ)", [now.astimezone(UTC)])


def connect(path: Path | str = ":memory:", *, now: datetime | None = None, row_group_size: int | None = None) -> Any:
    """A DuckDB connection with the dataset's tables and views, the materialized tables (built on
    first use, and rebuilt when their definitions changed) and the analysts' ``cx_kpi`` views.

    ``now`` pins the clock (tests, simulations). ``row_group_size`` makes DuckDB's zone maps fine
    enough to skip the dates a statement filters out, as BigQuery skips partitions (benchmarks).
    """
    import duckdb

    if row_group_size:
        con = duckdb.connect()
        con.execute(f"ATTACH '{Path(path)}' AS warehouse (ROW_GROUP_SIZE {int(row_group_size)})")
        con.execute("USE warehouse")
    else:
        con = duckdb.connect(str(path))
    con.execute("SET TimeZone = 'UTC'")  # DATE(timestamp) is UTC in BigQuery
    if now is not None:
        set_clock(con, now)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {DATASET}")
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {KPI_DATASET}")
    for file in sql_files():
        con.execute(to_duckdb(file.read_text("utf-8")))
    if _stale(con):
        materialize(con)
    for view in KPI_VIEWS:
        con.execute(to_duckdb(kpi_view_sql(view)))
    return con


def _stale(con: Any) -> bool:
    present = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE'",
            [DATASET],
        ).fetchall()
    }
    if not {"mat_state", *(f"mat_{v}" for v in MATERIALIZED)} <= present:
        return True
    (stored,) = con.execute(f"SELECT MAX(layout) FROM {DATASET}.mat_state").fetchone()
    return bool(stored != layout())


def view_names() -> list[str]:
    """Every view, in file (dependency) order."""
    return [f.stem[3:] for f in sql_files() if not f.name.startswith("00_")]


def view_body(name: str) -> str:
    (file,) = [f for f in sql_files() if f.stem[3:] == name]
    return VIEW_HEADER.sub("", file.read_text("utf-8")).strip()


def kpi_view_sql(name: str) -> str:
    return f"CREATE OR REPLACE VIEW {KPI_DATASET}.{name} AS SELECT * FROM {DATASET}.mat_{name}"


# --- The materialization run: one list of steps, rendered for BigQuery or executed on DuckDB ----


@dataclass(frozen=True)
class Step:
    """One statement of the run. ``sql`` is BigQuery SQL that may name the run's variables
    (``v_*``); for ``set`` it is the value's expression, for ``if`` the condition of ``then``."""

    kind: Literal["declare", "set", "sql", "if", "begin", "commit"]
    sql: str = ""
    var: str = ""
    type: str = ""
    then: tuple[Step, ...] = ()
    options: str = ""  # BigQuery-only table options of a CREATE TABLE ... AS (placed before AS)
    local_order: str = ""  # DuckDB only: insert in partition order, so zone maps work as partitions
    table: str = ""  # which mat_ table the statement writes (benchmark breakdown)


def layout() -> str:
    """Fingerprint of what the materialized tables hold: changes when a view or its Mat does, and a
    run that finds another fingerprint in mat_state drops and rebuilds every mat_ table."""
    spec = [(name, view_body(name), asdict(MATS[name])) for name in view_names()]
    return hashlib.sha256(json.dumps([1, PARTITION_OF, spec]).encode()).hexdigest()[:16]


def _window(table: str, since: str) -> str:
    part = PARTITION_OF[table]
    source = f"{DATASET}.{table}" if table == "events_raw" else f"{DATASET}.mat_{table}"
    return f"(SELECT * FROM {source} WHERE {part} >= {since})"


def _body(name: str, since: str) -> str:
    """The view's own SQL, reading its inputs' materialized partitions from ``since`` only."""
    text = view_body(name)
    inputs = "events_raw" if name == "events" else r"events|tickets"
    return re.sub(rf"\b{DATASET}\.({inputs})\b", lambda m: _window(m.group(1), since), text)


def materialize_steps(
    late_arrival_days: int | str = LATE_ARRIVAL_DAYS, horizon_days: int | str = HORIZON_DAYS
) -> list[Step]:
    """The daily run: merge new events, rewrite the affected partitions, record the state.

    1. ``_batch``: the events of the ``events_raw`` partitions from ``v_raw_from`` (the newest
       partition materialized, minus ``late_arrival_days``), de-duplicated as the view does.
    2. ``mat_events``: the batch's events it does not hold yet (or holds as a later copy).
    3. ``v_changed_from``: the earliest date of a changed event (never after ``v_raw_from``, so rows
       that change with the clock alone, such as promises falling due, are rewritten too).
    4. Each derived table, in dependency order: its partitions from ``v_changed_from`` minus its
       ``lag_days`` are deleted and recomputed by the view's SQL over its inputs' partitions from
       ``lead_days`` before that.
    5. Partitions older than ``horizon_days`` are dropped; ``mat_state`` records the run.

    Without a state (first run, or after ``DELETE FROM mat_state``) ``v_raw_from`` is the horizon:
    a full rebuild. A changed layout (:func:`layout`) drops the tables first.
    """
    d = DATASET
    fp = layout()
    derived = [v for v in view_names() if v != "events"]
    steps: list[Step] = [
        Step("declare", var=v, type=t)
        for v, t in [
            ("v_horizon_from", "DATE"),
            ("v_layout", "STRING"),
            ("v_last_partition", "DATE"),
            ("v_last_run", "TIMESTAMP"),
            ("v_pending", "DATE"),
            ("v_raw_from", "DATE"),
            ("v_batch_from", "DATE"),
            ("v_batch_to", "DATE"),
            ("v_replaced_from", "DATE"),
            ("v_replaced_to", "DATE"),
            ("v_newest", "DATE"),
            ("v_changed_from", "DATE"),
            ("v_qa_from", "DATE"),
            *((f"v_from_{v}", "DATE") for v in derived),
        ]
    ]
    steps += [
        Step("set", f"DATE_SUB(CURRENT_DATE(), INTERVAL {horizon_days} DAY)", var="v_horizon_from"),
        Step(
            "sql",
            f"CREATE TABLE IF NOT EXISTS {d}.mat_state (table_name STRING, last_partition DATE, "
            "recomputed_from DATE, layout STRING, run_at TIMESTAMP)",
        ),
        Step("set", f"(SELECT MAX(layout) FROM {d}.mat_state)", var="v_layout"),
        Step(
            "if",
            f"v_layout IS NULL OR v_layout != '{fp}'",
            then=(
                *(Step("sql", f"DROP TABLE IF EXISTS {d}.mat_{v}") for v in view_names()),
                Step("sql", f"DELETE FROM {d}.mat_state WHERE TRUE"),
            ),
        ),
        Step(
            "set",
            f"(SELECT MAX(last_partition) FROM {d}.mat_state WHERE table_name = 'events')",
            var="v_last_partition",
        ),
        Step("set", f"(SELECT MAX(run_at) FROM {d}.mat_state)", var="v_last_run"),
        Step("set", f"(SELECT MIN(recomputed_from) FROM {d}.mat_state WHERE table_name = '_pending')", var="v_pending"),
        Step(
            "set",
            f"GREATEST(v_horizon_from, COALESCE(DATE_SUB(v_last_partition, INTERVAL {late_arrival_days} DAY), "
            "v_horizon_from))",
            var="v_raw_from",
        ),
        # 1-2: new events into mat_events
        Step(
            "sql",
            f"CREATE TABLE IF NOT EXISTS {d}.mat_events AS\n"
            f"SELECT * FROM (\n{_body('events', 'v_raw_from')}\n) WHERE FALSE",
            options=MATS["events"].bigquery_options(),
            table="events",
        ),
        Step("sql", f"CREATE OR REPLACE TEMP TABLE _batch AS\n{_body('events', 'v_raw_from')}", table="events"),
        Step("set", "(SELECT MIN(DATE(occurred_at)) FROM _batch)", var="v_batch_from"),
        Step("set", "(SELECT MAX(DATE(occurred_at)) FROM _batch)", var="v_batch_to"),
        # new events, and earlier copies of events held as a later copy (the view keeps the first published)
        Step(
            "sql",
            "CREATE OR REPLACE TEMP TABLE _changed AS\n"
            "SELECT b.*, m.event_id IS NOT NULL AS replaces FROM _batch AS b\n"
            f"LEFT JOIN (SELECT event_id, publish_time FROM {d}.mat_events\n"
            "  WHERE DATE(occurred_at) BETWEEN v_batch_from AND v_batch_to) AS m ON m.event_id = b.event_id\n"
            "WHERE m.event_id IS NULL OR b.publish_time < m.publish_time",
            table="events",
        ),
        Step("set", "(SELECT MIN(DATE(occurred_at)) FROM _changed WHERE replaces)", var="v_replaced_from"),
        Step("set", "(SELECT MAX(DATE(occurred_at)) FROM _changed WHERE replaces)", var="v_replaced_to"),
        Step(
            "set",
            "LEAST(v_raw_from, COALESCE(v_pending, v_raw_from), "
            "COALESCE((SELECT MIN(DATE(occurred_at)) FROM _changed WHERE NOT replaces), v_raw_from))",
            var="v_changed_from",
        ),
        Step("begin"),
        Step(  # rare: a DELETE bills the partitions it modifies in full
            "if",
            "v_replaced_from IS NOT NULL",
            then=(
                Step(
                    "sql",
                    f"DELETE FROM {d}.mat_events WHERE DATE(occurred_at) BETWEEN v_replaced_from AND v_replaced_to\n"
                    "  AND event_id IN (SELECT event_id FROM _changed WHERE replaces)",
                    table="events",
                ),
            ),
        ),
        Step(
            "sql",
            f"INSERT INTO {d}.mat_events SELECT * EXCEPT (replaces) FROM _changed",
            local_order="occurred_at",
            table="events",
        ),
        # until the derived tables are rewritten, a failed run leaves the date they must be rewritten from
        Step(
            "sql",
            f"INSERT INTO {d}.mat_state (table_name, recomputed_from, layout)\n"
            f"VALUES ('_pending', v_changed_from, '{fp}')",
        ),
        Step("commit"),
        Step(
            "set",
            f"(SELECT MIN(week) FROM {d}.qa_verdicts WHERE v_last_run IS NULL OR recorded_at IS NULL "
            "OR recorded_at >= v_last_run)",
            var="v_qa_from",
        ),
    ]
    # 4: derived tables
    for name in derived:
        mat = MATS[name]
        start = f"DATE_SUB(v_changed_from, INTERVAL {mat.lag_days} DAY)" if mat.lag_days else "v_changed_from"
        if name == "kpi_qa_verdicts":  # verdicts recorded since the last run change their weeks too
            start = f"LEAST({start}, COALESCE(v_qa_from, {start}))"
        if mat.weekly:
            start = f"DATE_TRUNC({start}, WEEK(MONDAY))"
        since = f"DATE_SUB(v_from_{name}, INTERVAL {mat.lead_days} DAY)" if mat.lead_days else f"v_from_{name}"
        body = _body(name, since)
        steps += [
            Step("set", start, var=f"v_from_{name}"),
            Step(
                "sql",
                f"CREATE TABLE IF NOT EXISTS {d}.mat_{name} AS\nSELECT * FROM (\n{body}\n) WHERE FALSE",
                options=mat.bigquery_options(),
                table=name,
            ),
            Step("begin"),
            Step("sql", f"DELETE FROM {d}.mat_{name} WHERE {mat.partition} >= v_from_{name}", table=name),
            Step(
                "sql",
                f"INSERT INTO {d}.mat_{name}\nSELECT * FROM (\n{body}\n) WHERE {mat.partition} >= v_from_{name}",
                local_order=mat.partition,
                table=name,
            ),
            Step("commit"),
        ]
    # 5: horizon and state
    steps += [
        Step("sql", f"DELETE FROM {d}.mat_{v} WHERE {MATS[v].partition} < v_horizon_from", table=v)
        for v in view_names()
    ]
    rows = [f"SELECT 'events', v_newest, v_changed_from, '{fp}', CURRENT_TIMESTAMP()"]
    rows += [f"SELECT '{v}', v_newest, v_from_{v}, '{fp}', CURRENT_TIMESTAMP()" for v in derived]
    steps += [
        Step("set", "COALESCE((SELECT MAX(DATE(publish_time)) FROM _batch), v_last_partition)", var="v_newest"),
        Step("begin"),
        Step("sql", f"DELETE FROM {d}.mat_state WHERE TRUE"),
        Step(
            "sql",
            f"INSERT INTO {d}.mat_state (table_name, last_partition, recomputed_from, layout, run_at)\n"
            + "\nUNION ALL ".join(rows),
        ),
        Step("commit"),
    ]
    return steps


SCRIPT_HEADER = """\
-- CX Copilot: the daily incremental materialization of cx_analytics (BigQuery scheduled query).
-- Generated from scripts/warehouse_db.py (materialize_steps); do not edit, regenerate with
--   python -m scripts.warehouse template
-- The same statements run on the local DuckDB warehouse (scripts/warehouse_db.py materialize).
-- A full rebuild: DELETE FROM cx_analytics.mat_state WHERE TRUE, then run this script.
"""


def _render(step: Step, indent: str = "") -> str:
    if step.kind == "declare":
        return f"{indent}DECLARE {step.var} {step.type};"
    if step.kind == "set":
        return f"{indent}SET {step.var} = {step.sql};"
    if step.kind == "begin":
        return f"{indent}BEGIN TRANSACTION;"
    if step.kind == "commit":
        return f"{indent}COMMIT TRANSACTION;"
    if step.kind == "if":
        inner = "\n".join(_render(s, indent + "  ") for s in step.then)
        return f"{indent}IF {step.sql} THEN\n{inner}\n{indent}END IF;"
    sql = step.sql
    if step.options:
        sql = sql.replace(" AS\n", f"\n{step.options}\nAS\n", 1)
    return indent + sql.replace("\n", "\n" + indent) + ";"


def materialize_script(
    late_arrival_days: int | str = LATE_ARRIVAL_DAYS,
    horizon_days: int | str = HORIZON_DAYS,
    project: str | None = None,
) -> str:
    """The BigQuery script of :func:`materialize_steps`, tables qualified with ``project`` if given.

    ``materialize_script("${late_arrival_days}", "${horizon_days}", "${project_id}")`` is the
    Terraform template (:data:`TEMPLATE`); a unit test keeps the committed file equal to it.
    """
    text = SCRIPT_HEADER + "\n".join(_render(s) for s in materialize_steps(late_arrival_days, horizon_days)) + "\n"
    return text.replace(f"{DATASET}.", f"`{project}.{DATASET}`.") if project else text


def template_text() -> str:
    return materialize_script("${late_arrival_days}", "${horizon_days}", "${project_id}")


# --- Running the steps on DuckDB ---------------------------------------------------------------


class Scan(NamedTuple):
    """One table scan DuckDB reported: in which statement, for which mat_ table, rows and columns read."""

    statement: int
    writer: str
    table: str
    rows: int
    columns: frozenset[str]


@dataclass
class RunStats:
    """What one local run did: seconds per table written and, when profiled, every table scan."""

    seconds: dict[str, float] = field(default_factory=dict)  # per mat_ table written
    scans: list[Scan] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)

    @property
    def rows_read(self) -> dict[str, int]:
        """Rows read per table scanned."""
        out: dict[str, int] = {}
        for scan in self.scans:
            out[scan.table] = out.get(scan.table, 0) + scan.rows
        return out

    @property
    def total_rows_read(self) -> int:
        return sum(scan.rows for scan in self.scans)


_DUCKDB_TYPES = {"DATE": "DATE", "TIMESTAMP": "TIMESTAMPTZ", "STRING": "VARCHAR"}


def _literal(value: Any, kind: str) -> str:
    """A variable's value as a DuckDB literal (constant: DuckDB's zone maps prune on it)."""
    if value is None:
        return f"CAST(NULL AS {_DUCKDB_TYPES[kind]})"
    if kind == "DATE":
        return f"DATE '{value.isoformat()}'"
    if kind == "TIMESTAMP":
        return f"CAST('{value.astimezone(UTC).isoformat()}' AS TIMESTAMPTZ)"
    return "'" + str(value).replace("'", "''") + "'"


def _coerce(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "DATE" and isinstance(value, datetime):
        return value.date()
    if kind == "TIMESTAMP" and isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class _LocalRun:
    def __init__(self, con: Any, profile: bool) -> None:
        self.con = con
        self.types: dict[str, str] = {}
        self.stats = RunStats()
        self.profile = Path(tempfile.mkdtemp()) / "profile.json" if profile else None
        self.in_transaction = False
        self.statements = 0

    def sql(self, text: str) -> str:
        """The statement in DuckDB SQL (transpiled once per text), with the variables' values in."""

        def value(m: re.Match[str]) -> str:
            name = m.group(0)
            if name not in self.types:
                raise KeyError(f"undeclared variable {name}")
            return _literal(self.stats.variables.get(name), self.types[name])

        return re.sub(r"\bv_[a-z0-9_]+\b", value, to_duckdb(text))

    def execute(self, sql: str, writer: str = "") -> Any:
        self.statements += 1
        if self.profile is not None:
            self.con.execute("PRAGMA enable_profiling = 'json'")
            self.con.execute(f"PRAGMA profiling_output = '{self.profile}'")
        result = self.con.execute(sql).fetchall()
        if self.profile is not None:
            self.con.execute("PRAGMA disable_profiling")
            self._count(json.loads(self.profile.read_text("utf-8")), writer)
        return result

    def _count(self, node: dict[str, Any], writer: str) -> None:
        for child in node.get("children", []) + node.get("operator", []):
            self._count(child, writer)
        if node.get("type") == "TABLE_SCAN":
            info = node.get("extra_info", {})
            table = str(info.get("Table", info.get("Function", "?"))).rsplit(".", 1)[-1]
            cols = info.get("Projections", "")
            cols = cols if isinstance(cols, list) else str(cols).split("\n")
            used = frozenset(c.strip() for c in cols if c.strip())
            rows = int(node.get("rows_scanned", 0))
            self.stats.scans.append(Scan(self.statements, writer, table, rows, used))

    def run(self, steps: Iterable[Step]) -> None:
        for step in steps:
            if step.kind == "declare":
                self.types[step.var] = step.type
            elif step.kind == "set":
                (row,) = self.execute(self.sql(f"SELECT ({step.sql})"))
                self.stats.variables[step.var] = _coerce(row[0], self.types[step.var])
            elif step.kind == "if":
                (row,) = self.execute(self.sql(f"SELECT COALESCE(({step.sql}), FALSE)"))
                if row[0]:
                    self.run(step.then)
            elif step.kind == "begin":
                self.con.execute("BEGIN TRANSACTION")
                self.in_transaction = True
            elif step.kind == "commit":
                self.con.execute("COMMIT")
                self.in_transaction = False
            else:
                sql = step.sql + (f"\nORDER BY {step.local_order}" if step.local_order else "")
                start = time.perf_counter()
                self.execute(self.sql(sql), step.table)
                if step.table:
                    took = time.perf_counter() - start
                    self.stats.seconds[step.table] = self.stats.seconds.get(step.table, 0.0) + took


def materialize(
    con: Any,
    *,
    late_arrival_days: int = LATE_ARRIVAL_DAYS,
    horizon_days: int = HORIZON_DAYS,
    full: bool = False,
    profile: bool = False,
) -> dict[str, float]:
    """Run the daily materialization locally (what the scheduled query does); seconds per table.

    ``full`` forgets the state first: a full rebuild. :func:`materialize_run` also returns the rows read.
    """
    return materialize_run(
        con, late_arrival_days=late_arrival_days, horizon_days=horizon_days, full=full, profile=profile
    ).seconds


def materialize_run(
    con: Any,
    *,
    late_arrival_days: int = LATE_ARRIVAL_DAYS,
    horizon_days: int = HORIZON_DAYS,
    full: bool = False,
    profile: bool = False,
) -> RunStats:
    if full:
        con.execute(f"DROP TABLE IF EXISTS {DATASET}.mat_state")
    run = _LocalRun(con, profile)
    try:
        run.run(materialize_steps(late_arrival_days, horizon_days))
    except Exception:
        if run.in_transaction:
            con.execute("ROLLBACK")
        raise
    return run.stats


def insert_raw(con: Any, rows: Iterable[tuple[str, str, Any, str, str]]) -> int:
    """(subscription, message_id, publish_time, data JSON text, attributes JSON text) rows.

    Written as newline-delimited JSON and ingested by DuckDB's native reader in one
    statement: row-by-row ``executemany`` managed only a few thousand rows a second.
    """
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
