"""What every suggestion carries and records, whatever the capability.

A capability builds its prompt and calls the engine; :func:`record` then gives the
suggestion its id, writes the access-log facts and publishes ``suggestion.generated``,
and returns the metadata fields every response includes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from shared.engine.base import Usage
from shared.engine.prompts import Prompt
from shared.platform.calls import CallContext
from shared.platform.events import SuggestionGenerated, new_id
from shared.safety.pii.base import Pseudonymizer, customer_key

if TYPE_CHECKING:
    from shared.runtime import Runtime


class SuggestionMeta(BaseModel):
    """Fields in every suggestion response: identity, provenance and degradation."""

    suggestion_id: str
    prompt_version: str
    policy_version: str
    engine: Literal["vertex", "offline"]
    degraded: bool
    degraded_reason: str | None = None
    experiment: str | None = Field(default=None, description="Prompt experiment this contact is in, if any.")
    arm: Literal["control", "candidate"] | None = Field(default=None, description="Experiment arm of the contact.")
    review_flags: list[str] = Field(
        default_factory=list,
        description="Why the agent should look twice: 'unknown_placeholder_removed:<field>' when the model wrote a "
        "placeholder this request never created (removed from that field).",
    )


def record(
    rt: Runtime,
    call: CallContext,
    *,
    customer_id: str,
    prompt: Prompt,
    policy_version: str,
    usage: Usage,
    attributes: dict[str, Any] | None = None,
    text: str | None = None,
    feedback_context: dict[str, Any] | None = None,
    review_flags: list[str] | None = None,
    pseudo: Pseudonymizer | None = None,
) -> SuggestionMeta:
    """Identify, log, persist (for feedback) and announce one suggestion.

    The stored text is minimized: pseudonymized with this request's placeholders (``pseudo``, the
    ones the prompt used), so quality work never reads a name, card number or address in clear.
    """
    meta = SuggestionMeta(
        suggestion_id=new_id(),
        prompt_version=prompt.version_id,
        policy_version=policy_version,
        engine=usage.engine,
        degraded=usage.degraded,
        degraded_reason=usage.degraded_reason,
        experiment=prompt.experiment,
        arm=prompt.arm,
        review_flags=review_flags or [],
    )
    if meta.review_flags:
        attributes = {**(attributes or {}), "review_flags": meta.review_flags}
    key = customer_key(customer_id, rt.settings.pseudonym_key)
    call.note(
        **{
            "customer_key": key,
            "engine": usage.engine,
            "degraded": usage.degraded,
            "model": usage.model,
            "tokens_in": usage.input_tokens,
            "tokens_out": usage.output_tokens,
            "tokens_thinking": usage.thinking_tokens,
            "cost_usd": usage.cost_usd,
            **(attributes or {}),
        }
    )
    now = datetime.now(UTC)
    rt.firestore.collection(rt.settings.suggestions_collection).document(meta.suggestion_id).set(
        {
            "capability": prompt.capability,
            "customer_id": customer_id,
            "customer_key": key,
            "prompt_version": meta.prompt_version,
            "experiment": meta.experiment,
            "arm": meta.arm,
            "engine": usage.engine,
            "text": pseudo.mask(text) if (pseudo is not None and text) else text,
            "text_pseudonymized": pseudo is not None,
            "created_at": now,
            "agent_id": call.agent_id,
            "expire_at": now + timedelta(days=rt.settings.suggestion_ttl_days),
            **(feedback_context or {}),
        }
    )
    rt.events.publish(
        SuggestionGenerated(
            suggestion_id=meta.suggestion_id,
            capability=prompt.capability,
            customer_key=key,
            prompt_version=meta.prompt_version,
            experiment=meta.experiment,
            arm=meta.arm,
            policy_version=policy_version,
            engine=usage.engine,
            model=usage.model,
            degraded=usage.degraded,
            degraded_reason=usage.degraded_reason,
            latency_ms=call.elapsed_ms(),
            model_latency_ms=usage.latency_ms,
            tokens_in=usage.input_tokens,
            tokens_out=usage.output_tokens,
            tokens_thinking=usage.thinking_tokens,
            tokens_cached=usage.cached_tokens,
            cost_usd=usage.cost_usd,
            tokens_estimated=usage.tokens_estimated,
            agent_id=call.agent_id,
            request_id=call.request_id,
            attributes=attributes or {},
        )
    )
    return meta
