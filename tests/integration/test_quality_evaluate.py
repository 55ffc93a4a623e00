"""scripts/evaluate.py: the project's scorer offline, the dataset both prompt versions answer, and the
Vertex Gen AI evaluation call at the transport level (a local HTTP server stands in for the endpoint)."""

from __future__ import annotations

import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts.eval_next_steps import GOLD
from scripts.evaluate import EVAL_PYTHON, build_dataset, offline
from shared.runtime import Runtime
from shared.settings import ROOT

pytestmark = pytest.mark.integration


def small_gold(tmp_path: Path) -> tuple[Path, Path]:
    data = yaml.safe_load(GOLD.read_text("utf-8"))
    gold = tmp_path / "gold.yaml"
    gold.write_text(yaml.safe_dump({"end": data["end"], "cases": data["cases"][:2]}), "utf-8")
    regression = tmp_path / "regression"
    regression.mkdir()
    case = {**data["cases"][2], "id": "qa-2026-11-16-abcdef12", "source": "weekly_qa", "classes": ["resolver_override"]}
    (regression / "qa-2026-11-16-abcdef12.yaml").write_text(yaml.safe_dump({"end": data["end"], "cases": [case]}))
    return gold, regression


def test_offline_scores_gold_and_regression_cases_together(runtime: Runtime, tmp_path: Path) -> None:
    gold, regression = small_gold(tmp_path)
    result = offline([gold, regression, tmp_path / "missing"], runtime)
    assert result["cases"] == 3 and result["engine"] == "offline"
    assert 0 <= result["action_recall"] <= 1 and result["gold_actions"] >= 3
    assert "weekly_qa" in json.dumps(result, default=str)  # regression cases reported as their own source


def test_dataset_has_gold_references_and_both_prompt_versions(runtime: Runtime, tmp_path: Path) -> None:
    gold, _ = small_gold(tmp_path)
    rows = build_dataset(runtime, [gold], customers=["C-1014"])
    steps = [r for r in rows if r["kind"] == "next_steps"]
    pairs = [r for r in rows if r["kind"] == "nba_pair"]
    assert len(steps) == 2 and all(r["reference"] and r["prompt"] for r in steps)
    assert len(pairs) == 2 and {(r["control"], r["candidate"]) for r in pairs} == {
        ("next_best_action/v1", "next_best_action/v2")
    }
    assert all(json.loads(r["response"])["phrasing"] and json.loads(r["baseline_model_response"]) for r in pairs)
    assert "prompts" not in runtime.__dict__ or runtime.prompts.get("next_best_action").version == "v1"


class _EvalService(BaseHTTPRequestHandler):
    seen: list[tuple[str, dict[str, Any]]] = []

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append((self.path, body))
        if "exactMatchInput" in body:
            out: dict[str, Any] = {"exactMatchResults": {"exactMatchMetricValues": [{"score": 0.0}]}}
        elif "rougeInput" in body:
            out = {"rougeResults": {"rougeMetricValues": [{"score": 0.5}]}}
        elif "pairwiseMetricInput" in body:
            out = {"pairwiseMetricResult": {"pairwiseChoice": "CANDIDATE", "explanation": "acknowledges the goal"}}
        else:
            out = {"pointwiseMetricResult": {"score": 4.0, "explanation": "fine"}}
        data = json.dumps(out).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.mark.skipif(not EVAL_PYTHON.exists(), reason=".venv-eval not installed (scripts/test.sh installs it)")
def test_vertex_evaluation_requests_at_the_transport_level(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EvalService)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    rows = [
        {
            "kind": "next_steps",
            "id": "en-01",
            "prompt": "customer: router",
            "response": "agent: send router",
            "reference": "agent: replacement",
        },
        {
            "kind": "nba_pair",
            "id": "C-1:0",
            "prompt": "Better plan?",
            "response": '{"phrasing": "V2 words"}',
            "baseline_model_response": '{"phrasing": "V1 words"}',
        },
    ]
    dataset = tmp_path / "d.jsonl"
    dataset.write_text("".join(json.dumps(r) + "\n" for r in rows))
    try:
        out = subprocess.run(
            [
                str(EVAL_PYTHON),
                "-m",
                "scripts.evaluate",
                "vertex",
                "--dataset",
                str(dataset),
                "--project",
                "test-project",
                "--location",
                "europe-west1",
                "--anonymous",
                "--endpoint",
                f"http://127.0.0.1:{server.server_port}",
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        server.shutdown()
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    seen = _EvalService.seen
    assert {p.split("?")[0] for p, _ in seen} == {"/v1/projects/test-project/locations/europe-west1:evaluateInstances"}
    kinds = sorted(next(iter(b)) for _, b in seen)
    assert kinds == [
        "exactMatchInput",
        "pairwiseMetricInput",
        "pairwiseMetricInput",
        "pointwiseMetricInput",
        "pointwiseMetricInput",
        "rougeInput",
    ]
    bodies = json.dumps([b for _, b in seen])
    assert "next-best-action answer" in bodies and "V2 words" in bodies and "V1 words" in bodies
    assert "agent: replacement" in bodies  # the gold reference went to the computation metrics
    assert summary["next_steps"]["rouge_l_sum/mean"] == 0.5 and summary["next_steps"]["exact_match/mean"] == 0.0
    assert summary["next_best_action"]["nba_pairwise/candidate_model_win_rate"] == 1.0
    assert summary["next_best_action"]["nba_phrasing/mean"] == 4.0
