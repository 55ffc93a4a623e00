"""Recall and precision of the PII masking layer on the Presidio synthetic corpus.

Usage: python -m scripts.eval_pii [PATH] [--no-ner] [--json]
       (default PATH ../shared/data/pii/presidio_synth_dev.json)

Runs the same detector the Pseudonymizer uses (local backend, NER included unless
``--no-ner``). A gold span is *recalled* when a detection of its mapped type overlaps it,
and *masked* when any detection overlaps it (what matters for privacy: the value does
not reach the model raw). A detection is correct when it overlaps a gold span of a type
its entity stands for; "on any PII" counts detections overlapping any gold span (a
street part labelled PERSON is still personal data masked; a product name is not).
Gold types with no mapping are not masked by design; they are listed with the share of
their spans that got masked anyway.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from shared.safety.pii.base import Span
from shared.safety.pii.local import LocalDetector
from shared.settings import ROOT

DEFAULT = ROOT.parent / "shared" / "data" / "pii" / "presidio_synth_dev.json"
# dataset label -> our entity
GOLD_TYPE = {
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "IBAN_CODE": "IBAN",
    "CREDIT_CARD": "CARD",
    "US_SSN": "SSN",
    "IP_ADDRESS": "IP",
    "PERSON": "PERSON",
    "STREET_ADDRESS": "ADDRESS",
}
# our entity -> gold labels a detection of it may overlap and still be right
ACCEPT = {
    "EMAIL": {"EMAIL_ADDRESS"},
    "PHONE": {"PHONE_NUMBER"},
    "IBAN": {"IBAN_CODE"},
    "CARD": {"CREDIT_CARD"},
    "SSN": {"US_SSN"},
    "NATIONAL_ID": {"US_SSN", "US_DRIVER_LICENSE"},
    "VAT_ID": set(),
    "IP": {"IP_ADDRESS"},
    "PERSON": {"PERSON"},
    "ADDRESS": {"STREET_ADDRESS", "GPE", "ZIP_CODE"},
}


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def evaluate(records: list[dict], found: list[list[Span]]) -> dict[str, dict]:
    gold_stats: dict[str, dict[str, int]] = {}
    ours: dict[str, dict[str, int]] = {e: {"found": 0, "correct": 0, "pii": 0} for e in ACCEPT}
    for rec, spans in zip(records, found, strict=True):
        gold = [(g["entity_type"], (g["start_position"], g["end_position"])) for g in rec["spans"]]
        for label, g in gold:
            s = gold_stats.setdefault(label, {"support": 0, "recalled": 0, "masked": 0})
            s["support"] += 1
            hits = [sp for sp in spans if _overlaps((sp.start, sp.end), g)]
            s["masked"] += bool(hits)
            s["recalled"] += any(sp.entity == GOLD_TYPE.get(label) for sp in hits)
        for sp in spans:
            o = ours.setdefault(sp.entity, {"found": 0, "correct": 0, "pii": 0})
            o["found"] += 1
            o["pii"] = o.get("pii", 0) + any(_overlaps((sp.start, sp.end), g) for _, g in gold)
            o["correct"] += any(
                label in ACCEPT.get(sp.entity, set()) and _overlaps((sp.start, sp.end), g) for label, g in gold
            )
    return {"gold": gold_stats, "detections": ours}


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "  -  "


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--no-ner", action="store_true", help="patterns only (what the reply guardrail sees)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not args.path.is_file():
        print(f"skipped: {args.path} not found (the corpus is not part of the repo)")
        return 0
    records = json.loads(args.path.read_text(encoding="utf-8"))
    detector = LocalDetector.load(ROOT / "config" / "safety/pii.yaml")
    found = detector.detect_many([r["full_text"] for r in records], ner=not args.no_ner)
    report = evaluate(records, found)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{'gold type':<18}{'ours':<9}{'support':>8}{'recall':>8}{'masked':>8}")
    for label, s in sorted(report["gold"].items(), key=lambda kv: -kv[1]["support"]):
        ours = GOLD_TYPE.get(label, "(kept)")
        print(
            f"{label:<18}{ours:<9}{s['support']:>8}{_ratio(s['recalled'], s['support']):>8}"
            f"{_ratio(s['masked'], s['support']):>8}"
        )
    print(f"\n{'our entity':<14}{'found':>7}{'precision':>11}{'on any PII':>12}")
    for entity, o in report["detections"].items():
        print(f"{entity:<14}{o['found']:>7}{_ratio(o['correct'], o['found']):>11}{_ratio(o['pii'], o['found']):>12}")
    raw = [label for label, s in report["gold"].items() if s["masked"] / s["support"] < 0.5]
    print("\nmostly raw (masked < 50 %): " + ", ".join(sorted(raw)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
