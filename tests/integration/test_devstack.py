"""The local stack (scripts/devstack.py, `cx stack up`) serves the company-data paths of docs/data-in-out.md:
change events published on the emulator reach snapshot_sync as Terraform's push subscription delivers them
(retries, then the dead-letter topic), and the privacy team answers requests through the local front door.
Each function runs in its own functions-framework process, as `up` starts it."""

from __future__ import annotations

import json
import os
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

import main
from scripts.devstack import FUNCTIONS, PushBridge, Route, call, default_routes, desktop_server, function_servers
from shared.settings import Settings
from tests.conftest import ISSUER
from tests.integration.test_snapshot_sync import T0, customer, event, interaction, new_id

pytestmark = pytest.mark.integration


def test_up_serves_every_entry_point_and_pushes_to_every_event_function() -> None:
    assert set(FUNCTIONS) == set(main.__all__) - {"outbox_drain"}  # drained by hand locally: `cx dlq drain`
    routes = default_routes()
    assert {r.function for r in routes} == set(main.EVENT_FUNCTIONS) - {"outbox_drain"}
    parked = {r.function: r.dead_letter_topic for r in routes}
    assert parked["snapshot_sync"] == "cx-snapshot-sync-dlq" and parked["ticket_closed"] == "cx-ticket-closed-dlq"
    assert parked["commitment_sweep"] is None  # as in Terraform: a missed tick is superseded by the next


@pytest.fixture(scope="module")
def stack(emulators: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    env = {**os.environ, "CX_MODEL_BACKEND": "offline"}
    env.pop("CX_PROJECT", None)
    env.pop("GOOGLE_CLOUD_PROJECT", None)
    logs = tmp_path_factory.mktemp("devstack-logs")
    with (
        function_servers(logs, names=["snapshot_sync", "privacy_request"], env=env) as urls,
        desktop_server(urls, issuer=ISSUER) as page,
    ):
        yield {"urls": urls, "page": page}


@pytest.fixture
def subscriptions(settings: Settings) -> Iterator[Any]:
    """Fresh pull subscriptions (other tests publish on the same topics): name -> topic."""
    from google.cloud import pubsub_v1

    subscriber = pubsub_v1.SubscriberClient()
    created: list[str] = []

    def make(topic: str) -> str:
        name = f"test-devstack-{uuid.uuid4().hex[:8]}"
        path = subscriber.subscription_path(settings.gcp_project_or_local, name)
        subscriber.create_subscription(name=path, topic=f"projects/{settings.gcp_project_or_local}/topics/{topic}")
        created.append(path)
        return name

    yield make
    for path in created:
        subscriber.delete_subscription(subscription=path)
    subscriber.close()


def publish(settings: Settings, data: bytes, **attributes: str) -> None:
    from google.cloud import pubsub_v1

    publisher = pubsub_v1.PublisherClient()
    topic = publisher.topic_path(settings.gcp_project_or_local, settings.snapshot_sync_topic)
    publisher.publish(topic, data, **attributes).result(timeout=30)


def pull_all(settings: Settings, name: str) -> list[Any]:
    from google.cloud import pubsub_v1

    subscriber = pubsub_v1.SubscriberClient()
    path = subscriber.subscription_path(settings.gcp_project_or_local, name)
    out: list[Any] = []
    with subscriber:
        while msgs := subscriber.pull(subscription=path, max_messages=50, timeout=5).received_messages:
            subscriber.acknowledge(subscription=path, ack_ids=[m.ack_id for m in msgs])
            out += [m.message for m in msgs]
    return out


def sync_through_the_bridge(settings: Settings, urls: dict[str, str], subscriptions: Any) -> tuple[str, Any]:
    """A customer and a binary-mode interaction published to cx-snapshot-sync, delivered by the push bridge."""
    sync_sub = subscriptions(settings.snapshot_sync_topic)
    cid = new_id()
    publish(settings, json.dumps(event("customer.upserted", customer(cid, T0))).encode())
    change = interaction(cid, 1)
    binary = {"ce-specversion": "1.0", "ce-id": uuid.uuid4().hex, "ce-source": "urn:test:crm"}
    publish(settings, json.dumps(change).encode(), **binary, **{"ce-type": "cx.interaction.recorded.v1"})
    route = Route("snapshot_sync", sync_sub, settings.snapshot_sync_dlq_topic)
    bridge = PushBridge(urls, [route], max_attempts=3, retry_delay_s=0, wait_s=5)
    return cid, bridge


def test_change_events_published_locally_are_applied_and_failures_parked(
    stack: dict[str, Any], runtime: Any, settings: Settings, subscriptions: Any
) -> None:
    dlq_sub = subscriptions(settings.snapshot_sync_dlq_topic)
    cid, bridge = sync_through_the_bridge(settings, stack["urls"], subscriptions)
    orphan = json.dumps(event("interaction.recorded", interaction(new_id(), 2))).encode()  # its customer never comes
    publish(settings, orphan, origin="crm")
    publish(settings, b"not json")
    try:
        outcomes = bridge.drain()
    finally:
        bridge.stop()
    assert outcomes["parked"] == 1  # the orphan, after three failed deliveries
    assert outcomes[200] >= 3  # the customer, the interaction (after a retry if it came first), the invalid one
    snap = runtime.snapshots.get_snapshot(cid)
    assert snap.customer.profile.name == "Robin Example" and [i.interaction_id for i in snap.interactions] == ["I-1"]
    stored = runtime.firestore.document(f"customers/{cid}/interactions/I-1").get().to_dict()
    assert stored["expire_at"] == stored["occurred_at"] + timedelta(
        days=runtime.retention.firestore["interactions"].days
    )
    parked = {m.data: dict(m.attributes) for m in pull_all(settings, dlq_sub)}
    assert set(parked) == {orphan, b"not json"}
    assert parked[orphan]["CloudPubSubDeadLetterSourceDeliveryCount"] == "3" and parked[orphan]["origin"] == "crm"
    assert parked[b"not json"]["source"] == "snapshot_sync" and "not JSON" in parked[b"not json"]["error"]


def sign_in(page: str, user: str) -> dict[str, str]:
    login = urllib.request.Request(
        page + "auth/login", data=json.dumps({"user": user}).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(login, timeout=10) as resp:
        return {"Cookie": resp.headers["Set-Cookie"].split(";")[0]}


def test_the_privacy_team_answers_requests_through_the_local_front_door(
    stack: dict[str, Any], runtime: Any, settings: Settings, subscriptions: Any
) -> None:
    cid, bridge = sync_through_the_bridge(settings, stack["urls"], subscriptions)
    try:
        bridge.drain()
    finally:
        bridge.stop()
    api = stack["page"] + "api/privacy_request"
    access = {"kind": "access", "customer_id": cid, "case_id": "DSAR-LOCAL-1"}
    assert call(api, access)[0] == 401  # not signed in
    assert call(api, access, sign_in(stack["page"], "agent-demo"))[0] == 403  # an agent is not the privacy team
    privacy = sign_in(stack["page"], "privacy-demo")
    status, body = call(api, access, privacy)
    assert status == 200 and body["export"]["customer_id"] == cid
    assert body["export"]["snapshot"]["customer"]["profile"]["name"] == "Robin Example"
    assert [i["interaction_id"] for i in body["export"]["snapshot"]["interactions"]] == ["I-1"]
    status, erased = call(api, {**access, "kind": "erasure", "case_id": "DSAR-LOCAL-2"}, privacy)
    # the customer document, its interaction and the prepared context the sync built from them
    assert status == 200 and erased["erased"]["snapshot"] == 3 and not any(erased["remaining"].values())
    assert call(api, access, privacy)[0] == 404  # nothing is held any more
    assert not runtime.firestore.document(f"customers/{cid}").get().exists
