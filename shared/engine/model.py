"""The model layer: one interface, ``generate(prompt, output_model) -> (output, usage)``.

* :mod:`shared.engine.base` holds what every engine shares (usage, classified failures, the protocol).
* :mod:`shared.engine.vertex` calls Gemini on Vertex AI through ``google-genai``: the model,
  thinking setting and output budget of the capability's profile (``config/engine/models.yaml``), the
  pydantic output model as ``response_schema``, a per-call deadline the SDK enforces, usage with
  thinking and cached tokens, cost from ``config/engine/pricing.yaml``, and classified failures.
* :mod:`shared.engine.offline` fills the same output models deterministically, from the explicit
  table of generators the composition root gives it.
* :class:`ResilientEngine` (here) answers with the offline engine, marked ``degraded`` with the
  failure class, when Gemini fails or exceeds the latency budget, so an agent is never left with an
  error. The call runs on the request's own thread with the SDK's deadline: there is no pool that
  abandoned calls can fill. A configuration fault (model not found or retired, permission denied,
  no credentials) is logged at ERROR once per instance with ``"event": "model.config_fault"``; a
  log-based metric pages on it.

The import direction is one way: base <- offline, vertex <- model. ``google-genai`` is imported
only inside :mod:`shared.engine.vertex`'s functions, never on the offline path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shared.engine.base import (
    CONFIG_FAULTS,
    Engine,
    EngineName,
    FailureReason,
    ModelFailure,
    T,
    Usage,
    forget_config_faults,
    report_config_fault,
)
from shared.engine.offline import OfflineEngine
from shared.engine.prompts import Prompt

if TYPE_CHECKING:
    from shared.settings import Settings

__all__ = [
    "CONFIG_FAULTS",
    "Engine",
    "EngineName",
    "FailureReason",
    "ModelFailure",
    "OfflineEngine",
    "ResilientEngine",
    "Usage",
    "build_engine",
    "forget_config_faults",
    "report_config_fault",
]


class ResilientEngine:
    """Primary engine within a latency budget; offline answers, marked degraded, on failure."""

    def __init__(
        self,
        primary: Engine,
        fallback: OfflineEngine,
        *,
        latency_budget_ms: int,
        on_failure: Callable[[Prompt, ModelFailure], None] | None = None,
    ) -> None:
        self.primary = primary
        self.fallback = fallback
        self.budget_ms = latency_budget_ms
        self.on_failure = on_failure

    @property
    def name(self) -> EngineName:
        return self.primary.name

    def generate(self, prompt: Prompt, output_model: type[T]) -> tuple[T, Usage]:
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


def build_engine(
    settings: Settings, offline: OfflineEngine, log: Callable[[Prompt, ModelFailure], None] | None = None
) -> ResilientEngine:
    """The engine the settings ask for; a Vertex client that cannot start degrades to offline, loudly."""
    if settings.backend == "offline":
        return ResilientEngine(offline, offline, latency_budget_ms=settings.latency_budget_ms)
    from shared.engine.vertex import VertexEngine

    try:
        primary: Engine = VertexEngine(settings)
    except Exception as exc:  # missing/invalid credentials surface here, not per request
        failure = ModelFailure("no_credentials", type(exc).__name__)
        report_config_fault(failure, at="start")
        return ResilientEngine(
            _Unavailable(failure), offline, latency_budget_ms=settings.latency_budget_ms, on_failure=log
        )
    return ResilientEngine(primary, offline, latency_budget_ms=settings.latency_budget_ms, on_failure=log)


class _Unavailable:
    """A primary that always fails with the start-up reason, so every answer says why."""

    name: EngineName = "vertex"

    def __init__(self, failure: ModelFailure) -> None:
        self._failure = failure

    def generate(self, prompt: Prompt, output_model: type[T]) -> tuple[T, Usage]:
        raise self._failure
