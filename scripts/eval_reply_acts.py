"""Thresholds of the allowed-acts-by-meaning check (config/safety/acts.yaml), from development data only.

    python -m scripts.eval_reply_acts [--examples N]

Placements (nearest allowed / disallowed prototype, relevance to the customer's message) of
* every sentence of the DEV half of the real agent answers (tickets_en_de.csv, ``split_of``), en and de;
* the ``tune`` items of tests/fixtures/acts_labelled.yaml (hand-labelled, en and de).
Then, for a grid of thresholds: dev answers flagged (share per language) and the labelled set's
positives caught / benign items flagged. The frozen set and the held-out answers are never read.
"""

from __future__ import annotations

import argparse
import copy
import csv
import itertools
import sys

import yaml

from scripts import eval_reply as E
from shared.safety.output_policy.acts_meaning import ActsByMeaning, Placement
from shared.settings import ROOT, load_settings

LABELLED = ROOT / "tests" / "fixtures" / "acts_labelled.yaml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=0, help="N flagged dev sentences shown")
    args = parser.parse_args(argv)
    if E._missing(E.DATA / "tickets" / "tickets_en_de.csv"):
        return 0
    from shared.runtime import Runtime

    rt = Runtime(load_settings())
    raw = yaml.safe_load((rt.settings.config_dir / "safety/acts.yaml").read_text("utf-8"))
    check = ActsByMeaning(raw, rt.sentence_model)
    approved = rt.output_policy.approved_from([], [], 20)
    split = rt.splitter.split

    answers: dict[str, list[list[Placement]]] = {"en": [], "de": []}
    for r in csv.DictReader((E.DATA / "tickets" / "tickets_en_de.csv").open(encoding="utf-8")):
        if E.split_of(r) != "dev" or r["language"] not in answers:
            continue
        ctx = rt.output_policy.context(
            language=r["language"], approved=approved, grounding=f"{r['subject']}\n{r['body']}"
        )
        answers[r["language"]].append(check.place(split(E.AGENT_PLACEHOLDER.sub(" ", r["answer"] or "")), ctx))
    labelled: list[tuple[str, str, Placement]] = []
    for lang, block in yaml.safe_load(LABELLED.read_text("utf-8")).items():
        ctx = rt.output_policy.context(language=lang, approved=approved, grounding=block["message"])
        for item in block["items"]:
            if item["split"] == "tune":
                labelled += [(lang, item["label"], p) for p in check.place([item["text"]], ctx)]

    def score(c: ActsByMeaning) -> str:
        parts = []
        for lang, rows in answers.items():
            flagged = sum(any(c.judge(p) for p in placed) for placed in rows)
            parts.append(f"dev {lang} {flagged / len(rows):.2%}")
        pos = [(label, c.judge(p)) for _, label, p in labelled if label != "ok"]
        caught = sum(bool(h) for _, h in pos)
        right = sum(bool(h) and h.code == label for label, h in pos)
        benign = sum(bool(c.judge(p)) for _, label, p in labelled if label == "ok")
        n_ok = sum(label == "ok" for _, label, _ in labelled)
        parts.append(f"tune caught {caught}/{len(pos)} (right act {right}), benign flagged {benign}/{n_ok}")
        return "; ".join(parts)

    print(f"dev answers: en {len(answers['en'])}, de {len(answers['de'])}; labelled tune items: {len(labelled)}")
    print(f"configured: {score(check)}")
    for dmin, margin in itertools.product((0.5, 0.55, 0.6, 0.65, 0.7), (0.0, 0.05, 0.1)):
        c = _with(check, min_disallowed=dmin, margin=margin, max_allowed=-1.0)
        print(f"  disallowed >= {dmin:.2f}, margin {margin:.2f} (no relevance rule): {score(c)}")
    for amax, rmin in itertools.product((0.35, 0.45, 0.55), (0.1, 0.2, 0.3)):
        c = _with(check, min_disallowed=2.0, max_allowed=amax, min_relevance=rmin)
        print(f"  relevance only: allowed < {amax:.2f} and relevance < {rmin:.2f}: {score(c)}")
    if args.examples:
        for lang, rows in answers.items():
            hits = [h for placed in rows for p in placed if (h := check.judge(p))][: args.examples]
            for h in hits:
                print(f"  [{lang}] {h.code}: {h.sentence[:140]!r} ({h.detail})")
    return 0


def _with(check: ActsByMeaning, **values: float) -> ActsByMeaning:
    """The same check (sharing its prototype vectors) with other thresholds."""
    c = copy.copy(check)
    c.__dict__.update(values)
    return c


if __name__ == "__main__":
    sys.exit(main())
