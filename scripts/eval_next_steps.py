"""Evaluate next-step extraction and knowledge retrieval for the configured engine.

    python -m scripts.eval_next_steps gold   [tests/fixtures/next_steps_gold.yaml]
    python -m scripts.eval_next_steps kb     [../shared/data/abcd]
    python -m scripts.eval_next_steps all

Starts its own emulators. The gold set is the project's own (40 contacts, EN+DE); ABCD
data is read from its path and never copied into the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from shared.config import ROOT, load_settings

GOLD = ROOT / "tests" / "fixtures" / "next_steps_gold.yaml"
ABCD = ROOT.parent / "shared" / "data" / "abcd"
WRITTEN_QUERIES = {
    "My router keeps restarting by itself": "KB-ROUTER-REBOOT",
    "Sie haben mir den Oktober doppelt abgebucht": "KB-DUPLICATE-CHARGE-DE",
    "The parcel says delivered but nothing arrived": "KB-PARCEL-TRACKING",
    "Störung in meiner Gegend, kein Internet seit heute Morgen": "KB-OUTAGE-STATUS-DE",
    "I'm moving house next month, can I take my contract?": "KB-CONTRACT-MOVE",
    "I want to cancel my contract": "KB-CANCELLATION",
}


def score(cases: list[dict[str, Any]], predictions: dict[str, Any]) -> dict[str, Any]:
    """Match gold actions to predicted ones by their key word; then compare owner and due date."""
    gold_n = pred_n = matched = owner_ok = due_ok = resolver_ok = 0
    for case in cases:
        pred = predictions[case["id"]]
        actions = pred["actions"]
        pred_n += len(actions)
        gold_n += len(case["actions"])
        used: set[int] = set()
        for g in case["actions"]:
            key = g["key"].lower()
            candidates = [i for i, a in enumerate(actions) if i not in used and key in a["description"].lower()]
            if not candidates:
                continue
            i = next((i for i in candidates if actions[i]["owner"] == g["owner"]), candidates[0])
            used.add(i)
            matched += 1
            owner_ok += actions[i]["owner"] == g["owner"]
            want = g["due_by"].isoformat() if isinstance(g["due_by"], date) else g["due_by"]
            due_ok += actions[i]["due_by"] == want
        resolver_ok += pred["resolver_group"] == case["group"]
    return {
        "cases": len(cases), "gold_actions": gold_n, "predicted_actions": pred_n,
        "action_recall": round(matched / gold_n, 3), "action_precision": round(matched / pred_n, 3) if pred_n else 0.0,
        "owner_accuracy": round(owner_ok / matched, 3) if matched else 0.0,
        "due_date_exact": round(due_ok / matched, 3) if matched else 0.0,
        "resolver_accuracy": round(resolver_ok / len(cases), 3),
    }  # fmt: skip


def _stack() -> Any:
    from scripts.emulators import Emulators, ensure_topics

    emu = Emulators(Path(tempfile.mkdtemp(prefix="cx-eval-"))).start()
    os.environ.update(emu.env)
    os.environ.setdefault("CX_MODEL_BACKEND", "offline")
    from scripts.seed import seed_all
    from shared.runtime import Runtime

    settings = load_settings()
    ensure_topics(settings.gcp_project_or_local, settings.local_topics)
    rt = Runtime(settings)
    seed_all(rt.snapshots, offers=rt.offers, kb=rt.kb, embedder=rt.embedder)
    return emu, rt


def gold(path: Path, rt: Any) -> dict[str, Any]:
    from shared.nextsteps import NextStepsRequest, extract
    from shared.snapshots import Ticket

    data = yaml.safe_load(path.read_text("utf-8"))
    predictions = {}
    for case in data["cases"]:
        ticket_id = f"T-GOLD-{case['id']}"
        rt.snapshots.put_many(case["customer_id"], [Ticket(ticket_id=ticket_id, subject=case["subject"],
                                                            opened_at=data["end"])])  # fmt: skip
        req = NextStepsRequest(
            customer_id=case["customer_id"], ticket_id=ticket_id, channel=case["channel"],
            transcript=[{"speaker": s, "text": t} for s, t in case["transcript"]],
            ticket_metadata={"subject": case["subject"]}, conversation_end_time=data["end"],
        )  # fmt: skip
        predictions[case["id"]] = extract(req, rt).model_dump(mode="json")
    result = score(data["cases"], predictions)
    result["engine"] = rt.settings.backend
    print("next steps on the gold set:", json.dumps(result))
    return result


def kb(folder: Path, rt: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    hits = sum(want in [a.kb_id for a, _ in rt.kb.search(q, rt.embedder, k=3)] for q, want in WRITTEN_QUERIES.items())
    out["written_queries_top3"] = f"{hits}/{len(WRITTEN_QUERIES)}"
    if (folder / "guidelines.json").exists():
        from scripts.kb_ingest import load_articles
        from shared.kb import KbRepository

        abcd_repo = KbRepository(rt.firestore, "kb_eval_abcd")
        articles = load_articles(folder / "guidelines.json")
        abcd_repo.put(articles, rt.embedder)
        samples = json.loads((folder / "abcd_sample.json").read_text("utf-8"))
        found = []
        for s in samples:
            query = " ".join(t for who, t in s["original"] if who == "customer")
            top = [a for a, _ in abcd_repo.search(query, rt.embedder, k=3)]
            flow, subflow = s["scenario"]["flow"], s["scenario"]["subflow"]
            words = {w for w in re.split(r"[_\d]+", subflow) if w}
            ok = any(flow.replace("_", " ") in a.title.lower().replace("-", " ")
                     and words <= set(re.findall(r"[a-z]+", a.title.lower())) for a in top)  # fmt: skip
            found.append({"convo": s["convo_id"], "subflow": subflow, "top3": [a.title for a in top], "hit": ok})
        out["abcd_articles"] = len(articles)
        out["abcd_samples_top3"] = f"{sum(f['hit'] for f in found)}/{len(found)}"
        out["abcd_detail"] = found
    else:
        print(f"skipped ABCD: {folder} not found")
    print("knowledge retrieval:", json.dumps(out, ensure_ascii=False))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["gold", "kb", "all"])
    parser.add_argument("path", nargs="?", type=Path)
    args = parser.parse_args(argv)
    emu, rt = _stack()
    try:
        if args.part in ("gold", "all"):
            gold(args.path if args.part == "gold" and args.path else GOLD, rt)
        if args.part in ("kb", "all"):
            kb(args.path if args.part == "kb" and args.path else ABCD, rt)
        rt.events.flush()
    finally:
        emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
