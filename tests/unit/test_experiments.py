"""Experiment assignment: deterministic, close to the configured share, and rendered by the prompt library."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.engine.experiments import Experiment, Experiments
from shared.engine.prompts import PromptLibrary
from shared.settings import ROOT

EXP = Experiment(name="nba-goal-first", capability="next_best_action", control="v1", candidate="v2", share=0.3)


def test_assignment_is_deterministic_across_processes_and_near_the_share() -> None:
    ids = [f"T-{i}" for i in range(20_000)]
    arms = [EXP.arm(i) for i in ids]
    assert arms.count("candidate") / len(ids) == pytest.approx(0.3, abs=0.015)
    code = (
        "from shared.engine.experiments import Experiment as E; e = E(name='nba-goal-first', capability='x', "
        "control='v1', candidate='v2', share=0.3); print(''.join(e.arm(f'T-{i}')[0] for i in range(200)))"
    )
    other = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        env={"PYTHONHASHSEED": "123", "PATH": ""},
    ).stdout.strip()
    assert other == "".join(a[0] for a in arms[:200])  # same arms in another process, other hash seed
    renamed = EXP.model_copy(update={"name": "other-test"})
    assert [renamed.arm(i) for i in ids[:500]] != arms[:500]  # experiments are independent


def test_config_file_is_valid_and_its_prompt_versions_exist() -> None:
    exps = Experiments.load(ROOT / "config" / "engine/experiments.yaml", ROOT / "prompts")
    nba = exps.get("next_best_action")
    assert nba is not None and (nba.control, nba.candidate) == ("v1", "v2") and 0 < nba.share < 1
    v1 = (ROOT / "prompts/next_best_action/v1/system.j2").read_text("utf-8")
    v2 = (ROOT / "prompts/next_best_action/v2/system.j2").read_text("utf-8")
    assert v1 != v2  # a candidate is a real change


def test_bad_experiments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        Experiment(name="x", capability="c", control="v1", candidate="v1", share=0.5)
    with pytest.raises(ValidationError):
        Experiment(name="x", capability="c", control="v1", candidate="v2", share=1.5)
    bad = tmp_path / "experiments.yaml"
    bad.write_text(
        "experiments:\n  - {name: a, capability: next_best_action, control: v1, candidate: v9, share: 0.5}\n"
    )
    with pytest.raises(FileNotFoundError, match="v9"):
        Experiments.load(bad, ROOT / "prompts")
    assert list(Experiments.load(tmp_path / "missing.yaml")) == []


def test_prompt_library_renders_the_arm_version() -> None:
    lib = PromptLibrary(ROOT / "prompts", {"next_best_action": "v1"}, Experiments([EXP]))
    ctx = {
        "signals": {"channel": "chat"},
        "rules": {"max_discount_percent": 20},
        "customer": {},
        "transcript": [],
        "candidates": [],
    }
    by_arm = {}
    for i in range(50):
        t = lib.get("next_best_action", unit=f"T-{i}")
        by_arm[t.arm] = t.render(context=ctx, language="en", customer_language="de")
        assert t.version == EXP.version(EXP.arm(f"T-{i}")) and t.experiment == "nba-goal-first"
    assert by_arm["control"].version_id == "next_best_action/v1" and by_arm["candidate"].version == "v2"
    assert by_arm["candidate"].arm == "candidate" and by_arm["control"].system != by_arm["candidate"].system
    plain = lib.get("next_best_action")  # no contact id: the active version, outside the experiment
    assert plain.version == "v1" and plain.arm is None
    assert lib.get("next_best_action", "v2", unit="T-1").arm is None  # an explicit version wins
