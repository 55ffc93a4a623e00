"""The deterministic stand-in for Gemini: the same output models, filled from structured context.

The engine is given its generators explicitly: a table from capability name to the generator,
either the function itself or its ``"module:attribute"`` path, imported on first use so a
function's instance imports only its own capability (the composition root,
:mod:`shared.runtime`, holds the project's table). Nothing registers itself on import.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable, Mapping
from typing import TypeVar

from pydantic import BaseModel

from shared.engine.base import EngineName, Usage
from shared.engine.prompts import Prompt
from shared.platform.tokens import estimate_tokens

T = TypeVar("T", bound=BaseModel)
OfflineFn = Callable[[Prompt], BaseModel]


class Generators:
    """The offline generators by capability: callables, or ``"module:attribute"`` paths resolved once."""

    def __init__(self, table: Mapping[str, OfflineFn | str]) -> None:
        self._table = dict(table)
        self._lock = threading.Lock()

    def __call__(self, capability: str) -> OfflineFn:
        entry = self._table.get(capability)
        if entry is None:
            raise LookupError(f"no offline generator for {capability!r}; known: {', '.join(self.names())}")
        if isinstance(entry, str):
            module, _, attribute = entry.partition(":")
            fn: OfflineFn = getattr(importlib.import_module(module), attribute)
            with self._lock:
                self._table[capability] = fn
            return fn
        return entry

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._table))


class OfflineEngine:
    """Deterministic stand-in for Gemini: same output models, filled from structured data."""

    name: EngineName = "offline"
    model_id = "offline-rules"

    def __init__(self, generators: Generators | Mapping[str, OfflineFn | str]) -> None:
        self.generators = generators if isinstance(generators, Generators) else Generators(generators)

    def generate(self, prompt: Prompt, output_model: type[T]) -> tuple[T, Usage]:
        started = time.perf_counter()
        fn = self.generators(prompt.capability)
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
