"""Instance warm-up loads what a function's first request would, only that, and only in the worker
that serves (the gunicorn master that imports ``main`` and forks it keeps nothing heavy)."""

from __future__ import annotations

import json
import subprocess
import sys

from shared.settings import ROOT

HEAVY = ("spacy", "presidio_analyzer", "wordfreq", "holidays", "py3langid")
# Imports main as functions-framework does in the gunicorn master, then forks as gunicorn does.
PROBE = f"""
import json, os, sys
import main  # CX_PRELOAD and FUNCTION_TARGET come from the environment

def seen():
    from shared.language import nlp
    return {{
        "modules": {{m: m in sys.modules for m in {HEAVY!r}}},
        "spacy_components": {{name: list(entry[0].pipe_names) for name, entry in nlp._models.items()}},
    }}

pid = os.fork()
if pid == 0:
    from shared.warmup import wait_warm
    warmed = wait_warm(600) if os.environ.get("CX_PRELOAD") == "true" else False
    print(json.dumps({{"worker": {{**seen(), "warmed": warmed}}}}), flush=True)
    os._exit(0)
os.waitpid(pid, 0)
print(json.dumps({{"master": seen()}}), flush=True)
"""


def _run(env: dict[str, str]) -> dict[str, dict]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout
    found: dict[str, dict] = {}
    for line in out.splitlines():
        if line.startswith('{"worker"') or line.startswith('{"master"'):
            found.update(json.loads(line))
    return found


def _env(**extra: str) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("CX_") and k != "FUNCTION_TARGET"}
    return {**env, "CX_MODEL_BACKEND": "offline", **extra}


def test_without_preload_nothing_heavy_is_imported() -> None:
    run = _run(_env(FUNCTION_TARGET="next_steps"))
    assert run["master"]["modules"] == dict.fromkeys(HEAVY, False)
    assert run["worker"]["modules"] == dict.fromkeys(HEAVY, False) and not run["worker"]["warmed"]


def test_preload_warms_the_worker_not_the_master() -> None:
    steps = _run(_env(CX_PRELOAD="true", FUNCTION_TARGET="next_steps"))
    assert steps["master"]["modules"] == dict.fromkeys(HEAVY, False) and steps["master"]["spacy_components"] == {}
    worker = steps["worker"]
    assert worker["warmed"]
    assert {m for m, loaded in worker["modules"].items() if loaded} == {
        "spacy",
        "presidio_analyzer",
        "holidays",
        "py3langid",
    }
    # one copy of the English model with the union of what masking (ner) and the clause analyzer read
    (components,) = worker["spacy_components"].values()
    assert {"ner", "parser", "tagger", "lemmatizer"} <= set(components)


def test_a_function_that_only_masks_loads_only_the_ner_component() -> None:
    reply = _run(_env(CX_PRELOAD="true", FUNCTION_TARGET="reply_draft"))["worker"]
    assert reply["modules"]["wordfreq"] and reply["modules"]["presidio_analyzer"] and not reply["modules"]["holidays"]
    assert list(reply["spacy_components"].values()) == [["ner"]]


def test_a_function_without_models_warms_nothing() -> None:
    sync = _run(_env(CX_PRELOAD="true", FUNCTION_TARGET="snapshot_sync"))
    assert not any(sync["worker"]["modules"].values()) and not any(sync["master"]["modules"].values())
