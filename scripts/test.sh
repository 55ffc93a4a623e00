#!/usr/bin/env bash
# Install, then run every check CI runs: lint, OpenAPI freshness, the infrastructure
# security scan, unit and emulator tests (pytest starts the Firestore and Pub/Sub
# emulators once per session; tests/unit/test_infra.py parses the Terraform and checks
# it against the code).
source "$(dirname "$0")/bootstrap.sh" requirements-dev.txt
echo "== ruff"; python -m ruff check .
echo "== ruff format"; python -m ruff format --check .
echo "== mypy (shared, functions, main)"; mypy
echo "== import contracts (import-linter: layers, independent capabilities, no shared -> scripts)"; lint-imports
echo "== openapi"; python -m scripts.openapi --check
echo "== terraform schema (infra/terraform against the pinned providers' published schema)"; python -m scripts.tf_schema
echo "== checkov (infra/terraform)"
# checkov's dependency tree lives in its own virtualenv so it cannot move the runtime pins.
infra_stamp=".venv-infra/.installed-$(sha256sum requirements-infra.txt | cut -c1-16)"
if [ ! -f "$infra_stamp" ]; then
  "$PYTHON" -m venv .venv-infra
  .venv-infra/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-infra.txt
  touch "$infra_stamp"
fi
.venv-infra/bin/checkov -d infra/terraform --framework terraform --quiet --compact --skip-download
# --- evaluation environment (quality) -----------------------------------------------------
# google-cloud-aiplatform (Vertex Gen AI evaluation) pins google-genai<3, the functions pin 3.x:
# its own virtualenv, from its own lock; tests/integration/test_quality_evaluate.py drives it
# against a local stand-in endpoint (first install about 3 min; skipped there when absent).
eval_stamp=".venv-eval/.installed-$(sha256sum requirements-eval.txt | cut -c1-16)"
if [ ! -f "$eval_stamp" ]; then
  echo "== eval virtualenv (.venv-eval)"
  "$PYTHON" -m venv .venv-eval
  .venv-eval/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-eval.txt
  touch "$eval_stamp"
fi
# -------------------------------------------------------------------------------------------
# --- Chromium for the agent-desktop browser tests (tests/browser) -----------------------
# Playwright drives Debian's Chromium (/usr/bin/chromium), never a `playwright install`
# download. A fresh CI machine running as root with apt gets it installed here; anywhere
# else the browser tests skip and say why.
echo "== chromium (tests/browser)"
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi
if [ -x /usr/bin/chromium ]; then /usr/bin/chromium --version 2>/dev/null; else echo "no /usr/bin/chromium: browser tests will skip"; fi
# -------------------------------------------------------------------------------------
echo "== pytest"; exec python -m pytest "$@"
