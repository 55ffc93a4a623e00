"""Closing texts on the frozen cases: confirmed actions → the closing text, checked against what it must
not say and what it must keep.

    python -m scripts.eval_closing [FROZEN_YAML] [--show]
    python -m scripts.eval_closing --gold-result RESULT.json   # from: eval_next_steps gold --out RESULT.json

Renders each case of ``closing_texts`` in tests/fixtures/reply_safety_frozen/reply_safety_frozen.yaml with
the closing_message prompt version's offline phrasing (no emulators, no model): the contact day is the
file's reference date (2026-12-02). Counts, by language: texts with a forbidden phrase (case-insensitive),
``must_keep`` phrases kept literally (case-sensitive, as written) and kept when normalised (case, spaces and
punctuation ignored — a judged rewording is reported by hand in the notes).

``--gold-result`` checks the next-steps gold set's closing texts (the predictions saved by
``eval_next_steps gold --out``): actions taken from a customer's complaint, threat or condition, and
conditional steps whose condition the closing text lost. Its word lists are this evaluation's own,
written apart from the extractor's configuration."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from shared.settings import ROOT

FROZEN = ROOT / "tests" / "fixtures" / "reply_safety_frozen" / "reply_safety_frozen.yaml"
CONTACT_DAY = date(2026, 12, 2)
OWNERS = {"back_office": "backoffice", "backoffice": "backoffice", "agent": "agent", "customer": "customer"}


def _norm(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def render(case: dict[str, Any], version: str = "v2") -> str:
    """The offline closing text of one frozen case (the same code path as closing_message's offline engine)."""
    from shared.capabilities.closing_message import offline_closing
    from shared.engine.prompts import Prompt

    texts = yaml.safe_load((ROOT / "prompts" / "closing_message" / version / "texts.yaml").read_text("utf-8"))
    actions = []
    for a in case["confirmed_actions"]:
        due = a.get("due")
        actions.append(
            {
                "owner": OWNERS[a["owner"]],
                "description": a["description"],
                "due": None,
                "due_by": str(due) if due else None,
                "due_source": a.get("due_source"),
                "condition": a.get("condition"),
            }
        )
    context = {"name": None, "channel": "chat", "actions": actions, "today": CONTACT_DAY.isoformat()}
    prompt = Prompt(
        capability="closing_message",
        version=version,
        system="",
        user="",
        context=context,
        texts=texts,
        language=case["lang"],
        customer_language=case["lang"],
    )
    return offline_closing(prompt).message


def evaluate(cases: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for case in cases:
        text = render(case)
        low, norm = text.lower(), _norm(text)
        for key in (case["lang"], "ALL"):
            row = out[key]
            row["cases"] += 1
            bad = [p for p in case.get("must_not_contain", []) if p.lower() in low]
            row["with_forbidden"] += bool(bad)
            keep = case.get("must_keep", [])
            row["keep"] += len(keep)
            row["kept_literal"] += sum(p in text for p in keep)
            row["kept_normalised"] += sum(_norm(p) in norm for p in keep)
            row["all_kept_literal"] += all(p in text for p in keep)
        case["_text"], case["_bad"] = text, bad
        case["_missing"] = [p for p in case.get("must_keep", []) if p not in text]
    return out


# the evaluation's own markers (not config/language/extraction.yaml's)
THREATS = re.compile(
    r"(?i)\b(cancel\w*|kündig\w*|ombudsman|verbraucherzentrale|complain\w*|beschwer\w*|chargeback|"
    r"rücklastschrift|lawyer|anwalt|one-star|review|switch\w* to|wechsle|provider|anbieter)\b"
)
CONDITIONS = re.compile(r"(?i)(?:^|[,;:.]\s*|\s)(if|unless|once|in case|as soon as|wenn|falls|sobald|sofern)\b")


def gold_check(result_path: Path) -> dict[str, int]:
    """Closing texts of the next-steps gold set: threat/complaint actions and lost conditions."""
    from scripts.eval_next_steps import GOLD, GOLD_DIR, load_cases

    result = json.loads(result_path.read_text("utf-8"))
    cases = {c["id"]: c for _, c in load_cases([GOLD, GOLD_DIR])}
    counts = {"closing_texts": 0, "threat_actions": 0, "conditional_actions": 0, "lost_conditions": 0}
    for case_id, pred in result["predictions"].items():
        said_by_customer = " ".join(t for s, t in cases[case_id]["transcript"] if s == "customer")
        text = pred["customer_facing_closing_text"]
        counts["closing_texts"] += 1
        for a in pred["actions"]:
            description = a["description"].rstrip(".!")
            if a["done"] or description not in text:
                continue  # not in the closing text
            if a["evidence"] in said_by_customer and THREATS.search(a["evidence"]):
                counts["threat_actions"] += 1
                print(f"threat  {case_id}: {description!r}")
            if CONDITIONS.search(a["evidence"]):
                counts["conditional_actions"] += 1
                if not CONDITIONS.search(description):
                    counts["lost_conditions"] += 1
                    print(f"lost    {case_id}: {description!r} <- {a['evidence']!r}")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("frozen", nargs="?", type=Path, default=FROZEN)
    parser.add_argument("--show", action="store_true", help="print every text and what it missed")
    parser.add_argument("--gold-result", type=Path, help="eval_next_steps gold --out file: check its closing texts")
    args = parser.parse_args(argv)
    if args.gold_result:
        print(json.dumps(gold_check(args.gold_result)))
        return 0
    cases = yaml.safe_load(args.frozen.read_text("utf-8"))["closing_texts"]
    table = evaluate(cases)
    if args.show:
        for case in cases:
            print(f"--- {case['id']}  forbidden={case['_bad']} missing_literal={case['_missing']}")
            print(case["_text"])
    print(f"{'':6}{'cases':>6}{'forbidden':>10}{'keep':>6}{'literal':>9}{'normalised':>11}{'all_literal':>12}")
    for key in ("ALL", *sorted(k for k in table if k != "ALL")):
        r = table[key]
        print(
            f"{key:6}{r['cases']:>6}{r['with_forbidden']:>10}{r['keep']:>6}{r['kept_literal']:>9}"
            f"{r['kept_normalised']:>11}{r['all_kept_literal']:>12}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
