"""Agent feedback on suggestions: ratings, edits, NBA outcomes, CSAT.

Idempotent on the caller's ``event_id``: the feedback document, the NBA acceptance
counters and the customer's offer outcome are written in one atomic batch whose feedback
write is a *create*: if the event was recorded before, the batch fails as a whole and
nothing is counted twice. No transaction reads anything, so concurrent repeats of one
event never contend for a lock (they were 500s after 12 s). Counters are sharded
(``offer_stats/{offer}__{segment}__{shard}``) to stay within Firestore's sustained write
rate per document; the NBA engine sums the shards. When the agent's final text is given,
the rating bucket is derived from its normalised Levenshtein similarity to the
suggestion, so agents need not click.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.capabilities.events import FeedbackRecorded, Rating
from shared.data.offers import stats_doc_id
from shared.data.snapshots import IDENTIFIERS
from shared.platform.calls import CallContext
from shared.platform.errors import BadRequest, Conflict
from shared.safety.context_policy import minimizer_for

if TYPE_CHECKING:
    from shared.runtime import Runtime

READS = IDENTIFIERS
"""Only to minimize a final text or comment: the customer's identifiers (read by ``minimizer_for``)."""
Capability = Literal["context_summary", "reply_draft", "next_best_action", "next_steps", "closing_message"]


class NbaOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")

    offer_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    outcome: Literal["accepted", "rejected", "converted"]


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    event_id: str = Field(pattern=r"^[A-Za-z0-9._:-]{8,128}$", description="Caller's idempotency key.")
    suggestion_id: str = Field(pattern=r"^[a-f0-9]{32}$")
    capability: Capability
    rating: Rating | None = None
    final_text: str | None = Field(default=None, max_length=20000, description="What the agent actually sent.")
    comment: str | None = Field(default=None, max_length=2000)
    nba: NbaOutcome | None = None
    csat: int | None = Field(default=None, ge=1, le=5)

    @model_validator(mode="after")
    def _something(self) -> FeedbackRequest:
        if not any((self.rating, self.final_text, self.comment, self.nba, self.csat)):
            raise ValueError("give at least one of rating, final_text, comment, nba, csat")
        return self


class FeedbackResponse(BaseModel):
    event_id: str
    suggestion_id: str
    rating: Rating | None
    rating_source: Literal["agent", "edit_distance"] | None
    similarity: float | None
    duplicate: bool = Field(description="This event_id was recorded before; nothing changed.")


class Buckets(BaseModel):
    version: str
    buckets: dict[str, float]

    @classmethod
    def load(cls, path: Path) -> Buckets:
        return cls.model_validate(yaml.safe_load(path.read_text("utf-8")))

    def rate(self, suggested: str, final: str) -> tuple[Rating, float]:
        from rapidfuzz.distance import Levenshtein

        similarity = round(
            float(Levenshtein.normalized_similarity(" ".join(suggested.split()), " ".join(final.split()))), 3
        )
        for bucket in ("used_unchanged", "lightly_edited", "heavily_edited"):
            if similarity >= self.buckets[bucket]:
                return bucket, similarity  # type: ignore[return-value]
        return "not_helpful", similarity


def record(req: FeedbackRequest, rt: Runtime, call: CallContext | None = None) -> FeedbackResponse:
    call = call or CallContext()
    settings = rt.settings
    doc = rt.firestore.collection(settings.suggestions_collection).document(req.suggestion_id).get()
    # Feedback only on one's own suggestions; someone else's is answered like a missing one.
    suggestion: dict[str, Any] = rt.customer_access.own_suggestion(
        call, "feedback", doc.to_dict() if doc.exists else None
    )
    if suggestion["capability"] != req.capability:
        raise Conflict(f"suggestion {req.suggestion_id!r} is a {suggestion['capability']} suggestion")
    if req.nba and req.nba.offer_id not in suggestion.get("offers", []):
        raise BadRequest(
            "offer was not part of this suggestion",
            details=[{"field": "nba.offer_id", "problem": f"must be one of {suggestion.get('offers', [])}"}],
        )
    rating, source, similarity = req.rating, "agent" if req.rating else None, None
    final_text, comment = req.final_text, req.comment
    if final_text is not None or comment is not None:  # stored minimized, like the suggestion's text
        pseudo = minimizer_for(rt.snapshots, suggestion["customer_id"], rt.pii_detector)
        final_text, comment = (pseudo.mask(t) if t is not None else None for t in (final_text, comment))
    if req.final_text is not None and suggestion.get("text"):
        compared = final_text if suggestion.get("text_pseudonymized") else req.final_text
        derived, similarity = rt.feedback_buckets.rate(suggestion["text"], compared)
        if rating is None:
            rating, source = derived, "edit_distance"
    entry = {
        "suggestion_id": req.suggestion_id,
        "capability": req.capability,
        "rating": rating,
        "rating_source": source,
        "similarity": similarity,
        "final_text": final_text,
        "comment": comment,
        "nba": req.nba.model_dump() if req.nba else None,
        "csat": req.csat,
        "agent_id": call.agent_id,
        "customer_key": suggestion["customer_key"],  # privacy requests find feedback by it
        "recorded_at": datetime.now(UTC),
    }
    entry = rt.retention.stamp("feedback", entry)  # config/data/retention.yaml: Firestore TTL on expire_at
    duplicate = not _write(rt, req, suggestion, entry)
    rt.events.publish(
        FeedbackRecorded(  # on repeats too: same event id, consumers de-duplicate
            event_id=req.event_id,
            suggestion_id=req.suggestion_id,
            capability=req.capability,
            prompt_version=suggestion["prompt_version"],
            engine=suggestion["engine"],
            customer_key=suggestion["customer_key"],
            agent_id=call.agent_id,
            rating=rating,
            rating_source=source,
            similarity=similarity,
            nba_offer_id=req.nba.offer_id if req.nba else None,
            nba_outcome=req.nba.outcome if req.nba else None,
            segment=suggestion.get("segment"),
            csat=req.csat,
            has_comment=bool(req.comment),
        )
    )
    call.note(customer_key=suggestion["customer_key"], rating=rating, duplicate=duplicate)
    return FeedbackResponse(
        event_id=req.event_id,
        suggestion_id=req.suggestion_id,
        rating=rating,
        rating_source=source,
        similarity=similarity,
        duplicate=duplicate,
    )  # type: ignore[arg-type]


def _write(rt: Runtime, req: FeedbackRequest, suggestion: dict[str, Any], entry: dict[str, Any]) -> bool:
    """Store the feedback and its counter effects once; False if the event was seen before."""
    from google.api_core.exceptions import AlreadyExists
    from google.cloud import firestore

    settings = rt.settings
    db = rt.firestore
    feedback_ref = db.collection(settings.feedback_collection).document(req.event_id)
    nba = req.nba
    if nba:
        shard = random.randrange(settings.offer_stats_shards)
        segment = suggestion.get("segment", "unknown")
        stats_ref = db.collection(settings.offer_stats_collection).document(
            f"{stats_doc_id(nba.offer_id, segment)}__{shard}"
        )
        outcome_ref = (
            db.collection(settings.customers_collection)
            .document(suggestion["customer_id"])
            .collection("offer_outcomes")
            .document(req.event_id)
        )

    batch = db.batch()
    batch.create(feedback_ref, entry)
    if nba:
        batch.set(
            stats_ref,
            {
                "offer_id": nba.offer_id,
                "segment": segment,
                "offered": firestore.Increment(1 if nba.outcome in ("accepted", "rejected") else 0),
                "accepted": firestore.Increment(1 if nba.outcome == "accepted" else 0),
                "converted": firestore.Increment(1 if nba.outcome == "converted" else 0),
            },
            merge=True,
        )
        batch.set(outcome_ref, {"offer_id": nba.offer_id, "outcome": nba.outcome, "at": entry["recorded_at"]})
    try:
        batch.commit()
    except AlreadyExists:  # the event was recorded before: the whole batch was refused
        return False
    return True
