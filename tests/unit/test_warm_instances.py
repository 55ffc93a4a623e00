"""Warm instances in opening hours (infra/terraform/warm.tf) and memory with headroom (locals.tf)."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest

from scripts.bench_functions import mebibytes, terraform_functions
from tests.unit.test_infra import LOCALS, ROOT, TF, _console, _unquote, resources, variables

AGENT_FACING = {"context_summary", "reply_draft", "next_best_action", "next_steps", "closing_message"}


def test_each_agent_facing_function_is_warmed_at_opening_and_released_at_closing() -> None:
    assert {_unquote(f) for f in variables()["warm_functions"]["default"]} == AGENT_FACING
    assert variables()["min_instances_open"]["default"] >= 1
    job = resources("google_cloud_scheduler_job")["warm"]
    target = job["http_target"][0]
    assert _unquote(target["http_method"]) == "PATCH"
    # the Cloud Run Admin API on the function's own service, service-level minimum only
    uri = _unquote(target["uri"])
    assert uri.startswith("https://run.googleapis.com/v2/${google_cloudfunctions2_function.fn[")
    assert uri.endswith("service_config[0].service}?updateMask=scaling.minInstanceCount")
    assert "minInstanceCount" in target["body"] and "oauth_token" in target
    assert "var.opening_hours_time_zone" in job["time_zone"]
    schedules = LOCALS["warm_schedules"]
    assert "var.min_instances_open" in str(schedules["open"]["min"]) and schedules["close"]["min"] == 0
    # revision-level minimum stays 0: service and revision minimums are not combined
    functions = {_unquote(k): v for k, v in LOCALS["functions"].items()}
    assert all(spec["min"] == 0 for spec in functions.values())


def test_the_scheduler_may_update_only_the_warm_services() -> None:
    grant = resources("google_cloud_run_v2_service_iam_member")["warm_scaler"]
    assert grant["for_each"] == "${local.warm_functions}" and _unquote(grant["role"]) == "roles/run.developer"
    assert "warm_scaler" in str(grant["member"])
    act_as = resources("google_service_account_iam_member")["warm_scaler_act_as"]
    assert act_as["for_each"] == "${local.warm_functions}" and "fn[each.key]" in act_as["service_account_id"]


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform CLI not installed")
def test_terraform_evaluates_two_jobs_per_warm_function(tmp_path: Path) -> None:
    files = {
        name: (TF / name).read_text("utf-8").replace("${path.module}/../..", str(ROOT))
        for name in ("variables.tf", "locals.tf")
    }
    warm = (TF / "warm.tf").read_text("utf-8")
    block = warm[warm.index("locals {") :]
    files["warm.tf"] = block[: block.index("\n}\n") + 3]
    files["terraform.tfvars"] = 'project_id = "proj"\ndomain = "cx.example.com"\nmin_instances_open = 2\n'
    expr = (
        "jsonencode({jobs = local.warm_jobs, bodies = {for k, s in local.warm_schedules : "
        "k => base64encode(jsonencode({scaling = {minInstanceCount = s.min}}))}})"
    )
    got = json.loads(json.loads(_console(tmp_path, files, expr)))
    assert set(got["jobs"]) == {f"{f}-{w}" for f in AGENT_FACING for w in ("open", "close")}
    bodies = {k: json.loads(base64.b64decode(v)) for k, v in got["bodies"].items()}
    assert bodies == {"open": {"scaling": {"minInstanceCount": 2}}, "close": {"scaling": {"minInstanceCount": 0}}}


# The instance's footprint (MiB: worker RSS + master private pages) after 1,000 requests per function,
# `cx bench functions --requests 1000 --bare-every 10` on 2 Dec 2026 (docs/performance.md; next_steps: the
# larger of the 3- and 60-turn rows). Each function's memory setting must leave at least 40 % of it free.
MEASURED_INSTANCE_MIB = {
    "context_summary": 300.8,
    "reply_draft": 413.9,
    "next_best_action": 305.5,
    "next_steps": 334.0,
    "closing_message": 300.2,
    "confirm_next_steps": 301.0,
    "feedback": 296.9,
}


def test_every_measured_function_has_40_percent_memory_headroom() -> None:
    memory = terraform_functions()
    for name, used in MEASURED_INSTANCE_MIB.items():
        assert used / mebibytes(memory[name]["memory"]) <= 0.60, (name, used, memory[name]["memory"])
