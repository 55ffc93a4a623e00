"""Retention on the emulators: every store config/data/retention.yaml names gets ``expire_at`` as a Firestore
timestamp on every path that writes it, exactly its time field plus the configured days (the TTL policies in
infra/terraform/firestore.tf delete on that field)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from google.api_core.datetime_helpers import DatetimeWithNanoseconds

from shared.data.snapshots import Interaction
from shared.platform.events import Event
from shared.runtime import Runtime
from tests.integration.test_feedback import eid, post, reply_suggestion
from tests.integration.test_next_steps import steps
from tests.integration.test_snapshot_sync import customer, deliver, event, interaction, new_id
from tests.integration.test_ticket_closed import T0, close, new_customer
from tests.integration.test_ticket_closed import deliver as deliver_close

pytestmark = pytest.mark.integration


@pytest.fixture
def sync_client() -> Any:
    from functions_framework import create_app

    from shared.settings import ROOT

    return create_app(target="snapshot_sync", source=str(ROOT / "main.py")).test_client()


@pytest.fixture
def close_client() -> Any:
    from functions_framework import create_app

    from shared.settings import ROOT

    return create_app(target="ticket_closed", source=str(ROOT / "main.py")).test_client()


def stored(rt: Runtime, collection: str, doc_id: str) -> dict[str, Any]:
    snap = rt.firestore.collection(collection).document(doc_id).get()
    assert snap.exists, f"{collection}/{doc_id} not written"
    return snap.to_dict() or {}


def assert_expires(rt: Runtime, store: str, doc: dict[str, Any], written: tuple[datetime, datetime] | None) -> None:
    """``expire_at`` is a Firestore timestamp, exactly the rule's time field + days; that field is "now" when
    ``written`` brackets the write."""
    rule = rt.retention.firestore[store]
    expire = doc["expire_at"]
    assert isinstance(expire, DatetimeWithNanoseconds), f"{store}: expire_at stored as {type(expire).__name__}"
    assert expire == doc[rule.from_] + timedelta(days=rule.days), store
    if written is not None:
        before, after = written
        assert before <= doc[rule.from_] <= after, f"{store}: {rule.from_} is not the time of the write"


def interactions_of(rt: Runtime, cid: str) -> list[dict[str, Any]]:
    col = rt.firestore.collection(rt.settings.customers_collection).document(cid).collection("interactions")
    return [d.to_dict() or {} for d in col.stream()]


def test_every_store_in_the_retention_config_is_written_with_its_expiry(
    runtime: Runtime, sync_client: Any, close_client: Any
) -> None:
    checked: set[str] = set()
    before = datetime.now(UTC)

    # interactions: live sync, ticket close, and the bulk path the benchmarks and evaluations use
    cid = new_id()
    assert deliver(sync_client, event("customer.upserted", customer(cid, T0))) == 200
    assert deliver(sync_client, event("interaction.recorded", interaction(cid, 1))) == 200
    (synced,) = interactions_of(runtime, cid)
    assert_expires(runtime, "interactions", synced, None)
    closer = new_customer(runtime)
    assert deliver_close(close_client, close(closer, "T-RET", T0, T0 + timedelta(hours=1))) == 200
    (closed,) = interactions_of(runtime, closer)
    assert_expires(runtime, "interactions", closed, None)
    bulk = Interaction(interaction_id="I-BULK", channel="email", summary="x", occurred_at=T0, sentiment="neutral")
    runtime.snapshots.put_many(closer, [bulk])
    runtime.snapshots.record_interaction(closer, bulk.model_copy(update={"interaction_id": "I-ONE"}))
    for doc in interactions_of(runtime, closer):
        assert_expires(runtime, "interactions", doc, None)
    assert len(interactions_of(runtime, closer)) == 3
    checked.add("interactions")

    # suggestions and feedback: a reply draft, then the agent's rating of it
    draft = reply_suggestion()
    suggestion = stored(runtime, runtime.settings.suggestions_collection, draft["suggestion_id"])
    feedback_id = eid()
    body = {"event_id": feedback_id, "suggestion_id": draft["suggestion_id"], "capability": "reply_draft"}
    assert post("feedback", body | {"final_text": draft["reply"]}).status_code == 200
    feedback = stored(runtime, runtime.settings.feedback_collection, feedback_id)

    # next steps
    plan = post("next_steps", steps()).get_json()
    next_steps = stored(runtime, runtime.settings.next_steps_collection, plan["suggestion_id"])

    # the event outbox (an event whose publish failed)
    parked = Event(event_id=f"retention-{uuid.uuid4().hex}", event_type="retention.test")
    runtime.outbox.save("projects/p/topics/cx-events", parked, "publish timed out")
    outbox = stored(runtime, runtime.settings.outbox_collection, parked.event_id)

    written = (before, datetime.now(UTC))
    for store, doc in {
        "suggestions": suggestion,
        "feedback": feedback,
        "next_steps": next_steps,
        "event_outbox": outbox,
    }.items():
        assert_expires(runtime, store, doc, written)
        checked.add(store)
    assert checked == set(runtime.retention.firestore), "a store in config/data/retention.yaml is not covered"
