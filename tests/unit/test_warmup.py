"""Instance warm-up loads what a function's first request would, and only that."""

from __future__ import annotations

import json
import subprocess
import sys

from shared.settings import ROOT

PROBE = """
import json, sys
import main  # CX_PRELOAD and FUNCTION_TARGET come from the environment
print(json.dumps({m: m in sys.modules for m in ("spacy", "presidio_analyzer", "wordfreq", "holidays")}))
"""


def _loaded(env: dict[str, str]) -> dict[str, bool]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def _env(**extra: str) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("CX_") and k != "FUNCTION_TARGET"}
    return {**env, "CX_MODEL_BACKEND": "offline", **extra}


def test_without_preload_nothing_heavy_is_imported() -> None:
    assert _loaded(_env(FUNCTION_TARGET="next_steps")) == dict.fromkeys(
        ("spacy", "presidio_analyzer", "wordfreq", "holidays"), False
    )


def test_preload_loads_the_parts_of_its_own_target_only() -> None:
    steps = _loaded(_env(CX_PRELOAD="true", FUNCTION_TARGET="next_steps"))
    assert steps["spacy"] and steps["presidio_analyzer"] and steps["holidays"] and not steps["wordfreq"]
    reply = _loaded(_env(CX_PRELOAD="true", FUNCTION_TARGET="reply_draft"))
    assert reply["wordfreq"] and reply["presidio_analyzer"] and not reply["holidays"]
    assert not any(_loaded(_env(CX_PRELOAD="true", FUNCTION_TARGET="feedback")).values())
