"""Router cost: import, artefact load (cold start), per-request latency, artefact size.

    python -m scripts.bench_router                          # artefact trained on the project fixture
    python -m scripts.bench_router --artefact .local/router # any trained artefact
    python -m scripts.bench_router --train ../shared/data/tickets/tickets_en_de.csv   # trained here, in a temp dir

Every cold figure is measured in a fresh interpreter (what a new function instance pays).
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from shared.settings import ROOT

FIXTURE = ROOT / "tests" / "fixtures" / "routing_tickets.csv"
PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
from shared.settings import load_settings
from shared.runtime import Runtime
t1 = time.perf_counter()
rt = Runtime(load_settings(model_backend="offline", router_artefact=sys.argv[1] or None))
router = rt.router
t2 = time.perf_counter()
d = router.route("Doppelte Abbuchung", "Sie haben mir den Oktober doppelt abgebucht, bitte erstatten.")
t3 = time.perf_counter()
texts = ["My router keeps restarting and the WiFi drops every evening since the update.",
         "Ich möchte meinen Vertrag kündigen, ich ziehe ins Ausland.",
         "Where is my parcel? The tracking says delivered but nothing arrived. " * 4,
         "Can I add the sport package to my TV subscription and what does it cost?"]
times = []
for i in range(int(sys.argv[2])):
    s = time.perf_counter()
    router.route("Subject", texts[i % len(texts)], "Agent: let me check that for you. " * (i % 3))
    times.append((time.perf_counter() - s) * 1000)
print(json.dumps({"import_ms": (t1 - t0) * 1000, "runtime_router_ms": (t2 - t1) * 1000,
                  "first_route_ms": (t3 - t2) * 1000, "times": times, "version": d.router_version,
                  "sklearn_imported": "sklearn" in sys.modules}))
"""


def _probe(artefact: str, n: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, artefact, str(n)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def bench(artefact: str, repeats: int = 3, n: int = 200) -> dict[str, Any]:
    runs = [_probe(artefact, n) for _ in range(repeats)]
    times = [t for r in runs for t in r["times"]]
    size = sum(p.stat().st_size for p in Path(artefact).glob("router.*")) if artefact else 0
    return {
        "router_version": runs[0]["version"],
        "artefact_kb": round(size / 1024),
        "import_ms_median": round(statistics.median(r["import_ms"] for r in runs), 1),
        "cold_first_route_ms_median": round(statistics.median(r["first_route_ms"] for r in runs), 1),
        "per_request_ms_p50": _pct(times, 0.5),
        "per_request_ms_p95": _pct(times, 0.95),
        "sklearn_loaded": runs[0]["sklearn_imported"],
        "repeats": repeats,
        "requests": len(times),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--artefact", type=Path, help="trained artefact directory")
    ap.add_argument("--train", type=Path, help="labelled export to train a temporary artefact on")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("-n", type=int, default=200)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        artefact = args.artefact
        if artefact is None:
            data = args.train or FIXTURE
            if not data.exists():
                print(f"skipped: {data} not found")
                return 0
            artefact = Path(tmp) / "router"
            from scripts.train_router import main as train_main

            train_main(["--data", str(data), "--out", str(artefact), "--no-holdout"])
        results = {"model": bench(str(artefact), args.repeats, args.n), "fallback": bench("", args.repeats, args.n)}
    print("router cost (fresh interpreter per repeat):", json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
