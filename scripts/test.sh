#!/usr/bin/env bash
# Install, then run every check CI runs: lint, OpenAPI freshness, the infrastructure
# security scan, unit and emulator tests (pytest starts the Firestore and Pub/Sub
# emulators once per session; tests/unit/test_infra.py parses the Terraform and checks
# it against the code).
source "$(dirname "$0")/bootstrap.sh" requirements-dev.txt
echo "== ruff"; python -m ruff check .
echo "== openapi"; python -m scripts.openapi --check
echo "== checkov (infra/terraform)"
# checkov's dependency tree lives in its own virtualenv so it cannot move the runtime pins.
infra_stamp=".venv-infra/.installed-$(sha256sum requirements-infra.txt | cut -c1-16)"
if [ ! -f "$infra_stamp" ]; then
  "$PYTHON" -m venv .venv-infra
  .venv-infra/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-infra.txt
  touch "$infra_stamp"
fi
.venv-infra/bin/checkov -d infra/terraform --framework terraform --quiet --compact --skip-download
echo "== pytest"; exec python -m pytest "$@"
