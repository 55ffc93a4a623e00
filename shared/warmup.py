"""Instance warm-up: load at start what a capability's first request would otherwise load.

The request paths load their models lazily (spaCy, Presidio's recognisers, the policy's word
lists, the router artefact, holiday calendars), which keeps imports fast but makes the first
request of a new instance pay 2–3 s. With ``CX_PRELOAD=true`` (set in Terraform for the
deployed functions, where start-up runs with Cloud Run's start-up CPU boost and, in opening
hours, a minimum of warm instances: infra/terraform/warm.tf), ``main`` has exactly the parts its
own function target uses loaded, once — in the process that serves.

Where: functions-framework imports ``main`` in the gunicorn master, which then forks the worker
that serves; the master itself never answers a request. Models loaded at import would sit in
the master too, and copy-on-write sharing with the worker wears away as the worker runs, so an
instance held them twice. :func:`warm_in_worker` therefore loads nothing at import: it registers
an at-fork hook, and the forked worker loads its models before it starts serving (requests wait
in the listen backlog meanwhile); only the Gemini model check runs on a thread. A process that
never forks (the Flask debug server, the test client) loads lazily, as before.

What: each part declares the spaCy components it reads before anything loads
(``shared.language.nlp.declare_components``), so a function that only masks personal data
carries the NER component alone and ``next_steps`` the union of NER and the parser.
Locally and in tests it stays off, so imports stay cheap.

It also checks the Gemini models the function calls (:func:`check_models`): one cheap
``count_tokens`` call per model proves the model exists and this project may call it in the
configured location (a 404/403 is a ``model.config_fault`` ERROR, the event the alert pages on),
and a model within 30 days of its published retirement date logs a WARNING.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
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
    # the agent's confirmed actions and final texts are minimized (NER) before they are stored
    "confirm_next_steps": ("pii",),
    "feedback": ("pii",),
}
# Capabilities whose model a function calls, when it is not the function's own name.
MODEL_USERS: dict[str, tuple[str, ...]] = {"ticket_closed": ("next_steps",)}
RETIREMENT_WARNING_DAYS = 30
_SAMPLE = "Warm-up: please call Jane Miller on 0716 967895, 12 Main Street. Ich melde mich bis Freitag."


def declare(rt: Runtime, target: str) -> None:
    """Declare the spaCy components ``target``'s parts read, before any of them loads a model."""
    from shared.language.nlp import declare_components
    from shared.safety.pii.base import PiiConfig

    parts = PARTS.get(target, ())
    if "pii" in parts:
        ner = PiiConfig.load(rt.settings.config_dir / "safety/pii.yaml").ner
        if ner.components is not None:  # unnamed: the model loads whole
            declare_components(ner.model, ner.components)
    if "extractor" in parts:
        rt.extractor.pipelines.declare()


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
    for language in rt.extractor.langs:  # every language config/language/extraction.yaml enables
        rt.extractor.pipelines.get(language)


def _router(rt: Runtime) -> None:
    rt.router.load()


def _due_dates(rt: Runtime) -> None:
    rt.due_dates.resolve("by Friday", end=datetime.now(UTC), tz="Europe/Berlin", country="DE", language="en")


_LOADERS = {
    "pii": _pii,
    "policy": _policy,
    "language": _language,
    "extractor": _extractor,
    "router": _router,
    "due_dates": _due_dates,
}


def check_models(rt: Runtime, target: str, today: date | None = None) -> dict[str, str]:
    """Model id -> "ok" or the failure class, for the models ``target`` calls. Never raises."""
    from shared.engine.base import ModelFailure, report_config_fault
    from shared.engine.vertex import VertexEngine, load_profiles

    log = logs.get_logger("warmup")
    today = today or datetime.now(UTC).date()
    try:
        profiles = load_profiles(rt.settings)
        capabilities = [c for c in MODEL_USERS.get(target, (target,)) if c in profiles.capabilities]
        models = {profiles.profile(c, rt.settings.gemini_model).model: c for c in capabilities}
    except Exception as exc:  # noqa: BLE001 - the start-up config check reports file faults; stay loud, not fatal
        log.error(
            "model profiles unreadable at warm-up",
            extra={"fields": {"event": "model.config_fault", "error": repr(exc), "at": "start"}},
        )
        return {}
    for model, retires in profiles.retiring_within(RETIREMENT_WARNING_DAYS, today, rt.settings.gemini_model).items():
        if model in models:
            log.warning(
                f"model {model} retires on {retires.isoformat()}; switch config/engine/models.yaml to a current model",
                extra={
                    "fields": {
                        "event": "model.retiring",
                        "model": model,
                        "retires": retires.isoformat(),
                        "days_left": (retires - today).days,
                    }
                },
            )
    if not models:
        return {}
    primary = getattr(rt.engine, "primary", None)
    if not isinstance(primary, VertexEngine):
        return dict.fromkeys(models, "not_checked")  # offline, or no credentials (already logged at ERROR)
    result: dict[str, str] = {}
    for model, capability in models.items():
        try:
            primary.count_tokens(model)
            result[model] = "ok"
        except ModelFailure as failure:
            result[model] = failure.reason
            if failure.config_fault:
                report_config_fault(failure, capability=capability, at="start")
            else:
                log.warning(
                    "model check at start failed",
                    extra={
                        "fields": {
                            "event": "model.check_failed",
                            "model": model,
                            "reason": failure.reason,
                            "detail": failure.detail,
                        }
                    },
                )
    log.info("models checked", extra={"fields": {"target": target, "models": result}})
    return result


def warm(rt: Runtime, target: str, *, models: bool = True) -> dict[str, float]:
    """Load the parts ``target`` uses (and, with ``models``, check the Gemini models it calls); seconds per
    part. A failure is logged, never raised."""
    took: dict[str, float] = {}
    try:
        declare(rt, target)
    except Exception:  # noqa: BLE001 - without a declaration the models load whole, as before
        logs.get_logger("warmup").exception("spaCy components not declared", extra={"fields": {"target": target}})
    for part in PARTS.get(target, ()):
        started = time.perf_counter()
        try:
            _LOADERS[part](rt)
        except Exception:  # noqa: BLE001 - warming is an optimisation; the request path loads it again
            logs.get_logger("warmup").exception("warm-up part failed", extra={"fields": {"part": part}})
            continue
        took[part] = round(time.perf_counter() - started, 3)
    if models:
        started = time.perf_counter()
        check_models(rt, target)
        took["models"] = round(time.perf_counter() - started, 3)
    logs.get_logger("warmup").info("instance warmed", extra={"fields": {"target": target, "seconds": took}})
    return took


_worker = threading.Event()  # set in a forked worker once its warm-up has run (tests wait on it)
_forked_from: int | None = None


def warm_in_worker(target: str, runtime: Callable[[], Runtime]) -> None:
    """Warm the worker gunicorn forks, not the master that imports ``main`` (see the module doc).

    Registered once, at import. Before the fork the master freezes what it imported (``gc.freeze``)
    so the worker's garbage collections do not write to — and so copy — the pages it shares with it."""
    global _forked_from
    if _forked_from is not None:
        return
    _forked_from = os.getpid()
    os.register_at_fork(before=gc.freeze, after_in_child=lambda: _start(target, runtime))


def _start(target: str, runtime: Callable[[], Runtime]) -> None:
    """In a child just forked (the first generation only, not the worker's own children): load the
    models before the worker serves — a request meanwhile waits in the listen backlog, as it waited
    for a master that loaded them before listening — and check the Gemini models on a thread, so a
    slow network call never holds the worker back."""
    global _forked_from
    if _forked_from is None or os.getppid() != _forked_from:
        return
    _forked_from = None  # a process the worker forks in turn is not a worker
    try:
        rt = runtime()
        warm(rt, target, models=False)
    except Exception:  # noqa: BLE001 - a hook must not kill the worker; the request path loads lazily
        logs.get_logger("warmup").exception("worker warm-up failed", extra={"fields": {"target": target}})
        _worker.set()
        return

    def check() -> None:
        try:
            check_models(rt, target)
        finally:
            _worker.set()

    threading.Thread(target=check, name="cx-model-check", daemon=True).start()


def wait_warm(timeout: float | None = None) -> bool:
    """In a forked worker: block until its warm-up has run (True) or ``timeout`` passed (False)."""
    return _worker.wait(timeout)
