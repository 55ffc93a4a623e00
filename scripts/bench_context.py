"""Per-request cost of the customer context: p50/p95 and Firestore documents read, both paths in one run.

    python -m scripts.bench_context [--requests 200] [--rounds 4]

On the seeded emulators (offline engine), through functions-framework's test client like
``scripts.bench``: ``context_summary`` for the 20 demo customers and ``reply_draft`` for four
messages, once with the prepared context (the default: one document, masked when the snapshot
was written) and once with ``CX_PREPARED_CONTEXT=false`` (the whole bounded snapshot read,
filtered, budgeted and masked, NER included, on every request). The two alternate in rounds so
a busy shared machine slows both alike; the process CPU time per request (all threads) is
reported beside the wall time, as it depends less on what else runs. Documents read are counted at the Firestore API
(:class:`ReadCounter`), per request, by collection.

``write_side``: what maintaining it costs a write (build CPU, NER included; stored size).

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from scripts.devstack import signed_headers
from shared.settings import ROOT

HEADERS = signed_headers("agent-demo")
CUSTOMERS = [f"C-{1001 + i}" for i in range(20)]
MESSAGES = [
    ("C-1004", "Sie haben mir den Oktober doppelt abgebucht! Ich will mein Geld zurück."),
    ("C-1001", "Hi, my router keeps rebooting, can you help?"),
    ("C-1002", "Schon wieder kein Internet seit heute Morgen."),
    ("C-1009", "Where is my parcel? It says delivered but nothing arrived."),
]
BODIES: dict[str, list[dict[str, Any]]] = {
    "context_summary": [{"customer_id": cid} for cid in CUSTOMERS],
    "reply_draft": [{"customer_id": cid, "message": msg, "channel": "email"} for cid, msg in MESSAGES],
}
PATHS = {"prepared": True, "snapshot": False}


class ReadCounter:
    """Documents the Firestore API returned (what Firestore bills as reads), by collection id.

    Wraps the client's ``batch_get_documents`` and ``run_query`` (every ``get``, ``get_all``,
    ``stream`` and transactional read goes through one of them); thread-safe."""

    def __init__(self, client: Any) -> None:
        self._api = client._firestore_api  # noqa: SLF001 - the one place every read passes
        self._lock = threading.Lock()
        self.documents: list[str] = []

    def _record(self, name: str) -> None:
        with self._lock:
            self.documents.append(name.split("/documents/", 1)[-1])

    def by_collection(self) -> Counter[str]:
        """customers/C-1/orders/O-1 → orders; customers/C-1 → customers."""
        with self._lock:
            return Counter(path.split("/")[-2] for path in self.documents)

    def reset(self) -> None:
        with self._lock:
            self.documents.clear()

    @contextmanager
    def counting(self) -> Iterator[ReadCounter]:
        real_get, real_query = self._api.batch_get_documents, self._api.run_query

        def batch_get_documents(*args: Any, **kwargs: Any) -> Iterator[Any]:
            for response in real_get(*args, **kwargs):
                if response.found and response.found.name:
                    self._record(response.found.name)
                yield response

        def run_query(*args: Any, **kwargs: Any) -> Iterator[Any]:
            for response in real_query(*args, **kwargs):
                if response.document and response.document.name:
                    self._record(response.document.name)
                yield response

        self._api.batch_get_documents, self._api.run_query = batch_get_documents, run_query
        try:
            yield self
        finally:
            del self._api.batch_get_documents, self._api.run_query  # the class's methods again


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _runtime(prepared: bool) -> Any:
    from shared.runtime import Runtime, set_default_runtime
    from shared.settings import load_settings

    rt = Runtime(load_settings(model_backend="offline", prepared_context=prepared))
    set_default_runtime(rt)
    return rt


def run(requests: int = 200, rounds: int = 4) -> dict[str, Any]:
    from functions_framework import create_app

    clients = {t: create_app(target=t, source=str(ROOT / "main.py")).test_client() for t in BODIES}
    runtimes = {path: _runtime(flag) for path, flag in PATHS.items()}
    times: dict[tuple[str, str], list[float]] = {(t, p): [] for t in BODIES for p in PATHS}
    reads: dict[tuple[str, str], dict[str, float]] = {}

    cpu: dict[tuple[str, str], list[float]] = {(t, p): [] for t in BODIES for p in PATHS}

    def post(target: str, body: dict[str, Any], path: str | None = None) -> float:
        c, t = time.process_time(), time.perf_counter()
        resp = clients[target].post("/", json=body, headers=HEADERS)
        elapsed = (time.perf_counter() - t) * 1000
        if path is not None:
            cpu[(target, path)].append((time.process_time() - c) * 1000)
        assert resp.status_code == 200, resp.get_json()
        return elapsed

    from shared.runtime import set_default_runtime

    for path, rt in runtimes.items():  # warm: models loaded, clients up, every prepared context in place
        set_default_runtime(rt)
        for target, bodies in BODIES.items():
            for body in bodies:
                post(target, body)
        counter = ReadCounter(rt.firestore)
        for target, bodies in BODIES.items():
            with counter.counting():
                counter.reset()
                for body in bodies:
                    post(target, body)
                per = counter.by_collection()
            reads[(target, path)] = {k: round(v / len(bodies), 1) for k, v in sorted(per.items())}
    per_round = max(1, requests // rounds)
    for _ in range(rounds):
        for path, rt in runtimes.items():
            set_default_runtime(rt)
            for target, bodies in BODIES.items():
                times[(target, path)] += [post(target, bodies[i % len(bodies)], path) for i in range(per_round)]
            rt.events.flush()
    set_default_runtime(None)
    report: dict[str, Any] = {"write_side": _build_cost(runtimes["prepared"])}
    for target in BODIES:
        for path in PATHS:
            values = times[(target, path)]
            counted = reads[(target, path)]
            report[f"{target}/{path}"] = {
                "requests": len(values),
                "p50_ms": round(_pct(values, 0.5), 1),
                "p95_ms": round(_pct(values, 0.95), 1),
                "mean_ms": round(statistics.fmean(values), 1),
                "cpu_p50_ms": round(_pct(cpu[(target, path)], 0.5), 1),
                "documents_read_per_request": round(sum(counted.values()), 1),
                "by_collection": counted,
            }
    return report


def _build_cost(rt: Any) -> dict[str, Any]:
    """What maintaining the context costs a write: CPU to build one (NER included) and the stored size."""
    from shared.data.snapshots import FULL

    cpu: list[float] = []
    sizes: list[float] = []
    for cid in CUSTOMERS:
        snapshot = rt.snapshots.get_snapshot(cid, rt.settings.snapshot_limit, FULL)
        c = time.process_time()
        prepared = rt.prepared_contexts.build(snapshot)
        cpu.append((time.process_time() - c) * 1000)
        sizes.append(len(prepared.model_dump_json().encode()))
    return {
        "customers": len(CUSTOMERS),
        "build_cpu_ms_p50": round(_pct(cpu, 0.5), 1),
        "build_cpu_ms_max": round(max(cpu), 1),
        "document_kb_p50": round(_pct(sizes, 0.5) / 1024, 1),
        "document_kb_max": round(max(sizes) / 1024, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="per function and path")
    parser.add_argument("--rounds", type=int, default=4, help="the paths alternate this many times")
    args = parser.parse_args(argv)
    from scripts.emulators import seeded

    with seeded("cx-bench-context-", force_offline=True):
        report = run(args.requests, args.rounds)
    for name, row in report.items():
        print(f"{name}: {json.dumps(row)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
