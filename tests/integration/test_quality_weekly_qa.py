"""Weekly QA end to end on the emulators: sample, sheet, candidates, verdicts back into the warehouse."""

from __future__ import annotations

import csv
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scripts.eval_next_steps import load_cases
from scripts.seed import SEEDS
from scripts.warehouse_db import connect, load_from_subscription, materialize, query
from scripts.weekly_qa import monday, play_demo, read_verdicts, simulate_lead, weekly
from shared.data.snapshots import Customer, Profile
from shared.runtime import Runtime
from tests.conftest import EventSink

pytestmark = pytest.mark.integration


def test_weekly_qa_writes_the_sheet_candidates_and_reads_verdicts_back(
    runtime: Runtime, event_sink: EventSink, tmp_path: Path
) -> None:
    nba_customers = []
    for _ in range(4):  # its own customers: recorded rejections must not reach other tests' expectations
        cid = f"C-QA{uuid.uuid4().hex[:6]}"
        runtime.snapshots.put_customer(
            Customer(
                customer_id=cid,
                profile=Profile(name="Quinn Example", language="en", timezone="Europe/London"),
                customer_since=datetime.now(UTC) - timedelta(days=900),
            )
        )
        nba_customers.append(cid)
    played = play_demo(runtime, contacts=12, prefix=f"TK-Q{uuid.uuid4().hex[:5]}", nba_customers=nba_customers)
    con = connect()
    assert load_from_subscription(con, event_sink.subscriber, event_sink.path, timeout=5) > 0
    materialize(con)
    week = monday(datetime.now(UTC).date())
    written = weekly(con, runtime, week, 2, tmp_path / "qa")
    sheet, page, *candidates = written
    rows = list(csv.DictReader(sheet.open(encoding="utf-8")))
    samples = [r for r in rows if r["kind"] == "sample"]
    journeys = {r["journey"] for r in samples}
    assert samples and all(sum(r["journey"] == j for r in samples) <= 2 for j in journeys)
    assert all(r["ai_actions"] and r["final_actions"] and r["ai_resolver"] and r["final_resolver"] for r in samples)
    assert all(not r["owner_right"] and not r["keep_as_gold"] for r in rows)  # for the team lead to fill
    assert "AI suggestion" in page.read_text("utf-8") and "Rejected next-best actions" in page.read_text("utf-8")
    flagged = [r for r in rows if r["kind"] == "candidate"]
    gold_files = [p for p in candidates if p.parent.name == "next_steps"]
    assert len(gold_files) == len(flagged) and played["contacts"] == 12
    for end, case in load_cases(gold_files):  # the eval command's own loader reads them
        assert end and case["actions"] and case["transcript"] and case["group"] and case["id"].startswith("qa-")
        assert case["source"] == "weekly_qa" and case["classes"] and case["provenance"]["suggestion_id"]
    nba = (tmp_path / "qa" / "candidates" / "nba_rejections.yaml").read_text("utf-8")
    assert played["nba"] == 0 or "offer_rejected" in nba
    everything = "".join(p.read_text("utf-8") for p in written)
    for seed in SEEDS:  # pseudonymized: no customer name
        assert seed.name not in everything
    assert not any(cid in everything for cid in nba_customers)

    simulate_lead(sheet)
    result = read_verdicts(sheet, con, tmp_path / "regression")
    again = read_verdicts(sheet, con, tmp_path / "regression")  # a re-read replaces, never duplicates
    assert result == again and result["verdicts"] == len(samples)
    assert query(con, "SELECT COUNT(*) AS n FROM cx_analytics.qa_verdicts")[0]["n"] == len(samples)
    kept = sorted(p.name for p in (tmp_path / "regression").glob("*.yaml"))
    assert len(kept) == result["kept_as_gold"] == sum("resolver_override" in r["candidate"] for r in flagged)
    materialize(con)
    kpi = query(con, "SELECT * FROM cx_kpi.kpi_qa_verdicts")
    assert sum(r["reviewed"] for r in kpi) == len(samples) and {r["journey"] for r in kpi} == journeys
    assert all(r["owner_right_rate"] is not None and r["handoffs_per_case"] == 1 for r in kpi)
