"""`cx smoke` and the evaluation commands on the Gemini path, against a local stand-in for Vertex that
serves one recorded answer per capability (a real HTTP server; google-genai talks to it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts.eval_next_steps import GOLD
from shared.settings import ROOT
from tests.conftest import fixture_json

pytestmark = pytest.mark.integration

ANSWERS: dict[str, dict[str, Any]] = {
    "context_summary": fixture_json("vertex", "summary_output.json"),
    "next_best_action": {
        "customer_goal": "stop paying twice",
        "sentiment": "negative",
        "primary_offer_id": "RET-LOYALTY-10",
        "fallback_offer_id": None,
        "reasons": ["Loyal customer with a billing complaint.", "Retention offer is eligible."],
        "phrasing": "I'm sorry about the double charge; I can add a loyalty discount.",
    },
    "reply_draft": {
        "intent_summary": "Duplicate charge; wants a call back.",
        "reply": "Dear [CUSTOMER_NAME],\n\nI have refunded the duplicate charge and will call you back "
        "by Friday.\n\nKind regards",
        "questions_for_agent": [],
        "personalization_used": [],
        "referenced_offer_ids": [],
    },
    "next_steps": {
        "issue_summary": "Customer was charged twice.",
        "actions": [
            {
                "owner": "agent",
                "description": "Call the customer back",
                "due_text": "by Friday",
                "evidence": "will call you back by Friday",
                "confidence": 0.9,
                "done": False,
            }
        ],
        "resolver_group": "billing",
        "first_contact_resolvable": {"value": False, "reason": "call-back"},
        "kb_suggestions": [],
        "customer_facing_closing_text": "We will call you back by Friday.",
    },
    "closing_message": {"message": "Thank you for your patience; we will call you back by Friday."},
}
USAGE = {"promptTokenCount": 1000, "candidatesTokenCount": 200, "thoughtsTokenCount": 300, "totalTokenCount": 1500}


@dataclass
class RecordedVertex:
    """generateContent answered by capability (the request's ``labels``), embeddings and token counts too."""

    server: ThreadingHTTPServer
    requests: list[dict[str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def calls(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"].endswith(kind)]


@pytest.fixture
def recorded_vertex() -> Iterator[RecordedVertex]:
    holder: dict[str, RecordedVertex] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            holder["fake"].requests.append({"path": self.path, "body": body})
            if self.path.endswith(":generateContent"):
                capability = body.get("labels", {}).get("capability", "")
                answer = {
                    "candidates": [
                        {
                            "content": {"role": "model", "parts": [{"text": json.dumps(ANSWERS[capability])}]},
                            "finishReason": "STOP",
                        }
                    ],
                    "usageMetadata": USAGE,
                    "modelVersion": self.path.rsplit("/", 1)[-1].split(":")[0],
                }
            elif self.path.endswith(":predict"):  # embeddings (knowledge search)
                dim = int(body.get("parameters", {}).get("outputDimensionality") or 256)
                answer = {"predictions": [{"embeddings": {"values": [0.1] * dim}} for _ in body.get("instances", [])]}
            else:
                answer = {"totalTokens": 1}
            payload = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    holder["fake"] = RecordedVertex(server)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield holder["fake"]
    server.shutdown()
    server.server_close()


def test_smoke_calls_every_capability_through_gemini_and_reports_usage(
    seeded: Any, recorded_vertex: RecordedVertex, capsys: pytest.CaptureFixture[str]
) -> None:
    from scripts.smoke import CAPABILITIES, main

    # --seed: the demo customers into this project's (emulated) Firestore, as on a fresh test project
    code = main(
        ["--project", "test-project", "--vertex-base-url", recorded_vertex.url, "--anonymous", "--json", "--seed"]
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    rows = {r["capability"]: r for r in lines if "schema_valid" in r}  # (the structured logs share stdout)
    assert code == 0 and set(rows) == set(CAPABILITIES)
    models = {c: r["model"] for c, r in rows.items()}
    assert models == {
        "context_summary": "gemini-3.5-flash-lite",
        "next_best_action": "gemini-3.5-flash-lite",
        "reply_draft": "gemini-3.5-flash",
        "next_steps": "gemini-3.5-flash",
        "closing_message": "gemini-3.1-flash-lite",
    }
    for r in rows.values():
        assert r["schema_valid"] and r["engine"] == "vertex" and r["degraded_reason"] is None
        assert (r["tokens_in"], r["tokens_out"], r["tokens_thinking"]) == (1000, 200, 300)
    assert rows["reply_draft"]["cost_usd"] == pytest.approx((1000 * 1.50 + 500 * 9.00) / 1e6)
    assert rows["closing_message"]["cost_usd"] == pytest.approx((1000 * 0.25 + 500 * 1.50) / 1e6)
    generated = recorded_vertex.calls(":generateContent")
    assert sorted(r["body"]["labels"]["capability"] for r in generated) == sorted(CAPABILITIES)
    assert all("/locations/global/" in r["path"] for r in generated)


def test_smoke_exit_status_says_gemini_did_not_answer(seeded: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from scripts.smoke import main

    # Nothing listens there: every capability degrades, and the table says why.
    code = main(
        [
            "--project",
            "test-project",
            "--vertex-base-url",
            "http://127.0.0.1:9",
            "--anonymous",
            "--capability",
            "closing_message",
            "--customer",
            "C-1004",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1 and "closing_message" in out and "degraded: unavailable" in out


def test_next_steps_evaluation_runs_unchanged_on_gemini_with_one_flag(
    recorded_vertex: RecordedVertex, tmp_path: Path
) -> None:
    data = yaml.safe_load(GOLD.read_text("utf-8"))
    gold = tmp_path / "gold.yaml"
    gold.write_text(yaml.safe_dump({"end": data["end"], "cases": data["cases"][:2]}), "utf-8")
    out = tmp_path / "result.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CX_", "FIRESTORE_EMULATOR", "PUBSUB_EMULATOR"))}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "scripts.eval_next_steps",
            "gold",
            str(gold),
            "--out",
            str(out),
            "--vertex-base-url",
            recorded_vertex.url,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text("utf-8"))
    assert result["engine"] == "vertex" and result["cases"] == 2
    assert len(recorded_vertex.calls(":generateContent")) == 2  # one recorded answer per case, via Gemini's path
    for prediction in result["predictions"].values():
        assert prediction["engine"] == "vertex" and not prediction["degraded"]
        assert any(a["description"] == "Call the customer back" for a in prediction["actions"])
