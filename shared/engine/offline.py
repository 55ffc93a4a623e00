"""The deterministic stand-in for Gemini: the same output models, filled from structured context.

Capabilities register their offline generator by name (:func:`register_offline`); the registry
is one explicit dict, read by :class:`OfflineEngine` and listed by :func:`registered`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel

from shared.engine.model import EngineName, Usage
from shared.engine.prompts import Prompt
from shared.platform.tokens import estimate_tokens

T = TypeVar("T", bound=BaseModel)
OfflineFn = Callable[[Prompt], BaseModel]
_OFFLINE: dict[str, OfflineFn] = {}


def register_offline(capability: str) -> Callable[[OfflineFn], OfflineFn]:
    """Register the deterministic generator a capability uses offline and as fallback."""

    def decorate(fn: OfflineFn) -> OfflineFn:
        _OFFLINE[capability] = fn
        return fn

    return decorate


def registered() -> tuple[str, ...]:
    return tuple(sorted(_OFFLINE))


class OfflineEngine:
    """Deterministic stand-in for Gemini: same output models, filled from structured data."""

    name: EngineName = "offline"
    model_id = "offline-rules"

    def generate(self, prompt: Prompt, output_model: type[T]) -> tuple[T, Usage]:
        started = time.perf_counter()
        try:
            fn = _OFFLINE[prompt.capability]
        except KeyError:
            raise LookupError(f"no offline generator registered for {prompt.capability!r}") from None
        output = output_model.model_validate(fn(prompt).model_dump())
        usage = Usage(
            engine="offline",
            model=self.model_id,
            input_tokens=prompt.estimated_tokens,
            output_tokens=estimate_tokens(output.model_dump_json()),
            tokens_estimated=True,
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
        )
        return output, usage

    def usage_without_call(self) -> Usage:
        """Usage for an answer that needed no model call at all (nothing to choose from)."""
        return Usage(engine="offline", model=self.model_id, tokens_estimated=True)
