"""Snapshot-sync and import throughput on the emulators.

    python -m scripts.bench_sync                     # 40 customers x 25 interactions (+ orders, tickets)
    python -m scripts.bench_sync --customers 200 --interactions 50 --threads 8

Measures, on fresh emulators:

* ``sync_single``: one message at a time through ``snapshot_sync.handle`` (what each Pub/Sub push
  does), ``--threads`` deliveries in parallel across customers: events/s;
* ``sync_redelivery``: the same messages again (all duplicates): events/s;
* ``sync_batch``: the same kind of events through ``handle_many`` per customer (the demo's and the
  importer's path): events/s;
* ``import``: ``cx import`` of a generated interactions JSONL file (mapping + validation + sync): rows/s.

Figures depend on the machine and mostly on the emulator; the deployed function scales out by instances.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

T0 = datetime(2026, 6, 1, tzinfo=UTC)


def customer_messages(prefix: str, n: int, interactions: int) -> list[list[bytes]]:
    """Per customer: the customer record, 2 orders, 1 ticket and ``interactions`` contacts, as message bodies."""
    from shared.data.snapshots import Customer, Interaction, Order, Profile, Ticket
    from shared.data.sync import message, snapshot_changes

    out = []
    for c in range(n):
        cid = f"{prefix}-{c:05d}"
        customer = Customer(customer_id=cid, profile=Profile(name=f"Bench Person {c}"), customer_since=T0)
        items: list[Any] = [Order(order_id=f"O-{c}-{k}", placed_at=T0 + timedelta(days=k)) for k in range(2)]
        items.append(Ticket(ticket_id=f"T-{c}", subject="Bench ticket", opened_at=T0))
        items += [
            Interaction(
                interaction_id=f"I-{c}-{k}",
                channel="chat",
                occurred_at=T0 + timedelta(hours=k),
                summary="bench contact",
                category="billing",
            )
            for k in range(interactions)
        ]
        out.append([message(name, change, "urn:bench") for name, change in snapshot_changes(customer, items, T0)])
    return out


def bench(customers: int, interactions: int, threads: int) -> dict[str, Any]:
    import logging

    from scripts.emulators import Emulators, ensure_topics

    logging.getLogger("cx").setLevel(logging.WARNING)  # one info line per change would dominate the run
    emu = Emulators(Path(tempfile.mkdtemp(prefix="cx-bench-sync-"))).start()
    os.environ.update(emu.env)
    try:
        from scripts import importer
        from shared.capabilities.snapshot_sync import handle, handle_many
        from shared.runtime import Runtime
        from shared.settings import load_settings

        settings = load_settings(model_backend="offline")
        ensure_topics(settings.gcp_project_or_local, settings.local_topics)
        rt = Runtime(settings)
        handle_many([(m, None) for m in customer_messages("WARM", 1, 5)[0]], rt)  # connections, emulator warm
        results: dict[str, Any] = {
            "customers": customers,
            "interactions_per_customer": interactions,
            "threads": threads,
        }

        single = customer_messages("S", customers, interactions)
        events = sum(len(m) for m in single)

        def deliver_all(msgs: list[bytes]) -> None:
            for body in msgs:  # one customer's changes in order, each its own delivery
                handle(body, rt)

        for label in ("sync_single", "sync_redelivery"):
            start = time.perf_counter()
            with ThreadPoolExecutor(max_workers=threads) as pool:
                list(pool.map(deliver_all, single))
            took = time.perf_counter() - start
            results[label] = {"events": events, "seconds": round(took, 2), "events_per_s": round(events / took, 1)}

        batch = customer_messages("B", customers, interactions)
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(lambda msgs: handle_many([(m, None) for m in msgs], rt), batch))
        took = time.perf_counter() - start
        results["sync_batch"] = {"events": events, "seconds": round(took, 2), "events_per_s": round(events / took, 1)}

        work = Path(tempfile.mkdtemp(prefix="cx-bench-import-"))
        handle_many([(m, None) for msgs in customer_messages("IMP", customers, 0) for m in msgs[:1]], rt)
        rows = [
            {
                "id": f"IMP-{c}-{k}",
                "customer_id": f"IMP-{c:05d}",
                "channel": "phone",
                "summary": "imported",
                "occurred_at": (T0 + timedelta(minutes=k)).isoformat(),
                "category": "billing",
            }
            for c in range(customers)
            for k in range(interactions)
        ]
        data = work / "interactions.jsonl"
        data.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
        mapping = importer.Mapping.load(
            Path(__file__).resolve().parent.parent / "scripts" / "import_mappings" / "interactions_jsonl.yaml"
        )
        start = time.perf_counter()
        report = importer.run(mapping, rt, path=data, checkpoint=work / "c.json", progress=False)
        took = time.perf_counter() - start
        results["import"] = {
            "rows": len(rows),
            "seconds": round(took, 2),
            "rows_per_s": round(len(rows) / took, 1),
            "outcomes": dict(report.outcomes),
        }
        stats = rt.snapshots.get_snapshot("S-00000").customer.stats
        results["check"] = {"stats_exact": stats.interactions_total == interactions}
        return results
    finally:
        emu.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=40)
    parser.add_argument("--interactions", type=int, default=25)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args(argv)
    print(json.dumps(bench(args.customers, args.interactions, args.threads), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
