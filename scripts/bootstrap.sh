# Sourced by demo.sh and test.sh: a project-local virtualenv with the pinned
# dependencies, and a clear message when the emulators' prerequisites are missing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
REQUIREMENTS="${1:-requirements.txt}"

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "CX Copilot needs Python 3.11+ (found: $("$PYTHON" --version 2>&1))" >&2; exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# Reinstall only when the lock file changed since the last install.
stamp=".venv/.installed-$(sha256sum "$REQUIREMENTS" requirements.txt pyproject.toml | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
  # the project itself, editable and without dependencies (the lock above has them): the `cx` command
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
  rm -f .venv/.installed-*; touch "$stamp"
fi

missing=()
command -v gcloud >/dev/null || missing+=("gcloud (Google Cloud SDK)")
command -v java >/dev/null || missing+=("java 17+")
if command -v gcloud >/dev/null; then
  sdk="$(gcloud info --format='value(installation.sdk_root)' 2>/dev/null || true)"
  [ -d "$sdk/platform/cloud-firestore-emulator" ] || missing+=("Firestore emulator")
  [ -d "$sdk/platform/pubsub-emulator" ] || missing+=("Pub/Sub emulator")
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "missing: ${missing[*]}" >&2
  echo "install: apt-get install google-cloud-cli google-cloud-cli-firestore-emulator google-cloud-cli-pubsub-emulator openjdk-17-jre-headless" >&2
  echo "     or: gcloud components install beta cloud-firestore-emulator pubsub-emulator" >&2
  exit 1
fi
export PATH="$ROOT/.venv/bin:$PATH"
