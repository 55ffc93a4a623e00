"""Property: no request, however malformed, gets a 5xx or a non-JSON error from any HTTP function.

Hypothesis generates mutated valid bodies, arbitrary JSON, deep nesting, huge numbers, long
keys, raw bytes, odd methods and content types (scripts/bench_reliability.hostile_requests).
Deterministic (derandomize) with a fixed budget per function: CX_FUZZ_EXAMPLES (default 150;
the reliability benchmark runs 1,000).
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from scripts.bench_reliability import HTTP_FUNCTIONS, fuzz_function
from shared.runtime import Runtime

pytestmark = pytest.mark.integration
EXAMPLES = int(os.environ.get("CX_FUZZ_EXAMPLES", "150"))


@pytest.mark.parametrize("name", HTTP_FUNCTIONS)
def test_no_fuzzed_request_gets_a_5xx(runtime: Runtime, name: str) -> None:
    failures: list[tuple[int, Any]] = []
    statuses: set[int] = set()

    def answer(resp: Any, ms: float) -> None:
        statuses.add(resp.status_code)
        payload = resp.get_json(silent=True)
        if resp.status_code >= 500 or (resp.status_code != 200 and not (payload or {}).get("error")):
            failures.append((resp.status_code, resp.get_data()[:300]))

    sent = fuzz_function(name, EXAMPLES, answer)
    assert sent >= EXAMPLES * 0.9
    assert failures == []
    assert 400 in statuses  # the generator does reach the validation paths
