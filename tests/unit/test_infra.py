"""Infrastructure as code is consistent with the code: these fail when something is added
to the code (a function, a setting, a topic, a collection, a view) without infra."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import hcl2
import pytest
import sqlglot

import main
from shared.data.kb import VertexEmbedder
from shared.settings import ROOT, Settings

TF = ROOT / "infra" / "terraform"
SQL = ROOT / "infra" / "bigquery"
LOCAL_ONLY = {"firestore_emulator_host", "pubsub_emulator_host", "config_dir", "prompts_dir", "vertex_base_url",
              "local_issuer_jwks"}  # the dev stack's token issuer: refused outside CX_ENVIRONMENT=local
SECRETS = {"pseudonym_key"}


def _load() -> dict[str, Any]:
    merged: dict[str, Any] = {"resource": [], "locals": [], "variable": [], "data": [], "output": []}
    for path in sorted(TF.glob("*.tf")):
        with path.open(encoding="utf-8") as fh:
            parsed = hcl2.load(fh)  # a syntax error fails here
        for key, value in parsed.items():
            if key in merged:
                merged[key] += value
    return merged


TFDOC = _load()
LOCALS = {k: v for block in TFDOC["locals"] for k, v in block.items()}


def _unquote(value: str) -> str:
    return value.strip('"')


def resources(kind: str) -> dict[str, Any]:
    """Resources of one type by name (python-hcl2 keeps block labels quoted)."""
    return {_unquote(name): body for block in TFDOC["resource"] for k, named in block.items()
            if _unquote(k) == kind for name, body in named.items()}  # fmt: skip


def _resolve(value: Any) -> str:
    """A local's literal value, following one level of ${local.x} references."""
    text = _unquote(str(value))
    m = re.fullmatch(r"\$\{local\.(\w+)\}", text)
    return _unquote(str(LOCALS[m.group(1)])) if m else text


def test_every_terraform_file_parses_and_declares_the_basics() -> None:
    assert {"project_id", "region", "environment"} <= {_unquote(k) for v in TFDOC["variable"] for k in v}
    assert resources("google_project_service")["apis"]


def test_every_entry_point_is_deployed_with_its_trigger() -> None:
    functions = {_unquote(k): v for k, v in LOCALS["functions"].items()}
    assert set(functions) == set(main.__all__)
    for name, spec in functions.items():
        assert spec["http"] == (name not in main.EVENT_FUNCTIONS), name
    fn = resources("google_cloudfunctions2_function")["fn"]
    assert "each.key" in str(fn["build_config"]) and "python312" in str(fn["build_config"])
    assert "THREADS" in str(fn["service_config"])  # gunicorn threads follow the concurrency
    assert "dynamic" not in fn and "event_trigger" not in fn  # event functions get a managed push subscription
    subs = resources("google_pubsub_subscription").values()
    pushed = {str(body["push_config"]) for body in subs if "push_config" in body}
    for name in main.EVENT_FUNCTIONS:
        assert any(f'fn["{name}"].service_config[0].uri' in p for p in pushed), f"nothing pushes to {name}"


def test_ticket_close_dead_letters_are_kept_alerted_and_replayable() -> None:
    """No silent loss: retries, then the dead-letter topic, a subscription that keeps it, an alert on it."""
    defaults = Settings.model_construct()
    subs = resources("google_pubsub_subscription")
    push = subs["ticket_closed"]
    assert "google_pubsub_topic.ticket_closed.id" in str(push["topic"])
    policy = push["dead_letter_policy"][0]
    assert "google_pubsub_topic.ticket_closed_dlq.id" in str(policy["dead_letter_topic"])
    assert 5 <= int(_resolve(policy["max_delivery_attempts"])) <= 100
    assert push["retry_policy"] and push["push_config"][0]["oidc_token"]
    assert _resolve(push["message_retention_duration"]) == "604800s"  # longer than Eventarc's 24 h
    topics = {k: _resolve(v["name"]) for k, v in resources("google_pubsub_topic").items()}
    assert topics["ticket_closed_dlq"] == defaults.ticket_closed_dlq_topic
    dead = subs["dead_letters"]
    assert "ticket_closed" in str(dead["for_each"]) and "ticket_closed_dlq" in str(dead["for_each"])
    # the replay command reads the subscription Terraform creates
    from scripts.replay_dead_letters import DEFAULT_SUBSCRIPTION

    assert str(dead["name"]).replace("${each.key}", "ticket_closed").strip('"') == DEFAULT_SUBSCRIPTION
    # the Pub/Sub service agent may publish dead letters and ack them on the source subscription
    assert "ticket_closed" in str(resources("google_pubsub_topic_iam_member")["dlq_publisher"]["for_each"])
    assert "google_pubsub_subscription.ticket_closed" in str(
        resources("google_pubsub_subscription_iam_member")["ticket_closed_dlq_subscriber"]["subscription"])
    alert = resources("google_monitoring_alert_policy")["ticket_closed_dead_letters"]
    threshold = alert["conditions"][0]["condition_threshold"][0]
    assert "subscription/num_undelivered_messages" in threshold["filter"]
    assert 'google_pubsub_subscription.dead_letters["ticket_closed"].name' in threshold["filter"]
    assert _unquote(threshold["comparison"]) == "COMPARISON_GT" and threshold["threshold_value"] == 0
    assert "monitoring.googleapis.com" in str(resources("google_project_service")["apis"]["for_each"])


def test_every_setting_the_code_reads_is_set_in_infra() -> None:
    env = {_unquote(k) for k in LOCALS["environment"]}
    service = str(resources("google_cloudfunctions2_function")["fn"]["service_config"])
    secret_keys = set(re.findall(r"CX_[A-Z_]+", service))
    wanted = {f"CX_{name.upper()}" for name in Settings.model_fields} - {f"CX_{n.upper()}" for n in LOCAL_ONLY}
    missing = wanted - env - {f"CX_{n.upper()}" for n in SECRETS}
    assert missing == set(), f"settings not set in infra/terraform/locals.tf: {sorted(missing)}"
    assert {f"CX_{n.upper()}" for n in SECRETS} <= secret_keys
    assert env - wanted - {"CX_PROJECT"} == set(), "infra sets variables the code does not read"


def test_every_topic_and_subscription_the_code_uses_exists() -> None:
    defaults = Settings.model_construct()
    env = {_unquote(k): _resolve(v) for k, v in LOCALS["environment"].items()}
    topics = {_resolve(body["name"]) for body in resources("google_pubsub_topic").values()}
    for field in ("events_topic", "ticket_closed_topic", "ticket_closed_dlq_topic"):
        name = getattr(defaults, field)
        assert env[f"CX_{field.upper()}"] == name and name in topics, field
    warehouse = resources("google_pubsub_subscription")["events_warehouse"]
    assert "warehouse" in str(warehouse["name"]) and f"{defaults.events_topic}-warehouse" in (
        defaults.local_topics[defaults.events_topic])  # fmt: skip
    assert "dead_letter_policy" in warehouse


def test_collections_with_indexes_and_ttl_match_the_code() -> None:
    defaults = Settings.model_construct()
    vector = resources("google_firestore_index")["kb_vector"]
    assert _unquote(vector["collection"]) == defaults.kb_collection
    field = VertexEmbedder(None, defaults.embedding_model, defaults.embedding_dim).name
    assert _unquote(vector["fields"][0]["field_path"]) == f"emb_{field}"
    assert vector["fields"][0]["vector_config"][0]["dimension"] == defaults.embedding_dim
    ttl = resources("google_firestore_field")["suggestions_ttl"]
    assert _unquote(ttl["collection"]) == defaults.suggestions_collection and _unquote(ttl["field"]) == "expire_at"


def test_bigquery_views_are_the_sql_files_the_tests_run() -> None:
    files = sorted(p.name for p in SQL.glob("*.sql"))
    for name in [f for f in files if not f.startswith("00_")]:
        declared = re.search(r"CREATE OR REPLACE VIEW cx_analytics\.(\w+) AS", (SQL / name).read_text("utf-8"))
        assert declared and declared.group(1) == name[3:-4], f"{name} must be named after its view"
    bq = (TF / "bigquery.tf").read_text("utf-8")
    assert 'fileset(local.sql_dir, "[0-9][0-9]_*.sql")' in bq and _unquote(str(LOCALS["sql_dir"])).endswith("bigquery")
    assert {"events", "tickets", "kpi"} <= set(resources("google_bigquery_table"))


@pytest.mark.parametrize("table", ["events_raw", "qa_verdicts"])
def test_table_schema_matches_the_ddl(table: str) -> None:
    ddl = sqlglot.parse_one((SQL / f"00_{table}.sql").read_text("utf-8"), read="bigquery")
    ddl_cols = [c.name for c in ddl.find_all(sqlglot.exp.ColumnDef)]
    tf_cols = re.findall(r"name\s*=\s*\\?\"(\w+)\\?\"", str(resources("google_bigquery_table")[table]["schema"]))
    assert tf_cols == ddl_cols


@pytest.mark.parametrize("path", sorted(TF.glob("*.tf")), ids=lambda p: p.name)
def test_no_secret_values_or_public_invokers(path: Path) -> None:
    text = path.read_text("utf-8")
    assert "allUsers" not in text and "allAuthenticatedUsers" not in text
    assert "secret_data" not in text  # secret values are added out of band


def test_materialization_and_the_analysts_dataset() -> None:
    from scripts.warehouse_db import KPI_DATASET, MAT_OPTIONS, MAT_PATTERN

    assert _unquote(str(LOCALS["kpi_dataset"])) == KPI_DATASET
    assert _unquote(str(LOCALS["mat_pattern"])).strip("/").replace("\\\\", "\\") == MAT_PATTERN
    assert {_unquote(k): _unquote(v) for k, v in LOCALS["mat_options"].items()} == MAT_OPTIONS
    transfer = resources("google_bigquery_data_transfer_config")["materialize"]
    assert _unquote(transfer["data_source_id"]) == "scheduled_query" and "every day" in transfer["schedule"]
    assert "local.materialize_script" in str(transfer["params"])
    shared = resources("google_bigquery_table")["kpi_shared"]
    assert "local.kpi_views" in str(shared["for_each"]) and "mat_${each.key}" in str(shared["view"])
    access = resources("google_bigquery_dataset_access")["kpi_authorized"]
    assert "google_bigquery_dataset.kpi.dataset_id" in str(access["dataset"]) and "VIEWS" in str(access["dataset"])
    analysts = resources("google_bigquery_dataset_iam_member")["analysts"]
    assert "google_bigquery_dataset.kpi" in str(analysts["dataset_id"])  # never the events dataset


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform CLI not installed")
def test_terraform_materialization_script_is_the_one_the_local_warehouse_runs(tmp_path: Path) -> None:
    """Evaluates the HCL locals with `terraform console` (no providers needed) and compares."""
    from scripts.warehouse_db import materialize_script

    text = (TF / "bigquery.tf").read_text("utf-8")
    block = text[text.index("locals {\n  kpi_dataset"):]
    block = block[: block.index("\n}\n") + 3]
    (tmp_path / "main.tf").write_text(f'variable "project_id" {{\n  default = "proj"\n}}\n'
                                      f'locals {{\n  sql_dir = "{SQL}"\n}}\n{block}', "utf-8")  # fmt: skip
    out = subprocess.run(["terraform", "console"], input="local.materialize_script\n", cwd=tmp_path,
                         capture_output=True, text=True, timeout=120, check=True).stdout.strip()  # fmt: skip
    assert out.startswith("<<EOT")
    tf = out[len("<<EOT\n") : out.rindex("EOT")].strip()
    assert tf == materialize_script().replace("cx_analytics.", "`proj.cx_analytics`.").strip().rstrip(";")
