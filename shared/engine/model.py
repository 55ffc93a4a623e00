"""The model layer: one interface, ``generate(prompt, output_model) -> (output, usage)``.

* :class:`VertexEngine` calls Gemini on Vertex AI through ``google-genai`` with the
  pydantic output model as ``response_schema``, explicit HTTP timeout and retry
  options (429/5xx with exponential backoff), and typed failures for safety blocks and
  malformed output.
* :class:`OfflineEngine` fills the same output models deterministically from the
  structured context; capabilities register their offline function by name.
* :class:`ResilientEngine` answers with the offline engine, marked ``degraded`` with the
  reason, when Gemini fails after retries or exceeds the latency budget, so an agent
  is never left with an error.

``google-genai`` is imported only when a Vertex engine is built: the offline path never
pays for it at cold start.
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from shared.engine.prompts import Prompt
from shared.platform.tokens import estimate_tokens
from shared.settings import Settings

if TYPE_CHECKING:
    from google import genai

T = TypeVar("T", bound=BaseModel)
EngineName = Literal["vertex", "offline"]
FailureReason = Literal[
    "timeout", "rate_limited", "unavailable", "client_error", "safety_block",
    "malformed_output", "no_credentials",
]  # fmt: skip
BLOCKING_FINISH_REASONS = {"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION", "IMAGE_SAFETY"}


class Usage(BaseModel):
    engine: EngineName
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    tokens_estimated: bool = False
    latency_ms: float = 0.0
    degraded: bool = False
    degraded_reason: str | None = None


class ModelFailure(Exception):
    def __init__(self, reason: FailureReason, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class Engine(Protocol):
    name: EngineName

    def generate(self, prompt: Prompt, output_model: type[T]) -> tuple[T, Usage]: ...


OfflineFn = Callable[[Prompt], BaseModel]
_OFFLINE: dict[str, OfflineFn] = {}


def register_offline(capability: str) -> Callable[[OfflineFn], OfflineFn]:
    """Register the deterministic generator a capability uses offline and as fallback."""

    def decorate(fn: OfflineFn) -> OfflineFn:
        _OFFLINE[capability] = fn
        return fn

    return decorate


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


def genai_client(settings: Settings) -> Any:
    """The one google-genai Vertex client per instance (Gemini and embeddings share it); imported on first use."""
    from shared.platform.clients import cached

    key = settings.model_dump_json(include={
        "project", "region", "vertex_base_url", "model_timeout_ms", "model_retry_attempts",
        "model_retry_initial_delay_s", "model_retry_max_delay_s"})  # fmt: skip
    return cached("genai", key, lambda: VertexEngine._build_client(settings))


class VertexEngine:
    """Gemini on Vertex AI through the google-genai SDK (never ``import vertexai``)."""

    name: EngineName = "vertex"

    def __init__(
        self, settings: Settings, client: genai.Client | None = None, credentials: Any = None
    ) -> None:
        from google.genai import types

        self._types = types
        self._settings = settings
        if client is None:
            client = self._build_client(settings, credentials) if credentials is not None else genai_client(settings)
        self._client = client

    @staticmethod
    def http_options(settings: Settings) -> Any:
        from google.genai import types

        return types.HttpOptions(
            timeout=settings.model_timeout_ms,
            base_url=settings.vertex_base_url,
            retry_options=types.HttpRetryOptions(
                attempts=settings.model_retry_attempts,
                initial_delay=settings.model_retry_initial_delay_s,
                max_delay=settings.model_retry_max_delay_s,
                exp_base=2,
                jitter=min(0.5, settings.model_retry_initial_delay_s),
                http_status_codes=[408, 429, 500, 502, 503, 504],
            ),
        )

    @classmethod
    def _build_client(cls, settings: Settings, credentials: Any = None) -> genai.Client:
        from google import genai

        return genai.Client(
            vertexai=True,
            project=settings.project,
            location=settings.region,
            credentials=credentials,
            http_options=cls.http_options(settings),
        )

    def config(self, prompt: Prompt, output_model: type[BaseModel]) -> Any:
        return self._types.GenerateContentConfig(
            system_instruction=prompt.system,
            response_mime_type="application/json",
            response_schema=output_model,
            temperature=self._settings.temperature,
            max_output_tokens=self._settings.max_output_tokens,
            candidate_count=1,
            labels={"capability": prompt.capability, "prompt_version": prompt.version.lower()},
        )

    def generate(self, prompt: Prompt, output_model: type[T]) -> tuple[T, Usage]:
        from google.genai import errors

        started = time.perf_counter()
        try:
            response = self._client.models.generate_content(
                model=self._settings.gemini_model,
                contents=prompt.user,
                config=self.config(prompt, output_model),
            )
        except errors.APIError as exc:
            code = getattr(exc, "code", None) or 0
            reason: FailureReason = (
                "rate_limited" if code == 429
                else "timeout" if code in (408, 504)
                else "unavailable" if code >= 500
                else "client_error"
            )  # fmt: skip
            raise ModelFailure(reason, f"HTTP {code}") from exc
        except Exception as exc:  # transport errors: httpx/httpx2 timeouts, refused connections
            kind = type(exc).__name__
            reason = (
                "timeout" if "Timeout" in kind
                else "no_credentials" if "Credentials" in kind or "RefreshError" in kind
                else "unavailable"
            )  # fmt: skip
            raise ModelFailure(reason, kind) from exc
        output = self._parse(response, output_model)
        meta = response.usage_metadata
        usage = Usage(
            engine="vertex",
            model=getattr(response, "model_version", None) or self._settings.gemini_model,
            input_tokens=(meta.prompt_token_count or 0) if meta else 0,
            output_tokens=(meta.candidates_token_count or 0) if meta else 0,
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
        )
        return output, usage

    @staticmethod
    def _parse(response: Any, output_model: type[T]) -> T:
        feedback = getattr(response, "prompt_feedback", None)
        if feedback is not None and getattr(feedback, "block_reason", None):
            raise ModelFailure("safety_block", f"prompt blocked: {feedback.block_reason}")
        candidates = response.candidates or []
        if not candidates:
            raise ModelFailure("malformed_output", "no candidates")
        finish = getattr(candidates[0].finish_reason, "name", str(candidates[0].finish_reason))
        if finish in BLOCKING_FINISH_REASONS:
            raise ModelFailure("safety_block", f"finish reason {finish}")
        parsed = response.parsed
        if isinstance(parsed, output_model):
            return parsed
        try:
            return output_model.model_validate_json(response.text or "")
        except (ValidationError, ValueError) as exc:
            raise ModelFailure("malformed_output", f"finish reason {finish}") from exc


_pool = concurrent.futures.ThreadPoolExecutor(max_workers=16, thread_name_prefix="cx-model")


class ResilientEngine:
    """Primary engine with a latency budget; offline answers, marked degraded, on failure."""

    def __init__(
        self,
        primary: Engine,
        fallback: OfflineEngine | None = None,
        *,
        latency_budget_ms: int,
        on_failure: Callable[[Prompt, ModelFailure], None] | None = None,
    ) -> None:
        self.primary = primary
        self.fallback = fallback or OfflineEngine()
        self.budget_s = latency_budget_ms / 1000
        self.on_failure = on_failure

    @property
    def name(self) -> EngineName:
        return self.primary.name

    def generate(self, prompt: Prompt, output_model: type[T]) -> tuple[T, Usage]:
        if self.primary is self.fallback or isinstance(self.primary, OfflineEngine):
            return self.primary.generate(prompt, output_model)
        future = _pool.submit(self.primary.generate, prompt, output_model)
        try:
            return future.result(timeout=self.budget_s)
        except concurrent.futures.TimeoutError:
            future.cancel()
            failure = ModelFailure("timeout", f"latency budget {int(self.budget_s * 1000)} ms")
        except ModelFailure as exc:
            failure = exc
        if self.on_failure:
            self.on_failure(prompt, failure)
        output, usage = self.fallback.generate(prompt, output_model)
        return output, usage.model_copy(update={"degraded": True, "degraded_reason": str(failure)})


def build_engine(settings: Settings, log: Callable[[Prompt, ModelFailure], None] | None = None) -> ResilientEngine:
    """The engine the settings ask for; a Vertex client that cannot start degrades to offline."""
    if settings.backend == "offline":
        return ResilientEngine(OfflineEngine(), latency_budget_ms=settings.latency_budget_ms)
    try:
        primary: Engine = VertexEngine(settings)
    except Exception as exc:  # missing/invalid credentials surface here, not per request
        failure = ModelFailure("no_credentials", type(exc).__name__)
        return ResilientEngine(_Unavailable(failure), latency_budget_ms=settings.latency_budget_ms, on_failure=log)
    return ResilientEngine(primary, latency_budget_ms=settings.latency_budget_ms, on_failure=log)


class _Unavailable:
    """A primary that always fails with the start-up reason, so every answer says why."""

    name: EngineName = "vertex"

    def __init__(self, failure: ModelFailure) -> None:
        self._failure = failure

    def generate(self, prompt: Prompt, output_model: type[T]) -> tuple[T, Usage]:
        raise self._failure
