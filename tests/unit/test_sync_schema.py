"""The change-event schema: published, valid, agreeing with the code; ordering rules; Terraform for the topic."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from jsonschema import Draft202012Validator

from scripts import openapi
from shared.capabilities.snapshot_sync import InvalidChange, change_name, parse
from shared.data.sync import compare
from shared.settings import ROOT, Settings
from tests.unit.test_infra import LOCALS, _resolve, resources

T = datetime(2026, 5, 1, tzinfo=UTC)
CONSENT = {
    "specversion": "1.0",
    "id": "e-1",
    "source": "urn:crm",
    "type": "cx.consent.changed.v1",
    "data": {"customer_id": "C-1", "updated_at": "2026-05-01T10:00:00+02:00", "consent": {"marketing": False}},
}


def test_committed_schema_is_current_and_a_valid_json_schema() -> None:
    committed = json.loads((ROOT / "functions" / "sync_events.schema.json").read_text("utf-8"))
    assert committed == json.loads(openapi.render_sync_schema()), "run python -m scripts.openapi"
    Draft202012Validator.check_schema(committed)
    types = {v["properties"]["type"]["const"] for k, v in committed["$defs"].items() if k.endswith("Event")}
    assert types == {
        f"cx.{n}.v1"
        for n in (
            "customer.upserted",
            "customer.deleted",
            "order.upserted",
            "ticket.upserted",
            "interaction.recorded",
            "product.changed",
            "consent.changed",
        )
    }


@pytest.mark.parametrize(
    "mutate, valid",
    [
        (lambda e: e, True),
        (lambda e: e | {"type": "cx.consent.exploded.v1"}, False),
        (lambda e: e | {"data": {k: v for k, v in e["data"].items() if k != "updated_at"}}, False),
        (lambda e: e | {"data": e["data"] | {"unexpected": 1}}, False),
        (lambda e: {k: v for k, v in e.items() if k != "id"}, False),
    ],
)
def test_the_published_schema_and_the_handler_agree(mutate, valid: bool) -> None:  # noqa: ANN001
    body = mutate(json.loads(json.dumps(CONSENT)))
    schema = json.loads((ROOT / "functions" / "sync_events.schema.json").read_text("utf-8"))
    assert Draft202012Validator(schema).is_valid(body) is valid
    if valid:
        assert change_name(parse(json.dumps(body).encode())) == "consent.changed"
    else:
        with pytest.raises(InvalidChange):
            parse(json.dumps(body).encode())


def test_binary_content_mode_reads_ce_attributes() -> None:
    attrs = {f"ce-{k}": v for k, v in CONSENT.items() if k != "data"}
    event = parse(json.dumps(CONSENT["data"]).encode(), attrs)
    assert event.id == "e-1" and event.data.consent.marketing is False
    with pytest.raises(InvalidChange, match="updated_at"):
        parse(json.dumps(CONSENT["data"] | {"updated_at": "2026-05-01T10:00:00"}).encode(), attrs)


def test_only_a_strictly_newer_clock_applies() -> None:
    old = {"updated_at": T, "version": 3}
    assert compare({"updated_at": T, "version": 4}, old) == "applied"
    assert compare({"updated_at": T, "version": 3}, old) == "duplicate"
    assert compare({"updated_at": T, "version": 2}, old) == "stale"
    assert compare({"updated_at": T.replace(day=2), "version": 0}, old) == "applied"
    assert compare({"updated_at": T, "version": 0}, None) == "applied"


def test_terraform_delivers_sync_events_with_dead_letters() -> None:
    defaults = Settings.model_construct()
    topics = {k: _resolve(v["name"]) for k, v in resources("google_pubsub_topic").items()}
    assert topics["snapshot_sync"] == defaults.snapshot_sync_topic
    assert topics["snapshot_sync_dlq"] == defaults.snapshot_sync_dlq_topic
    sub = resources("google_pubsub_subscription")["snapshot_sync"]
    assert "google_pubsub_topic.snapshot_sync.id" in str(sub["topic"])
    policy = sub["dead_letter_policy"][0]
    assert "google_pubsub_topic.snapshot_sync_dlq.id" in str(policy["dead_letter_topic"])
    assert 5 <= int(_resolve(policy["max_delivery_attempts"])) <= 100
    assert 'fn["snapshot_sync"]' in str(sub["push_config"]) and sub["retry_policy"]
    assert "google_pubsub_topic.snapshot_sync_dlq.id" in str(
        resources("google_pubsub_subscription")["snapshot_sync_dead_letters"]["topic"]
    )
    assert 'fn["snapshot_sync"]' in str(resources("google_pubsub_topic_iam_member")["sync_dlq_fn_publisher"]["member"])
    assert {k.strip('"') for k in LOCALS["functions"]} >= {"snapshot_sync"}


def test_retention_is_configuration_consistent_with_the_deployed_ttl_and_partitions() -> None:
    import re

    from shared.data.retention import Retention

    retention = Retention.load(ROOT / "config" / "data/retention.yaml")
    assert retention.firestore["suggestions"].days == Settings.model_construct().suggestion_ttl_days
    ddl = (ROOT / "infra" / "bigquery" / "00_events_raw.sql").read_text("utf-8")
    assert f"partition_expiration_days = {retention.bigquery['events_raw']}" in ddl
    doc = {"occurred_at": T, "summary": "x"}
    assert (retention.stamp("interactions", doc)["expire_at"] - T).days == retention.firestore["interactions"].days
    assert retention.stamp("unknown", doc) == doc and "expire_at" not in retention.stamp("feedback", doc)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}\.\d+", retention.version)
