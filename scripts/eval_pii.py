"""Recall and precision of the pattern PII detector on the Presidio synthetic corpus.

Usage: python -m scripts.eval_pii [PATH]  (default ../shared/data/pii/presidio_synth_dev.json)

A detection counts as correct when it overlaps a gold span of the mapped entity type.
Only the types the detector claims to find are scored; names and addresses in free
text are masked through the customer's known identifiers instead (see shared/pii.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from shared.config import ROOT
from shared.pii import detect

DEFAULT = ROOT.parent / "shared" / "data" / "pii" / "presidio_synth_dev.json"
GOLD_TYPE = {
    "EMAIL": "EMAIL_ADDRESS",
    "PHONE": "PHONE_NUMBER",
    "IBAN": "IBAN_CODE",
    "CARD": "CREDIT_CARD",
}


def evaluate(records: list[dict]) -> dict[str, dict[str, float]]:
    stats = {k: {"tp": 0, "fp": 0, "fn": 0} for k in GOLD_TYPE}
    for rec in records:
        text = rec["full_text"]
        spans = detect(text)
        for ours, gold_type in GOLD_TYPE.items():
            gold = [
                (s["start_position"], s["end_position"])
                for s in rec["spans"]
                if s["entity_type"] == gold_type
            ]
            found = [(s.start, s.end) for s in spans if s.entity == ours]
            hit_gold = {g for g in gold for f in found if f[0] < g[1] and g[0] < f[1]}
            good = [f for f in found if any(f[0] < g[1] and g[0] < f[1] for g in gold)]
            stats[ours]["tp"] += len(hit_gold)
            stats[ours]["fn"] += len(gold) - len(hit_gold)
            stats[ours]["fp"] += len(found) - len(good)
    report = {}
    for ours, s in stats.items():
        recall = s["tp"] / (s["tp"] + s["fn"]) if s["tp"] + s["fn"] else float("nan")
        found = s["tp"] + s["fp"]
        precision = s["tp"] / found if found else float("nan")
        report[GOLD_TYPE[ours]] = {
            "support": s["tp"] + s["fn"],
            "recall": round(recall, 3),
            "precision": round(precision, 3),
            "false_positives": s["fp"],
        }
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT)
    args = parser.parse_args(argv)
    if not args.path.is_file():
        print(f"skipped: {args.path} not found (the corpus is not part of the repo)")
        return 0
    records = json.loads(args.path.read_text(encoding="utf-8"))
    report = evaluate(records)
    print(f"{'entity':<16}{'support':>8}{'recall':>8}{'precision':>10}{'FP':>5}")
    for name, r in report.items():
        print(f"{name:<16}{r['support']:>8}{r['recall']:>8}{r['precision']:>10}{r['false_positives']:>5}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
