#!/usr/bin/env bash
# Install, then run every check CI runs: lint, OpenAPI freshness, unit and emulator
# tests (pytest starts the Firestore and Pub/Sub emulators once per session).
source "$(dirname "$0")/bootstrap.sh" requirements-dev.txt
echo "== ruff"; python -m ruff check .
echo "== openapi"; python -m scripts.openapi --check
echo "== pytest"; exec python -m pytest "$@"
