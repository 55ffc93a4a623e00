"""Each capability reads only what it uses: Firestore documents read per request, counted on the emulator.

The count is taken at the Firestore API (scripts.bench_context.ReadCounter: what Firestore bills as
reads) for the parts of a customer's snapshot; other collections a request reads (commitments,
offers, knowledge base) are not the snapshot and not counted here.
"""

from __future__ import annotations

import importlib
from collections import Counter
from typing import Any

import pytest
from functions_framework import create_app

from scripts.bench_context import ReadCounter
from shared.data.snapshots import Reads
from shared.runtime import Runtime, set_default_runtime
from shared.settings import ROOT
from tests.conftest import agent_headers

pytestmark = pytest.mark.integration
SNAPSHOT_PARTS = ("customers", "context", "orders", "tickets", "interactions", "stats_shards")


def reads(rt: Runtime, target: str, body: dict[str, Any]) -> dict[str, int]:
    """Snapshot documents one request to ``target`` read, by collection (zeros left out)."""
    client = create_app(target=target, source=str(ROOT / "main.py")).test_client()
    set_default_runtime(rt)
    counter = ReadCounter(rt.firestore)
    try:
        client.post("/", json=body, headers=agent_headers())  # warm: models, caches, clients
        with counter.counting():
            resp = client.post("/", json=body, headers=agent_headers())
    finally:
        set_default_runtime(None)
    assert resp.status_code == 200, resp.get_json()
    counted: Counter[str] = counter.by_collection()
    return {part: counted[part] for part in SNAPSHOT_PARTS if counted[part]}


NEXT_STEPS = {
    "customer_id": "C-1005",
    "ticket_id": "T-1005-01",
    "channel": "phone",
    "transcript": [
        {"speaker": "customer", "text": "My router keeps rebooting every hour."},
        {"speaker": "agent", "text": "I'll send you a replacement router by Friday."},
    ],
}


def test_prepared_context_capabilities_read_two_documents_whatever_the_history(runtime: Runtime) -> None:
    """C-1004 has 600 interactions: the snapshot path reads 151 documents, the prepared path two."""
    both = {"customers": 1, "context": 1}
    assert reads(runtime, "context_summary", {"customer_id": "C-1004"}) == both
    assert reads(runtime, "context_summary", {"customer_id": "C-1004", "ticket_id": "T-1004-01"}) == both
    message = {"customer_id": "C-1004", "channel": "email", "message": "Warum wurde doppelt abgebucht?"}
    assert reads(runtime, "reply_draft", message) == both
    nba = {"customer_id": "C-1002", "channel": "chat", "ticket_id": "T-1002-01"}
    assert reads(runtime, "next_best_action", nba) == both | {"tickets": 1}  # the ticket's subject: its topic


def test_the_snapshot_path_reads_the_bounded_snapshot(runtime: Runtime, settings: Any) -> None:
    today = Runtime(settings.model_copy(update={"prepared_context": False}))
    counted = reads(today, "context_summary", {"customer_id": "C-1004"})
    snapshot = runtime.snapshots.get_snapshot("C-1004")
    assert counted == {
        "customers": 1,
        "orders": len(snapshot.orders),
        "tickets": len(snapshot.tickets),
        "interactions": 50,
    }
    today.events.flush()


def test_next_steps_reads_the_profile_and_order_ids_not_the_history(runtime: Runtime) -> None:
    orders = len(runtime.snapshots.get_snapshot("C-1005").orders)
    assert reads(runtime, "next_steps", NEXT_STEPS) == {"customers": 1, "orders": orders, "tickets": 1}


def test_closing_message_reads_the_profile_and_the_latest_order_id(runtime: Runtime) -> None:
    assert reads(runtime, "closing_message", {"customer_id": "C-1001", "channel": "chat"}) == {
        "customers": 1,
        "orders": 1,
    }


@pytest.mark.parametrize(
    "module",
    [
        "context_summary",
        "reply_draft",
        "next_best_action",
        "next_steps",
        "closing_message",
        "confirm_next_steps",
        "feedback",
        "ticket_closed",
    ],
)
def test_every_capability_that_reads_a_customer_declares_it(module: str) -> None:
    declared = importlib.import_module(f"shared.capabilities.{module}").READS
    assert isinstance(declared, Reads)
    assert not declared.stats and not (declared.interactions or declared.tickets)  # no capability needs history
