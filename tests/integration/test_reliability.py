"""Never lose, never hang, never overwrite silently: outages and contention against the real emulators."""

from __future__ import annotations

import http.client
import json
import random
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from scripts.bench_reliability import (
    CE_HEADERS,
    HEADERS,
    T0,
    app_client,
    close_payload,
    deliver,
    free_port,
    kill,
    outage_client,
    post_json,
    serve,
    valid_bodies,
)
from shared.platform import clients
from shared.platform.events import FirestoreOutbox, drain_outbox
from shared.runtime import Runtime, set_default_runtime
from tests.conftest import EventSink

pytestmark = pytest.mark.integration


def test_events_accepted_by_an_instance_killed_during_a_pubsub_outage_are_all_found(
    runtime: Runtime, event_sink: EventSink, tmp_path: Path
) -> None:
    outbox_name = f"outbox-{uuid.uuid4().hex[:8]}"
    env = {
        "PUBSUB_EMULATOR_HOST": f"127.0.0.1:{free_port()}",  # nothing listens: Pub/Sub is down
        "CX_OUTBOX_COLLECTION": outbox_name,
        "CX_MODEL_BACKEND": "offline",
        "CX_ROUTER_ARTEFACT": "",
        "WORKERS": "1",
        "THREADS": "4",
    }
    proc, url = serve("context_summary", env, tmp_path / "instance.log")
    accepted = []
    try:
        for _ in range(6):
            status, body, _ = post_json(url, {"customer_id": "C-1004"})
            assert status == 200, body
            accepted.append(body["suggestion_id"])
        # The server's own answer to a lower-case method is the JSON error too (gunicorn lets it through).
        parts = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        conn.request("post", "/", body=b'{"customer_id": "C-1004"}', headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        assert resp.status == 405 and json.loads(resp.read())["error"]["code"] == "method_not_allowed"
        conn.close()
    finally:
        kill(proc)  # SIGKILL: no shutdown hook runs, nothing is flushed

    outbox = FirestoreOutbox(runtime.firestore, outbox_name)
    # each accepted call left two events: its suggestion and its audit.customer_access record
    assert drain_outbox(outbox, clients.publisher_client(runtime.settings)) == 2 * len(accepted)
    assert outbox.pending() == []
    found = event_sink.collect(len(accepted), lambda e: e.get("suggestion_id") in accepted)
    assert sorted(e["suggestion_id"] for e in found) == sorted(accepted)


def test_a_firestore_outage_answers_503_with_retry_after_and_ticket_closed_raises(
    settings: Any, tmp_path: Path, seeded: Any
) -> None:
    from scripts.emulators import Emulators
    from scripts.seed import SEEDS, build

    emu = Emulators(tmp_path / "own-firestore", services=("firestore",)).start()  # the session's keeps running
    try:
        rt = Runtime(settings)
        rt.__dict__["firestore"] = outage_client(emu.firestore_host, settings)
        customer, _ = build(SEEDS[3])
        rt.snapshots.put_customer(customer)
        set_default_runtime(rt)
        summary = app_client("context_summary")
        assert summary.post("/", json={"customer_id": customer.customer_id}, headers=HEADERS).status_code == 200
        emu.stop()

        for name, body in [
            ("context_summary", {"customer_id": customer.customer_id}),
            ("feedback", valid_bodies()["feedback"]),
            ("confirm_next_steps", valid_bodies()["confirm_next_steps"]),
        ]:
            resp = app_client(name).post("/", json=body, headers=HEADERS)
            assert resp.status_code == 503, (name, resp.get_json())
            assert resp.headers["Retry-After"] == "5" and resp.get_json()["error"]["code"] == "unavailable"
        # Pub/Sub sees a failure (the function raised) and redelivers.
        status = deliver(app_client("ticket_closed"), close_payload(0, customer.customer_id, random.Random(1)))
        assert status == 500
    finally:
        set_default_runtime(None)
        emu.stop()


def _ticket(runtime: Runtime, customer: str = "C-1018") -> str:  # not a customer other tests count tickets of
    ticket = f"T-CF-{uuid.uuid4().hex[:6]}"
    runtime.firestore.collection("customers").document(customer).collection("tickets").document(ticket).set(
        {"ticket_id": ticket, "subject": "double charge", "status": "open", "opened_at": T0}
    )
    return ticket


def test_concurrent_different_confirmations_one_wins_the_rest_get_409_with_the_state(
    runtime: Runtime, event_sink: EventSink
) -> None:
    ticket = _ticket(runtime)
    body = {**valid_bodies()["next_steps"], "customer_id": "C-1018", "ticket_id": ticket}
    suggestion = app_client("next_steps").post("/", json=body, headers=HEADERS).get_json()
    client = app_client("confirm_next_steps")

    def confirm(i: int) -> Any:
        body = {
            "suggestion_id": suggestion["suggestion_id"],
            "customer_id": "C-1018",
            "ticket_id": ticket,
            "actions": [{"owner": "agent", "description": f"Refund variant {i}", "due_by": None}],
            "resolver_group": "Customer Service",
        }
        return client.post("/", json=body, headers=HEADERS)

    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(confirm, range(12)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [409] * 11, statuses
    winner = next(a.get_json() for a in answers if a.status_code == 200)
    assert winner["version"] == 1
    stored = (
        runtime.firestore.collection("customers")
        .document("C-1018")
        .collection("tickets")
        .document(ticket)
        .get()
        .to_dict()["next_steps"]
    )
    assert stored["version"] == 1
    for refused in (a.get_json()["error"] for a in answers if a.status_code == 409):
        assert refused["code"] == "conflict" and refused["current"]["version"] == 1
        assert refused["current"]["confirmed"]["actions"] == stored["confirmed"]["actions"]

    # Confirming again on top of version 1 is allowed; an outdated base version is not.
    again = confirm(99)
    assert again.status_code == 409 and again.get_json()["error"]["current"]["version"] == 1
    body = {
        "suggestion_id": suggestion["suggestion_id"],
        "customer_id": "C-1018",
        "ticket_id": ticket,
        "actions": [],
        "resolver_group": "Customer Service",
        "base_version": 1,
    }
    assert client.post("/", json=body, headers=HEADERS).get_json()["version"] == 2

    runtime.events.flush()
    events = event_sink.collect(
        3, lambda e: e.get("event_type") == "next_steps.confirmed" and e.get("ticket_id") == ticket, attempts=3
    )
    assert len({e["event_id"] for e in events}) == 2  # one per accepted confirmation


def test_concurrent_repeats_of_one_feedback_event_count_once_without_errors(runtime: Runtime) -> None:
    from datetime import UTC, datetime

    suggestion_id = uuid.uuid4().hex
    runtime.firestore.collection(runtime.settings.suggestions_collection).document(suggestion_id).set(
        {
            "capability": "next_best_action",
            "customer_id": "C-1004",
            "customer_key": "k",
            "prompt_version": "v",
            "engine": "offline",
            "offers": ["OFFER-X"],
            "segment": "gold",
            "created_at": datetime.now(UTC),
            "agent_id": "agent-demo",
        }
    )  # feedback only on one's own suggestions (HEADERS: agent-demo)
    body = {
        "event_id": f"ev-{uuid.uuid4().hex}",
        "suggestion_id": suggestion_id,
        "capability": "next_best_action",
        "nba": {"offer_id": "OFFER-X", "outcome": "accepted"},
    }
    client = app_client("feedback")
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda _: client.post("/", json=body, headers=HEADERS), range(24)))
    assert {a.status_code for a in answers} == {200}
    assert sorted(a.get_json()["duplicate"] for a in answers) == [False] + [True] * 23
    from google.cloud.firestore import FieldFilter

    shards = (
        runtime.firestore.collection(runtime.settings.offer_stats_collection)
        .where(filter=FieldFilter("offer_id", "==", "OFFER-X"))
        .stream()
    )
    assert sum(d.to_dict().get("accepted", 0) for d in shards) == 1


def test_concurrent_closes_of_one_customer_all_succeed_and_count_exactly(runtime: Runtime) -> None:
    rng = random.Random(3)
    before = runtime.snapshots.stats("C-1007")
    payloads = [close_payload(i, "C-1007", rng, f"T-OC{uuid.uuid4().hex[:4]}-") for i in range(40)]
    client = app_client("ticket_closed")
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda p: deliver(client, p), payloads + payloads[::-1]))
    assert set(statuses) == {200}
    after = runtime.snapshots.stats("C-1007")
    assert after.interactions_total - before.interactions_total == 40
    by_category = {c: sum(1 for p in payloads if p["category"] == c) for c in ("billing", "outage", "delivery")}
    for category, n in by_category.items():
        assert after.category_counts.get(category, 0) - before.category_counts.get(category, 0) == n
    assert runtime.snapshots.get_snapshot("C-1007").customer.stats == after


def test_a_close_whose_events_failed_publishes_them_on_redelivery(
    runtime: Runtime, event_sink: EventSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.capabilities.ticket_closed import handle
    from shared.platform.errors import Unavailable

    payload = close_payload(0, "C-1003", random.Random(9), f"T-RS{uuid.uuid4().hex[:4]}-")
    data = json.dumps(payload).encode()

    def down(*events: Any) -> Any:
        raise Unavailable("events could not be stored; try again")

    with monkeypatch.context() as patched:
        patched.setattr(runtime.events, "publish", down)
        patched.setattr(runtime.events, "publish_all", down)
        with pytest.raises(Unavailable):  # Pub/Sub and the outbox both down after the snapshot commit
            handle(data, runtime)
    assert handle(data, runtime) == "resumed"
    assert handle(data, runtime) == "duplicate"
    before = runtime.snapshots.stats("C-1003").interactions_total
    assert handle(data, runtime) == "duplicate" and runtime.snapshots.stats("C-1003").interactions_total == before
    runtime.events.flush()
    (event,) = event_sink.collect(
        1, lambda e: e.get("event_type") == "ticket.closed" and e.get("ticket_id") == payload["ticket_id"]
    )
    assert event["customer_key"] and event["closed_at"].startswith(payload["closed_at"][:10])


def test_the_scheduled_outbox_drain_function_empties_the_outbox(runtime: Runtime, event_sink: EventSink) -> None:
    from shared.capabilities.events import SuggestionGenerated

    events = [
        SuggestionGenerated(
            suggestion_id=f"drained-{uuid.uuid4().hex[:6]}",
            capability="context_summary",
            customer_key="k",
            prompt_version="v",
            engine="offline",
            model="m",
            degraded=False,
            latency_ms=1.0,
            model_latency_ms=0.1,
            tokens_in=1,
            tokens_out=1,
            tokens_estimated=True,
        )
        for _ in range(3)
    ]
    for event in events:
        runtime.outbox.save(runtime.events.topic_path, event, "earlier outage")
    # What Cloud Scheduler's message on cx-outbox-drain looks like once pushed to the function.
    status = (
        app_client("outbox_drain")
        .post(
            "/",
            json={"message": {"data": "", "messageId": "tick-1"}},
            headers={**CE_HEADERS, "ce-id": uuid.uuid4().hex},
        )
        .status_code
    )
    assert status == 200
    ids = {e.event_id for e in events}
    assert [p for p in runtime.outbox.pending() if p[0] in ids] == []
    found = event_sink.collect(3, lambda e: e.get("event_id") in ids)
    assert {e["event_id"] for e in found} == ids
