"""Every reply-side check on the frozen reply-safety set (tests/fixtures/reply_safety_frozen).

    python -m scripts.eval_reply_frozen [path/to/reply_safety_frozen.yaml]

The checks run as ``reply_draft`` applies them: the output policy (every check class, one
per-call PolicyContext), the guardrails' violations (placeholders, foreign personal data,
system-prompt leak) and review reasons (commitments, amounts) on each frozen reply with its
``customer_message``. The company configuration is the project's ``config/safety/output_policy.yaml``
plus the trusted contacts the set's README names (the set's company). The customer's stored
record holds what the README's benign items call the customer's own address
(``mentions: customer_email``); nothing else from the incoming message is the customer's.

Prints per class and language n / replaced / flagged / unflagged, the benign false-positive
share per language, and the p50 overhead of the checks per reply.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from shared.settings import ROOT, load_settings

FROZEN = ROOT / "tests" / "fixtures" / "reply_safety_frozen" / "reply_safety_frozen.yaml"
# The set's reference date (its README): Wednesday 2026-12-02; deadlines count from there.
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
# The set's company (its README): everything else is untrusted.
TRUSTED = {
    "phones": ["+49 30 1234 5678", "+44 20 7946 0000"],
    "emails": ["support@example-shop.com"],
    "domains": ["example-shop.com"],
}


def _policy_config(rt: Any) -> Path:
    raw = yaml.safe_load((rt.settings.config_dir / "safety/output_policy.yaml").read_text("utf-8"))
    raw["links"]["allowed_domains"] = sorted({*raw["links"]["allowed_domains"], *TRUSTED["domains"]})
    raw["contacts"]["phones"] = [*raw["contacts"]["phones"], *TRUSTED["phones"]]
    raw["contacts"]["emails"] = [*raw["contacts"].get("emails", []), *TRUSTED["emails"]]
    raw["contacts"]["email_domains"] = sorted({*raw["contacts"]["email_domains"], *TRUSTED["domains"]})
    out = Path(tempfile.mkdtemp(prefix="cx-frozen-")) / "safety/output_policy.yaml"
    out.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), "utf-8")
    return out


def _stored_record(item: dict[str, Any]) -> set[str]:
    """The customer's own values as a stored record would hold them (see the module doc)."""
    from shared.safety.output_policy.base import EMAIL

    if "customer_email" not in item.get("mentions", []):
        return set()
    return {m.group().lower() for m in EMAIL.finditer(item["customer_message"])}


class Checks:
    """The reply-side checks of ``reply_draft`` with the set's company configuration."""

    def __init__(self, rt: Any) -> None:
        import inspect

        from shared.safety.output_policy.acts_meaning import ActsByMeaning
        from shared.safety.output_policy.policy import OutputPolicy

        self.rt = rt
        self.policy = OutputPolicy(
            _policy_config(rt),
            tuple(rt.settings.detect_languages),
            sentences=rt.splitter.split,
            meaning=ActsByMeaning.from_file(rt.settings.config_dir / "safety/acts.yaml", rt.sentence_model),
        )
        self.approved = self.policy.approved_from([], [], rt.nba_rules.max_discount_percent)
        self.system = rt.prompts.get("reply_draft").system.render(
            context={
                "formal": True,
                "channel": "email",
                "sentiment": {"label": "neutral"},
                "allowed_link_domains": sorted(self.policy.allowed_domains),
            },
            language="en",
            customer_language="en",
        )
        self._run = self._run_fields if "fields" in inspect.signature(self._reply_side()).parameters else self._run_old

    def _reply_side(self) -> Any:
        from shared.capabilities import reply_draft

        return getattr(reply_draft, "check_reply_side", None) or reply_draft._check_output

    def _run_old(self, reply: str, message: str, language: str, own: set[str]) -> tuple[list[Any], list[Any]]:
        from shared.capabilities import reply_draft

        rt = _PolicyOverride(self.rt, self.policy)
        own = own | self._message_values(message)  # before #24: the message's values counted as the customer's
        violations, flags = reply_draft._check_output(rt, reply, message, language, [], own, self.system)
        return violations, flags + self._review(message, reply, language)

    def _run_fields(self, reply: str, message: str, language: str, own: set[str]) -> tuple[list[Any], list[Any]]:
        from shared.capabilities import reply_draft

        rt = _PolicyOverride(self.rt, self.policy)
        violations, flags = reply_draft.check_reply_side(
            rt,
            fields={"reply": reply},
            message=message,
            language=language,
            actions=[],
            own=own,
            system_prompt=self.system,
        )
        return violations, flags + self._review(message, reply, language)

    def _review(self, message: str, reply: str, language: str) -> list[Any]:
        import inspect

        g = self.rt.guardrails
        kw = {"now": NOW} if "now" in inspect.signature(g.review_reasons).parameters else {}
        return list(g.review_reasons(message, reply, language, "standard", **kw))

    def _message_values(self, message: str) -> set[str]:
        from shared.safety.pii.base import Pseudonymizer

        p = Pseudonymizer(self.rt.pii_detector, ner=False)
        p.mask(message)
        return {v.lower() for v in p.placeholders.values()}

    def policy_only(self, reply: str, message: str, language: str) -> Any:
        import inspect

        kw = {"grounding": message} if "grounding" in inspect.signature(self.policy.check).parameters else {}
        return self.policy.check(reply, language=language, approved=self.approved, **kw)

    def run(self, reply: str, message: str, language: str, own: set[str]) -> tuple[list[Any], list[Any]]:
        return self._run(reply, message, language, own)


class _PolicyOverride:
    """The runtime with the set's company configuration in place of the output policy."""

    def __init__(self, rt: Any, policy: Any) -> None:
        self._rt, self.output_policy = rt, policy

    def __getattr__(self, name: str) -> Any:
        return getattr(self._rt, name)


def evaluate(path: Path) -> dict[str, Any]:
    from shared.runtime import Runtime

    data = yaml.safe_load(path.read_text("utf-8"))
    rt = Runtime(load_settings(config_dir=ROOT / "config"))
    checks = Checks(rt)
    checks.run("Warm-up.", "Warm-up.", "en", set())  # lazy loads (word lists, suffix list) are not overhead
    table: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    misses: list[tuple[str, str]] = []
    fps: list[tuple[str, str]] = []
    timings: list[float] = []
    for item in data["obeyed_replies"]:
        t0 = time.perf_counter()
        violations, flags = checks.run(item["reply"], item["customer_message"], item["lang"], _stored_record(item))
        timings.append((time.perf_counter() - t0) * 1000)
        t = table[(item["class"], item["lang"])]
        t["n"] += 1
        t["replaced"] += bool(violations)
        t["flagged"] += bool(flags) and not violations
        t["unflagged"] += not violations and not flags
        if not violations and not flags:
            misses.append((item["id"], item["reply"][:110].replace("\n", " ")))
    benign: dict[str, Counter[str]] = defaultdict(Counter)
    for item in data["benign_replies"]:
        t0 = time.perf_counter()
        violations, flags = checks.run(item["reply"], item["customer_message"], item["lang"], _stored_record(item))
        timings.append((time.perf_counter() - t0) * 1000)
        b = benign[item["lang"]]
        b["n"] += 1
        b["replaced"] += bool(violations)
        b["flagged"] += bool(violations or flags)
        if violations or flags:
            codes = sorted({r.code for r in violations + flags})
            fps.append((item["id"], ",".join(codes)))
    print(f"frozen set: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    print(f"{'class':<20}{'lang':<6}{'n':>4}{'replaced':>10}{'flagged':>9}{'unflagged':>11}")
    for (cls, lang), t in sorted(table.items()):
        print(f"{cls:<20}{lang:<6}{t['n']:>4}{t['replaced']:>10}{t['flagged']:>9}{t['unflagged']:>11}")
    total = Counter[str]()
    for t in table.values():
        total.update(t)
    print(f"{'ALL obeyed':<26}{total['n']:>4}{total['replaced']:>10}{total['flagged']:>9}{total['unflagged']:>11}")
    print("\nbenign replies (must not be flagged): lang | n | replaced | flagged (any) | false-positive share")
    for lang, b in sorted(benign.items()):
        print(f"  {lang:<4}{b['n']:>4}{b['replaced']:>10}{b['flagged']:>9}   {b['flagged'] / b['n']:.1%}")
    policy_ms: list[float] = []
    for item in data["obeyed_replies"] + data["benign_replies"]:
        t0 = time.perf_counter()
        checks.policy_only(item["reply"], item["customer_message"], item["lang"])
        policy_ms.append((time.perf_counter() - t0) * 1000)
    print(
        f"p50 overhead of the output policy alone (every check class, no PII detector): "
        f"{statistics.median(policy_ms):.2f} ms"
    )
    p50 = statistics.median(timings)
    print(
        f"\np50 overhead of all reply-side checks per reply: {p50:.2f} ms (n={len(timings)}, "
        f"p90 {statistics.quantiles(timings, n=10)[-1]:.2f} ms)"
    )
    for id_, text in misses:
        print(f"  UNFLAGGED {id_}: {text}")
    for id_, codes in fps:
        print(f"  FALSE POSITIVE {id_}: {codes}")
    return {
        "obeyed": {f"{c}/{lang}": dict(t) for (c, lang), t in table.items()},
        "benign": {k: dict(v) for k, v in benign.items()},
        "p50_ms": p50,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=FROZEN)
    args = parser.parse_args(argv)
    evaluate(args.path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
