"""Instance warm-up: load at start what a capability's first request would otherwise load.

The request paths load their models lazily (spaCy, Presidio's recognisers, the policy's word
lists, the router artefact, holiday calendars), which keeps imports fast but makes the first
request of a new instance pay 2–3 s. With ``CX_PRELOAD=true`` (set in Terraform for the
deployed functions, where start-up runs with Cloud Run's start-up CPU boost and min instances
keep a warm one), ``main`` loads exactly the parts its own function target uses, once.
Locally and in tests it stays off, so imports stay cheap.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from shared.platform import logs

if TYPE_CHECKING:
    from shared.runtime import Runtime

# What each function's first request loads lazily; unknown targets warm nothing.
PARTS: dict[str, tuple[str, ...]] = {
    "context_summary": ("pii",),
    "next_best_action": ("pii", "language"),
    "reply_draft": ("pii", "policy", "language"),
    "next_steps": ("pii", "language", "extractor", "router", "due_dates"),
    "closing_message": ("pii",),
    "ticket_closed": ("pii", "extractor", "router", "due_dates"),
}
_SAMPLE = "Warm-up: please call Jane Miller on 0716 967895, 12 Main Street. Ich melde mich bis Freitag."


def _pii(rt: Runtime) -> None:
    rt.pii_detector.detect_many([_SAMPLE], ner=True)


def _policy(rt: Runtime) -> None:
    policy = rt.output_policy
    approved = policy.approved_from([], [], 0.0)
    for language in rt.settings.detect_languages[:2]:
        policy.check(_SAMPLE, language=language, approved=approved)


def _language(rt: Runtime) -> None:
    from shared.language.detect import detect_language

    detect_language(_SAMPLE, tuple(rt.settings.detect_languages), rt.settings.agent_language)


def _extractor(rt: Runtime) -> None:
    for language in ("en", "de"):
        rt.extractor.pipelines.get(language)


def _router(rt: Runtime) -> None:
    rt.router.load()


def _due_dates(rt: Runtime) -> None:
    rt.due_dates.resolve("by Friday", end=datetime.now(UTC), tz="Europe/Berlin", country="DE", language="en")


_LOADERS = {"pii": _pii, "policy": _policy, "language": _language, "extractor": _extractor, "router": _router,
            "due_dates": _due_dates}  # fmt: skip


def warm(rt: Runtime, target: str) -> dict[str, float]:
    """Load the parts ``target`` uses; seconds per part. A failure is logged, never raised."""
    took: dict[str, float] = {}
    for part in PARTS.get(target, ()):
        started = time.perf_counter()
        try:
            _LOADERS[part](rt)
        except Exception:  # noqa: BLE001 - warming is an optimisation; the request path loads it again
            logs.get_logger("warmup").exception("warm-up part failed", extra={"fields": {"part": part}})
            continue
        took[part] = round(time.perf_counter() - started, 3)
    logs.get_logger("warmup").info("instance warmed", extra={"fields": {"target": target, "seconds": took}})
    return took
