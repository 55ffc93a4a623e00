"""PII masking cost: lazy-load time per instance and per-call overhead of mask().

    python -m scripts.bench_pii [TICKETS_CSV] [--n 200]
    (default ../shared/data/tickets/tickets_en_de.csv; without it, built-in transcripts)

* cold: in a fresh interpreter, ``import shared.safety.pii.base`` (must stay light), the first
  ``detect()`` (Presidio recognisers + phonenumbers) and the first ``mask()`` of English
  text (adds the spaCy NER model and the language identifier);
* per call: p50/p95 of ``Pseudonymizer.mask()`` on 1-2 kB texts (English and German
  ticket bodies and answers joined), warm, with and without NER, and ``detect()``;
* spans found per 10 kB of those texts, by type (they are synthetic tickets with few
  identifiers: a high count for a type would mean false positives).

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from shared.settings import ROOT

DEFAULT = ROOT.parent / "shared" / "data" / "tickets" / "tickets_en_de.csv"
BUILTIN = [
    "Hello, my name is Laura Bennett and I am writing about order 20261120. The router you sent on 12.11.2026 "
    "does not connect. My neighbour John Smith at 42 Baker Street, London also has the problem. Please call me "
    "on 0716967895 or +44 20 7946 0958, or write to laura.b@example.co.uk. Refund to GB29 NWBK 6016 1331 9268 19. ",
    "Guten Tag, ich schreibe wegen der Rechnung 2026112012 über 89,90 EUR. Mein Nachbar Klaus Becker in der "
    "Bahnhofstrasse 12, 8001 Zürich hat das Paket angenommen. Sie erreichen mich unter 99 668472. Die Karte "
    "4111.1111.1111.1111 wurde doppelt belastet, bitte auf CH36 0483 5012 3456 7890 0 zurücküberweisen. ",
]
CODE_COLD = """
import json, sys, time
t = time.perf_counter(); import shared.safety.pii.base as pii; t_import = time.perf_counter() - t
heavy = [m for m in ("spacy", "presidio_analyzer", "phonenumbers") if m in sys.modules]
from pathlib import Path; from shared.safety.pii.local import LocalDetector
d = LocalDetector.load(Path("config/safety/pii.yaml"))
t = time.perf_counter(); pii.identifiers(d, "call me on 0716967895"); t_detect = time.perf_counter() - t
t = time.perf_counter(); pii.Pseudonymizer(d).mask("Please ask John Smith from the shop to call me.")
t_ner = time.perf_counter() - t
t = time.perf_counter(); pii.Pseudonymizer(d).mask("Please ask Mary Jones from the shop to call me.")
t_warm = time.perf_counter() - t
print(json.dumps({"import_ms": t_import * 1e3, "heavy_at_import": heavy, "first_detect_ms": t_detect * 1e3,
                  "first_mask_with_ner_ms": t_ner * 1e3, "second_mask_ms": t_warm * 1e3}))
"""


def _pct(values: list[float], q: float) -> float:
    return round(statistics.quantiles(values, n=100)[q - 1], 2) if len(values) > 1 else round(values[0], 2)


def cold(repeats: int = 3) -> dict[str, float | list[str]]:
    runs = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", CODE_COLD], cwd=ROOT, capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))  # after the model-load log line
    keys = ["import_ms", "first_detect_ms", "first_mask_with_ner_ms", "second_mask_ms"]
    result: dict[str, float | list[str]] = {k: round(statistics.median(r[k] for r in runs), 1) for k in keys}
    result["heavy_at_import"] = runs[0]["heavy_at_import"]
    return result


def texts_from(path: Path, n: int, seed: int = 7) -> list[str]:
    if not path.is_file():
        return [(BUILTIN[i % 2] * 5)[:1500] for i in range(n)]
    with path.open(encoding="utf-8") as fh:
        rows = [f"{r['subject']}\n{r['body']}\n{r['answer']}" for r in csv.DictReader(fh)]
    rng = random.Random(seed)
    texts = []
    while len(texts) < n:
        text = ""
        while len(text) < 1000:
            text += rng.choice(rows) + "\n"
        texts.append(text[:2000])
    return texts


def per_call(texts: list[str]) -> dict[str, float]:
    from shared.safety.pii.base import Pseudonymizer, identifiers
    from shared.safety.pii.local import LocalDetector

    detector = LocalDetector.load(ROOT / "config" / "safety/pii.yaml")
    Pseudonymizer(detector).mask(texts[0])  # warm: recognisers and model loaded
    result: dict[str, float] = {"texts": len(texts), "mean_chars": round(statistics.mean(map(len, texts)))}
    for name, fn in (
        ("mask_ner", lambda t: Pseudonymizer(detector).mask(t)),
        ("mask_patterns_only", lambda t: Pseudonymizer(detector, ner=False).mask(t)),
        ("detect", lambda t: identifiers(detector, t)),
    ):
        times = []
        for t in texts:
            start = time.perf_counter()
            fn(t)
            times.append((time.perf_counter() - start) * 1e3)
        result[f"{name}_p50_ms"] = _pct(times, 50)
        result[f"{name}_p95_ms"] = _pct(times, 95)
    return result


def context_path() -> dict[str, float]:
    """mask_obj on the contexts the capabilities build (seeded customers, 2000-token budget)."""
    from scripts.seed import SEEDS, build
    from shared.data.snapshots import CustomerSnapshot
    from shared.safety.context_policy import FIELDS, build_context, pseudonymizer_for
    from shared.safety.pii.local import LocalDetector

    contexts = []
    for seed in SEEDS:
        customer, items = build(seed)
        snap = CustomerSnapshot(
            customer=customer,
            orders=[i for i in items if type(i).__name__ == "Order"],
            interactions=[i for i in items if type(i).__name__ == "Interaction"][:200],
        )
        contexts.append((snap, build_context(snap, allowed=frozenset(FIELDS), token_budget=2000).data))
    detector = LocalDetector.load(ROOT / "config" / "safety/pii.yaml")
    result: dict[str, float] = {
        "contexts": len(contexts),
        "median_chars": statistics.median(len(str(c)) for _, c in contexts),
    }
    for ner in (True, False):
        times = []
        for _ in range(3):
            for snap, data in contexts:
                p = pseudonymizer_for(snap, detector)
                p._ner = ner  # the product's pseudonymizer with this NER setting
                start = time.perf_counter()
                p.mask_obj(data)
                times.append((time.perf_counter() - start) * 1e3)
        key = "ner" if ner else "patterns_only"
        result[f"mask_obj_{key}_p50_ms"] = _pct(times, 50)
        result[f"mask_obj_{key}_p95_ms"] = _pct(times, 95)
    return result


def spans_per_10kb(texts: list[str]) -> dict[str, float]:
    from shared.safety.pii.local import LocalDetector

    counts: Counter[str] = Counter()
    for spans in LocalDetector.load(ROOT / "config" / "safety/pii.yaml").detect_many(texts):
        counts.update(s.entity for s in spans)
    kb = sum(map(len, texts)) / 10_000
    return {k: round(v / kb, 2) for k, v in counts.most_common()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args(argv)
    if not args.path.is_file():
        print(f"note: {args.path} not found; using built-in transcripts")
    print("cold (fresh interpreter, median of 3):", json.dumps(cold()))
    texts = texts_from(args.path, args.n)
    print("per call (warm):", json.dumps(per_call(texts)))
    print("product context path (warm):", json.dumps(context_path()))
    print("spans per 10 kB of ticket text:", json.dumps(spans_per_10kb(texts)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
