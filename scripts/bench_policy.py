"""Overhead of the output policy per reply (shared/policy.py), printed, never asserted.

    python -m scripts.bench_policy [tickets.csv] [--n 400]

Replies: the offline engine's own drafts (every intent, style and sentiment in en and de),
the hand-written compromised and ordinary replies (tests/fixtures/compromised_replies.yaml)
and, when ../shared/data is present, ordinary agent answers from the ticket set. The first
call is reported apart: it loads the public-suffix list, py3langid and the word lists.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
import sys
import time
from pathlib import Path

import yaml

from shared.settings import ROOT, load_settings

DATA = ROOT.parent / "shared" / "data" / "tickets" / "tickets_en_de.csv"


def _offline_drafts() -> list[tuple[str, str]]:
    texts = yaml.safe_load((ROOT / "prompts" / "reply_draft" / "v1" / "texts.yaml").read_text("utf-8"))
    out = []
    for lang, t in texts.items():
        intents = sorted(
            k[len("body_") : -len("_formal")] for k in t if k.startswith("body_") and k.endswith("_formal")
        )
        for intent in intents:
            for style in ("formal", "informal"):
                for mood in ("negative", "neutral", "positive"):
                    parts = [
                        t[f"greeting_{style}"].format(name="Anna Weber"),
                        t[f"opening_{mood}_{style}"],
                        t[f"body_{intent}_{style}"],
                        t[f"loyalty_{style}"].format(years=7),
                        t[f"closing_{style}"],
                    ]
                    out.append((lang, "\n\n".join(parts)))
    return out


def _replies(tickets: Path | None, n: int) -> list[tuple[str, str]]:
    replies = _offline_drafts()
    fixture = yaml.safe_load((ROOT / "tests" / "fixtures" / "compromised_replies.yaml").read_text("utf-8"))
    replies += [(c["lang"], c["reply"]) for c in fixture["compromised"] + fixture["benign"]]
    if tickets and tickets.exists():
        rows = [r for r in csv.DictReader(tickets.open(encoding="utf-8")) if r["answer"].strip()]
        rng = random.Random(13)
        replies += [(r["language"], r["answer"]) for r in rng.sample(rows, min(n, len(rows)))]
    else:
        print(f"note: {tickets} not found; measuring on the repo's own replies only")
    return replies


# a customer message of ordinary length as grounding (relevance is judged against it)
GROUNDING = (
    "Hello, my internet connection drops every evening since last week. I work from home and need it "
    "to be stable. I already restarted the router twice. Can you check the line or send a technician?"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tickets", nargs="?", type=Path, default=DATA)
    parser.add_argument("--n", type=int, default=300, help="ticket answers sampled (when the data is present)")
    parser.add_argument(
        "--meaning", action="store_true", help="include the allowed-acts-by-meaning check even when acts.yaml is off"
    )
    args = parser.parse_args(argv)
    from shared.language.nlp import splitter_for
    from shared.safety.output_policy.acts_meaning import ActsByMeaning
    from shared.safety.output_policy.policy import OutputPolicy
    from shared.safety.sentence_model import SentenceModel

    settings = load_settings()
    sentences = splitter_for(settings.config_dir / "language/extraction.yaml").split
    t0 = time.perf_counter()
    acts = settings.config_dir / "safety/acts.yaml"
    meaning = ActsByMeaning.from_file(acts, SentenceModel())
    if args.meaning and meaning is None:
        meaning = ActsByMeaning({**yaml.safe_load(acts.read_text("utf-8")), "enabled": True}, SentenceModel())
    policy = OutputPolicy(
        settings.config_dir / "safety/output_policy.yaml",
        tuple(settings.detect_languages),
        sentences=sentences,
        meaning=meaning,
    )
    load_ms = (time.perf_counter() - t0) * 1000
    approved = policy.approved_from(["If you extend today, your next month is on us."], [10.0], 20)
    replies = _replies(args.tickets, args.n)
    t0 = time.perf_counter()
    policy.check("Warm-up: see status.example-telco.com or call 0800 123 4567.", language="en", approved=approved)
    first_ms = (time.perf_counter() - t0) * 1000
    times = []
    for lang, reply in replies:
        t = time.perf_counter()
        policy.check(reply, language=lang, approved=approved, grounding=GROUNDING)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    out = {
        "replies": len(replies),
        "mean_chars": round(statistics.mean(len(r) for _, r in replies)),
        "load_config_ms": round(load_ms, 1),
        "first_call_ms": round(first_ms, 1),
        "p50_ms": round(times[len(times) // 2], 2),
        "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
        "max_ms": round(times[-1], 2),
        "meaning": meaning is not None,
    }
    print("output policy overhead per reply:", json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
