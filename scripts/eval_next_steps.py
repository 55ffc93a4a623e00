"""Evaluate next-step extraction and knowledge retrieval for the configured engine.

    python -m scripts.eval_next_steps gold [FILE_OR_DIR ...] [--misses] [--out result.json]
    python -m scripts.eval_next_steps kb   [../shared/data/abcd]
    python -m scripts.eval_next_steps summary [../shared/data/tweetsumm/dialogues_dev.jsonl]
    python -m scripts.eval_next_steps all

Starts its own emulators. One scorer for every engine: offline by default, Gemini when
CX_PROJECT is set (credentials from the environment). Gold sets: the first 40-contact
file and the development set tests/fixtures/next_steps_gold/*.yaml (by default both).
Figures overall and by language, channel, source and failure class. ABCD data is read
from its path and never copied into the repository.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from scripts.engine_flags import add_engine_flags, apply_engine_flags
from shared.settings import ROOT

GOLD = ROOT / "tests" / "fixtures" / "next_steps_gold.yaml"
GOLD_DIR = ROOT / "tests" / "fixtures" / "next_steps_gold"
ABCD = ROOT.parent / "shared" / "data" / "abcd"
TWEETSUMM = ROOT.parent / "shared" / "data" / "tweetsumm" / "dialogues_dev.jsonl"
WRITTEN_QUERIES = {
    "My router keeps restarting by itself": "KB-ROUTER-REBOOT",
    "Sie haben mir den Oktober doppelt abgebucht": "KB-DUPLICATE-CHARGE-DE",
    "The parcel says delivered but nothing arrived": "KB-PARCEL-TRACKING",
    "Störung in meiner Gegend, kein Internet seit heute Morgen": "KB-OUTAGE-STATUS-DE",
    "I'm moving house next month, can I take my contract?": "KB-CONTRACT-MOVE",
    "I want to cancel my contract": "KB-CANCELLATION",
}


_WORDS = re.compile(r"[\wäöüß]+", re.IGNORECASE)
_SUFFIXES = ("ungen", "ung", "ing", "ed", "es", "en", "er", "s", "e", "t", "y", "ies")
ASK_MARKERS = ("ask", "unresolved", "relative", "ambiguous", "unknown")


def _stem(word: str) -> str:
    w = word.lower()
    for suffix in _SUFFIXES:
        if len(w) - len(suffix) >= 4 and w.endswith(suffix):
            return w[: -len(suffix)]
    return w


def key_in(key: str, text: str) -> bool:
    """The gold key is in the text: as a substring (case-insensitive) or, word by word, by stem."""
    if key.lower() in text.lower():
        return True
    stems = {_stem(w) for w in _WORDS.findall(text)}
    return all(_stem(w) in stems for w in _WORDS.findall(key))


def _due_ok(gold: Any, action: dict[str, Any]) -> bool:
    if gold == "ask":
        flags = " ".join(str(action.get(k) or "") for k in ("due_status", "due_rule", "due_resolution")).lower()
        return action.get("due_by") is None and any(m in flags for m in ASK_MARKERS)
    want = gold.isoformat() if isinstance(gold, date) else gold
    return action.get("due_by") == want


def match(gold_actions: list[dict[str, Any]], actions: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """One-to-one (gold index, predicted index): description matches before evidence-only ones,
    the same owner before another owner; keys are taken longest first."""
    pairs: list[tuple[int, int]] = []
    used: set[int] = set()
    order = sorted(range(len(gold_actions)), key=lambda g: -len(str(gold_actions[g]["key"])))
    for g in order:
        key = str(gold_actions[g]["key"])
        best: tuple[int, int] | None = None
        for i, a in enumerate(actions):
            if i in used:
                continue
            in_desc = key_in(key, a.get("description", ""))
            if not in_desc and not key_in(key, a.get("evidence", "")):
                continue
            rank = (0 if in_desc else 2) + (0 if a["owner"] == gold_actions[g]["owner"] else 1)
            if best is None or rank < best[0]:
                best = (rank, i)
        if best is not None:
            used.add(best[1])
            pairs.append((g, best[1]))
    return pairs


def _tally() -> dict[str, int]:
    return dict.fromkeys(
        (
            "cases",
            "gold",
            "pred",
            "matched",
            "owner_ok",
            "due_ok",
            "route_ok",
            "fcr_ok",
            "fcr_n",
            "leaks",
            "leak_cases",
            "review",
            "asserted",
            "asserted_matched",
        ),
        0,
    )


def _rates(t: dict[str, int]) -> dict[str, Any]:
    def r(a: int, b: int) -> float | None:
        return round(a / b, 3) if b else None

    return {
        "cases": t["cases"],
        "gold_actions": t["gold"],
        "predicted_actions": t["pred"],
        "action_recall": r(t["matched"], t["gold"]),
        "action_precision": r(t["matched"], t["pred"]),
        "asserted_precision": r(t["asserted_matched"], t["asserted"]),
        "owner_accuracy": r(t["owner_ok"], t["matched"]),
        "due_date_exact": r(t["due_ok"], t["matched"]),
        "resolver_accuracy": r(t["route_ok"], t["cases"]),
        "fcr_accuracy": r(t["fcr_ok"], t["fcr_n"]),
        "not_action_leaks": t["leaks"],
        "needs_review": t["review"],
    }


def score(cases: list[dict[str, Any]], predictions: dict[str, Any], detail: bool = False) -> dict[str, Any]:
    """Match gold actions to predicted ones by key (one-to-one); compare owner, due date, routing,
    first-contact resolution; count `not_actions` words leaking into any extracted action.
    With ``detail``: the same figures by language, channel, source and failure class, plus misses."""
    total = _tally()
    groups: dict[str, dict[str, dict[str, int]]] = {"language": {}, "channel": {}, "source": {}, "class": {}}
    misses: list[dict[str, Any]] = []
    for case in cases:
        pred = predictions[case["id"]]
        actions = pred["actions"]
        t = _tally()
        t["cases"], t["gold"], t["pred"] = 1, len(case["actions"]), len(actions)
        t["review"] = sum(1 for a in actions if a.get("needs_review"))
        pairs = match(case["actions"], actions)
        t["matched"] = len(pairs)
        t["asserted"] = t["pred"] - t["review"]
        t["asserted_matched"] = sum(1 for _, i in pairs if not actions[i].get("needs_review"))
        for g, i in pairs:
            gold_action = case["actions"][g]
            owner_ok = actions[i]["owner"] == gold_action["owner"]
            due_ok = _due_ok(gold_action["due_by"], actions[i])
            t["owner_ok"] += owner_ok
            t["due_ok"] += due_ok
            if detail and not (owner_ok and due_ok):
                misses.append(
                    {
                        "case": case["id"],
                        "kind": "owner" if not owner_ok else "due",
                        "key": gold_action["key"],
                        "gold": [gold_action["owner"], str(gold_action["due_by"])],
                        "got": [actions[i]["owner"], actions[i].get("due_by"), actions[i].get("due_text")],
                        "description": actions[i]["description"],
                    }
                )
        if detail:
            found = {g for g, _ in pairs}
            taken = {i for _, i in pairs}
            misses += [
                {"case": case["id"], "kind": "missed", "key": a["key"], "owner": a["owner"]}
                for g, a in enumerate(case["actions"])
                if g not in found
            ]
            misses += [
                {"case": case["id"], "kind": "extra", "owner": a["owner"], "description": a["description"]}
                for i, a in enumerate(actions)
                if i not in taken
            ]
        t["route_ok"] = int(pred["resolver_group"] == case["group"])
        if "first_contact_resolvable" in case:
            t["fcr_n"] = 1
            t["fcr_ok"] = int(bool(pred["first_contact_resolvable"]["value"]) == bool(case["first_contact_resolvable"]))
        leaks = [w for w in case.get("not_actions", []) for a in actions if w.lower() in a["description"].lower()]
        t["leaks"] = len(leaks)
        for k, v in t.items():
            total[k] += v
        if detail:
            language = case.get("language") or case["id"].split("-")[0]  # the first set names it in the id
            buckets = {
                "language": [language],
                "channel": [case.get("channel", "?")],
                "source": [case.get("source", "first-40")],
                "class": case.get("classes", []),
            }
            for dim, values in buckets.items():
                for value in values:
                    bucket = groups[dim].setdefault(value, _tally())
                    for k, v in t.items():
                        bucket[k] += v
    result = _rates(total)
    if detail:
        result["by"] = {dim: {k: _rates(v) for k, v in sorted(b.items())} for dim, b in groups.items()}
        result["misses"] = misses
    return result


def _stack() -> Any:
    from scripts.emulators import start_seeded

    return start_seeded("cx-eval-")


def load_cases(paths: list[Path]) -> list[tuple[str, dict[str, Any]]]:
    """(end time, case) from gold files: a YAML file, or a directory of them (``end:`` + ``cases:``)."""
    out = []
    for path in paths:
        files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
        for f in files:
            data = yaml.safe_load(f.read_text("utf-8"))
            out += [(str(data["end"]), case) for case in data["cases"]]
    return out


def predict(rt: Any, end: str, case: dict[str, Any]) -> dict[str, Any]:
    from shared.capabilities.next_steps import NextStepsRequest, extract
    from shared.data.snapshots import Ticket

    ticket_id = f"T-GOLD-{case['id']}"
    rt.snapshots.put_many(case["customer_id"], [Ticket(ticket_id=ticket_id, subject=case["subject"], opened_at=end)])
    req = NextStepsRequest(
        customer_id=case["customer_id"],
        ticket_id=ticket_id,
        channel=case["channel"],
        transcript=[{"speaker": s, "text": t} for s, t in case["transcript"]],
        ticket_metadata={"subject": case["subject"]},
        conversation_end_time=end,
    )
    return extract(req, rt).model_dump(mode="json")


def _table(result: dict[str, Any]) -> str:
    cols = (
        "cases",
        "gold_actions",
        "predicted_actions",
        "action_recall",
        "action_precision",
        "asserted_precision",
        "owner_accuracy",
        "due_date_exact",
        "resolver_accuracy",
        "fcr_accuracy",
        "not_action_leaks",
        "needs_review",
    )
    heads = ("cases", "gold", "pred", "recall", "prec", "prec_sure", "owner", "due", "route", "fcr", "leaks", "review")
    lines = [f"{'':<28}" + "".join(f"{h:>10}" for h in heads)]

    def row(name: str, r: dict[str, Any]) -> str:
        return f"{name:<28}" + "".join(f"{'-' if r[c] is None else r[c]!s:>10}" for c in cols)

    lines.append(row("ALL", result))
    for dim, buckets in result.get("by", {}).items():
        for name, r in buckets.items():
            lines.append(row(f"{dim}={name}", r))
    return "\n".join(lines)


def gold(paths: list[Path], rt: Any, show_misses: bool = False, out: Path | None = None) -> dict[str, Any]:
    loaded = load_cases(paths)
    predictions = {case["id"]: predict(rt, end, case) for end, case in loaded}
    result = score([c for _, c in loaded], predictions, detail=True)
    result["engine"] = rt.settings.backend
    result["files"] = [str(p) for p in paths]
    print(f"next steps, engine={result['engine']}, gold={', '.join(result['files'])}")
    print(_table(result))
    if show_misses:
        for m in result["misses"]:
            print(json.dumps(m, ensure_ascii=False))
    if out:
        out.write_text(json.dumps({**result, "predictions": predictions}, indent=1, ensure_ascii=False, default=str))
    return result


def _tokens(text: str) -> list[str]:
    return [w.lower() for w in _WORDS.findall(text)]


def _lcs(a: list[str], b: list[str]) -> int:
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def rouge(candidate: str, reference: str) -> tuple[float, float]:
    """(ROUGE-1 F1, ROUGE-L F1) on lower-cased word tokens, no stemming or stop-word removal."""
    c, r = _tokens(candidate), _tokens(reference)
    if not c or not r:
        return 0.0, 0.0

    def f1(hits: int) -> float:
        p, q = hits / len(c), hits / len(r)
        return 2 * p * q / (p + q) if hits else 0.0

    overlap = sum(min(n, r.count(w)) for w, n in {w: c.count(w) for w in set(c)}.items())
    return f1(overlap), f1(_lcs(c, r))


def summary(path: Path, rt: Any = None, limit: int = 2) -> dict[str, Any]:
    """Extractive dialogue summary vs. the old "first message" baseline on TweetSumm (human summaries)."""
    from shared.language.extraction import Extractor
    from shared.settings import ROOT as root

    if not path.exists():
        print(f"skipped TweetSumm summary check: {path} not found")
        return {}
    extractor = rt.extractor if rt is not None else Extractor(root / "config" / "language/extraction.yaml")
    systems: dict[str, list[tuple[float, float]]] = {"first_message": [], "extractive": []}
    n = 0
    for line in path.read_text("utf-8").splitlines():
        d = json.loads(line)
        refs = [" ".join(s) for s in d.get("abstractive_summaries", []) if s]
        if not refs:
            continue
        n += 1
        turns = [{"speaker": t["speaker"], "text": t["text"]} for t in d["turns"]]
        first = next((t["text"] for t in turns if t["speaker"] == "customer"), turns[0]["text"])
        picked = " ".join(s["text"] for s in extractor.summary_sentences(turns, "en", limit=limit))
        for name, text in (("first_message", first), ("extractive", picked)):
            scores = [rouge(text, r) for r in refs]
            systems[name].append((sum(x for x, _ in scores) / len(scores), sum(y for _, y in scores) / len(scores)))
    out = {"dialogues": n, "sentences": limit}
    for name, rows in systems.items():
        out[name] = {
            "rouge1_f": round(sum(x for x, _ in rows) / n, 3),
            "rougeL_f": round(sum(y for _, y in rows) / n, 3),
        }
    print("TweetSumm summaries (mean over dialogues of mean F1 vs the 3 human summaries):", json.dumps(out))
    return out


def kb(folder: Path, rt: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    hits = sum(want in [a.kb_id for a, _ in rt.kb.search(q, rt.embedder, k=3)] for q, want in WRITTEN_QUERIES.items())
    out["written_queries_top3"] = f"{hits}/{len(WRITTEN_QUERIES)}"
    if (folder / "guidelines.json").exists():
        from scripts.kb_ingest import load_articles
        from shared.data.kb import KbRepository

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
            ok = any(
                flow.replace("_", " ") in a.title.lower().replace("-", " ")
                and words <= set(re.findall(r"[a-z]+", a.title.lower()))
                for a in top
            )
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
    parser.add_argument("part", choices=["gold", "kb", "summary", "all"])
    parser.add_argument("paths", nargs="*", type=Path, help="gold files/directories (gold) or the ABCD folder (kb)")
    parser.add_argument("--misses", action="store_true", help="print every missed, extra or wrong action")
    parser.add_argument("--out", type=Path, help="write figures and predictions as JSON")
    add_engine_flags(parser)
    args = parser.parse_args(argv)
    apply_engine_flags(args)
    if args.part == "summary":  # no emulators needed
        summary(args.paths[0] if args.paths else TWEETSUMM)
        return 0
    emu, rt = _stack()
    try:
        if args.part in ("gold", "all"):
            paths = args.paths if args.part == "gold" and args.paths else [GOLD, GOLD_DIR]
            gold([p for p in paths if p.exists()], rt, args.misses, args.out)
        if args.part in ("kb", "all"):
            kb(args.paths[0] if args.part == "kb" and args.paths else ABCD, rt)
        if args.part == "all":
            summary(TWEETSUMM, rt)
        rt.events.flush()
    finally:
        emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
