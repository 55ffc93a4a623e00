"""The stages every suggesting capability composes, in this order:

1. **customer** — :func:`shared.capabilities._context.customer_context`: the parts the capability
   declares in ``READS``, through the access door (audited), policy-filtered and pseudonymized;
2. **template** — :func:`template_for`: the prompt version of this contact's experiment arm;
3. **ask** — :func:`ask`: the engine's answer (Gemini, or offline, marked degraded on failure),
   with this request's placeholders restored and any other placeholder removed;
4. **rules** — the capability's own: code disposes of what the model proposed (eligibility, caps,
   queues, due dates, guardrails, output policy);
5. **record** — :func:`record`: the suggestion's id, the access-log facts, the minimized stored
   text and the ``suggestion.generated`` event; returns the fields every response includes.

A capability module reads as those five calls plus its rules; what differs between capabilities is
the context it builds and its rules, never how it asks or records.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel, Field

from shared.capabilities.events import SuggestionGenerated
from shared.engine.base import Usage
from shared.engine.experiments import contact_id
from shared.engine.prompts import Prompt, PromptTemplate
from shared.platform.calls import CallContext
from shared.platform.events import new_id
from shared.safety.pii.base import Pseudonymizer, customer_key

if TYPE_CHECKING:
    from shared.runtime import Runtime


OutputT = TypeVar("OutputT", bound=BaseModel)


def template_for(rt: Runtime, capability: str, request: BaseModel) -> PromptTemplate:
    """The prompt template for this contact: its experiment arm is fixed by the contact, not the call."""
    return rt.prompts.get(capability, unit=contact_id(request))


def ask(
    rt: Runtime, prompt: Prompt, output_model: type[OutputT], pseudo: Pseudonymizer, *, keep: tuple[str, ...] = ()
) -> tuple[OutputT, Usage]:
    """The engine's answer with placeholders restored; ``keep``: fields a stronger check owns (see restore_model)."""
    output, usage = rt.engine.generate(prompt, output_model)
    return pseudo.restore_model(output, keep=keep), usage


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
