"""The engine interface every engine shares: names, usage, classified failures, the protocol.

Below both engines (:mod:`shared.engine.offline`, :mod:`shared.engine.vertex`) and the resilient
wrapper (:mod:`shared.engine.model`), so none of them imports another to learn these types.
"""

from __future__ import annotations

import threading
from typing import Literal, Protocol, TypeVar

from pydantic import BaseModel

from shared.engine.prompts import Prompt
from shared.platform import logs

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
