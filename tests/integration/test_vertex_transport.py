"""The real google-genai request/response path, with Vertex replaced by a local HTTP server."""

from __future__ import annotations

import json

import pytest

from shared.capabilities.context_summary import SummaryOutput
from shared.engine.model import ResilientEngine
from shared.engine.prompts import Prompt
from tests.conftest import FakeVertex, fixture_json, vertex_engine

pytestmark = pytest.mark.integration

OUTPUT = fixture_json("vertex", "summary_output.json")


def _prompt() -> Prompt:
    from shared.capabilities.context_summary import offline_summary  # noqa: F401 - registers the offline generator

    return Prompt(
        capability="context_summary",
        version="v1",
        system="SYSTEM RULES",
        user="USER CONTEXT",
        context={
            "customer": {
                "segment": "gold",
                "tenure_months": 20,
                "customer_since": "2025-01-01",
                "lifetime_value": 100,
                "currency": "EUR",
            }
        },
        texts=__import__("yaml").safe_load(open("prompts/context_summary/v1/texts.yaml")),
    )


def test_request_carries_system_instruction_schema_and_generation_config(fake_vertex: FakeVertex) -> None:
    fake_vertex.reply_json(OUTPUT, promptTokenCount=812, candidatesTokenCount=164)
    engine: ResilientEngine = vertex_engine(fake_vertex, temperature=0.3)
    out, usage = engine.generate(_prompt(), SummaryOutput)

    (req,) = fake_vertex.requests
    # The profile's model (config/engine/models.yaml) at the Gemini location, not the functions' region.
    assert req["path"] == (
        "/v1beta1/projects/test-project/locations/global/publishers/google/models/gemini-3.5-flash-lite:generateContent"
    )
    assert req["headers"]["Authorization"] == "Bearer test-token"
    body = req["body"]
    assert body["systemInstruction"]["parts"][0]["text"] == "SYSTEM RULES"
    assert body["contents"] == [{"role": "user", "parts": [{"text": "USER CONTEXT"}]}]
    cfg = body["generationConfig"]
    assert cfg["temperature"] == 0.3 and cfg["maxOutputTokens"] == 600 + 1400  # answer + thinking headroom
    thinking = cfg["thinkingConfig"]
    assert thinking in ({"thinkingLevel": "MINIMAL"}, {"thinking_level": "MINIMAL"})  # a level, never a budget
    assert cfg["responseMimeType"] == "application/json"
    schema = cfg["responseSchema"]
    assert set(schema["required"]) >= {"bullets", "sentiment_trend", "personalization_hints"}
    assert schema["properties"]["sentiment_trend"]["enum"] == ["positive", "neutral", "negative"]
    assert schema["properties"]["personalization_hints"]["min_items"] == 2  # proto field names on the wire
    assert schema["properties"]["personalization_hints"]["max_items"] == 2
    assert schema["properties"]["bullets"]["max_items"] == 5
    assert body["labels"] == {"capability": "context_summary", "prompt_version": "v1"}

    assert out == SummaryOutput.model_validate(OUTPUT)
    assert (usage.engine, usage.degraded, usage.input_tokens, usage.output_tokens) == ("vertex", False, 812, 164)
    assert usage.model == "gemini-2.5-flash" and not usage.tokens_estimated  # as the response names it
    assert usage.cost_usd == pytest.approx((812 * 0.30 + 164 * 2.50) / 1e6)  # priced as the profile's model


def test_429_is_retried_then_succeeds(fake_vertex: FakeVertex) -> None:
    fake_vertex.reply(429, fixture_json("vertex", "error_429.json"))
    fake_vertex.reply_json(OUTPUT)
    out, usage = vertex_engine(fake_vertex).generate(_prompt(), SummaryOutput)
    assert len(fake_vertex.requests) == 2
    assert usage.engine == "vertex" and not usage.degraded
    assert out.sentiment_trend == "negative"


def test_500_exhausting_retries_falls_back_to_offline(fake_vertex: FakeVertex) -> None:
    for _ in range(3):
        fake_vertex.reply(500, fixture_json("vertex", "error_500.json"))
    out, usage = vertex_engine(fake_vertex, model_retry_attempts=3).generate(_prompt(), SummaryOutput)
    assert len(fake_vertex.requests) == 3
    assert usage.engine == "offline" and usage.degraded
    assert usage.degraded_reason == "unavailable: HTTP 500"  # transient: no config-fault page
    assert out.bullets[0].startswith("Gold customer for 20 months")


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("safety_block.json", "safety_block: finish reason SAFETY"),
        ("prompt_blocked.json", "safety_block: prompt blocked: BlockedReason.PROHIBITED_CONTENT"),
        ("invalid_json.json", "truncated: finish reason MAX_TOKENS (output budget spent, thinking included)"),
    ],
)
def test_blocked_or_malformed_answers_fall_back(fake_vertex: FakeVertex, fixture: str, reason: str) -> None:
    fake_vertex.reply(200, fixture_json("vertex", fixture))
    out, usage = vertex_engine(fake_vertex).generate(_prompt(), SummaryOutput)
    assert len(fake_vertex.requests) == 1  # not retried: the answer would not change
    assert usage.degraded and usage.engine == "offline"
    assert usage.degraded_reason == reason
    assert len(out.personalization_hints) == 2


def test_output_violating_the_schema_falls_back(fake_vertex: FakeVertex) -> None:
    bad = dict(OUTPUT, personalization_hints=["only one"])
    fake_vertex.reply_json(bad)
    _, usage = vertex_engine(fake_vertex).generate(_prompt(), SummaryOutput)
    assert usage.degraded and usage.degraded_reason.startswith("malformed_output")


def test_latency_budget_falls_back_without_waiting_for_vertex(fake_vertex: FakeVertex) -> None:
    fake_vertex.hang()
    fake_vertex.hang()
    engine = vertex_engine(fake_vertex, latency_budget_ms=500, model_timeout_ms=30000)
    out, usage = engine.generate(_prompt(), SummaryOutput)
    assert usage.degraded and usage.degraded_reason.startswith("timeout: ")
    assert usage.degraded_reason.endswith("no answer in 2 attempt(s) of 250 ms (latency budget 500 ms)")
    assert len(fake_vertex.requests) == 2  # 500 ms hold two 250 ms attempts, not three
    assert out.bullets


def test_client_errors_are_not_retried(fake_vertex: FakeVertex) -> None:
    fake_vertex.reply(400, {"error": {"code": 400, "message": "bad schema", "status": "INVALID_ARGUMENT"}})
    _, usage = vertex_engine(fake_vertex).generate(_prompt(), SummaryOutput)
    assert len(fake_vertex.requests) == 1
    assert usage.degraded_reason == "client_error: HTTP 400: bad schema"


def test_request_json_is_valid_utf8_json(fake_vertex: FakeVertex) -> None:
    fake_vertex.reply_json(OUTPUT)
    prompt = _prompt()
    prompt = Prompt(**{**prompt.__dict__, "user": "Kundin: Müller, ärgerlich"})
    vertex_engine(fake_vertex).generate(prompt, SummaryOutput)
    assert json.loads(fake_vertex.requests[0]["raw"])["contents"][0]["parts"][0]["text"] == "Kundin: Müller, ärgerlich"


def test_missing_credentials_degrade_instead_of_failing(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from shared.engine.model import build_engine
    from shared.runtime import offline_engine
    from shared.settings import load_settings

    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    settings = load_settings(project="p", model_backend="vertex")
    out, usage = build_engine(settings, offline_engine()).generate(_prompt(), SummaryOutput)
    assert usage.engine == "offline" and usage.degraded
    assert usage.degraded_reason.startswith("no_credentials")
    assert out.bullets
