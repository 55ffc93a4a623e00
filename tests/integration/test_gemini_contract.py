"""Gemini contract: recorded generateContent shapes served by the local fake endpoint, each with its
asserted outcome; loud configuration faults; a latency budget that does not block the next request;
honest usage on the suggestion event."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from shared.capabilities.context_summary import SummaryOutput
from shared.engine.model import ResilientEngine, forget_config_faults
from tests.conftest import FakeVertex, fixture_json, vertex_engine
from tests.integration.test_vertex_transport import _prompt

pytestmark = pytest.mark.integration

OUTPUT = fixture_json("vertex", "summary_output.json")


def recorded(name: str) -> dict[str, Any]:
    """A recorded response; text parts holding ``{}`` carry the capability's JSON answer."""
    body = copy.deepcopy(fixture_json("vertex", name))
    for cand in body.get("candidates", []):
        for part in (cand.get("content") or {}).get("parts", []):
            if part.get("text") == "{}":
                part["text"] = json.dumps(OUTPUT)
    return body


@pytest.fixture
def model_logs() -> Iterator[list[logging.LogRecord]]:
    from shared.platform import logs

    logs.get_logger("model")
    records: list[logging.LogRecord] = []

    class Grab(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Grab()
    logging.getLogger("cx").addHandler(handler)
    forget_config_faults()  # a fresh instance
    yield records
    logging.getLogger("cx").removeHandler(handler)
    forget_config_faults()


def faults(records: list[logging.LogRecord]) -> list[dict[str, Any]]:
    return [
        r.fields | {"severity": r.levelname}
        for r in records
        if getattr(r, "fields", {}).get("event") == "model.config_fault"
    ]


# --- recorded response shapes -----------------------------------------------------------------

PARSED = [
    # (fixture, input, output, thinking, cached): usage read whole from usageMetadata
    ("ok_thinking.json", 1210, 212, 1187, 1024),
    ("thought_parts.json", 1210, 198, 403, 0),  # the thought part is not the answer
    ("no_usage.json", 0, 0, 0, 0),  # answer kept; usage marked unknown, not zero-cost
]


@pytest.mark.parametrize(("fixture", "tokens_in", "tokens_out", "thinking", "cached"), PARSED)
def test_answers_are_parsed_with_thinking_and_cached_tokens(
    fake_vertex: FakeVertex, fixture: str, tokens_in: int, tokens_out: int, thinking: int, cached: int
) -> None:
    fake_vertex.reply(200, recorded(fixture))
    out, usage = vertex_engine(fake_vertex).generate(_prompt(), SummaryOutput)
    assert out == SummaryOutput.model_validate(OUTPUT)
    assert (usage.engine, usage.degraded) == ("vertex", False)
    assert (usage.input_tokens, usage.output_tokens, usage.thinking_tokens, usage.cached_tokens) == (
        tokens_in,
        tokens_out,
        thinking,
        cached,
    )
    if fixture == "no_usage.json":
        assert usage.tokens_estimated and usage.cost_usd is None
    else:  # the profile's model (gemini-3.5-flash-lite): thinking billed as output, cache at the cached price
        expected = ((tokens_in - cached) * 0.30 + cached * 0.03 + (tokens_out + thinking) * 2.50) / 1e6
        assert usage.cost_usd == pytest.approx(expected)


DEGRADED = [
    ("max_tokens_empty.json", "truncated: finish reason MAX_TOKENS"),
    ("invalid_json.json", "truncated: finish reason MAX_TOKENS"),
    ("safety_block.json", "safety_block: finish reason SAFETY"),
    ("recitation.json", "safety_block: finish reason RECITATION"),
    ("prompt_blocked.json", "safety_block: prompt blocked: BlockedReason.PROHIBITED_CONTENT"),
]


@pytest.mark.parametrize(("fixture", "reason"), DEGRADED)
def test_unusable_answers_degrade_with_their_class(
    fake_vertex: FakeVertex, model_logs: list[logging.LogRecord], fixture: str, reason: str
) -> None:
    fake_vertex.reply(200, recorded(fixture))
    out, usage = vertex_engine(fake_vertex).generate(_prompt(), SummaryOutput)
    assert len(fake_vertex.requests) == 1  # not retried: the same request gets the same answer
    assert usage.degraded and usage.engine == "offline" and usage.degraded_reason.startswith(reason)
    assert len(out.personalization_hints) == 2
    assert faults(model_logs) == []  # content outcomes never page
    billed = fixture_json("vertex", fixture).get("usageMetadata", {})
    # The unusable answer was still billed: its tokens and cost are recorded, not the offline estimate.
    assert (usage.input_tokens, usage.thinking_tokens, usage.tokens_estimated) == (
        billed.get("promptTokenCount", 0),
        billed.get("thoughtsTokenCount", 0),
        False,
    )
    assert usage.cost_usd == pytest.approx(
        (
            billed.get("promptTokenCount", 0) * 0.30
            + (billed.get("candidatesTokenCount", 0) + billed.get("thoughtsTokenCount", 0)) * 2.50
        )
        / 1e6
    )


# --- HTTP failures: classified; 404/403 are configuration faults, logged once per instance -----------


@pytest.mark.parametrize(
    ("status", "fixture", "reason", "fault"),
    [
        (404, "error_404.json", "model_not_found: HTTP 404 for model gemini-3.5-flash-lite", True),
        (403, "error_403.json", "permission_denied: HTTP 403 for model gemini-3.5-flash-lite", True),
        (
            429,
            "error_429_quota.json",
            "quota_exhausted: HTTP 429 quota aiplatform.googleapis.com/"
            "generate_content_requests_per_minute_per_project_per_base_model",
            False,
        ),
        (500, "error_500.json", "unavailable: HTTP 500", False),
    ],
)
def test_http_failures_are_classified_and_config_faults_page_once(
    fake_vertex: FakeVertex, model_logs: list[logging.LogRecord], status: int, fixture: str, reason: str, fault: bool
) -> None:
    engine = vertex_engine(fake_vertex)
    for _ in range(6):
        fake_vertex.reply(status, fixture_json("vertex", fixture))
    _, first = engine.generate(_prompt(), SummaryOutput)
    _, second = engine.generate(_prompt(), SummaryOutput)
    for usage in (first, second):
        assert usage.degraded and usage.degraded_reason.startswith(reason)
    retried = status in (429, 500)
    assert len(fake_vertex.requests) == (6 if retried else 2)  # 3 attempts each vs. a single one
    logged = faults(model_logs)
    if fault:
        (entry,) = logged  # once per instance, however many requests fail
        assert entry["severity"] == "ERROR" and entry["model"] == "gemini-3.5-flash-lite"
        assert entry["reason"] == reason.split(":")[0]
    else:
        assert logged == []


# --- latency budget: slow, then healthy -------------------------------------------------------------


def test_first_call_after_vertex_recovers_is_answered_by_gemini(fake_vertex: FakeVertex) -> None:
    """Vertex hangs for three calls (two attempts each), then answers. With a per-call SDK deadline and
    no shared pool, nothing abandoned is still running: the next call is Gemini's."""
    slow_calls, attempts = 3, 2
    for _ in range(slow_calls * attempts):
        fake_vertex.hang()
    fake_vertex.reply_json(OUTPUT, promptTokenCount=700, candidatesTokenCount=150, thoughtsTokenCount=90)
    engine: ResilientEngine = vertex_engine(
        fake_vertex, latency_budget_ms=600, model_timeout_ms=300, model_retry_attempts=attempts
    )
    for _ in range(slow_calls):
        _, usage = engine.generate(_prompt(), SummaryOutput)
        assert usage.degraded and usage.degraded_reason.startswith("timeout")
    out, usage = engine.generate(_prompt(), SummaryOutput)
    assert (usage.engine, usage.degraded, usage.thinking_tokens) == ("vertex", False, 90)
    assert out == SummaryOutput.model_validate(OUTPUT)
    assert len(fake_vertex.requests) == slow_calls * attempts + 1  # each slow call gave up within its budget


# --- the suggestion event carries the whole usage ----------------------------------------------------


def test_suggestion_event_records_thinking_tokens_cached_tokens_and_cost(
    runtime: Any, fake_vertex: FakeVertex, event_sink: Any
) -> None:
    from shared.capabilities.context_summary import ContextSummaryRequest, summarize
    from shared.platform.calls import CallContext

    runtime.__dict__["engine"] = vertex_engine(fake_vertex)
    fake_vertex.reply(200, recorded("ok_thinking.json"))
    call = CallContext()
    resp = summarize(ContextSummaryRequest(customer_id="C-1004", ticket_id="T-1004-01"), runtime, call)
    runtime.events.flush()
    assert resp.engine == "vertex" and not resp.degraded
    (event,) = event_sink.collect(1, lambda e: e.get("suggestion_id") == resp.suggestion_id)
    assert (event["tokens_in"], event["tokens_out"], event["tokens_thinking"], event["tokens_cached"]) == (
        1210,
        212,
        1187,
        1024,
    )
    expected = ((1210 - 1024) * 0.30 + 1024 * 0.03 + (212 + 1187) * 2.50) / 1e6  # gemini-3.5-flash-lite
    assert event["cost_usd"] == pytest.approx(expected)
    assert event["model"] == "gemini-3.5-flash"  # the model version the response names
    assert call.log_fields["tokens_thinking"] == 1187 and call.log_fields["cost_usd"] == pytest.approx(expected)
