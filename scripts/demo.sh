#!/usr/bin/env bash
# Install, then run the local end-to-end demo: emulators, seeded customers, every
# function served by functions-framework, real requests, clean stop. No cloud project.
# It prints the agent desktop's URL; `./scripts/demo.sh --serve` keeps the stack and the
# page up after the demo (Ctrl-C stops everything).
source "$(dirname "$0")/bootstrap.sh" requirements-dev.txt  # the demo also runs the warehouse tools
exec python -m scripts.devstack demo "$@"
