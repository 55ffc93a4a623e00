"""The KPI views (BigQuery SQL, transpiled to DuckDB) against an independent Python computation,
on generated event streams with duplicates, re-closed tickets and late events."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from statistics import mean
from typing import Any

import pytest

from scripts.synth_events import JOURNEYS, deliver, generate
from scripts.warehouse_db import KPI_VIEWS, connect, insert_raw, query, sql_files, to_duckdb

NOW = datetime(2026, 12, 1, 3, tzinfo=UTC)  # the warehouse's clock (promises fall due by it; 400-day retention)


def monday(d: datetime) -> date:
    day = d.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def oracle(events: list[dict[str, Any]], now: datetime = NOW) -> dict[str, dict[tuple, dict[str, float]]]:
    """The KPI definitions, written independently of the SQL."""
    unique = {e["event_id"]: e for e in events}.values()
    closes: dict[str, dict[str, Any]] = {}
    for e in unique:
        if e["event_type"] == "ticket.closed":
            prev = closes.get(e["ticket_id"])
            if prev is None or e["closed_at"] > prev["closed_at"]:
                closes[e["ticket_id"]] = e
    repeat_days: dict[str, float] = {}
    for e in unique:
        if e["event_type"] == "ticket.repeat_contact":
            t = e["earlier_ticket_id"]
            repeat_days[t] = min(repeat_days.get(t, 1e9), e["days_between"])
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for t in closes.values():
        groups[(t["journey"], t["ai_assisted"], monday(datetime.fromisoformat(t["closed_at"])))].append(t)
    out: dict[str, dict[tuple, dict[str, float]]] = defaultdict(dict)
    for key, ts in groups.items():
        r7 = [repeat_days.get(t["ticket_id"], 1e9) <= 7 for t in ts]
        r30 = [repeat_days.get(t["ticket_id"], 1e9) <= 30 for t in ts]
        csats = [t["csat"] for t in ts if t["csat"] is not None]
        out["kpi_first_contact_resolution"][key] = {"tickets": len(ts), "first_contact_resolution": 1 - mean(r7)}
        out["kpi_repeat_contacts"][key] = {"repeat_rate_7d": mean(r7), "repeat_rate_30d": mean(r30)}
        out["kpi_handoffs"][key] = {"handoffs_per_case": mean(t["handoffs"] for t in ts)}
        out["kpi_handle_time"][key] = {
            "avg_handle_time_s": mean(t["handle_time_s"] for t in ts),
            "avg_after_contact_work_s": mean(t["after_contact_work_s"] for t in ts),
            "avg_csat": mean(csats) if csats else None,
        }
    ratings: dict[tuple, list[str]] = defaultdict(list)
    nba: dict[tuple, list[str]] = defaultdict(list)
    for e in unique:
        if e["event_type"] != "feedback.recorded":
            continue
        if e["rating"]:
            ratings[(e["capability"], e["prompt_version"], monday(datetime.fromisoformat(e["occurred_at"])))].append(
                e["rating"]
            )
        if e["nba_offer_id"]:
            nba[(e["nba_offer_id"], e["segment"], monday(datetime.fromisoformat(e["occurred_at"])))].append(
                e["nba_outcome"]
            )
    for key, rs in ratings.items():
        out["kpi_suggestion_ratings"][key] = {
            "rated": len(rs),
            **{
                f"share_{r}": rs.count(r) / len(rs)
                for r in ("used_unchanged", "lightly_edited", "heavily_edited", "not_helpful")
            },
        }
    for key, os_ in nba.items():
        offered, accepted = sum(o in ("accepted", "rejected") for o in os_), os_.count("accepted")
        out["kpi_nba"][key] = {
            "offered": offered,
            "accepted": accepted,
            "converted": os_.count("converted"),
            "acceptance_rate": accepted / offered if offered else None,
            "conversion_rate": os_.count("converted") / accepted if accepted else None,
        }
    overrides: dict[tuple, list[bool]] = defaultdict(list)
    for e in unique:
        if e["event_type"] == "next_steps.confirmed":
            t = closes.get(e["ticket_id"])
            key = (
                t["journey"] if t else "unknown",
                t["ai_assisted"] if t else True,
                monday(datetime.fromisoformat(e["occurred_at"])),
            )
            overrides[key].append(e["diff"]["resolver_overridden"])
    for key, flags in overrides.items():
        out["kpi_resolver_overrides"][key] = {"confirmations": len(flags), "resolver_override_rate": mean(flags)}
    shown = {e["suggestion_id"]: e for e in unique if e["event_type"] == "suggestion.generated" and e["experiment"]}
    feedback = {e["suggestion_id"]: e for e in unique if e["event_type"] == "feedback.recorded"}
    arms: dict[tuple, list[dict[str, Any] | None]] = defaultdict(list)
    for sid, e in shown.items():
        key = (
            e["capability"],
            e["experiment"],
            e["arm"],
            e["prompt_version"],
            monday(datetime.fromisoformat(e["occurred_at"])),
        )
        arms[key].append(feedback.get(sid))
    for key, fbs in arms.items():
        outcomes = [f["nba_outcome"] for f in fbs if f]
        offered, accepted = sum(o in ("accepted", "rejected") for o in outcomes), outcomes.count("accepted")
        out["kpi_experiments"][key] = {
            "suggestions": len(fbs),
            "rated": sum(bool(f and f["rating"]) for f in fbs),
            "offered": offered,
            "accepted": accepted,
            "acceptance_rate": accepted / offered if offered else None,
        }
    costs: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for e in unique:
        if e["event_type"] == "suggestion.generated":
            costs[(e["capability"], monday(datetime.fromisoformat(e["occurred_at"])))].append(e)
    for key, es in costs.items():
        billed = [e for e in es if not e["tokens_estimated"]]
        usd = sum(e["cost_usd"] or 0 for e in es)
        out["kpi_model_cost"][key] = {
            "suggestions": len(es),
            "gemini_answers": sum(e["engine"] == "vertex" for e in es),
            "billed_calls": len(billed),
            "tokens_in": sum(e["tokens_in"] for e in billed),
            "tokens_cached": sum(e["tokens_cached"] for e in billed),
            "tokens_out": sum(e["tokens_out"] for e in billed),
            "tokens_thinking": sum(e["tokens_thinking"] for e in billed),
            "unpriced": sum(e["engine"] == "vertex" and e["cost_usd"] is None for e in es),
            "cost_usd": usd,
            "cost_per_suggestion": usd / len(es),
        }
    assisted: dict[date, int] = defaultdict(int)
    for t in closes.values():
        if t["ai_assisted"]:
            assisted[monday(datetime.fromisoformat(t["closed_at"]))] += 1
    weeks: dict[date, list[dict[str, Any]]] = defaultdict(list)
    for (_cap, week), es in costs.items():
        weeks[week] += es
    for week, es in weeks.items():
        usd = sum(e["cost_usd"] or 0 for e in es)
        n = assisted.get(week, 0)
        out["kpi_cost_per_contact"][(week,)] = {
            "contacts": n,
            "suggestions": len(es),
            "cost_usd": usd,
            "cost_per_contact": usd / n if n else None,
        }
    promises(list(unique), closes, out, now)
    return out


def promises(
    unique: list[dict[str, Any]], closes: dict[str, dict[str, Any]], out: dict[str, Any], now: datetime
) -> None:
    """Promises kept on time and the repeat contacts after a broken one (docs/commitments.md)."""
    at = datetime.fromisoformat
    latest: dict[str, dict[str, Any]] = {}
    overdue: dict[str, datetime] = {}
    for e in unique:
        if not e["event_type"].startswith("commitment."):
            continue
        cid = e["commitment_id"]
        if cid not in latest or e["version"] > latest[cid]["version"]:
            latest[cid] = e
        if e["event_type"] == "commitment.overdue":
            overdue[cid] = min(overdue.get(cid, at(e["due_at"])), at(e["due_at"]))
    contacts = [e for e in unique if e["event_type"] == "ticket.closed" and e.get("customer_key")]
    kept: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    after: dict[tuple, list[int]] = defaultdict(list)
    for c in latest.values():
        if c["status"] in ("superseded", "cancelled"):
            continue
        due, changed = at(c["original_due_at"]), at(c["changed_at"])
        t = closes.get(c["ticket_id"])
        journey, ai = (t["journey"], t["ai_assisted"]) if t else ("unknown", True)
        if c["status"] == "done" or due <= now:
            kept[(c["queue_code"], c["owner"], journey, ai, monday(due))].append(
                {
                    "on_time": c["status"] == "done" and changed <= due,
                    "open": c["status"] in ("open", "overdue"),
                    "late": c["status"] == "done" and changed > due,
                    "days": (changed - due).total_seconds() / 86400,
                }
            )
        since = overdue.get(c["commitment_id"], due)
        if since <= now:
            seen = {
                k["ticket_id"]
                for k in contacts
                if k["customer_key"] == c["customer_key"]
                and k["ticket_id"] != c["ticket_id"]
                and since < at(k["opened_at"]) <= since + timedelta(days=7)
            }
            after[(c["queue_code"], journey, ai, c["commitment_id"] in overdue, monday(since))].append(len(seen))
    for key, cs in kept.items():
        late = [c["days"] for c in cs if c["late"]]
        out["kpi_promises_kept"][key] = {
            "promises": len(cs),
            "kept_on_time": sum(c["on_time"] for c in cs),
            "kept_on_time_rate": mean(c["on_time"] for c in cs),
            "kept_late": len(late),
            "not_kept_yet": sum(c["open"] for c in cs),
            "avg_days_late": mean(late) if late else None,
        }
    for key, ns in after.items():
        out["kpi_broken_promises"][key] = {
            "promises": len(ns),
            "repeat_contacts_7d": sum(ns),
            "repeat_rate_7d": mean(n > 0 for n in ns),
        }


KEYS = {
    "kpi_model_cost": ("capability", "week"),
    "kpi_cost_per_contact": ("week",),
    "kpi_suggestion_ratings": ("capability", "prompt_version", "week"),
    "kpi_nba": ("offer_id", "segment", "week"),
    "kpi_experiments": ("capability", "experiment", "arm", "prompt_version", "week"),
    "kpi_promises_kept": ("queue_code", "owner", "journey", "ai_assisted", "week"),
    "kpi_broken_promises": ("queue_code", "journey", "ai_assisted", "broken", "week"),
}


def _key(view: str, row: dict[str, Any]) -> tuple:
    cols = KEYS.get(view, ("journey", "ai_assisted", "week"))
    return tuple(row[c].date() if isinstance(row[c], datetime) else row[c] for c in cols)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_kpi_view_matches_an_independent_computation(seed: int) -> None:
    events = generate(seed)
    rows = deliver(events, seed)
    assert len(rows) > len(events)  # duplicates really are in the stream
    con = connect(now=NOW)
    insert_raw(con, rows)
    expected = oracle(events)
    for view in KPI_VIEWS:
        got = {_key(view, r): r for r in query(con, f"SELECT * FROM cx_analytics.{view}")}
        assert set(got) == set(expected[view]), view
        for key, metrics in expected[view].items():
            for name, value in metrics.items():
                if value is None:
                    assert got[key][name] is None, (view, key, name)
                else:
                    assert got[key][name] == pytest.approx(value, rel=1e-9, abs=1e-9), (view, key, name)


def test_events_view_removes_duplicates_by_event_id() -> None:
    events = generate(9, n_tickets=50)
    con = connect(now=NOW)
    insert_raw(con, deliver(events, 9) + deliver(events, 10))  # everything delivered again
    (row,) = query(con, "SELECT COUNT(*) AS n, COUNT(DISTINCT event_id) AS d FROM cx_analytics.events")
    assert row["n"] == row["d"] == len(events)


def test_sql_files_are_bigquery_sql_transpiled_not_copies() -> None:
    names = [f.name for f in sql_files()]
    assert names[:2] == ["00_events_raw.sql", "00_qa_verdicts.sql"] and len(names) == 5 + len(KPI_VIEWS)
    raw = (sql_files()[0]).read_text("utf-8")
    assert "PARTITION BY DATE(publish_time)" in raw and "PARTITION BY" not in to_duckdb(raw)
    for view in KPI_VIEWS:
        assert any(f"cx_analytics.{view} " in f.read_text("utf-8") for f in sql_files()), view


def test_report_has_the_kpi_table_and_charts() -> None:
    from scripts.warehouse import html_report, kpi_table
    from scripts.warehouse_db import materialize

    con = connect(now=NOW)
    insert_raw(con, deliver(generate(4), 4))
    materialize(con)  # the report reads the materialized tables
    table = kpi_table(con, date(2026, 9, 1), date(2026, 9, 30))
    assert {(r["journey"], r["ai_assisted"]) for r in table} == {(j, a) for j in JOURNEYS for a in (True, False)}
    page = html_report(con, date(2026, 9, 1), date(2026, 9, 30))
    assert page.count("<svg") == 4 and "First-contact resolution" in page and "AI-assisted" in page
    assert kpi_table(con, date(2020, 1, 1), date(2020, 1, 31)) == []


def test_materialized_tables_equal_the_views_and_analysts_see_only_kpis() -> None:
    from scripts.warehouse_db import KPI_DATASET, MATERIALIZED, materialize, materialize_script

    con = connect(now=NOW)
    insert_raw(con, deliver(generate(5, n_tickets=120), 5))
    assert query(con, "SELECT COUNT(*) AS n FROM cx_analytics.mat_tickets")[0]["n"] == 0  # built at connect, empty
    con.execute(
        "INSERT INTO cx_analytics.qa_verdicts (suggestion_id, ticket_id, week, journey, owner_right, "
        "date_realistic, bounced) VALUES ('s1', 'T1', DATE '2026-09-07', 'outage', TRUE, FALSE, NULL)"
    )
    took = materialize(con)
    assert set(took) == set(MATERIALIZED)

    def rows(table: str) -> list[str]:  # averages may differ in the last bit (summation order)
        return sorted(
            repr(tuple(round(v, 9) if isinstance(v, float) else v for v in r))
            for r in con.execute(f"SELECT * FROM cx_analytics.{table}").fetchall()
        )

    for view in MATERIALIZED:
        live = rows(view)
        assert live and rows(f"mat_{view}") == live, view
    shared = {
        r["table_name"]
        for r in query(con, f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{KPI_DATASET}'")
    }
    assert shared == set(KPI_VIEWS)  # no events, no tickets, nothing with customer keys
    (fcr,) = query(con, f"SELECT SUM(tickets) AS n FROM {KPI_DATASET}.kpi_first_contact_resolution")
    assert fcr["n"] == query(con, "SELECT COUNT(*) AS n FROM cx_analytics.tickets")[0]["n"]
    script = materialize_script()  # what the scheduled query runs: inputs before the tables reading them
    created = [script.index(f"CREATE TABLE IF NOT EXISTS cx_analytics.mat_{t}\n") for t in MATERIALIZED]
    assert created == sorted(created) and "FROM cx_analytics.events\n" not in script
    assert "FROM cx_analytics.mat_events WHERE DATE(occurred_at) >=" in script  # views read materialized inputs


def test_experiment_report_finds_the_planted_difference_and_matches_chi_square() -> None:
    from scipy.stats import chi2_contingency

    from scripts.experiment_report import compare, report, two_proportion_z
    from scripts.warehouse_db import materialize

    z, p = two_proportion_z(40, 100, 55, 100)
    chi2, p_chi, _, _ = chi2_contingency([[40, 60], [55, 45]], correction=False)
    assert z**2 == pytest.approx(chi2) and p == pytest.approx(p_chi)
    con = connect(now=NOW)
    insert_raw(con, deliver(generate(6, n_tickets=4000), 6))  # candidate accepted more often (synth_events)
    materialize(con)
    rows = query(con, "SELECT * FROM cx_kpi.kpi_experiments")
    (nba,) = [c for c in compare(rows) if c.capability == "next_best_action"]
    assert nba.experiment == "nba-goal-first" and nba.control[1] > 300 and nba.candidate[1] > 300
    assert nba.diff is not None and nba.diff > 0 and nba.significant(0.05)
    assert any("significant at alpha 0.05" in line and "not" not in line for line in report(con))
    small = connect(now=NOW)
    insert_raw(small, deliver(generate(7, n_tickets=60), 7))
    materialize(small)
    (few,) = compare(query(small, "SELECT * FROM cx_kpi.kpi_experiments"))
    assert not few.significant(0.05)  # a handful of contacts proves nothing


def test_report_runs_on_bigquery_through_the_same_queries() -> None:
    """google-cloud-bigquery's client is injected: the SQL sent and the rows read back are what the report uses."""
    from scripts.warehouse import BigQueryConnection, kpi_table

    class Row(dict):
        pass

    class Job:
        def __init__(self, rows: list[dict[str, Any]]) -> None:
            self.rows = rows

        def result(self) -> list[Row]:
            return [Row(r) for r in self.rows]

    class Client:
        sent: list[str] = []

        def query(self, sql: str) -> Job:
            self.sent.append(sql)
            return Job([{"journey": "outage", "ai_assisted": True, "tickets": 3, "first_contact_resolution": 0.5}])

    client = Client()
    rows = kpi_table(BigQueryConnection("proj", client=client), date(2026, 9, 1), date(2026, 9, 30))
    assert rows == [{"journey": "outage", "ai_assisted": True, "tickets": 3, "first_contact_resolution": 0.5}]
    assert "FROM cx_analytics.mat_tickets" in client.sent[0] and "DATE '2026-09-01'" in client.sent[0]


def test_report_shows_promises_kept_on_time_per_queue() -> None:
    from scripts.warehouse import html_report, promises_table
    from scripts.warehouse_db import materialize

    con = connect(now=NOW)
    insert_raw(con, deliver(generate(8), 8))
    materialize(con)
    rows = promises_table(con, date(2026, 9, 1), date(2026, 10, 31))
    assert {r["queue_code"] for r in rows} == {"Q-BILL", "Q-TECH", "Q-RMA"}
    (got,) = query(con, "SELECT SUM(promises) AS n, SUM(kept_on_time) AS k FROM cx_kpi.kpi_promises_kept")
    assert sum(r["promises"] for r in rows) == got["n"] and sum(r["kept_on_time"] for r in rows) == got["k"]
    for r in rows:
        assert 0 <= r["kept_on_time_rate"] <= 1 and r["kept_on_time_rate"] == pytest.approx(
            r["kept_on_time"] / r["promises"]
        )
        # the synthetic customers call back more often after a broken promise (50 % vs 15 %)
        assert r["repeat_7d_after_broken"] > r["repeat_7d_after_kept"]
    assert "Promises kept on time per queue" in html_report(con, date(2026, 9, 1), date(2026, 10, 31))
