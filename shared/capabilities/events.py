"""Every KPI event schema, in one place: what the functions publish to ``cx-events`` and analysts query.

Each event is a pydantic model with a fixed ``event_type``; BigQuery keeps the JSON payload in
``events_raw`` and the views in ``infra/bigquery/`` read these fields. Two events are emitted by
layers below the capabilities and defined there (a layer never imports upwards):
``audit.customer_access`` (:class:`shared.safety.access.AuditCustomerAccess`) and
``commitment.*`` (:class:`shared.decisions.commitments.CommitmentEvent`); they are listed here
too, so :data:`KPI_EVENTS` names every event the product publishes and a test keeps it complete.
Changing a field is a schema change: bump ``schema_version`` in ``shared.platform.events``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from shared.decisions.commitments import CommitmentEvent
from shared.decisions.nba import Score, Suppressed
from shared.platform.events import Event
from shared.safety.access import AuditCustomerAccess

Rating = Literal["used_unchanged", "lightly_edited", "heavily_edited", "not_helpful"]


class SuggestionGenerated(Event):
    event_type: Literal["suggestion.generated"] = "suggestion.generated"
    suggestion_id: str
    capability: str
    customer_key: str = Field(description="HMAC pseudonym of the customer id, never the id.")
    prompt_version: str
    experiment: str | None = None
    arm: Literal["control", "candidate"] | None = None
    policy_version: str | None = None
    engine: Literal["vertex", "offline"]
    model: str
    degraded: bool
    degraded_reason: str | None = None
    latency_ms: float
    model_latency_ms: float
    tokens_in: int
    tokens_out: int
    tokens_thinking: int = Field(default=0, description="Thinking tokens: billed as output, not in tokens_out.")
    tokens_cached: int = Field(default=0, description="Prompt tokens served from the context cache (in tokens_in).")
    cost_usd: float | None = Field(default=None, description="Priced from config/engine/pricing.yaml; None = unknown.")
    tokens_estimated: bool
    agent_id: str | None = None
    request_id: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)


class NbaRecommended(Event):
    event_type: Literal["nba.recommended"] = "nba.recommended"
    suggestion_id: str
    customer_key: str
    segment: str
    channel: str
    intent: str
    sentiment_score: float
    churn_risk: float
    rules_version: str
    candidates: list[Score]
    eligible_count: int
    suppressed: list[Suppressed]
    primary_offer_id: str | None
    fallback_offer_id: str | None
    model_choice_overridden: bool
    agent_id: str | None = None


class Diff(BaseModel):
    owner_changed: int
    actions_added: int
    actions_removed: int
    due_dates_moved: int
    resolver_overridden: bool
    kb_suggested_used: int


class NextStepsConfirmed(Event):
    event_type: Literal["next_steps.confirmed"] = "next_steps.confirmed"
    suggestion_id: str
    customer_key: str
    ticket_id: str
    agent_id: str | None
    resolver_group: str
    queue_code: str
    suggested_actions: int
    confirmed_actions: int
    diff: Diff


class ResolverOverridden(Event):
    event_type: Literal["resolver.overridden"] = "resolver.overridden"
    suggestion_id: str
    customer_key: str
    ticket_id: str
    agent_id: str | None
    suggested_group: str
    suggested_queue: str
    final_group: str
    final_queue: str


class FeedbackRecorded(Event):
    event_type: Literal["feedback.recorded"] = "feedback.recorded"
    suggestion_id: str
    capability: str
    prompt_version: str
    engine: str
    customer_key: str
    agent_id: str | None
    rating: Rating | None
    rating_source: str | None
    similarity: float | None
    nba_offer_id: str | None
    nba_outcome: str | None
    segment: str | None
    csat: int | None
    has_comment: bool = Field(description="Comments stay in Firestore: free text may hold personal data.")


class TicketClosedEvent(Event):
    event_type: Literal["ticket.closed"] = "ticket.closed"
    ticket_id: str
    customer_key: str
    channel: str
    journey: str
    category: str
    opened_at: datetime
    closed_at: datetime
    handoffs: int
    handle_time_s: float
    after_contact_work_s: float
    resolution_code: str
    csat: int | None
    ai_assisted: bool
    next_steps_confirmed: bool


class RepeatContact(Event):
    event_type: Literal["ticket.repeat_contact"] = "ticket.repeat_contact"
    earlier_ticket_id: str
    later_ticket_id: str
    customer_key: str
    category: str
    days_between: float


class PrivacyRequestAudited(Event):
    event_type: Literal["privacy.request"] = "privacy.request"
    case_id: str
    kind: Literal["access", "erasure"]
    agent_id: str | None
    request_id: str | None
    customer_key: str | None = Field(default=None, description="Access only; an erasure's record has none.")
    counts: dict[str, int]


KPI_EVENTS: tuple[type[Event], ...] = (
    SuggestionGenerated,
    NbaRecommended,
    NextStepsConfirmed,
    ResolverOverridden,
    FeedbackRecorded,
    TicketClosedEvent,
    RepeatContact,
    PrivacyRequestAudited,
    AuditCustomerAccess,
    CommitmentEvent,
)
"""Every event schema the product publishes (``commitment.*`` shares one schema)."""
