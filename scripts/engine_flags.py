"""``--engine`` / ``--vertex-base-url`` for the evaluation commands: the same tables for Gemini with one flag.

    python -m scripts.eval_next_steps gold --engine vertex             # Gemini in CX_PROJECT (ADC)
    python -m scripts.eval_next_steps gold --vertex-base-url http://127.0.0.1:8089   # a recorded stand-in

The commands build their settings from the environment (``scripts.emulators.start_seeded``), so the
flags set the CX_ variables before anything reads them. A base URL alone means: Gemini through that
endpoint, no Google credentials, and a placeholder project unless one is given.
"""

from __future__ import annotations

import argparse
import os

PLACEHOLDER_PROJECT = "cx-eval-local"


def add_engine_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("engine")
    group.add_argument("--engine", choices=["offline", "vertex"], help="default: vertex when CX_PROJECT is set")
    group.add_argument("--vertex-base-url", help="a stand-in Vertex endpoint serving recorded answers (implies vertex)")
    group.add_argument("--gemini-location", help="Gemini location (default: CX_GEMINI_LOCATION or global)")


def apply_engine_flags(args: argparse.Namespace, environ: os._Environ[str] | dict[str, str] | None = None) -> None:
    env = os.environ if environ is None else environ
    engine = args.engine or ("vertex" if args.vertex_base_url else None)
    if engine:
        env["CX_MODEL_BACKEND"] = engine
    if args.vertex_base_url:
        env["CX_VERTEX_BASE_URL"] = args.vertex_base_url
        env["CX_VERTEX_ANONYMOUS"] = "true"
        env.setdefault("CX_PROJECT", PLACEHOLDER_PROJECT)
    if args.gemini_location:
        env["CX_GEMINI_LOCATION"] = args.gemini_location
    if engine == "vertex" and not env.get("CX_PROJECT"):
        raise SystemExit("--engine vertex needs CX_PROJECT (the project to call Gemini in)")
