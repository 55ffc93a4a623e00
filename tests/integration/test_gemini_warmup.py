"""At instance start (CX_PRELOAD) every model the function calls is checked with one count_tokens call."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest

from shared.engine.model import forget_config_faults
from shared.warmup import check_models
from tests.conftest import FakeVertex, fixture_json, vertex_engine, vertex_settings

pytestmark = pytest.mark.integration


@pytest.fixture
def records() -> Iterator[list[logging.LogRecord]]:
    from shared.platform import logs

    logs.get_logger("warmup")
    got: list[logging.LogRecord] = []

    class Grab(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            got.append(record)

    handler = Grab()
    logging.getLogger("cx").addHandler(handler)
    forget_config_faults()
    yield got
    logging.getLogger("cx").removeHandler(handler)
    forget_config_faults()


def _events(records: list[logging.LogRecord], event: str) -> list[dict[str, Any]]:
    return [r.fields | {"severity": r.levelname} for r in records if getattr(r, "fields", {}).get("event") == event]


def _rt(fake: FakeVertex) -> Any:
    return SimpleNamespace(settings=vertex_settings(fake), engine=vertex_engine(fake))


def test_each_model_of_the_function_answers_a_token_count(
    fake_vertex: FakeVertex, records: list[logging.LogRecord]
) -> None:
    fake_vertex.reply(200, fixture_json("vertex", "count_tokens.json"))
    assert check_models(_rt(fake_vertex), "ticket_closed", today=date(2026, 12, 2)) == {"gemini-3.5-flash": "ok"}
    (req,) = fake_vertex.requests
    assert req["path"].endswith("/locations/global/publishers/google/models/gemini-3.5-flash:countTokens")
    assert _events(records, "model.config_fault") == [] and _events(records, "model.retiring") == []


def test_a_missing_model_is_an_error_at_start_with_the_model_id(
    fake_vertex: FakeVertex, records: list[logging.LogRecord]
) -> None:
    fake_vertex.reply(404, fixture_json("vertex", "error_404.json"))
    assert check_models(_rt(fake_vertex), "context_summary") == {"gemini-3.5-flash-lite": "model_not_found"}
    (fault,) = _events(records, "model.config_fault")
    assert fault["severity"] == "ERROR" and fault["model"] == "gemini-3.5-flash-lite" and fault["at"] == "start"


def test_a_model_within_30_days_of_retirement_warns_at_start(
    fake_vertex: FakeVertex, records: list[logging.LogRecord]
) -> None:
    fake_vertex.reply(200, fixture_json("vertex", "count_tokens.json"))
    check_models(_rt(fake_vertex), "next_steps", today=date(2027, 4, 25))
    (warning,) = _events(records, "model.retiring")
    assert warning["severity"] == "WARNING" and warning["model"] == "gemini-3.5-flash"
    assert (warning["retires"], warning["days_left"]) == ("2027-05-19", 24)
