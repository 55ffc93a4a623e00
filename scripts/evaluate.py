"""Evaluation off the request path: the project's scorers offline, Vertex AI's Gen AI evaluation service with a project.

    python -m scripts.evaluate                      # offline: gold sets + this week's regression cases
    python -m scripts.evaluate --project P          # also: Vertex evaluation, NBA prompt v1 vs v2
    python -m scripts.evaluate dataset --out d.jsonl                  # both prompt versions' answers (main venv)
    .venv-eval/bin/python -m scripts.evaluate vertex --dataset d.jsonl --project P   # (eval venv)

Offline it runs ``scripts.eval_next_steps``' own scorer on the hand-written gold sets and on
the regression cases the weekly QA kept (``.local/qa/regression``), on its own emulators.

With a project it first writes a dataset from the main environment (next-steps predictions
with the gold actions as reference; next-best-action answers of the experiment's control and
candidate prompt versions for the same contacts), then runs ``vertexai.evaluation.EvalTask``
in the separate ``.venv-eval`` (google-cloud-aiplatform pins google-genai<3, the functions pin
3.x, so the two never share an environment; ``requirements-eval.txt`` is its lock):
computation metrics (ROUGE-L, exact match) against the gold, rubric-based pointwise metrics
and a pairwise comparison candidate vs control. This module imports only the standard library
at the top, so the eval environment can run it without the functions' dependencies.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from scripts.engine_flags import add_engine_flags, apply_engine_flags

ROOT = Path(__file__).resolve().parent.parent
EVAL_PYTHON = ROOT / ".venv-eval" / "bin" / "python"
REGRESSION = ROOT / ".local" / "qa" / "regression"
NBA_ASKS = ("Is there a better plan for me?", "My bill went up again and I'm thinking about leaving.")
NBA_RUBRIC = """Rate the next-best-action answer for a customer-service agent from 1 to 5.
5: the phrasing first acknowledges what the customer wants, then offers exactly the chosen action,
in at most two sentences, with no discount or price that is not in the candidate list;
3: correct offer but generic or longer than needed; 1: invents an offer, a price or ignores the customer.
Prompt: {prompt}
Answer: {response}"""
PAIRWISE_RUBRIC = """Which answer would a careful customer-service team lead rather have the agent say?
Prefer the one that acknowledges the customer's goal, offers only an approved action, and is brief.
Prompt: {prompt}
Answer A (baseline): {baseline_model_response}
Answer B (candidate): {response}"""


# --- main environment: the project's own scorers and the dataset -------------------------


def offline(paths: list[Path], rt: Any) -> dict[str, Any]:
    """The next-steps gold scorer (scripts.eval_next_steps) on the given gold files/directories."""
    from scripts.eval_next_steps import gold

    return gold([p for p in paths if p.exists()], rt)


def _nba_answer(body: Any) -> str:
    return json.dumps(
        {
            "primary": body.primary.offer_id if body.primary else None,
            "reasons": body.reasons,
            "phrasing": body.phrasing,
        },
        ensure_ascii=False,
    )


def build_dataset(rt: Any, gold_paths: list[Path], customers: list[str] | None = None) -> list[dict[str, Any]]:
    """Rows for the evaluation service: next steps vs the gold, and NBA control vs candidate."""
    from scripts.eval_next_steps import load_cases, predict
    from scripts.seed import SEEDS
    from shared.capabilities.next_best_action import NbaRequest, recommend
    from shared.engine.experiments import Experiments
    from shared.engine.prompts import PromptLibrary

    rows: list[dict[str, Any]] = []
    for end, case in load_cases([p for p in gold_paths if p.exists()]):
        predicted = predict(rt, end, case)
        rows.append(
            {
                "kind": "next_steps",
                "id": case["id"],
                "prompt": "\n".join(f"{s}: {t}" for s, t in case["transcript"]),
                "response": "\n".join(f"{a['owner']}: {a['description']}" for a in predicted["actions"]),
                "reference": "\n".join(f"{a['owner']}: {a['key']}" for a in case["actions"]),
            }
        )
    experiment = Experiments.load(rt.settings.config_dir / "engine/experiments.yaml").get("next_best_action")
    if experiment is None:
        return rows
    answers: dict[str, dict[tuple[str, str], Any]] = {}
    for arm, version in (("control", experiment.control), ("candidate", experiment.candidate)):
        versions = {**rt.settings.prompt_versions, "next_best_action": version}
        rt.__dict__["prompts"] = PromptLibrary(rt.settings.prompts_dir, versions)  # this arm's version for all
        answers[arm] = {}
        for cid in customers or [s.customer_id for s in SEEDS[:8]]:
            for ask in NBA_ASKS:
                turns = [{"speaker": "customer", "text": ask}]
                answers[arm][(cid, ask)] = recommend(NbaRequest(customer_id=cid, channel="chat", transcript=turns), rt)
    rt.__dict__.pop("prompts", None)
    for (cid, ask), control in answers["control"].items():
        rows.append(
            {
                "kind": "nba_pair",
                "id": f"{cid}:{NBA_ASKS.index(ask)}",
                "prompt": ask,
                "baseline_model_response": _nba_answer(control),
                "response": _nba_answer(answers["candidate"][(cid, ask)]),
                "control": f"next_best_action/{experiment.control}",
                "candidate": f"next_best_action/{experiment.candidate}",
            }
        )
    return rows


# --- eval environment: Vertex AI's Gen AI evaluation service -------------------------------


def vertex_evaluate(
    rows: list[dict[str, Any]], project: str, location: str, *, endpoint: str | None = None, anonymous: bool = False
) -> dict[str, dict[str, float]]:
    """EvalTask runs (imports vertexai: eval environment only). ``endpoint``/``anonymous``: tests and private
    endpoints (REST transport)."""
    import pandas as pd
    import vertexai
    from vertexai.evaluation import EvalTask, MetricPromptTemplateExamples, PairwiseMetric, PointwiseMetric

    init: dict[str, Any] = {"project": project, "location": location}
    if endpoint:
        init |= {"api_endpoint": endpoint, "api_transport": "rest"}
    if anonymous:
        from google.auth.credentials import AnonymousCredentials

        init["credentials"] = AnonymousCredentials()
    vertexai.init(**init)
    out: dict[str, dict[str, float]] = {}
    steps = [r for r in rows if r["kind"] == "next_steps"]
    if steps:
        data = pd.DataFrame([{k: r[k] for k in ("prompt", "response", "reference")} for r in steps])
        result = EvalTask(dataset=data, metrics=["exact_match", "rouge_l_sum"]).evaluate()
        out["next_steps"] = {k: float(v) for k, v in result.summary_metrics.items()}
    pairs = [r for r in rows if r["kind"] == "nba_pair"]
    if pairs:
        data = pd.DataFrame([{k: r[k] for k in ("prompt", "response", "baseline_model_response")} for r in pairs])
        metrics = [
            PointwiseMetric(metric="nba_phrasing", metric_prompt_template=NBA_RUBRIC),
            MetricPromptTemplateExamples.Pointwise.INSTRUCTION_FOLLOWING,
            PairwiseMetric(metric="nba_pairwise", metric_prompt_template=PAIRWISE_RUBRIC),
            MetricPromptTemplateExamples.Pairwise.FLUENCY,
        ]
        result = EvalTask(dataset=data, metrics=metrics).evaluate()
        out["next_best_action"] = {k: float(v) for k, v in result.summary_metrics.items()}
    return out


def run_eval_env(dataset: Path, project: str, location: str, python: Path = EVAL_PYTHON) -> dict[str, Any]:
    """Runs the Vertex half in the eval virtualenv (separate lock) and returns its summary."""
    if not python.exists():
        raise SystemExit(
            f"{python} missing: python3 -m venv .venv-eval && .venv-eval/bin/pip install -r requirements-eval.txt"
        )
    out = subprocess.run(
        [
            str(python),
            "-m",
            "scripts.evaluate",
            "vertex",
            "--dataset",
            str(dataset),
            "--project",
            project,
            "--location",
            location,
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", default="run", choices=["run", "dataset", "vertex"])
    parser.add_argument("paths", nargs="*", type=Path, help="gold files/directories (default: gold sets + regression)")
    parser.add_argument("--project", default=os.environ.get("CX_PROJECT"))
    parser.add_argument("--location", default=os.environ.get("CX_REGION", "europe-west1"))
    parser.add_argument("--dataset", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--endpoint", help="evaluation service endpoint override (REST), e.g. a private endpoint")
    parser.add_argument("--anonymous", action="store_true", help="no credentials (local stand-in endpoints)")
    add_engine_flags(parser)
    args = parser.parse_args(argv)
    apply_engine_flags(args)
    if args.command == "vertex":  # eval environment: no project imports
        rows = [json.loads(line) for line in args.dataset.read_text("utf-8").splitlines() if line.strip()]
        print(
            json.dumps(
                vertex_evaluate(rows, args.project, args.location, endpoint=args.endpoint, anonymous=args.anonymous)
            )
        )
        return 0
    from scripts.eval_next_steps import GOLD, GOLD_DIR, _stack

    paths = args.paths or [GOLD, GOLD_DIR, REGRESSION]
    emu, rt = _stack()
    try:
        if args.command == "dataset" or args.project:
            rows = build_dataset(rt, paths)
            dataset = args.out or args.dataset or ROOT / ".local" / "eval" / "dataset.jsonl"
            dataset.parent.mkdir(parents=True, exist_ok=True)
            dataset.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
            print(f"wrote {len(rows)} rows to {dataset}")
            if args.command == "run":
                print(json.dumps(run_eval_env(dataset, args.project, args.location), indent=1))
        else:
            offline(paths, rt)
        rt.events.flush()
    finally:
        emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
