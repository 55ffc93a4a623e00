"""Regenerate requirements.txt and requirements-dev.txt from the pins in pyproject.toml.

Installs the top-level pins into throw-away virtual environments and freezes the full
transitive closure, so the Cloud Functions build and CI install exactly what was tested.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from shared.settings import ROOT


def _freeze(packages: list[str]) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip"]
        subprocess.run([*pip, "install", "-q", *packages], check=True)
        out = subprocess.run([*pip, "freeze"], check=True, capture_output=True, text=True).stdout
    return sorted(line for line in out.splitlines() if line and not line.startswith("-e"))


def main() -> int:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    runtime = _freeze(project["dependencies"])
    everything = _freeze(project["dependencies"] + project["optional-dependencies"]["dev"])
    header = "# Runtime dependencies, fully pinned (the Cloud Functions build installs this file).\n"
    header += "# Top-level pins live in pyproject.toml; regenerate with: python -m scripts.lock\n"
    (ROOT / "requirements.txt").write_text(header + "\n".join(runtime) + "\n", "utf-8")
    dev = [line for line in everything if line not in set(runtime)]
    text = "# Development and CI: runtime plus test and lint tools, fully pinned.\n-r requirements.txt\n"
    (ROOT / "requirements-dev.txt").write_text(text + "\n".join(dev) + "\n", "utf-8")
    print(f"locked {len(runtime)} runtime and {len(dev)} development packages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
