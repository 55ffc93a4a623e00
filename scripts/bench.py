"""Benchmarks: cold-start imports, per-request overhead, prompt tokens vs history length.

    python -m scripts.bench                 # everything (starts its own emulators)
    python -m scripts.bench --only cold     # one part: cold | overhead | tokens

Figures are printed, never asserted: timings belong in reports, not in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from scripts.devstack import signed_headers
from shared.settings import ROOT

MODULES = [
    "functions.context_summary",
    "functions.next_best_action",
    "functions.reply_draft",
    "functions.next_steps",
    "functions.confirm_next_steps",
    "functions.closing_message",
    "main",
]
HEAVY = ["google.genai", "vertexai", "google.cloud.aiplatform"]


HEADERS = signed_headers("agent-demo")  # a signed-in demo agent (the dev stack's local issuer)


def _timed(client: Any, bodies: list[dict[str, Any]], n: int) -> list[float]:
    """Milliseconds for ``n`` POSTs cycling through ``bodies``; every answer must be 200."""
    times = []
    for i in range(n):
        t = time.perf_counter()
        resp = client.post("/", json=bodies[i % len(bodies)], headers=HEADERS)
        times.append((time.perf_counter() - t) * 1000)
        assert resp.status_code == 200, resp.get_json()
    return times


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def cold_start(repeats: int = 5) -> dict[str, dict[str, float | list[str]]]:
    """Import time of each function module in a fresh interpreter (median of ``repeats``)."""
    probe = (
        "import sys, time; t = time.perf_counter(); import {m}; d = time.perf_counter() - t; "
        "import json; print(json.dumps({{'s': d, 'heavy': [h for h in {heavy!r} if h in sys.modules]}}))"
    )
    env = {**os.environ, "CX_MODEL_BACKEND": "offline"}
    results = {}
    for module in MODULES:
        runs, heavy = [], []
        for _ in range(repeats):
            out = subprocess.run(
                [sys.executable, "-c", probe.format(m=module, heavy=HEAVY)],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            data = json.loads(out.strip().splitlines()[-1])
            runs.append(data["s"])
            heavy = data["heavy"]
        results[module] = {"median_s": round(statistics.median(runs), 3), "heavy_modules_loaded": heavy}
    return results


# One realistic first request per agent-facing function: what a new instance pays before its
# first answer (imports, clients, and the models each path loads lazily: spaCy, Presidio, word lists).
FIRST_REQUESTS = {
    "context_summary": {"customer_id": "C-1001"},
    "reply_draft": {
        "customer_id": "C-1001",
        "channel": "email",
        "message": "Hello, I was charged twice for October. Please refund the duplicate, Jane Miller.",
    },
    "next_best_action": {
        "customer_id": "C-1002",
        "channel": "chat",
        "transcript": [{"speaker": "customer", "text": "The internet is down again, this is unacceptable."}],
    },
    "next_steps": {
        "customer_id": "C-1005",
        "ticket_id": "T-1005-01",
        "channel": "phone",
        "transcript": [
            {"speaker": "customer", "text": "My router keeps rebooting every hour."},
            {"speaker": "agent", "text": "I'll send you a replacement router by Friday."},
            {"speaker": "agent", "text": "Please return the old router within 14 days using the prepaid label."},
        ],
    },
}


def first_request(repeats: int = 3) -> dict[str, dict[str, dict[str, float]]]:
    """Fresh interpreter per function: import main, then its first request (median of ``repeats``);
    lazily loaded models, and with ``CX_PRELOAD`` (the function's models loaded at import, as deployed)."""
    return {mode: _first_request(repeats, preload=mode == "preloaded") for mode in ("lazy", "preloaded")}


def _first_request(repeats: int, preload: bool) -> dict[str, dict[str, float]]:
    results = {}
    for target, body in FIRST_REQUESTS.items():
        env = {**os.environ, "CX_PRELOAD": str(preload).lower(), "FUNCTION_TARGET": target}
        probe = (
            "import time, json; t0 = time.perf_counter(); import main; t1 = time.perf_counter(); "
            "from functions_framework import create_app; "
            f"c = create_app(target={target!r}, source='main.py').test_client(); "
            f"r = c.post('/', json={body!r}, headers={HEADERS!r}); "
            "t2 = time.perf_counter(); assert r.status_code == 200, r.get_json(); "
            "print(json.dumps({'import_s': t1 - t0, 'first_request_s': t2 - t1}))"
        )
        runs = []
        for _ in range(repeats):
            out = subprocess.run(
                [sys.executable, "-c", probe], cwd=ROOT, env=env, check=True, capture_output=True, text=True
            ).stdout
            runs.append(json.loads(out.strip().splitlines()[-1]))
        results[target] = {k: round(statistics.median(r[k] for r in runs), 3) for k in ("import_s", "first_request_s")}
    return results


def _client():
    return _client_for("context_summary")


def overhead(n: int = 200) -> dict[str, float]:
    """p50/p95 of context_summary end to end in-process, and of its Firestore reads alone."""
    from shared.runtime import default_runtime

    client = _client()
    customers = [f"C-{1001 + i}" for i in range(20)]
    headers = HEADERS
    for cid in customers:  # warm: clients created, prompts loaded
        client.post("/", json={"customer_id": cid}, headers=headers)
    total, firestore = [], []
    rt = default_runtime()
    for i in range(n):
        cid = customers[i % len(customers)]
        t = time.perf_counter()
        resp = client.post("/", json={"customer_id": cid}, headers=headers)
        total.append((time.perf_counter() - t) * 1000)
        assert resp.status_code == 200, resp.get_json()
        t = time.perf_counter()
        rt.snapshots.get_snapshot(cid, rt.settings.snapshot_limit)
        firestore.append((time.perf_counter() - t) * 1000)
    rt.events.flush()
    p50, p95 = _pct(total, 0.5), _pct(total, 0.95)
    f50, f95 = _pct(firestore, 0.5), _pct(firestore, 0.95)
    return {
        "requests": n,
        "p50_ms": round(p50, 1),
        "p95_ms": round(p95, 1),
        "firestore_p50_ms": round(f50, 1),
        "firestore_p95_ms": round(f95, 1),
        "firestore_share_p50": round(f50 / p50, 2),
    }


def tokens(histories: tuple[int, ...] = (0, 3, 10, 100, 1000)) -> list[dict[str, float]]:
    """Prompt input tokens (estimated; offline engine) for customers with growing histories."""
    from scripts.seed import SEEDS, build
    from shared.capabilities.context_summary import ContextSummaryRequest, summarize
    from shared.platform.calls import CallContext
    from shared.runtime import default_runtime

    rt = default_runtime()
    rows = []
    for n in histories:
        seed = replace(SEEDS[3], customer_id=f"C-BENCH-{n}", interactions=n)
        customer, items = build(seed)
        rt.snapshots.put_customer(customer)
        rt.snapshots.put_many(customer.customer_id, items)
        call = CallContext()
        resp = summarize(ContextSummaryRequest(customer_id=customer.customer_id), rt, call)
        rows.append(
            {
                "interactions": n,
                "context_tokens": call.log_fields["context_tokens"],
                "prompt_tokens": call.log_fields["tokens_in"],
                "output_tokens": call.log_fields["tokens_out"],
                "usd_per_1000_calls": round(
                    1000 * _cost(_summary_model(rt), call.log_fields["tokens_in"], call.log_fields["tokens_out"]), 3
                ),
                "bullets": len(resp.bullets),
            }
        )
    rt.events.flush()
    return rows


def _summary_model(rt: Any) -> str:
    """The model context_summary calls (config/engine/models.yaml, or the CX_GEMINI_MODEL override)."""
    from shared.engine.vertex import load_profiles

    return load_profiles(rt.settings).profile("context_summary", rt.settings.gemini_model).model


def _cost(model: str, tokens_in: int, tokens_out: int) -> float:
    """Estimated USD for one call at the prices in config/engine/pricing.yaml (visible output only; with thinking:
    scripts/gemini_cost.py)."""
    import yaml

    prices = yaml.safe_load((ROOT / "config" / "engine/pricing.yaml").read_text("utf-8"))["models"].get(model)
    if not prices:
        return float("nan")
    return round((tokens_in * prices["input"] + tokens_out * prices["output"]) / 1e6, 6)


def nba_overhead(sizes: tuple[int, ...] = (20, 200, 2000), n: int = 200) -> list[dict[str, float]]:
    """p50/p95 of next_best_action with catalogues of growing size (cached per instance, as deployed)."""
    import random

    from shared.data.offers import Eligibility, Offer
    from shared.runtime import Runtime, set_default_runtime
    from shared.settings import load_settings

    client = _client_for("next_best_action")
    transcript = [{"speaker": "customer", "text": "The internet is down again, this is unacceptable."}]
    rows = []
    for size in sizes:
        rng = random.Random(size)
        rt = Runtime(load_settings(offers_collection=f"bench_offers_{size}"))
        rt.offers.put_offers(
            Offer(
                offer_id=f"B{size}-{i:04d}",
                type=rng.choice(["retention", "cross_sell", "upsell", "service", "goodwill", "follow_up"]),
                title=f"Offer {i}",
                pitch={"en": "A pitch.", "de": "Ein Angebot."},
                eligibility=Eligibility(
                    segments=rng.choice([None, ["gold"], ["standard", "gold"]]),
                    min_tenure_months=rng.choice([0, 6, 24]),
                ),
                discount_percent=rng.choice([0, 5, 10, 15, 25]),
                value_estimate=rng.uniform(5, 500),
            )
            for i in range(size)
        )
        set_default_runtime(rt)
        body = {"customer_id": "C-1002", "channel": "chat", "transcript": transcript}
        client.post("/", json=body, headers=HEADERS)  # warm: catalogue cached, clients up
        times = _timed(client, [body], n)
        t = time.perf_counter()
        rt.offers._cache._values.clear()
        rt.offers.catalogue()
        reload_ms = (time.perf_counter() - t) * 1000
        rt.events.flush()
        set_default_runtime(None)
        rows.append(
            {
                "offers": size,
                "p50_ms": round(_pct(times, 0.5), 1),
                "p95_ms": round(_pct(times, 0.95), 1),
                "catalogue_reload_ms": round(reload_ms, 1),
            }
        )
    return rows


def reply_overhead(n: int = 200) -> dict[str, float]:
    """p50/p95 of reply_draft (offline engine, emulator) and prompt tokens for the 600-interaction customer."""
    from shared.capabilities.reply_draft import ReplyRequest, draft_reply
    from shared.platform.calls import CallContext
    from shared.runtime import default_runtime

    client = _client_for("reply_draft")
    messages = [
        ("C-1004", "Sie haben mir den Oktober doppelt abgebucht! Ich will mein Geld zurück."),
        ("C-1001", "Hi, my router keeps rebooting, can you help?"),
        ("C-1002", "Schon wieder kein Internet seit heute Morgen."),
        ("C-1009", "Where is my parcel? It says delivered but nothing arrived."),
    ]
    bodies = [{"customer_id": cid, "message": msg, "channel": "email"} for cid, msg in messages]
    _timed(client, bodies, len(bodies))  # warm: language model loaded, classifier trained, clients up
    times = _timed(client, bodies, n)
    call = CallContext()
    draft_reply(ReplyRequest(customer_id="C-1004", message=messages[0][1], channel="email"), default_runtime(), call)
    default_runtime().events.flush()
    return {
        "requests": n,
        "p50_ms": round(_pct(times, 0.5), 1),
        "p95_ms": round(_pct(times, 0.95), 1),
        "long_history_prompt_tokens": call.log_fields["tokens_in"],
        "long_history_context_tokens": call.log_fields["context_tokens"],
    }


def next_steps_overhead(n: int = 200, turns: int = 60) -> dict[str, float]:
    """p50/p95 of next_steps (offline engine, emulator) for a 60-turn call transcript."""
    client = _client_for("next_steps")
    lines = [
        ("customer", "My internet keeps dropping every evening and I work from home."),
        ("agent", "I'm sorry to hear that, let me look at your line."),
        ("customer", "It has been like this for a week."),
        ("agent", "I can see errors on the line. A technician will visit you on Monday."),
        ("agent", "Please restart the router tonight so we get fresh readings."),
        ("customer", "Okay, I'll do that after dinner."),
    ]
    transcript = [{"speaker": lines[i % len(lines)][0], "text": lines[i % len(lines)][1]} for i in range(turns)]
    body = {
        "customer_id": "C-1001",
        "ticket_id": "T-BENCH-60",
        "channel": "phone",
        "transcript": transcript,
        "conversation_end_time": "2026-11-19T15:00:00+00:00",
    }
    from datetime import UTC, datetime

    from shared.data.snapshots import Ticket
    from shared.runtime import default_runtime

    default_runtime().snapshots.put_many(
        "C-1001", [Ticket(ticket_id="T-BENCH-60", subject="Line drops", opened_at=datetime.now(UTC))]
    )
    client.post("/", json=body, headers=HEADERS)
    times = _timed(client, [body], n)
    default_runtime().events.flush()
    return {"requests": n, "turns": turns, "p50_ms": round(_pct(times, 0.5), 1), "p95_ms": round(_pct(times, 0.95), 1)}


def ticket_close_throughput(n: int = 300) -> dict[str, float]:
    """Closes per second through ticket_closed (CloudEvent, in-process) against the emulators,
    and whether KPI counts survive every message delivered three times, shuffled."""
    import base64
    import random
    import uuid
    from datetime import UTC, datetime, timedelta

    from functions_framework import create_app

    from scripts.warehouse import kpi_table
    from scripts.warehouse_db import connect, load_from_subscription
    from shared.runtime import default_runtime

    rt = default_runtime()
    client = create_app(target="ticket_closed", source=str(ROOT / "main.py")).test_client()
    rng = random.Random(5)
    t0 = datetime(2026, 10, 1, tzinfo=UTC)
    payloads = []
    for i in range(n):
        opened = t0 + timedelta(days=rng.uniform(0, 40))
        payloads.append(
            {
                "ticket_id": f"T-B{i}",
                "customer_id": f"C-{1001 + i % 20}",
                "channel": "chat",
                "journey": "billing_dispute",
                "category": rng.choice(["billing", "outage", "delivery"]),
                "queue_history": ["Customer Service"],
                "opened_at": opened.isoformat(),
                "closed_at": (opened + timedelta(hours=2)).isoformat(),
                "handle_time_s": 300,
                "after_contact_work_s": 60,
                "resolution_code": "resolved",
                "ai_assisted": i % 2 == 0,
            }
        )

    def deliver(p: dict) -> None:
        data = base64.b64encode(json.dumps(p).encode()).decode()
        headers = {
            "ce-specversion": "1.0",
            "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
            "ce-source": "//pubsub/bench",
            "ce-id": uuid.uuid4().hex,
            "Content-Type": "application/json",
        }
        assert (
            client.post(
                "/", json={"message": {"data": data, "messageId": uuid.uuid4().hex}}, headers=headers
            ).status_code
            == 200
        )

    from google.cloud import pubsub_v1

    sub = pubsub_v1.SubscriberClient()
    path = sub.subscription_path(rt.settings.gcp_project_or_local, f"bench-{uuid.uuid4().hex[:6]}")
    sub.create_subscription(name=path, topic=rt.events.topic_path)
    start = time.perf_counter()
    for p in payloads:
        deliver(p)
    first_pass = time.perf_counter() - start
    rt.events.flush()
    con = connect()
    load_from_subscription(con, sub, path)
    before = kpi_table(con, t0.date(), (t0 + timedelta(days=60)).date())
    again = payloads * 3
    rng.shuffle(again)
    start = time.perf_counter()
    for p in again:
        deliver(p)
    redelivery = time.perf_counter() - start
    rt.events.flush()
    load_from_subscription(con, sub, path)
    after = kpi_table(con, t0.date(), (t0 + timedelta(days=60)).date())
    sub.delete_subscription(subscription=path)
    return {
        "tickets": n,
        "closes_per_s": round(n / first_pass, 1),
        "redeliveries_per_s": round(len(again) / redelivery, 1),
        "kpis_unchanged_after_3x_shuffled_redelivery": before == after,
    }


def warehouse_scale(n_events: int = 1_000_000) -> dict[str, float]:
    """Bulk load of a synthetic stream (duplicates included) and each KPI view's query time."""

    from scripts.synth_events import deliver, generate
    from scripts.warehouse_db import KPI_VIEWS, connect, insert_raw, query

    tickets = max(1, int(n_events / 2.75))  # about 2.8 events per generated ticket, feedback included
    t = time.perf_counter()
    events = generate(1, n_tickets=tickets)
    rows = deliver(events, 1)
    gen_s = time.perf_counter() - t
    con = connect(Path(tempfile.mkdtemp()) / "bench.duckdb")
    t = time.perf_counter()
    for start in range(0, len(rows), 100_000):
        insert_raw(con, rows[start : start + 100_000])
    load_s = time.perf_counter() - t
    timings = {}
    for view in ("events", *KPI_VIEWS):
        t = time.perf_counter()
        query(con, f"SELECT COUNT(*) AS n FROM cx_analytics.{view}")
        timings[view] = round((time.perf_counter() - t) * 1000, 1)
    return {
        "events": len(events),
        "raw_rows_with_duplicates": len(rows),
        "generate_s": round(gen_s, 1),
        "load_rows_per_s": round(len(rows) / load_s),
        "view_query_ms": timings,
    }


def loader_throughput(n: int = 5000) -> dict[str, float]:
    """Messages per second from the Pub/Sub emulator into DuckDB (pull, insert, acknowledge)."""
    import uuid

    from google.cloud import pubsub_v1

    from scripts.warehouse_db import connect, load_from_subscription
    from shared.runtime import default_runtime

    rt = default_runtime()
    sub = pubsub_v1.SubscriberClient()
    path = sub.subscription_path(rt.settings.gcp_project_or_local, f"load-{uuid.uuid4().hex[:6]}")
    sub.create_subscription(name=path, topic=rt.events.topic_path)
    publisher = rt.events._publisher
    futures = [
        publisher.publish(
            rt.events.topic_path,
            json.dumps(
                {"event_id": uuid.uuid4().hex, "event_type": "bench", "occurred_at": "2026-11-20T10:00:00Z"}
            ).encode(),
        )
        for _ in range(n)
    ]
    for f in futures:
        f.result(timeout=60)
    con = connect()
    t = time.perf_counter()
    loaded = load_from_subscription(con, sub, path)
    elapsed = time.perf_counter() - t
    sub.delete_subscription(subscription=path)
    return {"messages": loaded, "messages_per_s": round(loaded / elapsed)}


def _client_for(target: str):
    from functions_framework import create_app

    return create_app(target=target, source=str(ROOT / "main.py")).test_client()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", choices=["cold", "overhead", "tokens", "nba", "reply", "next_steps", "tickets", "warehouse"]
    )
    parser.add_argument("--events", type=int, default=1_000_000, help="warehouse scale")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args(argv)
    report: dict[str, object] = {}
    if args.only in (None, "cold"):
        report["cold_start_import"] = cold_start()
        print("cold start (import, median of 5):", json.dumps(report["cold_start_import"]))
    if args.only in (None, "warehouse"):
        report["warehouse_scale"] = warehouse_scale(args.events)
        print("warehouse at scale (DuckDB, same SQL as BigQuery):", json.dumps(report["warehouse_scale"]))
    if args.only in (None, "overhead", "tokens", "nba", "reply", "next_steps", "tickets"):
        from scripts.emulators import seeded

        with seeded("cx-bench-", force_offline=True) as rt:
            settings = rt.settings
            if args.only in (None, "overhead"):
                report["cold_first_request"] = first_request()
                print(
                    "fresh instance per function, import + first request (median of 3):",
                    json.dumps(report["cold_first_request"]),
                )
                report["context_summary_overhead"] = overhead(args.requests)
                print(
                    "context_summary overhead (offline engine, emulator):",
                    json.dumps(report["context_summary_overhead"]),
                )
            if args.only in (None, "nba"):
                report["nba_overhead"] = nba_overhead(n=args.requests)
                print(
                    "next_best_action overhead vs catalogue size (offline engine, emulator):",
                    json.dumps(report["nba_overhead"]),
                )
            if args.only in (None, "reply"):
                report["reply_overhead"] = reply_overhead(args.requests)
                print("reply_draft overhead (offline engine, emulator):", json.dumps(report["reply_overhead"]))
            if args.only in (None, "next_steps"):
                report["next_steps_overhead"] = next_steps_overhead(args.requests)
                print("next_steps overhead (offline engine, emulator):", json.dumps(report["next_steps_overhead"]))
            if args.only in (None, "tickets"):
                report["ticket_closed"] = ticket_close_throughput()
                print("ticket_closed against the emulators:", json.dumps(report["ticket_closed"]))
                report["loader"] = loader_throughput()
                print("loader Pub/Sub emulator -> DuckDB:", json.dumps(report["loader"]))
            if args.only in (None, "tokens"):
                report["prompt_tokens_vs_history"] = tokens()
                print(
                    f"prompt tokens vs history (budget {settings.context_token_budget}):",
                    json.dumps(report["prompt_tokens_vs_history"]),
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
