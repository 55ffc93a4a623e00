"""Due-date resolver cost and behaviour on real text.

    python -m scripts.bench_duedates [TICKETS_CSV] [--n 2000]
    (default ../shared/data/tickets/tickets_en_de.csv; without it, only the built-in sentences)

* cold: in a fresh interpreter, ``import shared.language.duedates``, building the resolver from
  config/language/due_phrases.yaml and config/language/lexicon/ (regex compilation for every
  language) and the first ``resolve()``
  with holidays (imports ``holidays`` and builds the country/subdivision calendar);
* per call: p50/p95 of ``find_phrase()`` + ``resolve(sentence=...)`` per sentence, warm;
* on real ticket sentences (never copied into the repository): how many sentences carry a
  deadline phrase and how the resolver answers them (status and rule), to spot phrases that
  fire where no deadline was meant.

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
from datetime import UTC, datetime
from pathlib import Path

from shared.settings import ROOT

DEFAULT = ROOT.parent / "shared" / "data" / "tickets" / "tickets_en_de.csv"
END = datetime(2026, 11, 19, 14, 0, tzinfo=UTC)
BUILTIN = [
    ("en", "I'll send the new router by Friday and please return the old one within 14 days."),
    ("en", "Once our warehouse receives it, the replacement will ship within 2 business days."),
    ("en", "The network team will restore the service within the hour."),
    ("de", "Bitte schicken Sie die Unterlagen bis spätestens 11. Dezember zurück."),
    ("de", "Die Gutschrift kommt bis Ende nächsten Monats."),
    ("de", "Ich kläre das und melde mich bis übermorgen."),
]
COLD = """
import time, json
t0 = time.perf_counter()
import shared.language.duedates as d
t1 = time.perf_counter()
from shared.settings import ROOT
r = d.DueDateResolver(ROOT / "config" / "language/due_phrases.yaml")
t2 = time.perf_counter()
from datetime import datetime, UTC
r.resolve("within 3 business days", end=datetime(2026, 11, 19, 14, tzinfo=UTC), tz="Europe/Berlin", country="DE",
          language="de", subdivision="DE-BY")
t3 = time.perf_counter()
print(json.dumps({"import_ms": (t1 - t0) * 1e3, "build_ms": (t2 - t1) * 1e3, "first_resolve_ms": (t3 - t2) * 1e3}))
"""


def cold(repeats: int = 3) -> dict[str, float]:
    runs = [
        json.loads(
            subprocess.run([sys.executable, "-c", COLD], capture_output=True, text=True, check=True, cwd=ROOT).stdout
        )
        for _ in range(repeats)
    ]
    return {k: round(statistics.median(r[k] for r in runs), 1) for k in runs[0]}


def _sentences(path: Path, n: int) -> list[tuple[str, str]]:
    from shared.language.nlp import SentenceSplitter

    splitter = SentenceSplitter.from_config(ROOT / "config" / "language" / "lexicon")
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    random.Random(7).shuffle(rows)
    out: list[tuple[str, str]] = []
    for row in rows:
        for field in ("body", "answer"):
            text = row.get(field) or ""
            out += [(row.get("language") or "en", text[a:b]) for a, b in splitter.spans(text)]
        if len(out) >= n:
            break
    return out[:n]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("tickets", nargs="?", default=str(DEFAULT))
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    from shared.language.duedates import DueDateResolver

    resolver = DueDateResolver(ROOT / "config" / "language/due_phrases.yaml")
    path = Path(args.tickets)
    sentences = list(BUILTIN)
    if path.exists():
        sentences += _sentences(path, args.n)
    else:
        print(f"{path} not found: built-in sentences only")
    timings, answers, found = [], Counter(), 0
    examples: dict[str, str] = {}
    for lang, sentence in sentences:
        t0 = time.perf_counter()
        phrase = resolver.find_phrase(sentence, lang)
        due = resolver.resolve(phrase, end=END, tz="Europe/Berlin", country="DE", language=lang, sentence=sentence)
        timings.append((time.perf_counter() - t0) * 1e3)
        if phrase:
            found += 1
            key = f"{due.status}:{due.rule}"
            answers[key] += 1
            examples.setdefault(key, f"{phrase!r} in {sentence[:90]!r}")
    timings.sort()
    print(
        json.dumps(
            {
                "cold": cold(),
                "sentences": len(sentences),
                "with_phrase": found,
                "per_sentence_ms": {
                    "p50": round(timings[len(timings) // 2], 3),
                    "p95": round(timings[int(len(timings) * 0.95)], 3),
                },
            },
            indent=2,
        )
    )
    for key, count in answers.most_common():
        print(f"{count:5d}  {key:40s} e.g. {examples[key]}")


if __name__ == "__main__":
    main()
