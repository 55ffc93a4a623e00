"""Privacy requests end to end on the emulators and the local DuckDB warehouse: a customer seeded through
snapshot sync uses every capability, is exported, then erased, and afterwards nothing links to them."""

from __future__ import annotations

import dataclasses
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from functions_framework import create_app

from scripts import privacy
from scripts.seed import SEEDS, build, seed_customers
from shared.capabilities.events import SuggestionGenerated
from shared.platform.events import FirestoreOutbox
from shared.runtime import Runtime
from shared.safety.pii.base import customer_key
from shared.settings import ROOT
from tests.conftest import EventSink, agent_headers

pytestmark = pytest.mark.integration
AGENT = agent_headers("agent-9")  # signed by the local issuer, as the front door would


def post(target: str, body: dict[str, Any], headers: dict[str, str] = AGENT) -> Any:
    return create_app(target=target, source=str(ROOT / "main.py")).test_client().post("/", json=body, headers=headers)


def everything_in_firestore(rt: Runtime) -> str:
    """Every document of every collection, nested ones included, as one text."""
    parts: list[str] = []

    def walk(collection: Any) -> None:
        for doc in collection.stream():
            parts.append(f"{doc.reference.path} {doc.to_dict()}")
            for sub in doc.reference.collections():
                walk(sub)

    for col in rt.firestore.collections():
        walk(col)
    return "\n".join(parts)


def everything_in_warehouse(con: Any) -> str:
    tables = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "'cx_analytics' AND table_type = 'BASE TABLE'"
        ).fetchall()
    ]
    return "\n".join(f"{t} {con.execute(f'SELECT * FROM cx_analytics.{t}').fetchall()}" for t in tables)


def test_access_then_erasure_leaves_nothing_that_links_to_the_customer(
    runtime: Runtime, event_sink: EventSink, tmp_path: Path
) -> None:
    from google.cloud import pubsub_v1

    from scripts.warehouse_db import connect, load_from_subscription, materialize

    sub = pubsub_v1.SubscriberClient()
    wh_path = sub.subscription_path(runtime.settings.gcp_project_or_local, f"priv-{uuid.uuid4().hex[:8]}")
    sub.create_subscription(name=wh_path, topic=runtime.events.topic_path)
    cid = f"C-{uuid.uuid4().hex[:6].upper()}"
    seed = dataclasses.replace(SEEDS[1], customer_id=cid, name="Erika Mustermann")  # open outage ticket
    customer, _ = build(seed)
    key = customer_key(cid, runtime.settings.pseudonym_key)
    ticket = f"T-{cid[2:]}-01"
    try:
        assert seed_customers(runtime, [seed]) == {"applied": 1 + len(build(seed)[1])}
        # the customer uses the product: a draft with feedback, next steps confirmed, the ticket closed
        draft = post(
            "reply_draft",
            {"customer_id": cid, "message": "Das Internet ist schon wieder weg!", "channel": "email", "language": "de"},
        ).get_json()
        assert (
            post(
                "feedback",
                {
                    "event_id": f"fb-{uuid.uuid4().hex}",
                    "suggestion_id": draft["suggestion_id"],
                    "capability": "reply_draft",
                    "final_text": draft["reply"],
                    "comment": "Erika Mustermann wants a call back",
                },
            ).status_code
            == 200
        )
        steps = post(
            "next_steps",
            {
                "customer_id": cid,
                "ticket_id": ticket,
                "channel": "chat",
                "conversation_end_time": "2026-11-19T15:00:00+01:00",
                "transcript": [
                    {"speaker": "customer", "text": "Mein Internet fällt ständig aus."},
                    {"speaker": "agent", "text": "Ich schicke morgen einen Techniker vorbei."},
                ],
            },
        ).get_json()
        confirmed = post(
            "confirm_next_steps",
            {
                "suggestion_id": steps["suggestion_id"],
                "customer_id": cid,
                "ticket_id": ticket,
                "actions": [{"owner": "agent", "description": "Techniker schicken", "due_by": "2026-11-20"}],
                "resolver_group": "Technical Support",
            },
        )
        assert confirmed.status_code == 200, confirmed.get_json()
        close = {
            "ticket_id": ticket,
            "customer_id": cid,
            "channel": "chat",
            "journey": "outage",
            "category": "outage",
            "queue_history": ["Technical Support"],
            "opened_at": "2026-11-18T09:00:00Z",
            "closed_at": "2026-11-19T15:00:00Z",
            "handle_time_s": 300,
            "after_contact_work_s": 30,
            "resolution_code": "technician_sent",
            "csat": 2,
            "ai_assisted": True,
        }
        from shared.capabilities.ticket_closed import handle as ticket_closed

        assert ticket_closed(json.dumps(close).encode(), runtime) == "processed"
        FirestoreOutbox(runtime.firestore, runtime.settings.outbox_collection).save(
            runtime.events.topic_path,
            SuggestionGenerated(
                suggestion_id="s-outbox",
                capability="reply_draft",
                customer_key=key,
                prompt_version="v1",
                engine="offline",
                model="offline",
                degraded=False,
                latency_ms=1,
                model_latency_ms=1,
                tokens_in=1,
                tokens_out=1,
                tokens_estimated=True,
            ),
            "publish failed",
        )
        runtime.events.flush()
        con = connect(tmp_path / "warehouse.duckdb")
        assert sum(load_from_subscription(con, sub, wh_path, timeout=5) for _ in range(3)) >= 4
        materialize(con)
        before_fs, before_wh = everything_in_firestore(runtime), everything_in_warehouse(con)
        assert cid in before_fs and "Erika" in before_fs and key in before_wh and ticket in before_wh

        # access: one JSON document with everything held
        out = tmp_path / "export.json"
        warehouse = privacy.DuckDbWarehouse(con)
        assert (
            privacy.main(["access", cid, "--case", "DSAR-1", "--out", str(out)], runtime=runtime, warehouse=warehouse)
            == 0
        )
        export = json.loads(out.read_text("utf-8"))
        assert export["snapshot"]["customer"]["profile"]["name"] == "Erika Mustermann"
        assert len(export["snapshot"]["interactions"]) == seed.interactions + 1  # + the close
        # the close is counted in a stats shard (sharded counters): base + shards, and the shards are exported too
        shards = export["snapshot"].get("stats_shards", [])
        assert (
            export["snapshot"]["customer"]["stats"]["interactions_total"]
            + sum(s.get("interactions_total", 0) for s in shards)
            == seed.interactions + 1
        )
        assert next(t for t in export["snapshot"]["tickets"] if t["id"] == ticket)["next_steps"]["confirmed"]
        assert {s["capability"] for s in export["suggestions"]} >= {"reply_draft", "next_steps"}
        assert [n["id"] for n in export["next_steps"]] == [steps["suggestion_id"]]
        assert export["feedback"][0]["comment"] == "[CUSTOMER_NAME] wants a call back"  # held minimized
        assert [e["id"] for e in export["event_outbox"]] and export["ticket_closes"]
        types = {e["data"]["event_type"] for e in export["warehouse_events"]}
        assert {"suggestion.generated", "feedback.recorded", "ticket.closed"} <= types

        # erasure: the function, for the privacy role only
        runtime.__dict__["warehouse"] = warehouse  # the deployed runtime uses BigQuery
        body = {"kind": "erasure", "customer_id": cid, "case_id": "DSAR-2"}
        assert post("privacy_request", body).status_code == 403  # an agent may not
        resp = post("privacy_request", body, agent_headers("dpo-1", "privacy"))
        assert resp.status_code == 200, resp.get_json()
        result = resp.get_json()
        assert result["erased"]["snapshot"] > seed.interactions and result["erased"]["warehouse.events_raw"] >= 4
        assert set(result["remaining"].values()) == {0}
        materialize(con)  # the daily materialization cannot bring anything back
        after_fs, after_wh = everything_in_firestore(runtime), everything_in_warehouse(con)
        links = [
            cid,
            key,
            customer.profile.name,
            customer.profile.email,
            customer.profile.phone,
            ticket,
            draft["suggestion_id"],
            steps["suggestion_id"],
            customer.account_ids[0],
        ]
        assert [x for x in links if x in after_fs] == []
        assert [x for x in links if x in after_wh] == []
        assert "DSAR" not in after_fs  # nor did erasure leave a record keyed to the person

        runtime.events.flush()
        audits = event_sink.collect(2, lambda e: e.get("event_type") == "privacy.request")
        by_case = {e["case_id"]: e for e in audits}
        assert by_case["DSAR-1"]["customer_key"] == key and by_case["DSAR-1"]["kind"] == "access"
        assert by_case["DSAR-2"]["customer_key"] is None and by_case["DSAR-2"]["agent_id"] == "dpo-1"
        assert cid not in json.dumps(by_case["DSAR-2"])
        assert privacy.main(["access", cid, "--case", "DSAR-3"], runtime=runtime, warehouse=warehouse) == 1
    finally:
        runtime.__dict__.pop("warehouse", None)
        sub.delete_subscription(subscription=wh_path)
        sub.close()


def test_free_text_for_quality_work_is_stored_pseudonymized(runtime: Runtime) -> None:
    cid = f"C-{uuid.uuid4().hex[:6].upper()}"
    seed = dataclasses.replace(SEEDS[0], customer_id=cid, name="Harriet Quill")
    seed_customers(runtime, [seed])
    card = "4111 1111 1111 1111"
    draft = post(
        "reply_draft",
        {
            "customer_id": cid,
            "message": f"Please refund to my card {card}, Harriet",
            "channel": "email",
            "language": "en",
        },
    ).get_json()
    assert "Harriet" in draft["reply"]  # the agent sees clear text
    fb_id = f"fb-{uuid.uuid4().hex}"
    assert (
        post(
            "feedback",
            {
                "event_id": fb_id,
                "suggestion_id": draft["suggestion_id"],
                "capability": "reply_draft",
                "final_text": draft["reply"],
                "comment": f"Harriet Quill read out {card}",
            },
        ).get_json()["rating"]
        == "used_unchanged"
    )
    stored = runtime.firestore.collection("suggestions").document(draft["suggestion_id"]).get().to_dict()
    feedback = runtime.firestore.collection("feedback").document(fb_id).get().to_dict()
    assert stored["text_pseudonymized"] is True and "[CUSTOMER_" in stored["text"]
    for text in (stored["text"], feedback["final_text"], feedback["comment"]):
        assert "Harriet" not in text and "Quill" not in text and card not in text
    ticket = f"T-{cid[2:]}-C01"
    steps = post(
        "next_steps",
        {
            "customer_id": cid,
            "ticket_id": ticket,
            "channel": "chat",
            "conversation_end_time": "2026-11-19T15:00:00+00:00",
            "transcript": [
                {"speaker": "customer", "text": f"Harriet here, my card is {card}."},
                {"speaker": "agent", "text": "I will refund the charge to your card by Friday."},
            ],
        },
    ).get_json()
    kept = json.dumps(runtime.next_steps_store.suggestion(steps["suggestion_id"]), default=str)
    assert "Harriet" not in kept and card not in kept
