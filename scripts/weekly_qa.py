"""Weekly QA: a review sheet of last week's confirmed contacts, verdicts back into the warehouse,
regression candidates from real use.

    python -m scripts.weekly_qa run [--eval]                 # end to end on demo data (own emulators)
    python -m scripts.weekly_qa run --db .local/warehouse.duckdb [--week 2026-11-16] [--n 5]
    python -m scripts.weekly_qa run --project P [--week …]    # BigQuery + Firestore in the project
    python -m scripts.weekly_qa verdicts .local/qa/2026-11-16/review.csv [--db …|--project P]

``run`` samples N confirmed contacts per journey from the warehouse (``mat_events`` /
``mat_tickets``), fetches the AI's suggestion and the agent's confirmed version from
Firestore and writes, under ``--out`` (default ``.local/qa/<week>``):

* ``review.csv`` and ``review.html``: one row per sampled contact, AI vs agent side by side,
  with empty verdict columns for the team lead (owner right? date realistic? bounced?);
  plus one row per regression candidate (keep as gold?);
* ``candidates/next_steps/<id>.yaml``: heavy edits and resolver overrides as cases in the
  gold-set format (pseudonymized: customer identifiers replaced by placeholders, the
  customer id by its HMAC key and a demo stand-in), runnable with
  ``python -m scripts.eval_next_steps gold tests/fixtures/next_steps_gold.yaml <dir>``;
* ``candidates/nba_rejections.yaml``: rejected next-best actions (offer, segment,
  pseudonymized phrasing) for the NBA prompt review.

``verdicts`` reads the filled sheet back: verdicts go to ``cx_analytics.qa_verdicts`` (the
``kpi_qa_verdicts`` view joins them with the tickets) and candidates marked keep are copied
to ``.local/qa/regression`` (``--gold-dir``), next to the hand-written gold sets.
Without a project or ``--db``, ``run`` plays demo contacts through the real functions on its
own emulators, fills the sheet as a stand-in team lead would (labelled as simulated) and
reads it back, so every step runs once.
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import os
import random
import shutil
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from shared.settings import ROOT

QA_DIR = ROOT / ".local" / "qa"
GOLD_DIR = QA_DIR / "regression"
GOLD_REL = "tests/fixtures/next_steps_gold.yaml tests/fixtures/next_steps_gold"
STAND_IN_CUSTOMER = "C-1001"  # a seeded demo customer: the gold runner needs one to exist
HEAVY_EDIT = 2  # owner changes + actions added/removed + due dates moved, at least
VERDICTS = ("owner_right", "date_realistic", "bounced")
COLUMNS = (
    "kind",
    "ref",
    "week",
    "journey",
    "ticket_id",
    "ai_resolver",
    "final_resolver",
    "ai_actions",
    "final_actions",
    "changes",
    "candidate",
    *VERDICTS,
    "keep_as_gold",
    "reviewer",
    "note",
)
JOURNEY_BY_GROUP = {
    "Billing and Payments": "billing_dispute",
    "Service Outages and Maintenance": "outage",
    "Returns and Exchanges": "delivery",
    "Technical Support": "technical",
}


def _sql(con: Any, sql: str) -> str:
    from scripts.warehouse import BigQueryConnection
    from scripts.warehouse_db import to_duckdb

    return sql if isinstance(con, BigQueryConnection) else to_duckdb(sql)


def _rows(con: Any, sql: str) -> list[dict[str, Any]]:
    from scripts.warehouse_db import query

    return query(con, _sql(con, sql))


def confirmed_contacts(con: Any, start: date, end: date) -> list[dict[str, Any]]:
    """Every next-steps confirmation of the week with its journey (from the closed ticket)."""
    return _rows(
        con,
        f"""
        SELECT JSON_VALUE(e.data, '$.suggestion_id') AS suggestion_id, JSON_VALUE(e.data, '$.ticket_id') AS ticket_id,
          CAST(JSON_VALUE(e.data, '$.diff.resolver_overridden') AS BOOL) AS resolver_overridden,
          CAST(JSON_VALUE(e.data, '$.diff.owner_changed') AS INT64) AS owner_changed,
          CAST(JSON_VALUE(e.data, '$.diff.actions_added') AS INT64) AS actions_added,
          CAST(JSON_VALUE(e.data, '$.diff.actions_removed') AS INT64) AS actions_removed,
          CAST(JSON_VALUE(e.data, '$.diff.due_dates_moved') AS INT64) AS due_dates_moved,
          COALESCE(t.journey, 'unknown') AS journey, e.occurred_at
        FROM cx_analytics.mat_events AS e
        LEFT JOIN cx_analytics.mat_tickets AS t ON t.ticket_id = JSON_VALUE(e.data, '$.ticket_id')
        WHERE e.event_type = 'next_steps.confirmed'
          AND CAST(e.occurred_at AS DATE) BETWEEN DATE '{start}' AND DATE '{end}'
        ORDER BY suggestion_id""",
    )  # noqa: S608 - dates are date objects


def rejected_nbas(con: Any, start: date, end: date) -> list[dict[str, Any]]:
    return _rows(
        con,
        f"""
        SELECT JSON_VALUE(data, '$.suggestion_id') AS suggestion_id, JSON_VALUE(data, '$.nba_offer_id') AS offer_id,
          JSON_VALUE(data, '$.segment') AS segment, JSON_VALUE(data, '$.prompt_version') AS prompt_version
        FROM cx_analytics.mat_events
        WHERE event_type = 'feedback.recorded' AND JSON_VALUE(data, '$.nba_outcome') = 'rejected'
          AND CAST(occurred_at AS DATE) BETWEEN DATE '{start}' AND DATE '{end}'
        ORDER BY suggestion_id""",
    )  # noqa: S608


def sample(contacts: list[dict[str, Any]], n: int, seed: str) -> list[dict[str, Any]]:
    """N per journey, reproducibly (the same week gives the same sample)."""
    by_journey: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in contacts:
        by_journey[c["journey"]].append(c)
    rng = random.Random(seed)
    return [c for j in sorted(by_journey) for c in rng.sample(by_journey[j], min(n, len(by_journey[j])))]


def changes(c: dict[str, Any]) -> int:
    return sum(int(c.get(k) or 0) for k in ("owner_changed", "actions_added", "actions_removed", "due_dates_moved"))


@dataclass
class Contact:
    """One confirmed contact, AI vs agent, masked for the sheet (no raw customer data leaves Firestore)."""

    row: dict[str, Any]
    channel: str
    subject: str
    language: str
    end: str
    customer_key: str
    ai: dict[str, Any]
    final: dict[str, Any]
    reasons: list[str] = field(default_factory=list)


def _actions(actions: list[dict[str, Any]]) -> str:
    return (
        "\n".join(
            f"{a['owner']}: {a['description']}" + (f" (by {a['due_by']})" if a.get("due_by") else "") for a in actions
        )
        or "(none)"
    )


def fetch(rt: Any, rows: list[dict[str, Any]]) -> list[Contact]:
    """AI suggestion and confirmed version from Firestore, masked with the customer's pseudonymizer."""
    from shared.safety.context_policy import pseudonymizer_for
    from shared.safety.pii.base import customer_key

    out = []
    for row in rows:
        stored = rt.next_steps_store.suggestion(row["suggestion_id"])
        if not stored:
            continue
        cid, tid = stored["customer_id"], stored["ticket_id"]
        ticket = (
            rt.firestore.collection(rt.settings.customers_collection)
            .document(cid)
            .collection("tickets")
            .document(tid)
            .get()
            .to_dict()
            or {}
        )
        record = ticket.get("next_steps") or {}
        confirmed = record.get("confirmed")
        if not confirmed:
            continue
        pseudo = pseudonymizer_for(rt.snapshots.get_snapshot(cid, rt.settings.snapshot_limit), rt.pii_detector)
        sugg = stored["suggestion"]
        ai = pseudo.mask_obj(
            {
                "issue_summary": sugg.get("issue_summary", ""),
                "resolver_group": sugg["resolver_group"],
                "actions": [
                    {k: a.get(k) for k in ("owner", "description", "due_by", "evidence")} for a in sugg["actions"]
                ],
            }
        )
        final = pseudo.mask_obj({"resolver_group": confirmed["resolver_group"], "actions": confirmed["actions"]})
        created = stored.get("created_at")
        out.append(
            Contact(
                row=row,
                channel=ticket.get("channel") or "chat",
                subject=pseudo.mask(ticket.get("subject") or ""),
                language=sugg.get("language", "en"),
                end=(created.isoformat() if hasattr(created, "isoformat") else str(created)),
                customer_key=customer_key(cid, rt.settings.pseudonym_key),
                ai=ai,
                final=final,
            )
        )
    return out


def candidate_reasons(c: Contact) -> list[str]:
    reasons = []
    if c.row.get("resolver_overridden"):
        reasons.append("resolver_override")
    if changes(c.row) >= HEAVY_EDIT:
        reasons.append("heavy_edit")
    return reasons


def gold_case(c: Contact, week: date) -> dict[str, Any]:
    """The contact as a gold-set case (tests/fixtures/next_steps_gold.yaml format), for review."""
    sid = c.row["suggestion_id"]
    transcript = [["agent", a["evidence"]] for a in c.ai["actions"] if a.get("evidence")]
    return {
        "end": c.end,
        "cases": [
            {
                "id": f"qa-{week}-{sid[:8]}",
                "customer_id": STAND_IN_CUSTOMER,
                "channel": c.channel,
                "subject": c.subject or c.ai["issue_summary"][:80],
                "group": c.final["resolver_group"],
                "transcript": transcript or [["agent", c.ai["issue_summary"]]],
                "actions": [
                    {"owner": a["owner"], "key": a["description"], "due_by": a.get("due_by")}
                    for a in c.final["actions"]
                ],
                "source": "weekly_qa",
                "classes": c.reasons,  # the gold scorer's source and failure-class buckets
                "provenance": {
                    "suggestion_id": sid,
                    "customer_key": c.customer_key,
                    "week": str(week),
                    "note": "transcript rebuilt from the suggestion's evidence sentences; review keys and turns",
                },
            }
        ],
    }


def nba_candidates(rt: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from shared.safety.context_policy import pseudonymizer_for

    out = []
    for r in rows:
        doc = rt.firestore.collection(rt.settings.suggestions_collection).document(r["suggestion_id"]).get()
        if not doc.exists:
            continue
        s = doc.to_dict() or {}
        pseudo = pseudonymizer_for(
            rt.snapshots.get_snapshot(s["customer_id"], rt.settings.snapshot_limit), rt.pii_detector
        )
        out.append(
            {
                "suggestion_id": r["suggestion_id"],
                "offer_rejected": r["offer_id"],
                "segment": r["segment"],
                "prompt_version": r["prompt_version"],
                "arm": s.get("arm"),
                "phrasing": pseudo.mask(s.get("text") or ""),
                "customer_key": s["customer_key"],
            }
        )
    return out


def sheet_rows(samples: list[Contact], candidates: list[Contact], week: date) -> list[dict[str, str]]:
    def base(kind: str, c: Contact) -> dict[str, str]:
        return {
            "kind": kind,
            "ref": c.row["suggestion_id"],
            "week": str(week),
            "journey": c.row["journey"],
            "ticket_id": c.row["ticket_id"],
            "ai_resolver": c.ai["resolver_group"],
            "final_resolver": c.final["resolver_group"],
            "ai_actions": _actions(c.ai["actions"]),
            "final_actions": _actions(c.final["actions"]),
            "changes": str(changes(c.row)),
            "candidate": ",".join(c.reasons),
        } | {k: "" for k in (*VERDICTS, "keep_as_gold", "reviewer", "note")}

    return [base("sample", c) for c in samples] + [base("candidate", c) for c in candidates]


def write_sheet(out: Path, rows: list[dict[str, str]], week: date, nba: list[dict[str, Any]]) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    csv_path, html_path = out / "review.csv", out / "review.html"
    with csv_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    cell = lambda v: html.escape(str(v)).replace("\n", "<br>")  # noqa: E731
    body = "".join(
        f"<tr class='{r['kind']}'><td>{cell(r['kind'])}<br><small>{cell(r['ref'][:8])}</small></td>"
        f"<td>{cell(r['journey'])}<br><small>{cell(r['ticket_id'])}</small></td>"
        f"<td>{cell(r['ai_actions'])}<br><b>{cell(r['ai_resolver'])}</b></td>"
        f"<td>{cell(r['final_actions'])}<br><b>{cell(r['final_resolver'])}</b></td>"
        f"<td>{cell(r['changes'])} {cell(r['candidate'])}</td></tr>"
        for r in rows
    )
    nba_rows = "".join(
        f"<tr><td>{cell(n['offer_rejected'])}</td><td>{cell(n['segment'])}</td>"
        f"<td>{cell(n['prompt_version'])} {cell(n['arm'] or '')}</td><td>{cell(n['phrasing'])}</td></tr>"
        for n in nba
    )
    html_path.write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>CX Copilot QA, week of {week}</title><style>"
        "body{font-family:sans-serif;margin:2em}td,th{padding:6px;border-bottom:1px solid #ddd;vertical-align:top}"
        "tr.candidate{background:#fff8e1}</style></head><body>"
        f"<h1>Weekly QA, week of {week}</h1><p>Fill the verdict columns in <code>review.csv</code> (yes/no): "
        "owner_right, date_realistic, bounced for samples; keep_as_gold for candidates. Then run "
        f"<code>python -m scripts.weekly_qa verdicts {html.escape(str(csv_path))}</code>.</p>"
        "<table><tr><th>kind</th><th>journey / ticket</th><th>AI suggestion</th><th>Agent's final version</th>"
        f"<th>changes</th></tr>{body}</table><h2>Rejected next-best actions</h2><table><tr><th>offer</th>"
        f"<th>segment</th><th>prompt</th><th>phrasing</th></tr>{nba_rows}</table></body></html>",
        "utf-8",
    )
    return csv_path, html_path


def write_candidates(out: Path, candidates: list[Contact], nba: list[dict[str, Any]], week: date) -> list[Path]:
    folder = out / "candidates" / "next_steps"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for c in candidates:
        case = gold_case(c, week)
        path = folder / f"{case['cases'][0]['id']}.yaml"
        path.write_text(yaml.safe_dump(case, sort_keys=False, allow_unicode=True), "utf-8")
        written.append(path)
    nba_path = out / "candidates" / "nba_rejections.yaml"
    nba_path.write_text(
        yaml.safe_dump({"week": str(week), "rejections": nba}, sort_keys=False, allow_unicode=True), "utf-8"
    )
    return [*written, nba_path]


def _yes(value: str) -> bool | None:
    v = (value or "").strip().lower()
    if v in ("yes", "y", "true", "1", "x", "ja"):
        return True
    if v in ("no", "n", "false", "0", "nein"):
        return False
    return None


def _lit(v: Any) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    return "'" + str(v).replace("\\", "\\\\").replace("'", "\\'") + "'"


def read_verdicts(csv_path: Path, con: Any, gold_dir: Path = GOLD_DIR) -> dict[str, int]:
    """Verdicts into cx_analytics.qa_verdicts (replacing earlier ones for the same contact); kept candidates
    copied to the regression set."""
    with csv_path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S+00")
    verdicts = [r for r in rows if r["kind"] == "sample" and any(_yes(r[k]) is not None for k in VERDICTS)]
    if verdicts:
        refs = ", ".join(_lit(r["ref"]) for r in verdicts)
        con.execute(_sql(con, f"DELETE FROM cx_analytics.qa_verdicts WHERE suggestion_id IN ({refs})"))  # noqa: S608
        values = ", ".join(
            "("
            + ", ".join(
                [
                    _lit(r["ref"]),
                    _lit(r["ticket_id"]),
                    f"DATE '{date.fromisoformat(r['week'])}'",
                    _lit(r["journey"]),
                    _lit(r["reviewer"] or None),
                    *(_lit(_yes(r[k])) for k in VERDICTS),
                    _lit(r["note"] or None),
                    f"TIMESTAMP '{now}'",
                ]
            )
            + ")"
            for r in verdicts
        )
        con.execute(
            _sql(
                con,
                "INSERT INTO cx_analytics.qa_verdicts (suggestion_id, ticket_id, week, journey, "
                "reviewer, owner_right, date_realistic, bounced, note, recorded_at) "
                f"VALUES {values}",
            )
        )  # noqa: S608
    kept = 0
    folder = csv_path.parent / "candidates" / "next_steps"
    gold_dir.mkdir(parents=True, exist_ok=True)
    for r in rows:
        if r["kind"] == "candidate" and _yes(r["keep_as_gold"]):
            for f in folder.glob(f"qa-{r['week']}-{r['ref'][:8]}.yaml"):
                shutil.copy(f, gold_dir / f.name)
                kept += 1
    return {"verdicts": len(verdicts), "kept_as_gold": kept}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run")
    run_p.add_argument("--db", type=Path, help="local warehouse (default: demo data on own emulators)")
    run_p.add_argument("--project", help="BigQuery + Firestore project (default: CX_PROJECT)")
    run_p.add_argument("--week", type=date.fromisoformat, help="Monday of the week (default: last week)")
    run_p.add_argument("--n", type=int, default=5, help="contacts per journey")
    run_p.add_argument("--out", type=Path)
    run_p.add_argument(
        "--eval",
        action="store_true",
        help="also score the gold sets + kept regression cases "
        "(scripts.evaluate; with a project, Vertex's evaluation of the prompt experiment too)",
    )
    v_p = sub.add_parser("verdicts")
    v_p.add_argument("sheet", type=Path)
    v_p.add_argument("--db", type=Path, default=ROOT / ".local" / "warehouse.duckdb")
    v_p.add_argument("--project")
    v_p.add_argument("--gold-dir", type=Path, default=GOLD_DIR)
    args = parser.parse_args(argv)
    from scripts.warehouse import open_warehouse

    if args.command == "verdicts":
        con = open_warehouse(args.db, args.project)
        print(json.dumps(read_verdicts(args.sheet, con, args.gold_dir)))
        return 0
    if not (args.db or args.project or os.environ.get("CX_PROJECT")):
        return demo(args.n, args.out, args.eval)
    from shared.runtime import Runtime
    from shared.settings import load_settings

    week = args.week or (date.today() - timedelta(days=date.today().weekday() + 7))
    con = open_warehouse(args.db or ROOT / ".local" / "warehouse.duckdb", args.project, refresh=bool(args.db))
    written = weekly(con, Runtime(load_settings()), week, args.n, args.out or QA_DIR / str(week))
    print("\n".join(str(p) for p in written))
    if args.eval:
        from scripts.evaluate import main as evaluate

        return evaluate(["run", *(["--project", args.project] if args.project else [])])
    return 0


def weekly(con: Any, rt: Any, week: date, n: int, out: Path) -> list[Path]:
    """Sample, fetch, write the sheet and the candidates; returns the files written."""
    end = week + timedelta(days=6)
    contacts = confirmed_contacts(con, week, end)
    picked = {c["suggestion_id"] for c in sample(contacts, n, str(week))}
    flagged = {c["suggestion_id"] for c in contacts if c["resolver_overridden"] or changes(c) >= HEAVY_EDIT}
    details = {
        c.row["suggestion_id"]: c for c in fetch(rt, [c for c in contacts if c["suggestion_id"] in picked | flagged])
    }
    for c in details.values():
        c.reasons = candidate_reasons(c)
    samples = [details[s] for s in sorted(picked) if s in details]
    candidates = [details[s] for s in sorted(flagged) if s in details]
    nba = nba_candidates(rt, rejected_nbas(con, week, end))
    csv_path, html_path = write_sheet(out, sheet_rows(samples, candidates, week), week, nba)
    return [csv_path, html_path, *write_candidates(out, candidates, nba, week)]


def monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def play_demo(
    rt: Any, contacts: int = 24, prefix: str = "TK-QA", nba_customers: list[str] | None = None
) -> dict[str, int]:
    """Demo contacts through the real code paths: next steps suggested (offline engine), confirmed
    with the gold set's actions and group as the agent's version, the ticket closed; NBA
    suggestions with accepted and rejected outcomes."""
    from scripts.eval_next_steps import GOLD, key_in
    from scripts.seed import SEEDS
    from shared.capabilities.confirm_next_steps import ConfirmRequest, FinalAction, confirm
    from shared.capabilities.feedback import FeedbackRequest, NbaOutcome
    from shared.capabilities.feedback import record as record_feedback
    from shared.capabilities.next_best_action import NbaRequest, recommend
    from shared.capabilities.next_steps import NextStepsRequest, extract
    from shared.capabilities.ticket_closed import handle
    from shared.data.snapshots import Ticket

    gold = yaml.safe_load(GOLD.read_text("utf-8"))
    end = datetime.fromisoformat(str(gold["end"]).replace("Z", "+00:00"))
    for i, case in enumerate(gold["cases"][:contacts]):
        cid, tid = case["customer_id"], f"{prefix}{i:03d}"
        rt.snapshots.put_many(cid, [Ticket(ticket_id=tid, subject=case["subject"], opened_at=end - timedelta(hours=1))])
        turns = [{"speaker": sp, "text": t} for sp, t in case["transcript"]]
        resp = extract(
            NextStepsRequest(
                customer_id=cid,
                ticket_id=tid,
                channel=case["channel"],
                transcript=turns,
                ticket_metadata={"subject": case["subject"]},
                conversation_end_time=end,
            ),
            rt,
        )
        final = []
        for g in case["actions"]:
            hit = next((a for a in resp.actions if key_in(g["key"], a.description)), None)
            text = hit.description if hit else str(g["key"]).capitalize()
            final.append(FinalAction(owner=g["owner"], description=text, due_by=g["due_by"]))
        confirm(
            ConfirmRequest(
                suggestion_id=resp.suggestion_id,
                customer_id=cid,
                ticket_id=tid,
                actions=final,
                resolver_group=case["group"],
            ),
            rt,
        )
        journey = JOURNEY_BY_GROUP.get(case["group"], "general")
        handle(
            json.dumps(
                {
                    "ticket_id": tid,
                    "customer_id": cid,
                    "channel": case["channel"],
                    "journey": journey,
                    "category": journey,
                    "subject": case["subject"],
                    "queue_history": ["Customer Service", case["group"]],
                    "opened_at": (end - timedelta(hours=1)).isoformat(),
                    "closed_at": end.isoformat(),
                    "handle_time_s": 300 + 20 * i,
                    "after_contact_work_s": 60,
                    "resolution_code": "resolved",
                    "csat": 4,
                    "ai_assisted": True,
                }
            ).encode(),
            rt,
            f"qa-demo-{tid}",
        )
    nbas = 0
    if nba_customers is None:
        nba_customers = [c.customer_id for c in SEEDS[:8]]
    for i, nba_customer in enumerate(nba_customers):
        ask = [{"speaker": "customer", "text": "Is there a better plan for me?"}]
        body = recommend(
            NbaRequest(customer_id=nba_customer, channel="chat", ticket_id=f"{prefix}N{i}", transcript=ask), rt
        )
        if body.primary is None:
            continue
        outcome = NbaOutcome(offer_id=body.primary.offer_id, outcome="rejected" if i % 2 == 0 else "accepted")
        record_feedback(
            FeedbackRequest(
                event_id=f"{prefix}-nba-{i}-{body.suggestion_id[:8]}",
                suggestion_id=body.suggestion_id,
                capability="next_best_action",
                nba=outcome,
            ),
            rt,
        )
        nbas += 1
    rt.events.flush()
    return {"contacts": min(contacts, len(gold["cases"])), "nba": nbas}


def simulate_lead(csv_path: Path, seed: str = "demo") -> None:
    """Demo only: fill the sheet as a stand-in team lead would (reviewer says so)."""
    with csv_path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    rng = random.Random(seed)
    for r in rows:
        r["reviewer"] = "demo-lead (simulated)"
        if r["kind"] == "sample":
            r["owner_right"] = "no" if int(r["changes"]) and rng.random() < 0.5 else "yes"
            r["date_realistic"] = "yes" if rng.random() < 0.8 else "no"
            r["bounced"] = "yes" if rng.random() < 0.15 else "no"
        else:
            r["keep_as_gold"] = "yes" if "resolver_override" in r["candidate"] else "no"
    with csv_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def demo(n: int, out: Path | None, evaluate: bool = False) -> int:
    """Everything once on demo data: own emulators, demo contacts, warehouse, sheet, verdicts back."""
    from google.cloud import pubsub_v1

    from scripts.eval_next_steps import _stack
    from scripts.warehouse_db import connect, load_from_subscription, materialize, query

    emu, rt = _stack()
    try:
        played = play_demo(rt)
        con = connect(Path(tempfile.mkdtemp(prefix="cx-qa-")) / "warehouse.duckdb")
        subscriber = pubsub_v1.SubscriberClient()
        path = subscriber.subscription_path(
            rt.settings.gcp_project_or_local, rt.settings.local_topics[rt.settings.events_topic][1]
        )
        with subscriber:
            loaded = load_from_subscription(con, subscriber, path)
        materialize(con)
        week = monday(datetime.now(UTC).date())
        out = out or QA_DIR / f"demo-{week}"
        shutil.rmtree(out, ignore_errors=True)  # demo output is regenerated, never merged with an earlier run
        written = weekly(con, rt, week, n, out)
        print(
            f"played {played['contacts']} confirmed contacts and {played['nba']} NBA outcomes; "
            f"loaded {loaded} events into the local warehouse"
        )
        with written[0].open(encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        kinds = {k: sum(r["kind"] == k for r in rows) for k in ("sample", "candidate")}
        print(
            f"wrote {written[0]}: {kinds['sample']} sampled contacts ({n} per journey), "
            f"{kinds['candidate']} regression candidates, verdict columns empty"
        )
        print(f"wrote {written[1]}: the same sheet side by side, and the rejected NBAs")
        for p in written[2:]:
            print(f"wrote {p}")
        simulate_lead(written[0])
        result = read_verdicts(written[0], con, out / "regression")
        materialize(con)
        print(
            f"read back {result['verdicts']} verdicts (simulated team lead) into cx_analytics.qa_verdicts; "
            f"{result['kept_as_gold']} candidates kept as gold in {out / 'regression'}"
        )
        for r in query(con, "SELECT * FROM cx_kpi.kpi_qa_verdicts ORDER BY journey"):
            print(
                "  kpi_qa_verdicts: "
                + "  ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items())
            )
        if evaluate:
            from scripts.eval_next_steps import GOLD, GOLD_DIR
            from scripts.evaluate import offline

            offline([GOLD, GOLD_DIR, out / "regression"], rt)
        else:
            print(
                f"score the kept cases next to the gold sets: python -m scripts.evaluate "
                f"{GOLD_REL} {out / 'regression'}  (or run with --eval)"
            )
    finally:
        emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
