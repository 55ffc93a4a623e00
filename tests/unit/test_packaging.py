"""The deployable artefact installs exactly what the tests ran with."""

from __future__ import annotations

import re
import tomllib

from shared.settings import ROOT


def _pins(path: str) -> dict[str, str]:
    pins = {}
    for line in (ROOT / path).read_text("utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "-r")):
            continue
        name, sep, version = line.partition("==")
        assert sep, f"{path}: {line!r} is not pinned with =="
        pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def test_pyproject_pins_match_the_lock_files() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    runtime, dev = _pins("requirements.txt"), _pins("requirements-dev.txt")
    for spec in project["dependencies"]:
        name, _, version = spec.partition("==")
        assert runtime[re.sub(r"[-_.]+", "-", name).lower()] == version, spec
    for spec in project["optional-dependencies"]["dev"]:
        name, _, version = spec.partition("==")
        assert dev[re.sub(r"[-_.]+", "-", name).lower()] == version, spec
    assert not set(runtime) & set(dev)


def test_no_heavy_vertex_sdk_in_the_runtime() -> None:
    runtime = _pins("requirements.txt")
    assert "google-cloud-aiplatform" not in runtime and "vertexai" not in runtime


def test_functions_never_import_the_analytics_or_evaluation_sdks() -> None:
    """Cold start: importing every entry point loads no BigQuery or Vertex evaluation SDK."""
    import subprocess
    import sys

    code = (
        "import sys, main; heavy = [m for m in ('google.cloud.bigquery', 'google.cloud.aiplatform', 'vertexai', "
        "'duckdb', 'sqlglot', 'scripts.warehouse', 'scripts.experiment_report') if m in sys.modules]; "
        "print(','.join(heavy) or 'none')"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "none"


def test_evaluation_sdk_lives_in_its_own_locked_environment() -> None:
    """aiplatform pins google-genai<3, the functions 3.x: two environments, each fully pinned."""
    evaluation, runtime = _pins("requirements-eval.txt"), _pins("requirements.txt")
    assert "google-cloud-aiplatform" in evaluation and "pandas" in evaluation
    assert evaluation["google-genai"].split(".")[0] == "2" and runtime["google-genai"].split(".")[0] == "3"
