"""Incremental materialization: the generated BigQuery script and its template, partition pruning in
every view and statement, and KPIs equal to the live views while a warehouse grows day by day."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from scripts.synth_events import START, daily_stream
from scripts.warehouse_db import (
    HORIZON_DAYS,
    MATERIALIZED,
    MATS,
    TEMPLATE,
    Step,
    _LocalRun,
    connect,
    insert_raw,
    materialize,
    materialize_run,
    materialize_script,
    materialize_steps,
    query,
    set_clock,
    sql_files,
    template_text,
)

DAY = timedelta(days=1)
PARTITION_COLUMN = {
    "events_raw": "publish_time",
    **{f"mat_{name}": "week" if mat.weekly else mat.partition[5:-1] for name, mat in MATS.items()},
}


# --- The script and its template -------------------------------------------------------------------


def test_the_committed_terraform_template_is_the_generated_script() -> None:
    assert TEMPLATE.read_text("utf-8") == template_text(), "run: python -m scripts.warehouse template"
    rendered = template_text().replace("${late_arrival_days}", "5").replace("${horizon_days}", "90")
    assert rendered.replace("${project_id}", "p") == materialize_script(5, 90, "p")
    assert "INTERVAL 5 DAY" in materialize_script(5, 90) and "INTERVAL 90 DAY" in materialize_script(5, 90)


def test_every_statement_is_bigquery_sql() -> None:
    for step in _flat(materialize_steps()):
        if step.kind in ("sql", "set"):
            text = step.sql if step.kind == "sql" else f"SELECT {step.sql}"
            sqlglot.parse_one(text, read="bigquery", error_level=sqlglot.ErrorLevel.RAISE)
    script = materialize_script()
    head = script[: script.index("SET ")]
    assert all(line.startswith(("--", "DECLARE ")) for line in head.splitlines())  # DECLAREs first
    assert script.count("BEGIN TRANSACTION;") == script.count("COMMIT TRANSACTION;") == 1 + 15 + 1


def test_the_horizon_is_the_retention_of_events_raw() -> None:
    from shared.data.retention import Retention
    from shared.settings import ROOT

    days = Retention.load(ROOT / "config" / "data/retention.yaml").bigquery["events_raw"]
    assert days == HORIZON_DAYS
    events_view = next(f for f in sql_files() if f.name == "01_events.sql").read_text("utf-8")
    assert f"DATE(publish_time) >= DATE_SUB(CURRENT_DATE(), INTERVAL {days} DAY)" in events_view


# --- Partition pruning -----------------------------------------------------------------------------


def _constant(node: exp.Expression) -> bool:
    """No column but the script's variables (v_*): BigQuery can prune on it."""
    return all(c.name.startswith("v_") for c in node.find_all(exp.Column))


def _prunes(where: exp.Expression | None, column: str) -> bool:
    if where is None:
        return False
    for cmp in where.find_all(exp.GT, exp.GTE, exp.LT, exp.LTE, exp.EQ, exp.Between):
        sides = [cmp.this, *([cmp.args["low"], cmp.args["high"]] if isinstance(cmp, exp.Between) else [cmp.expression])]
        on_column = [s for s in sides if any(c.name == column for c in s.find_all(exp.Column))]
        if on_column and all(_constant(s) for s in sides if s not in on_column):
            return True
    return False


def unpruned_reads(sql: str) -> list[str]:
    """Partitioned tables the statement reads or deletes from without a constant filter on their
    partition column (the written table of an INSERT/CREATE is not read)."""
    tree = sqlglot.parse_one(sql, read="bigquery")
    found = []
    for table in tree.find_all(exp.Table):
        column = PARTITION_COLUMN.get(table.name)
        if column is None or isinstance(table.parent, exp.Create | exp.Insert | exp.Schema):
            continue
        scope = table.parent if isinstance(table.parent, exp.Delete) else table.find_ancestor(exp.Select)
        if scope is None or not _prunes(scope.args.get("where"), column):
            found.append(table.name)
    return found


def test_every_view_reading_events_raw_filters_on_its_partition_column() -> None:
    views = [f for f in sql_files() if "CREATE OR REPLACE VIEW" in f.read_text("utf-8")]
    readers = [f for f in views if "cx_analytics.events_raw" in f.read_text("utf-8")]
    assert [f.name for f in readers] == ["01_events.sql"]
    for f in readers:
        assert unpruned_reads(f.read_text("utf-8")) == [], f.name
    # the check is not vacuous
    assert unpruned_reads("CREATE VIEW x AS SELECT * FROM cx_analytics.events_raw WHERE data IS NOT NULL") == [
        "events_raw"
    ]
    assert unpruned_reads(
        "SELECT * FROM cx_analytics.events_raw WHERE DATE(publish_time) >= DATE(JSON_VALUE(data, '$.x'))"
    ) == ["events_raw"]


def _flat(steps: list[Step] | tuple[Step, ...]) -> list[Step]:
    return [x for s in steps for x in ([s] if s.kind != "if" else [s, *_flat(s.then)])]


def test_every_materialization_statement_reads_only_the_partitions_it_needs() -> None:
    checked = 0
    for step in _flat(materialize_steps()):
        if step.kind == "sql" and "DROP TABLE" not in step.sql:
            assert unpruned_reads(step.sql) == [], step.sql
            checked += step.sql.count("cx_analytics.mat_") + step.sql.count("events_raw")
        elif step.kind == "set":
            assert unpruned_reads(f"SELECT {step.sql}") == [], step.sql
    assert checked > 60


# --- Growing a warehouse day by day ----------------------------------------------------------------


def _rows(con: Any, table: str) -> list[str]:
    """Rows as comparable text (averages may differ in the last bit: summation order)."""
    out = con.execute(f"SELECT * FROM {table}").fetchall()
    return sorted(repr(tuple(round(v, 9) if isinstance(v, float) else v for v in r)) for r in out)


def differences(con: Any) -> list[str]:
    """The materialized tables (cx_kpi for the KPIs) that differ from the live views right now."""
    differ = []
    for view in MATERIALIZED:
        mat = f"cx_kpi.{view}" if view.startswith("kpi_") else f"cx_analytics.mat_{view}"
        if _rows(con, mat) != _rows(con, f"cx_analytics.{view}"):
            differ.append(view)
    return differ


class Warehouse:
    """A local warehouse fed one simulated day at a time and materialized each morning at 03:00."""

    def __init__(self, days: int, events_per_day: int, seed: int = 7) -> None:
        self.stream = daily_stream(days, events_per_day, seed)
        self.con = connect(now=START)
        self.con.execute("SET threads = 1")
        self.day = 0

    def morning(self) -> datetime:
        return START + self.day * DAY + timedelta(hours=3)

    def advance(self, days: int = 1, *, daily: bool = True, **run: Any) -> Any:
        """Load the rows published on the next ``days`` days, materializing after each (``daily``) or
        only after the last; returns the last run's statistics."""
        stats = None
        for i in range(days):
            end = START + (self.day + 1) * DAY
            insert_raw(self.con, [r for r in self.stream if (self.day == 0 or r[2] >= end - DAY) and r[2] < end])
            self.day += 1
            if daily or i == days - 1:
                set_clock(self.con, self.morning())
                stats = materialize_run(self.con, **run)
        return stats


def late_ticket(ticket_id: str, closed: datetime, published: datetime) -> tuple[str, str, datetime, str, str]:
    event = {
        "event_id": f"late-{ticket_id}",
        "event_type": "ticket.closed",
        "occurred_at": closed.isoformat(),
        "schema_version": 1,
        "ticket_id": ticket_id,
        "journey": "delivery",
        "ai_assisted": True,
        "channel": "chat",
        "handoffs": 7,
        "handle_time_s": 100.0,
        "after_contact_work_s": 10.0,
        "csat": 5,
        "closed_at": closed.isoformat(),
    }
    return ("cx-events-warehouse", f"m-{ticket_id}", published, json.dumps(event), "{}")


def test_kpis_of_the_incremental_tables_equal_the_live_views_as_the_warehouse_grows() -> None:
    wh = Warehouse(days=21, events_per_day=200)
    for _ in range(3):
        stats = wh.advance(7)
        assert differences(wh.con) == [], f"day {wh.day}"
    # a steady-state run re-reads the late-arrival window, not the history
    assert stats.variables["v_raw_from"] == stats.variables["v_newest"] - 4 * DAY  # the day before, minus 3
    assert stats.variables["v_from_tickets"] >= stats.variables["v_changed_from"] - 35 * DAY
    (n,) = wh.con.execute("SELECT COUNT(*) FROM cx_analytics.mat_tickets").fetchone()
    assert n > 500


def test_a_late_delivery_within_the_window_is_counted_and_one_beyond_needs_a_rebuild() -> None:
    wh = Warehouse(days=14, events_per_day=120)
    wh.advance(10, daily=False)
    today = START + wh.day * DAY
    # delivered today into partitions materialized already: 2 days ago (window: 3) and 6 days ago
    insert_raw(
        wh.con,
        [
            late_ticket("LATE-2", today - 2 * DAY + timedelta(hours=1), today - 2 * DAY + timedelta(hours=2)),
            late_ticket("LATE-6", today - 6 * DAY + timedelta(hours=1), today - 6 * DAY + timedelta(hours=2)),
        ],
    )
    # and an earlier copy of an event held as published yesterday: the first published copy is the one kept
    (held_copy,) = wh.con.execute(
        "SELECT event_id, CAST(data AS VARCHAR) FROM cx_analytics.mat_events WHERE publish_time >= ? "
        "AND occurred_at < ? ORDER BY event_id LIMIT 1",
        [today - DAY, today - 2 * DAY],
    ).fetchall()
    insert_raw(wh.con, [("cx-events-warehouse", "m-earlier", today - 2 * DAY, held_copy[1], "{}")])
    stats = wh.advance()
    assert stats.variables["v_replaced_from"] is not None
    (kept,) = wh.con.execute(
        "SELECT publish_time FROM cx_analytics.mat_events WHERE event_id = ?", [held_copy[0]]
    ).fetchone()
    assert kept == today - 2 * DAY
    held = {r["ticket_id"] for r in query(wh.con, "SELECT ticket_id FROM cx_analytics.mat_tickets")}
    assert "LATE-2" in held and "LATE-6" not in held
    assert differences(wh.con) != []  # the one beyond the window is missing from the KPIs
    materialize(wh.con, full=True)  # the documented remedy: a full rebuild
    assert differences(wh.con) == []
    assert "LATE-6" in {r["ticket_id"] for r in query(wh.con, "SELECT ticket_id FROM cx_analytics.mat_tickets")}
    wh.advance(2)  # and incremental runs carry on from there
    assert differences(wh.con) == []


def test_a_repeat_contact_weeks_later_changes_the_earlier_ticket_and_its_week() -> None:
    wh = Warehouse(days=30, events_per_day=100)
    wh.advance(30, daily=False)
    (old,) = query(
        wh.con,
        f"SELECT ticket_id, week FROM cx_analytics.mat_tickets WHERE NOT repeat_30d "
        f"AND closed_at < TIMESTAMP '{(START + 8 * DAY).isoformat()}' ORDER BY ticket_id LIMIT 1",
    )
    now = START + wh.day * DAY + timedelta(hours=1)
    event = {
        "event_id": "repeat-late",
        "event_type": "ticket.repeat_contact",
        "occurred_at": now.isoformat(),
        "earlier_ticket_id": old["ticket_id"],
        "later_ticket_id": "X",
        "days_between": 6.5,
    }
    insert_raw(wh.con, [("cx-events-warehouse", "m-r", now, json.dumps(event), "{}")])
    wh.advance()
    (row,) = query(wh.con, f"SELECT repeat_7d FROM cx_analytics.mat_tickets WHERE ticket_id = '{old['ticket_id']}'")
    assert row["repeat_7d"] is True and differences(wh.con) == []


def test_verdicts_recorded_after_a_run_rewrite_their_week() -> None:
    wh = Warehouse(days=14, events_per_day=100)
    wh.advance(14, daily=False)
    (ticket, *_) = query(wh.con, "SELECT ticket_id, week, journey FROM cx_analytics.mat_tickets ORDER BY ticket_id")
    wh.con.execute(
        "INSERT INTO cx_analytics.qa_verdicts (suggestion_id, ticket_id, week, journey, owner_right, date_realistic, "
        "bounced, recorded_at) VALUES ('s1', ?, ?, ?, TRUE, FALSE, FALSE, ?)",
        [ticket["ticket_id"], ticket["week"], ticket["journey"], wh.morning() + timedelta(hours=2)],
    )
    wh.advance()
    assert query(wh.con, "SELECT SUM(reviewed) AS n FROM cx_kpi.kpi_qa_verdicts")[0]["n"] == 1
    assert differences(wh.con) == []


def test_a_run_that_failed_after_merging_events_is_completed_by_the_next() -> None:
    wh = Warehouse(days=10, events_per_day=100)
    wh.advance(7, daily=False)
    insert_raw(wh.con, [r for r in wh.stream if START + 7 * DAY <= r[2] < START + 8 * DAY])
    wh.day += 1
    set_clock(wh.con, wh.morning())
    steps = materialize_steps()
    first_commit = next(i for i, s in enumerate(steps) if s.kind == "commit")
    _LocalRun(wh.con, profile=False).run(steps[: first_commit + 1])  # new events merged, then the job died
    assert differences(wh.con) != []
    (pending,) = wh.con.execute("SELECT COUNT(*) FROM cx_analytics.mat_state WHERE table_name = '_pending'").fetchone()
    assert pending == 1
    wh.advance()  # nothing new is merged, yet the pending rewrite is done
    assert differences(wh.con) == []


def test_a_changed_definition_rebuilds_and_the_horizon_drops_old_partitions() -> None:
    wh = Warehouse(days=14, events_per_day=100)
    wh.advance(10, daily=False)
    wh.con.execute("UPDATE cx_analytics.mat_state SET layout = 'an older definition'")
    wh.con.execute(
        "INSERT INTO cx_analytics.mat_kpi_nba (offer_id, segment, week) VALUES ('GONE', 'x', DATE '2026-09-07')"
    )
    wh.advance()
    assert query(wh.con, "SELECT COUNT(*) AS n FROM cx_analytics.mat_kpi_nba WHERE offer_id = 'GONE'")[0]["n"] == 0
    assert differences(wh.con) == []
    materialize(wh.con, horizon_days=7)
    (oldest,) = wh.con.execute("SELECT MIN(CAST(occurred_at AS DATE)) FROM cx_analytics.mat_events").fetchone()
    assert oldest >= (wh.morning() - 7 * DAY).date()


@pytest.mark.parametrize("late", [0, 3])
def test_the_window_is_the_configured_late_arrival_days(late: int) -> None:
    wh = Warehouse(days=6, events_per_day=50)
    wh.advance(5, daily=False, late_arrival_days=late)
    stats = wh.advance(1, late_arrival_days=late)
    previous = datetime.combine(stats.variables["v_newest"], datetime.min.time(), UTC) - DAY
    assert stats.variables["v_raw_from"] == (previous - late * DAY).date()
