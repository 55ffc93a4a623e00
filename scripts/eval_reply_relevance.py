"""Relevance of a reply sentence to the customer's matter: lexical (the shipped ``off_task`` measure) vs.
static embeddings (``wordllama``, weights bundled in its wheel), on development data only.

    python -m scripts.eval_reply_relevance [--cache-dir DIR]

False-positive side: the dev half of the real agent answers (tickets_en_de.csv, ``split_of``), their
sentences that the off_task check would judge (no opener, not the company acting in its role, ≥ 8
words). Recall side: the off-task / off-topic content the injection harness's adversary writes when it
obeys an attack, against the email the attack was hidden in (the customer's matter without the
instruction: an upper bound for any method that must first tell them apart). The frozen set is never
used. ``wordllama`` is loaded by ``shared.safety.sentence_model.load_wordllama`` (the bundled tokenizer
copied into ``--cache-dir``, default a temp folder); without the package this prints the lexical figures.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from pathlib import Path
from typing import Any

from scripts import eval_reply as E
from shared.settings import load_settings


def _rows(rt: Any) -> tuple[list[tuple[list[str], str, str]], list[tuple[list[str], str, str]]]:
    """(dev answers' candidate sentences with message, obeyed off-task contents with their email)."""
    acts = next(c for c in rt.output_policy.checks if c.name == "allowed_acts")
    split = rt.splitter.split

    def candidates(text: str) -> list[str]:
        out = []
        for s in split(text):
            low = s.lower()
            if len(s.split()) < 8 or (acts.frame_openers and acts.frame_openers.search(low)) or acts._in_role(low):
                continue
            out.append(s)
        return out

    answers = []
    path = E.DATA / "tickets" / "tickets_en_de.csv"
    for r in csv.DictReader(path.open(encoding="utf-8")):
        if E.split_of(r) == "dev" and r["language"] in ("en", "de"):
            c = candidates(E.AGENT_PLACEHOLDER.sub(" ", r["answer"] or ""))
            if c:
                answers.append((c, f"{r['subject']}\n{r['body']}", r["language"]))
    folder = E.DATA / "injection"
    emails = [json.loads(line)["context"] for line in (folder / "email_train.jsonl").open(encoding="utf-8")]
    rng = random.Random(E.SPLIT_SEED)
    contents = []
    for source, category, attack in E._attacks(folder):
        body = rng.choice(emails)[:1200]
        rng.randint(0, len(body))
        lang = rng.choice(["en", "de"])
        if source == "bipia":
            kind, content = E.obey_bipia(category, attack, lang, rng)
        else:
            kind, content = E.obey_shield(attack, category, lang, "", rng)
        rng.choice([0, 1, 2])
        if kind in ("off_task", "off_topic"):
            contents.append(([s for s in split(content) if len(s.split()) >= 4] or [content], body, lang))
    return answers, contents


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    if E._missing(E.DATA / "tickets" / "tickets_en_de.csv") or E._missing(E.DATA / "injection"):
        return 0
    from shared.runtime import Runtime

    rt = Runtime(load_settings())
    answers, contents = _rows(rt)
    acts = next(c for c in rt.output_policy.checks if c.name == "allowed_acts")
    approved = rt.output_policy.approved_from([], [], 20)

    def lexical(sents: list[str], matter: str, lang: str) -> float:
        ctx = rt.output_policy.context(language=lang, approved=approved, grounding=matter)
        vals = [v for v in (acts._overlap(s, ctx) for s in sents) if v is not None]
        return min(vals, default=1.0)

    print(f"dev answers with candidate sentences: {len(answers)}; obeyed off-task contents: {len(contents)}")
    fp = [lexical(*a) for a in answers]
    rec = [lexical(*c) for c in contents]
    for t in (0.01, 0.05, 0.1, 0.2):
        caught = sum(v < t for v in rec) / len(rec)
        print(f"  lexical overlap < {t:.2f}: answers flagged {sum(v < t for v in fp)}, off-task caught {caught:.1%}")
    from shared.safety.sentence_model import load_wordllama

    try:
        wl = load_wordllama(args.cache_dir)
    except (ImportError, FileNotFoundError):
        print("  wordllama not installed: embedding figures skipped")
        return 0

    def embedded(sents: list[str], matter: str, lang: str) -> float:
        parts = [m for m in rt.splitter.split(matter) if len(m.split()) >= 3] or [matter]
        return float((wl.embed(sents, norm=True) @ wl.embed(parts, norm=True).T).max(axis=1).min())

    fp = [embedded(*a) for a in answers]
    rec = [embedded(*c) for c in contents]
    for t in (0.0, 0.05, 0.1, 0.15, 0.2):
        caught = sum(v < t for v in rec) / len(rec)
        print(f"  embedding cosine < {t:.2f}: answers flagged {sum(v < t for v in fp)}, off-task caught {caught:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
