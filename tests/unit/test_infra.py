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
from scripts import tf_schema
from shared.data.kb import VertexEmbedder
from shared.data.snapshots import CONTEXT
from shared.settings import ROOT, Settings

TF = ROOT / "infra" / "terraform"
SQL = ROOT / "infra" / "bigquery"
LOCAL_ONLY = {
    "firestore_emulator_host",
    "pubsub_emulator_host",
    "config_dir",
    "prompts_dir",
    "vertex_base_url",
    "vertex_anonymous",
    "local_issuer_jwks",
}  # the dev stack's token issuer: refused outside CX_ENVIRONMENT=local
SECRETS = {"pseudonym_key"}
# Settings infra already passes for the application half of the front-door/model work; the code
# does not read them yet (shared/config.py is being changed separately). Drop a name from here
# once Settings has it: the test then also requires infra to keep setting it.
PENDING_APP_SETTINGS: set[str] = set()  # CX_IAP_AUDIENCE and CX_TRUSTED_PLATFORM_SAS are read (identity.py)


def _load() -> dict[str, Any]:
    merged: dict[str, Any] = {"resource": [], "locals": [], "variable": [], "data": [], "output": [], "ephemeral": []}
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


def resources(kind: str, section: str = "resource") -> dict[str, Any]:
    """Resources of one type by name (python-hcl2 keeps block labels quoted)."""
    return {
        _unquote(name): body
        for block in TFDOC[section]
        for k, named in block.items()
        if _unquote(k) == kind
        for name, body in named.items()
        if not name.startswith("__")
    }


def variables() -> dict[str, Any]:
    return {_unquote(k): v for block in TFDOC["variable"] for k, v in block.items() if not k.startswith("__")}


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
        resources("google_pubsub_subscription_iam_member")["ticket_closed_dlq_subscriber"]["subscription"]
    )
    alert = resources("google_monitoring_alert_policy")["ticket_closed_dead_letters"]
    threshold = alert["conditions"][0]["condition_threshold"][0]
    assert "subscription/num_undelivered_messages" in threshold["filter"]
    assert 'google_pubsub_subscription.dead_letters["ticket_closed"].name' in threshold["filter"]
    assert _unquote(threshold["comparison"]) == "COMPARISON_GT" and threshold["threshold_value"] == 0
    assert "monitoring.googleapis.com" in str(resources("google_project_service")["apis"]["for_each"])


def test_the_replay_command_knows_every_dead_letter_subscription_terraform_creates() -> None:
    """`cx dlq replay` has one source per dead-letter topic: it reads the subscription Terraform keeps on it and
    republishes to the topic whose subscription dead-letters there."""
    from scripts.replay_dead_letters import SOURCES

    defaults = Settings.model_construct()
    subs = resources("google_pubsub_subscription")

    def topic_ref(value: Any) -> str:
        found = re.search(r"google_pubsub_topic\.(\w+)\.id", str(value))
        assert found, value
        return found.group(1)

    reading: dict[str, set[str]] = {}  # dead-letter topic resource -> names of the subscriptions reading it
    for body in subs.values():
        if "for_each" in body:  # a map: key -> dead-letter topic
            for key, ref in body["for_each"].items():
                reading.setdefault(topic_ref(ref), set()).add(_unquote(str(body["name"])).replace("${each.key}", key))
        else:
            reading.setdefault(topic_ref(body["topic"]), set()).add(_resolve(body["name"]))
    topics = {k: _resolve(v["name"]) for k, v in resources("google_pubsub_topic").items()}
    parked: dict[str, set[str]] = {}  # source topic name -> its dead-letter subscriptions
    for body in subs.values():
        if "dead_letter_policy" in body:
            dlq = topic_ref(body["dead_letter_policy"][0]["dead_letter_topic"])
            parked[topics[topic_ref(body["topic"])]] = reading.get(dlq, set())
    expected = {getattr(defaults, s.topic_setting): {s.subscription} for s in SOURCES.values()}
    assert parked == expected
    for source in SOURCES.values():  # locally, the dead-letter topic has its pull subscription
        assert source.dlq_setting is None or getattr(defaults, source.dlq_setting) in defaults.local_topics
    assert "commitment_sweep" not in SOURCES and "dead_letter_policy" not in subs["commitment_sweep"]


def test_every_setting_the_code_reads_is_set_in_infra() -> None:
    """Set always (local.environment), set when not empty (local.optional_environment: empty
    means the code's own default, e.g. the model profile in config/engine/models.yaml), or per
    function in the function resource (CX_IAP_AUDIENCE)."""
    always = {_unquote(k) for k in LOCALS["environment"]}
    optional = {_unquote(k) for k in LOCALS["optional_environment"]}
    service = str(resources("google_cloudfunctions2_function")["fn"]["service_config"])
    per_function = set(re.findall(r"CX_[A-Z_]+", service))
    env = always | optional | per_function
    wanted = {f"CX_{name.upper()}" for name in Settings.model_fields} - {f"CX_{n.upper()}" for n in LOCAL_ONLY}
    missing = wanted - env - {f"CX_{n.upper()}" for n in SECRETS}
    assert missing == set(), f"settings not set in infra/terraform/locals.tf: {sorted(missing)}"
    assert {f"CX_{n.upper()}" for n in SECRETS} <= per_function
    extra = env - wanted - {"CX_PROJECT"} - {f"CX_{n.upper()}" for n in SECRETS} - PENDING_APP_SETTINGS
    assert extra == set(), f"infra sets variables the code does not read: {sorted(extra)}"
    assert "CX_GEMINI_MODEL" not in always, "no model is hard-coded in infra: config/engine/models.yaml decides"
    defaults = variables()
    assert _unquote(defaults["gemini_model"]["default"]) == ""
    assert _unquote(defaults["gemini_location"]["default"]) == "global"


def test_every_topic_and_subscription_the_code_uses_exists() -> None:
    defaults = Settings.model_construct()
    env = {_unquote(k): _resolve(v) for k, v in LOCALS["environment"].items()}
    topics = {_resolve(body["name"]) for body in resources("google_pubsub_topic").values()}
    for field in ("events_topic", "ticket_closed_topic", "ticket_closed_dlq_topic"):
        name = getattr(defaults, field)
        assert env[f"CX_{field.upper()}"] == name and name in topics, field
    warehouse = resources("google_pubsub_subscription")["events_warehouse"]
    assert (
        "warehouse" in str(warehouse["name"])
        and f"{defaults.events_topic}-warehouse" in (defaults.local_topics[defaults.events_topic])
    )
    assert "dead_letter_policy" in warehouse


def test_collections_with_indexes_and_ttl_match_the_code() -> None:
    defaults = Settings.model_construct()
    vector = resources("google_firestore_index")["kb_vector"]
    assert _unquote(vector["collection"]) == defaults.kb_collection
    field = VertexEmbedder(None, defaults.embedding_model, defaults.embedding_dim).name
    assert _unquote(vector["fields"][0]["field_path"]) == f"emb_{field}"
    assert vector["fields"][0]["vector_config"][0]["dimension"] == defaults.embedding_dim
    # every TTL policy comes from retention.yaml; the prepared context's expiry is derived from its interactions rule
    assert set(resources("google_firestore_field")) == {"ttl", "prepared_context_ttl"}
    prepared = resources("google_firestore_field")["prepared_context_ttl"]
    assert _unquote(prepared["collection"]) == CONTEXT and _unquote(prepared["field"]) == "expire_at"


def test_retention_is_enforced_from_the_one_config_file() -> None:
    """config/data/retention.yaml drives the TTL policies, the partition expiration and the suggestions' TTL setting;
    every store it names maps to the collection the code writes (the same names the functions are given)."""
    from shared.data.retention import Retention

    retention = Retention.load(ROOT / "config" / "data/retention.yaml")
    assert "yamldecode(file(" in str(LOCALS["retention"]) and "config/data/retention.yaml" in str(LOCALS["retention"])
    ttl = resources("google_firestore_field")["ttl"]
    assert "local.retention.firestore" in str(ttl["for_each"])
    assert "local.retention_collections[each.key]" in str(ttl["collection"]) and _unquote(ttl["field"]) == "expire_at"
    empty = [{"__is_block__": True}]  # python-hcl2's empty block
    assert ttl["ttl_config"] == empty and ttl["index_config"] == empty  # TTL on, no single-field index on expire_at
    defaults = Settings.model_construct()
    env = {_unquote(k): _resolve(v) for k, v in LOCALS["environment"].items()}
    collections = {_unquote(k): _unquote(str(v)) for k, v in LOCALS["retention_collections"].items()}
    assert set(collections) == set(retention.firestore)
    expected = {
        "interactions": "interactions",  # the sub-collection customers/*/interactions: a collection group
        "suggestions": defaults.suggestions_collection,
        "next_steps": defaults.next_steps_collection,
        "feedback": defaults.feedback_collection,
        "event_outbox": defaults.outbox_collection,
    }
    for store, collection in collections.items():
        setting = re.fullmatch(r"\$\{local\.environment\.(CX_\w+)\}", collection)
        assert (env[setting.group(1)] if setting else collection) == expected[store], store
    moved = (TF / "firestore.tf").read_text("utf-8")  # the policy that existed before keeps its state
    moved_block = (
        r'moved \{\s*from = google_firestore_field.suggestions_ttl\s*to\s*= google_firestore_field.ttl\["suggestions"\]'
    )
    assert re.search(moved_block, moved)
    raw = resources("google_bigquery_table")["events_raw"]["time_partitioning"][0]
    assert "local.retention.bigquery.events_raw * 86400000" in str(raw["expiration_ms"])
    assert "local.retention.firestore.suggestions.days" in str(LOCALS["environment"]["CX_SUGGESTION_TTL_DAYS"])
    assert retention.firestore["suggestions"].days == defaults.suggestion_ttl_days  # local runs agree


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
    # secret values never enter state: only write-only arguments, fed from ephemeral values
    assert not re.search(r"\bsecret_data\s*=", text), "secret_data is stored in state: use secret_data_wo"
    assert not re.search(r'resource\s+"random_(password|string|bytes)"', text), "a random resource is stored in state"


def test_first_apply_creates_the_pseudonym_key_without_it_entering_state() -> None:
    version = resources("google_secret_manager_secret_version")["pseudonym_key"]
    assert "ephemeral.random_password.pseudonym_key" in str(version["secret_data_wo"])
    assert "var.pseudonym_key_version" in str(version["secret_data_wo_version"])
    assert _unquote(version["deletion_policy"]) == "DISABLE"  # a rotation keeps the old key recoverable
    assert resources("random_password", "ephemeral")["pseudonym_key"]["length"] >= 32
    fn = resources("google_cloudfunctions2_function")["fn"]
    assert "google_secret_manager_secret_version.pseudonym_key" in str(fn["depends_on"])  # "latest" exists first
    versions = (TF / "versions.tf").read_text("utf-8")
    assert re.search(r'required_version\s*=\s*">= 1\.1[1-9]"', versions)  # write-only arguments
    pins = dict(re.findall(r'source\s*=\s*"hashicorp/([\w-]+)"\s*\n\s*version\s*=\s*"([^"]+)"', versions))
    assert not tf_schema.admits(pins["google"], "6.22.0")  # secret_data_wo came after it
    assert not tf_schema.admits(pins["random"], "3.6.3")  # ephemeral random_password: 3.7.0


def test_materialization_and_the_analysts_dataset() -> None:
    from scripts.warehouse_db import HORIZON_DAYS, KPI_DATASET, LATE_ARRIVAL_DAYS, TEMPLATE

    assert _unquote(str(LOCALS["kpi_dataset"])) == KPI_DATASET
    script = str(LOCALS["materialize_script"])  # the generated template (tests/unit/test_analytics_incremental.py)
    assert "templatefile" in script and f"{TEMPLATE.name}" in script and "var.late_arrival_days" in script
    variables = {_unquote(name): body for block in TFDOC["variable"] for name, body in block.items()}
    assert variables["late_arrival_days"]["default"] == LATE_ARRIVAL_DAYS
    assert variables["analytics_horizon_days"]["default"] == HORIZON_DAYS
    transfer = resources("google_bigquery_data_transfer_config")["materialize"]
    assert _unquote(transfer["data_source_id"]) == "scheduled_query" and "every day" in transfer["schedule"]
    assert "local.materialize_script" in str(transfer["params"])
    shared = resources("google_bigquery_table")["kpi_shared"]
    assert "local.kpi_views" in str(shared["for_each"]) and "mat_${each.key}" in str(shared["view"])
    access = resources("google_bigquery_dataset_access")["kpi_authorized"]
    assert "google_bigquery_dataset.kpi.dataset_id" in str(access["dataset"]) and "VIEWS" in str(access["dataset"])
    analysts = resources("google_bigquery_dataset_iam_member")["analysts"]
    assert "google_bigquery_dataset.kpi" in str(analysts["dataset_id"])  # never the events dataset


def test_each_dataset_is_granted_through_one_mechanism_only() -> None:
    """google_bigquery_dataset_access and the _iam_* family fight over a dataset, and the _iam_*
    family drops authorized views: cx_analytics (which authorizes cx_kpi) uses _access only."""

    def datasets(kind: str) -> set[str]:
        return {re.sub(r"\W", "", str(body["dataset_id"])) for body in resources(kind).values()}

    access = datasets("google_bigquery_dataset_access")
    iam = datasets("google_bigquery_dataset_iam_member") | datasets("google_bigquery_dataset_iam_binding")
    iam |= datasets("google_bigquery_dataset_iam_policy")
    assert access & iam == set(), f"datasets granted through both mechanisms: {access & iam}"
    assert any("analytics" in d for d in access) and all("kpi" in d for d in iam)


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform CLI not installed")
def test_terraform_materialization_script_is_the_one_the_local_warehouse_runs(tmp_path: Path) -> None:
    """Evaluates the HCL locals with `terraform console` (no providers needed) and compares."""
    from scripts.warehouse_db import materialize_script

    text = (TF / "bigquery.tf").read_text("utf-8")
    block = text[
        text.index('variable "late_arrival_days"') : text.index('resource "google_service_account" "materialize"')
    ]
    (tmp_path / "main.tf").write_text(
        f'variable "project_id" {{\n  default = "proj"\n}}\nlocals {{\n  sql_dir = "{SQL}"\n}}\n{block}', "utf-8"
    )
    out = subprocess.run(
        ["terraform", "console"],
        input="local.materialize_script\n",
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.strip()
    assert out.startswith("<<EOT")
    tf = out[len("<<EOT\n") : out.rindex("EOT")].strip()
    assert tf == materialize_script(project="proj").strip()


# --- Checked against the provider schema (scripts/tf_schema.py, offline) -----------------------


def test_the_tree_matches_the_pinned_provider_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert tf_schema.main(["--dir", str(TF)]) == 0, capsys.readouterr().err


def test_a_misspelt_attribute_and_block_fail_the_schema_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "terraform"
    shutil.copytree(TF, copy, ignore=shutil.ignore_patterns(".terraform", ".build"))
    secrets = copy / "secrets.tf"
    secrets.write_text(secrets.read_text("utf-8").replace("secret_data_wo_version", "secret_data_wo_verison"), "utf-8")
    lb = copy / "lb.tf"
    text = lb.read_text("utf-8")
    assert "  iap {" in text
    lb.write_text(text.replace("  iap {", "  iapp {", 1), "utf-8")
    assert tf_schema.main(["--dir", str(copy)]) == 1
    err = capsys.readouterr().err
    assert "unknown argument 'secret_data_wo_verison' (did you mean 'secret_data_wo_version'?)" in err
    assert "unknown block 'iapp' (did you mean 'iap'?)" in err


def test_a_broken_reference_fails_the_schema_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "terraform"
    shutil.copytree(TF, copy, ignore=shutil.ignore_patterns(".terraform", ".build"))
    pubsub = copy / "pubsub.tf"
    pubsub.write_text(pubsub.read_text("utf-8").replace("service_config[0].uri", "service_config[0].url"), "utf-8")
    outputs = copy / "outputs.tf"
    outputs.write_text(outputs.read_text("utf-8").replace("var.domain", "var.domian"), "utf-8")
    assert tf_schema.main(["--dir", str(copy)]) == 1
    err = capsys.readouterr().err
    assert "service_config has no attribute 'url'" in err and "var.domian is not declared" in err


def test_the_schema_has_the_providers_own_snake_case_names() -> None:
    """Names come from the bindings' generated code, not from converting camelCase."""
    providers = tf_schema.load_schema()["providers"]
    google = providers["google"]["resource"]
    assert providers["google"]["version"] == "6.50.0" and providers["random"]["version"].startswith("3.7")
    version = google["google_secret_manager_secret_version"]
    assert {"secret_data_wo", "secret_data_wo_version"} <= set(version["attributes"])
    fn = google["google_cloudfunctions2_function"]["blocks"]
    assert "service_account_email" in fn["service_config"]["attributes"] and "uri" in fn["service_config"]["computed"]
    assert "oauth2_client_id" in google["google_compute_backend_service"]["blocks"]["iap"]["attributes"]
    assert "output_base64sha256" in providers["archive"]["data"]["archive_file"]["computed"]  # not ..._base64_sha256
    assert "result" in providers["random"]["ephemeral"]["random_password"]["computed"]


# --- Front door --------------------------------------------------------------------------------


def test_every_http_function_is_behind_the_load_balancer_and_iap() -> None:
    http = {_unquote(k) for k, v in LOCALS["functions"].items() if v["http"]}
    assert _unquote(str(LOCALS["http_functions"])).startswith("${{for k, v in local.deployed_functions")
    neg = resources("google_compute_region_network_endpoint_group")["fn"]
    assert "local.http_functions" in str(neg["for_each"]) and "cloud_run" in neg  # gen2 = a Cloud Run service
    api = resources("google_compute_backend_service")["api"]
    assert api["iap"][0]["enabled"] is True and "local.http_functions" in str(api["for_each"])
    desktop = resources("google_compute_backend_service")["desktop"]
    assert desktop["iap"][0]["enabled"] is True  # the page too: IAP cannot protect a backend bucket
    rule = resources("google_compute_url_map")["lb"]["path_matcher"][0]["dynamic"][0]['"path_rule"']
    assert '"/api/${path_rule.key}"' in str(rule["content"][0]["paths"])
    assert "local.http_functions" in str(rule["for_each"])
    assert _unquote(variables()["http_ingress"]["default"]) == "ALLOW_INTERNAL_AND_GCLB"
    fn = resources("google_cloudfunctions2_function")["fn"]
    assert "CX_IAP_AUDIENCE" in str(fn["service_config"]) and "local.iap_audiences" in str(fn["service_config"])
    assert "/global/backendServices/" in str(LOCALS["iap_audiences"])
    invoker = resources("google_cloud_run_v2_service_iam_member")["iap_invoker"]
    assert "google_project_service_identity.iap.member" in str(invoker["member"])
    access = resources("google_iap_web_backend_service_iam_member")
    who = str(access["api"]["for_each"])
    assert "var.agent_members" in who and "var.invoker_members" in who
    assert "var.invoker_members" not in str(access["desktop"]["for_each"])  # the platform needs no page
    programmatic = resources("google_iap_settings")["api"]
    assert "var.iap_programmatic_clients" in str(programmatic["access_settings"][0]["oauth_settings"])
    outputs = {_unquote(k) for block in TFDOC["output"] for k in block if not k.startswith("__")}
    assert {"lb_ip", "iap_audiences", "api_urls", "deployer_service_account"} <= outputs
    assert http == {_unquote(k) for k, v in LOCALS["functions"].items() if v["http"]}


def test_only_the_privacy_team_reaches_privacy_requests() -> None:
    """privacy_request is fronted like the other APIs (IAP, run.invoker for IAP's agent only), but IAP admits
    only var.privacy_members: neither agents nor the platform get through, and nobody invokes it directly."""
    assert _unquote(str(LOCALS["privacy_functions"][0])) == "privacy_request"
    agent_functions = str(LOCALS["agent_functions"])
    assert "local.http_functions" in agent_functions and "!contains(local.privacy_functions, k)" in agent_functions
    access = resources("google_iap_web_backend_service_iam_member")
    assert "setproduct(local.agent_functions" in str(access["api"]["for_each"])
    privacy = access["privacy"]
    assert "setproduct(local.privacy_functions, var.privacy_members)" in str(privacy["for_each"])
    assert "var.agent_members" not in str(privacy) and "var.invoker_members" not in str(privacy)
    assert _unquote(privacy["role"]) == "roles/iap.httpsResourceAccessor"
    invokers = resources("google_cloud_run_v2_service_iam_member")
    assert "setproduct(local.agent_functions, var.invoker_members)" in str(invokers["http_invoker"]["for_each"])
    assert "local.http_functions" in str(invokers["iap_invoker"]["for_each"])  # IAP's agent invokes it
    assert variables()["privacy_members"]["default"] == []
    from functions.privacy_request import privacy_request  # noqa: F401 - the role the code demands
    from shared.safety.access import AccessPolicy

    policy = AccessPolicy.load(ROOT / "config" / "safety/access.yaml")
    assert any(g.role == "privacy" for g in policy.grants)


def test_bigquery_access_of_the_functions_is_least_privilege() -> None:
    """Only privacy_request reads and deletes warehouse rows: dataEditor (WRITER) on cx_analytics through the
    dataset's one grant mechanism, jobUser on the project; no other function account gets a BigQuery role."""
    editor = resources("google_bigquery_dataset_access")["privacy_editor"]
    assert "google_bigquery_dataset.analytics.dataset_id" in str(editor["dataset_id"])
    assert _unquote(editor["role"]) == "WRITER" and 'fn["privacy_request"].email' in str(editor["user_by_email"])
    jobs = resources("google_project_iam_member")["privacy_bigquery_jobs"]
    assert _unquote(jobs["role"]) == "roles/bigquery.jobUser" and 'fn["privacy_request"]' in str(jobs["member"])
    for kind in ("google_project_iam_member", "google_bigquery_dataset_access", "google_bigquery_dataset_iam_member"):
        for name, body in resources(kind).items():
            if kind == "google_project_iam_member" and "bigquery" not in str(body["role"]):
                continue
            if "google_service_account.fn[" in str(body):  # a function's runtime account
                assert 'fn["privacy_request"]' in str(body) and "for_each" not in body, name


def test_no_iap_oauth_brand_or_client() -> None:
    """The IAP OAuth Admin API is shut down (2026): IAP uses the Google-managed OAuth client."""
    assert not resources("google_iap_brand") and not resources("google_iap_client")


# --- Audit, alerts, schedule ---------------------------------------------------------------------


def test_firestore_data_access_is_audited_and_the_audit_table_exists() -> None:
    audit = resources("google_project_iam_audit_config")["firestore"]
    assert _unquote(audit["service"]) == "datastore.googleapis.com"
    assert {_unquote(c["log_type"]) for c in audit["audit_log_config"]} == {"DATA_READ", "DATA_WRITE"}
    table = resources("google_bigquery_table")["audit_events"]
    assert _unquote(table["time_partitioning"][0]["field"]) == "ts" and table["clustering"]
    column = r'name\s*=\s*\\?"(\w+)\\?",\s*type\s*=\s*\\?"(\w+)\\?",\s*mode\s*=\s*\\?"(\w+)'
    cols = re.findall(column, str(table["schema"]))
    assert [(n, t) for n, t, _ in cols] == [
        ("ts", "TIMESTAMP"),
        ("request_id", "STRING"),
        ("agent_id", "STRING"),
        ("role", "STRING"),
        ("tenant", "STRING"),
        ("customer_key", "STRING"),
        ("capability", "STRING"),
        ("fields_disclosed", "STRING"),
        ("decision", "STRING"),
    ]
    assert dict((n, m) for n, _, m in cols)["fields_disclosed"] == "REPEATED"  # ARRAY<STRING>


def test_gemini_configuration_faults_page_somebody() -> None:
    metric = resources("google_logging_metric")["model_config_fault"]
    fault_filter = str(LOCALS["model_config_fault_filter"])
    assert "local.model_config_fault_filter" in str(metric["filter"])
    assert "severity>=ERROR" in fault_filter and 'jsonPayload.event=\\"model.config_fault\\"' in fault_filter
    alert = resources("google_monitoring_alert_policy")["model_config_fault"]
    assert "local.model_config_fault_filter" in str(alert["conditions"][0]["condition_matched_log"])
    doc = str(alert["documentation"][0]["content"])
    assert "config/engine/models.yaml" in doc and "roles/aiplatform.user" in doc
    for policy in resources("google_monitoring_alert_policy").values():
        assert "local.notification_channels" in str(policy["notification_channels"])
    assert "var.alert_email" in str(resources("google_monitoring_notification_channel")["email"]["count"])


def test_the_outbox_is_drained_every_five_minutes() -> None:
    topics = {k: _resolve(v["name"]) for k, v in resources("google_pubsub_topic").items()}
    assert topics["outbox_drain"] == "cx-outbox-drain"
    job = resources("google_cloud_scheduler_job")["outbox_drain"]
    assert _unquote(job["schedule"]) == "*/5 * * * *"
    assert "google_pubsub_topic.outbox_drain.id" in str(job["pubsub_target"][0]["topic_name"])
    assert "var.enable_outbox_drain_function" in str(job["paused"])
    # main.py has outbox_drain: deployed (and the job running) unless switched off
    assert "outbox_drain" in {_unquote(k) for k in LOCALS["functions"]} and "outbox_drain" in main.__all__
    assert variables()["enable_outbox_drain_function"]["default"] is True
    sub = resources("google_pubsub_subscription")["outbox_drain"]
    assert 'fn["outbox_drain"].service_config[0].uri' in str(sub["push_config"])


# --- Evaluated by Terraform itself (terraform console: no providers needed) ----------------------


def _console(tmp_path: Path, files: dict[str, str], expression: str) -> str:
    for name, text in files.items():
        (tmp_path / name).write_text(text, "utf-8")
    out = subprocess.run(
        ["terraform", "console"],
        input=f"{expression}\n",
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.strip()
    return out


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform CLI not installed")
def test_terraform_evaluates_the_conditional_settings(tmp_path: Path) -> None:
    """locals.tf + variables.tf as Terraform evaluates them: optional env, function map, router bucket."""
    files = {
        name: (TF / name).read_text("utf-8").replace("${path.module}/../..", str(ROOT))
        for name in ("variables.tf", "locals.tf")
    }
    files["terraform.tfvars"] = (
        'project_id = "proj"\ndomain = "cx.example.com"\nrouter_artefact = "gs://router-bucket/models/v3"\n'
        'invoker_members = ["serviceAccount:platform@acme.iam.gserviceaccount.com", "group:ops@acme.com"]\n'
    )
    expr = (
        "jsonencode({env = keys(local.runtime_environment), fns = keys(local.deployed_functions), "
        "http = keys(local.http_functions), bucket = local.router_bucket, "
        "sas = local.environment.CX_TRUSTED_PLATFORM_SAS, loc = local.runtime_environment.CX_GEMINI_LOCATION, "
        "agent = local.agent_functions, ttl = local.retention_collections, "
        "ttl_days = local.environment.CX_SUGGESTION_TTL_DAYS})"
    )
    import json

    got = json.loads(json.loads(_console(tmp_path, files, expr)))
    assert "CX_GEMINI_MODEL" not in got["env"] and got["loc"] == "global"  # empty model: the profile decides
    assert set(got["fns"]) == set(main.__all__) and "ticket_closed" not in got["http"]
    assert got["bucket"] == "router-bucket"
    assert json.loads(got["sas"]) == ["platform@acme.iam.gserviceaccount.com"]
    assert "privacy_request" not in got["agent"] and set(got["agent"]) == set(got["http"]) - {"privacy_request"}
    from shared.data.retention import Retention

    retention = Retention.load(ROOT / "config" / "data/retention.yaml")
    assert set(got["ttl"]) == set(retention.firestore) and got["ttl"]["interactions"] == "interactions"
    assert got["ttl_days"] == str(retention.firestore["suggestions"].days)
    (tmp_path / "terraform.tfvars").write_text(
        'project_id = "proj"\ndomain = "cx.example.com"\ngemini_model = "gemini-x"\n'
        "enable_outbox_drain_function = true\n",
        "utf-8",
    )
    got = json.loads(json.loads(_console(tmp_path, {}, expr)))
    assert "CX_GEMINI_MODEL" in got["env"] and "outbox_drain" in got["fns"] and got["bucket"] == ""


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform CLI not installed")
def test_the_desktop_queue_catalogue_is_the_one_devstack_serves(tmp_path: Path) -> None:
    import json

    from scripts.devstack import queue_catalogue_json

    text = (TF / "desktop.tf").read_text("utf-8")
    block = text[text.index("locals {") :]
    block = block[: block.index("\n}\n") + 3].replace("${path.module}/../..", str(ROOT))
    out = _console(tmp_path, {"main.tf": block}, "local.desktop_queues_json")
    assert json.loads(json.loads(out)) == json.loads(queue_catalogue_json())


def test_the_overdue_sweep_is_scheduled_pushed_and_indexed() -> None:
    """Cloud Scheduler publishes to the topic the code continues on; a push subscription delivers it to the
    function; the sweep's one query (status ==, due_at <=, order by due_at) has its composite index."""
    defaults = Settings.model_construct()
    topics = resources("google_pubsub_topic")
    assert _resolve(topics["commitment_sweep"]["name"]) == defaults.commitment_sweep_topic
    assert defaults.commitment_sweep_topic in defaults.local_topics
    job = resources("google_cloud_scheduler_job")["commitment_sweep"]
    target = job["pubsub_target"][0]
    assert "google_pubsub_topic.commitment_sweep.id" in str(target["topic_name"]) and "base64encode" in target["data"]
    assert "cloudscheduler.googleapis.com" in str(resources("google_project_service")["apis"]["for_each"])
    sub = resources("google_pubsub_subscription")["commitment_sweep"]
    assert "google_pubsub_topic.commitment_sweep.id" in str(sub["topic"])
    # Pub/Sub redelivers after the ack deadline: a run must end (its budget) well before it
    env = {_unquote(k): _resolve(v) for k, v in LOCALS["environment"].items()}
    budget = float(env["CX_COMMITMENT_SWEEP_BUDGET_S"])
    functions = {_unquote(k): v for k, v in LOCALS["functions"].items()}
    assert budget < functions["commitment_sweep"]["timeout"] <= int(sub["ack_deadline_seconds"]) <= 600
    assert functions["commitment_sweep"]["max"] == 1  # one sweep at a time
    index = resources("google_firestore_index")["commitments_due"]
    assert _unquote(index["collection"]) == defaults.commitments_collection
    assert [(_unquote(f["field_path"]), _unquote(f["order"])) for f in index["fields"]] == [
        ("status", "ASCENDING"),
        ("due_at", "ASCENDING"),
    ]
    assert "commitment_sweep" in str(resources("google_cloud_run_v2_service_iam_member")["sweep_push_invoker"]["name"])
