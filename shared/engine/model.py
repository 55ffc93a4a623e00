"""The model layer: one interface, ``generate(prompt, output_model) -> (output, usage)``.

* :mod:`shared.engine.vertex` calls Gemini on Vertex AI through ``google-genai``: the model,
  thinking setting and output budget of the capability's profile (``config/models.yaml``), the
  pydantic output model as ``response_schema``, a per-call deadline the SDK enforces, usage with
  thinking and cached tokens, cost from ``config/pricing.yaml``, and classified failures.
* :mod:`shared.engine.offline` fills the same output models deterministically.
* :class:`ResilientEngine` (here) answers with the offline engine, marked ``degraded`` with the
  failure class, when Gemini fails or exceeds the latency budget, so an agent is never left with an
  error. The call runs on the request's own thread with the SDK's deadline: there is no pool that
  abandoned calls can fill. A configuration fault (model not found or retired, permission denied,
  no credentials) is logged at ERROR once per instance with ``"event": "model.config_fault"``; a
  log-based metric pages on it.

This module is the interface; ``OfflineEngine``, ``register_offline``, ``VertexEngine`` and
``genai_client`` stay importable from here for existing callers (resolved on first use, so
``google-genai`` is never imported on the offline path).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

from pydantic import BaseModel

from shared.engine.prompts import Prompt
from shared.platform import logs

if TYPE_CHECKING:
    from shared.engine.offline import OfflineEngine
    from shared.settings import Settings

T = TypeVar("T", bound=BaseModel)
EngineName = Literal["vertex", "offline"]
FailureReason = Literal[
    "model_not_found",  # 404: misspelt or retired model id (configuration fault)
    "permission_denied",  # 403: API disabled, IAM, VPC-SC, org policy (configuration fault)
    "no_credentials",  # no usable Google credentials (configuration fault)
    "quota_exhausted",  # 429 after the SDK's retries; detail names the quota when Google does
    "unavailable",  # 5xx after retries, refused connections
    "timeout",  # no answer within the call's deadline
    "safety_block",  # prompt blocked or candidate stopped for SAFETY/RECITATION/...
    "truncated",  # MAX_TOKENS: the answer (or thinking) ran out of output budget
    "malformed_output",  # an answer that does not parse into the output model
    "client_error",  # any other 4xx (a request the code built wrongly)
]
CONFIG_FAULTS: frozenset[str] = frozenset({"model_not_found", "permission_denied", "no_credentials"})


class Usage(BaseModel):
    engine: EngineName
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    thinking_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: float | None = 0.0
    tokens_estimated: bool = False
    latency_ms: float = 0.0
    degraded: bool = False
    degraded_reason: str | None = None


class ModelFailure(Exception):
    """A classified failure of the primary engine; ``reason`` is the class shown in ``degraded_reason``."""

    def __init__(
        self, reason: FailureReason, detail: str = "", *, model: str | None = None, quota: str | None = None
    ) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.model = model
        self.quota = quota
        self.usage: Usage | None = None  # what Google billed for an answer that could not be used

    @property
    def config_fault(self) -> bool:
        """Nothing a retry fixes: someone has to change the configuration."""
        return self.reason in CONFIG_FAULTS


class Engine(Protocol):
    @property
    def name(self) -> EngineName: ...

    def generate(self, prompt: Prompt, output_model: type[T]) -> tuple[T, Usage]: ...


_faults_lock = threading.Lock()
_faults_logged: set[tuple[str, str]] = set()


def report_config_fault(failure: ModelFailure, *, capability: str | None = None, at: str = "request") -> bool:
    """Log a configuration fault at ERROR once per instance and (reason, model); True if this call logged it."""
    key = (failure.reason, failure.model or "")
    with _faults_lock:
        if key in _faults_logged:
            return False
        _faults_logged.add(key)
    logs.get_logger("model").error(
        f"Gemini configuration fault: {failure.reason} for model {failure.model or '(none)'}; answering offline",
        extra={
            "fields": {
                "event": "model.config_fault",
                "reason": failure.reason,
                "model": failure.model,
                "detail": failure.detail,
                "capability": capability,
                "at": at,
            }
        },
    )
    return True


def forget_config_faults() -> None:
    """Tests: start as a fresh instance."""
    with _faults_lock:
        _faults_logged.clear()


class ResilientEngine:
    """Primary engine within a latency budget; offline answers, marked degraded, on failure."""

    def __init__(
        self,
        primary: Engine,
        fallback: OfflineEngine | None = None,
        *,
        latency_budget_ms: int,
        on_failure: Callable[[Prompt, ModelFailure], None] | None = None,
    ) -> None:
        from shared.engine.offline import OfflineEngine

        self.primary = primary
        self.fallback = fallback or OfflineEngine()
        self.budget_ms = latency_budget_ms
        self.on_failure = on_failure

    @property
    def name(self) -> EngineName:
        return self.primary.name

    def generate(self, prompt: Prompt, output_model: type[T]) -> tuple[T, Usage]:
        from shared.engine.offline import OfflineEngine

        if self.primary is self.fallback or isinstance(self.primary, OfflineEngine):
            return self.primary.generate(prompt, output_model)
        try:
            if getattr(self.primary, "takes_budget", False):  # the SDK enforces the deadline on this thread
                return self.primary.generate(prompt, output_model, budget_ms=self.budget_ms)  # type: ignore[call-arg]
            return self.primary.generate(prompt, output_model)
        except ModelFailure as exc:
            failure = exc
        if failure.config_fault:
            report_config_fault(failure, capability=prompt.capability)
        if self.on_failure:
            self.on_failure(prompt, failure)
        output, usage = self.fallback.generate(prompt, output_model)
        update: dict[str, Any] = {"degraded": True, "degraded_reason": str(failure)}
        if failure.usage is not None:  # an unusable answer (truncated, blocked, malformed) was still billed
            billed = failure.usage
            update |= {
                "model": billed.model,
                "input_tokens": billed.input_tokens,
                "output_tokens": billed.output_tokens,
                "thinking_tokens": billed.thinking_tokens,
                "cached_tokens": billed.cached_tokens,
                "cost_usd": billed.cost_usd,
                "tokens_estimated": billed.tokens_estimated,
            }
        return output, usage.model_copy(update=update)


def build_engine(settings: Settings, log: Callable[[Prompt, ModelFailure], None] | None = None) -> ResilientEngine:
    """The engine the settings ask for; a Vertex client that cannot start degrades to offline, loudly."""
    from shared.engine.offline import OfflineEngine

    if settings.backend == "offline":
        return ResilientEngine(OfflineEngine(), latency_budget_ms=settings.latency_budget_ms)
    from shared.engine.vertex import VertexEngine

    try:
        primary: Engine = VertexEngine(settings)
    except Exception as exc:  # missing/invalid credentials surface here, not per request
        failure = ModelFailure("no_credentials", type(exc).__name__)
        report_config_fault(failure, at="start")
        return ResilientEngine(_Unavailable(failure), latency_budget_ms=settings.latency_budget_ms, on_failure=log)
    return ResilientEngine(primary, latency_budget_ms=settings.latency_budget_ms, on_failure=log)


class _Unavailable:
    """A primary that always fails with the start-up reason, so every answer says why."""

    name: EngineName = "vertex"

    def __init__(self, failure: ModelFailure) -> None:
        self._failure = failure

    def generate(self, prompt: Prompt, output_model: type[T]) -> tuple[T, Usage]:
        raise self._failure


_MOVED = {
    "OfflineEngine": "shared.engine.offline",
    "register_offline": "shared.engine.offline",
    "VertexEngine": "shared.engine.vertex",
    "genai_client": "shared.engine.vertex",
}


def __getattr__(name: str) -> Any:
    """Names that moved to :mod:`shared.engine.offline` / :mod:`shared.engine.vertex`, for existing imports."""
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
