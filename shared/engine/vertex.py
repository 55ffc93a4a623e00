"""Gemini on Vertex AI through the google-genai SDK (never ``import vertexai``).

Per call: the capability's profile from ``config/engine/models.yaml`` (model, thinking setting of the
model's family, output budget with room for thinking), the pydantic output model as
``response_schema``, and HTTP options derived from the remaining latency budget (per-attempt
timeout and retry attempts, so that every attempt and back-off fits inside the budget). The
SDK enforces that deadline on the calling thread; nothing keeps running after the caller gave up.

Usage reads ``usageMetadata`` whole: prompt, candidates, thoughts and cached tokens, priced with
``config/engine/pricing.yaml`` (thinking billed as output). Failures are classified (see
:data:`shared.engine.model.FailureReason`).
"""

from __future__ import annotations

import re
import time
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from shared.engine.base import EngineName, FailureReason, ModelFailure, Usage
from shared.engine.profiles import CapabilityProfile, ModelProfiles, Pricing
from shared.engine.prompts import Prompt

if TYPE_CHECKING:
    from google import genai

    from shared.settings import Settings

T = TypeVar("T", bound=BaseModel)
BLOCKING_FINISH_REASONS = {"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION", "IMAGE_SAFETY"}
RETRIED_STATUS = [408, 429, 500, 502, 503, 504]
MIN_ATTEMPT_MS = 250  # below this an attempt cannot get an answer; fewer, longer attempts instead
_QUOTA_IN_MESSAGE = re.compile(r"[Qq]uota exceeded for (?:quota metric '?)?([\w./:-]+)")


@lru_cache(maxsize=8)
def _profiles(path: str, mtime: float) -> ModelProfiles:
    return ModelProfiles.load(Path(path))


@lru_cache(maxsize=8)
def _pricing(path: str, mtime: float) -> Pricing:
    return Pricing.load(Path(path))


def load_profiles(settings: Settings) -> ModelProfiles:
    path = settings.config_dir / settings.models_file
    return _profiles(str(path), path.stat().st_mtime)


def load_pricing(settings: Settings) -> Pricing:
    path = settings.config_dir / "engine/pricing.yaml"
    return _pricing(str(path), path.stat().st_mtime)


def _credentials(settings: Settings, credentials: Any) -> Any:
    if credentials is None and settings.vertex_anonymous:
        from google.oauth2.credentials import Credentials

        return Credentials("anonymous")  # a stand-in endpoint only (the settings require vertex_base_url)
    return credentials


def _build_client(settings: Settings, location: str, credentials: Any = None) -> genai.Client:
    from google import genai
    from google.genai import types

    return genai.Client(
        vertexai=True,
        project=settings.project,
        location=location,
        credentials=_credentials(settings, credentials),
        http_options=types.HttpOptions(base_url=settings.vertex_base_url, timeout=settings.model_timeout_ms),
    )


def genai_client(settings: Settings, location: str | None = None) -> Any:
    """The one google-genai Vertex client per instance and location (Gemini: ``gemini_location``;
    embeddings: the functions' ``region`` unless given); imported on first use."""
    from shared.platform.clients import cached

    where = location or settings.region
    key = settings.model_dump_json(include={"project", "vertex_base_url", "vertex_anonymous", "model_timeout_ms"})
    return cached("genai", f"{key}|{where}", lambda: _build_client(settings, where))


def call_options(settings: Settings, budget_ms: int) -> tuple[int, int]:
    """(per-attempt timeout ms, attempts) such that attempts × timeout + back-offs fit in ``budget_ms``."""
    attempts = settings.model_retry_attempts
    pause_ms = int(settings.model_retry_max_delay_s * 1000)
    while True:
        room = budget_ms - (attempts - 1) * pause_ms
        timeout = min(settings.model_timeout_ms, room // attempts) if room > 0 else 0
        if attempts == 1 or timeout >= MIN_ATTEMPT_MS:
            return max(timeout, 1), attempts
        attempts -= 1


def classify(exc: BaseException, model: str) -> ModelFailure:
    """A google-genai / transport exception as a :class:`ModelFailure` with its class."""
    from google.genai import errors

    if isinstance(exc, errors.APIError):
        code = getattr(exc, "code", None) or 0
        message = str(getattr(exc, "message", "") or "")[:300]
        if code == 404:
            return ModelFailure("model_not_found", f"HTTP 404 for model {model}: {message}".strip(), model=model)
        if code == 403:
            return ModelFailure("permission_denied", f"HTTP 403 for model {model}: {message}".strip(), model=model)
        if code == 429:
            quota = quota_name(getattr(exc, "details", None))
            return ModelFailure("quota_exhausted", f"HTTP 429 quota {quota or 'unnamed'}", model=model, quota=quota)
        if code in (408, 504):
            return ModelFailure("timeout", f"HTTP {code}", model=model)
        if code >= 500:
            return ModelFailure("unavailable", f"HTTP {code}", model=model)
        return ModelFailure("client_error", f"HTTP {code}: {message}".strip(), model=model)
    kind = type(exc).__name__
    reason: FailureReason = (
        "timeout"
        if "Timeout" in kind
        else "no_credentials"
        if "Credentials" in kind or "RefreshError" in kind
        else "unavailable"
    )
    return ModelFailure(reason, kind, model=model)


def quota_name(details: Any) -> str | None:
    """The quota a 429 names: QuotaFailure violations, ErrorInfo metadata, or the message text."""
    error = details.get("error", details) if isinstance(details, dict) else {}
    for item in error.get("details") or []:
        if not isinstance(item, dict):
            continue
        for v in item.get("violations") or []:
            for key in ("quotaId", "quotaMetric", "subject"):
                if isinstance(v, dict) and v.get(key):
                    return str(v[key])
        meta = item.get("metadata") or {}
        for key in ("quota_metric", "quota_limit", "quotaMetric"):
            if meta.get(key):
                return str(meta[key])
    found = _QUOTA_IN_MESSAGE.search(str(error.get("message", "")))
    return found.group(1).rstrip(".,") if found else None


class VertexEngine:
    """Gemini on Vertex AI: the capability's profile, a deadline the SDK enforces, honest usage."""

    name: EngineName = "vertex"
    takes_budget = True

    def __init__(
        self,
        settings: Settings,
        client: genai.Client | None = None,
        credentials: Any = None,
        *,
        profiles: ModelProfiles | None = None,
        pricing: Pricing | None = None,
    ) -> None:
        from google.genai import types

        self._types = types
        self._settings = settings
        self.profiles = profiles or load_profiles(settings)
        self.pricing = pricing or load_pricing(settings)
        if client is None:
            location = settings.gemini_location
            client = (
                _build_client(settings, location, credentials)
                if credentials is not None
                else genai_client(settings, location)
            )
        self._client = client

    def profile(self, capability: str) -> CapabilityProfile:
        return self.profiles.profile(capability, self._settings.gemini_model)

    def http_options(self, budget_ms: int | None = None) -> Any:
        """Per-call HTTP options: timeout and retries that fit in ``budget_ms`` (the SDK enforces them)."""
        s = self._settings
        timeout, attempts = call_options(s, budget_ms if budget_ms is not None else s.latency_budget_ms)
        return self._types.HttpOptions(
            timeout=timeout,
            retry_options=self._types.HttpRetryOptions(
                attempts=attempts,
                initial_delay=s.model_retry_initial_delay_s,
                max_delay=s.model_retry_max_delay_s,
                exp_base=2,
                jitter=min(0.25, s.model_retry_initial_delay_s),
                http_status_codes=RETRIED_STATUS,
            ),
        )

    def thinking_config(self, profile: CapabilityProfile) -> Any:
        """Level for Gemini 3.x, budget for Gemini 2.5 — never both (a 400)."""
        t = profile.thinking
        if t.level is not None:
            return self._types.ThinkingConfig(thinking_level=self._types.ThinkingLevel(t.level.upper()))
        return self._types.ThinkingConfig(thinking_budget=t.budget)

    def config(self, prompt: Prompt, output_model: type[BaseModel], budget_ms: int | None = None) -> Any:
        profile = self.profile(prompt.capability)
        return self._types.GenerateContentConfig(
            system_instruction=prompt.system,
            response_mime_type="application/json",
            response_schema=output_model,
            temperature=self._settings.temperature,
            max_output_tokens=profile.max_output_tokens,
            thinking_config=self.thinking_config(profile),
            candidate_count=1,
            labels={"capability": prompt.capability, "prompt_version": prompt.version.lower()},
            http_options=self.http_options(budget_ms),
        )

    def generate(self, prompt: Prompt, output_model: type[T], budget_ms: int | None = None) -> tuple[T, Usage]:
        model = self.profile(prompt.capability).model
        started = time.perf_counter()
        try:
            response = self._client.models.generate_content(
                model=model, contents=prompt.user, config=self.config(prompt, output_model, budget_ms)
            )
        except Exception as exc:  # noqa: BLE001 - every failure is classified, none escapes unnamed
            failure = classify(exc, model)
            if failure.reason == "timeout":
                budget = budget_ms if budget_ms is not None else self._settings.latency_budget_ms
                timeout, attempts = call_options(self._settings, budget)
                failure = ModelFailure(
                    "timeout",
                    f"{failure.detail}: no answer in {attempts} attempt(s) of "
                    f"{timeout} ms (latency budget {budget} ms)",
                    model=model,
                )
            raise failure from exc
        try:
            output = self._parse(response, output_model, model)
        except ModelFailure as failure:
            failure.usage = self.usage(response, model, started)
            raise
        return output, self.usage(response, model, started)

    def usage(self, response: Any, model: str, started: float) -> Usage:
        meta = getattr(response, "usage_metadata", None)

        def count(field: str) -> int:
            return int(getattr(meta, field, None) or 0) if meta is not None else 0

        tokens = {
            "input_tokens": count("prompt_token_count"),
            "output_tokens": count("candidates_token_count"),
            "thinking_tokens": count("thoughts_token_count"),
            "cached_tokens": count("cached_content_token_count"),
        }
        return Usage(
            engine="vertex",
            model=getattr(response, "model_version", None) or model,
            cost_usd=self.pricing.cost(model, **tokens) if meta is not None else None,
            tokens_estimated=meta is None,
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
            **tokens,
        )

    @staticmethod
    def _parse(response: Any, output_model: type[T], model: str = "") -> T:
        feedback = getattr(response, "prompt_feedback", None)
        if feedback is not None and getattr(feedback, "block_reason", None):
            raise ModelFailure("safety_block", f"prompt blocked: {feedback.block_reason}", model=model)
        candidates = response.candidates or []
        if not candidates:
            raise ModelFailure("malformed_output", "no candidates", model=model)
        finish = getattr(candidates[0].finish_reason, "name", str(candidates[0].finish_reason))
        if finish in BLOCKING_FINISH_REASONS:
            raise ModelFailure("safety_block", f"finish reason {finish}", model=model)
        if finish == "MAX_TOKENS":
            raise ModelFailure(
                "truncated", "finish reason MAX_TOKENS (output budget spent, thinking included)", model=model
            )
        parsed = response.parsed
        if isinstance(parsed, output_model):
            return parsed
        try:
            return output_model.model_validate_json(response.text or "")
        except (ValidationError, ValueError) as exc:
            raise ModelFailure("malformed_output", f"finish reason {finish}", model=model) from exc

    def count_tokens(self, model: str, timeout_ms: int = 5000) -> int:
        """A cheap call that proves the model answers in this project and location (warm-up)."""
        try:
            result = self._client.models.count_tokens(
                model=model,
                contents="ping",
                config=self._types.CountTokensConfig(http_options=self._types.HttpOptions(timeout=timeout_ms)),
            )
        except Exception as exc:  # noqa: BLE001
            raise classify(exc, model) from exc
        return int(result.total_tokens or 0)
