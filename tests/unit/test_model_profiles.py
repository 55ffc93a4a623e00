"""Model profiles and prices as data (config/engine/models.yaml, config/engine/pricing.yaml), checked at start."""

from __future__ import annotations

import logging
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.engine.config_check import ConfigError, check, validate
from shared.engine.profiles import ModelProfiles, Pricing
from shared.engine.vertex import call_options
from shared.settings import ROOT, load_settings

TODAY = date(2026, 12, 2)


def _profiles() -> ModelProfiles:
    return ModelProfiles.load(ROOT / "config" / "engine/models.yaml")


def _config(tmp_path: Path, edit: Any) -> Path:
    cfg = tmp_path / "config"
    shutil.copytree(ROOT / "config", cfg)
    raw = yaml.safe_load((cfg / "engine/models.yaml").read_text("utf-8"))
    edit(raw)
    (cfg / "engine/models.yaml").write_text(yaml.safe_dump(raw), "utf-8")
    return cfg


def test_defaults_call_current_models_with_a_thinking_level_and_room_for_thinking() -> None:
    profiles = _profiles()
    assert profiles.problems("global", TODAY) == []
    for capability, prof in profiles.capabilities.items():
        info = profiles.models[prof.model]
        assert info.retires > TODAY, capability
        assert prof.model.startswith("gemini-3."), capability
        assert prof.thinking.level is not None and prof.thinking.budget is None, capability  # never both
        assert prof.max_output_tokens >= 2 * prof.answer_tokens, capability
    assert profiles.profile("next_steps").model == "gemini-3.5-flash"  # extraction on Flash
    assert profiles.profile("closing_message").model.endswith("flash-lite")  # cheap work on Flash-Lite


def test_retired_misspelt_or_mismatched_models_are_refused_naming_the_key(tmp_path: Path) -> None:
    def edit(raw: dict[str, Any]) -> None:
        raw["capabilities"]["context_summary"]["model"] = "gemini-2.5-flash"  # retired 2026-10-16
        raw["capabilities"]["next_steps"]["model"] = "gemini-3.5-flsh"
        raw["capabilities"]["closing_message"]["thinking"] = {"budget": 512}  # a 3.x model takes a level

    cfg = _config(tmp_path, edit)
    errors, _ = check(load_settings(config_dir=cfg))
    text = "\n".join(errors)
    assert "capabilities.context_summary.model: model 'gemini-2.5-flash' retired on 2026-10-16" in text
    assert "capabilities.next_steps.model: model 'gemini-3.5-flsh' is not in the lifecycle table" in text
    assert "capabilities.closing_message.thinking: family 'gemini-3' takes thinking_level, not thinking_budget" in text


def test_both_thinking_controls_at_once_are_a_schema_error(tmp_path: Path) -> None:
    cfg = _config(
        tmp_path, lambda raw: raw["capabilities"]["reply_draft"].update(thinking={"level": "low", "budget": 128})
    )
    errors, _ = check(load_settings(config_dir=cfg))
    assert any("capabilities.reply_draft.thinking" in e and "never both" in e for e in errors)


def test_a_retired_override_fails_the_start_and_logs_the_config_fault(tmp_path: Path) -> None:
    records: list[logging.LogRecord] = []

    class Grab(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    from shared.platform import logs

    logs.get_logger("model")
    handler = Grab()
    logging.getLogger("cx").addHandler(handler)
    try:
        with pytest.raises(ConfigError) as exc:
            validate(load_settings(gemini_model="gemini-2.5-flash"))
    finally:
        logging.getLogger("cx").removeHandler(handler)
    assert "CX_GEMINI_MODEL: model 'gemini-2.5-flash' retired on 2026-10-16" in str(exc.value)
    faults = [r for r in records if getattr(r, "fields", {}).get("event") == "model.config_fault"]
    assert faults and faults[0].levelno == logging.ERROR and faults[0].fields["model"] == "gemini-2.5-flash"


def test_location_must_serve_every_configured_model() -> None:
    errors, _ = check(load_settings(gemini_location="asia-south1"))
    assert any("'gemini-3.5-flash-lite' is not served in location 'asia-south1'" in e for e in errors)
    assert check(load_settings(gemini_location="global"))[0] == []


def test_override_of_another_family_gets_that_familys_thinking_control() -> None:
    prof = _profiles().profile("reply_draft", "gemini-2.5-flash")
    assert prof.thinking.budget == 512 and prof.thinking.level is None


def test_models_within_30_days_of_retirement_are_listed() -> None:
    profiles = _profiles()
    assert profiles.retiring_within(30, TODAY) == {}
    assert profiles.retiring_within(30, date(2027, 4, 20)) == {
        "gemini-3.5-flash": date(2027, 5, 19),
        "gemini-3.1-flash-lite": date(2027, 5, 7),
    }


def test_cost_bills_thinking_as_output_and_cached_tokens_at_the_cached_price() -> None:
    pricing = Pricing.load(ROOT / "config" / "engine/pricing.yaml")
    cost = pricing.cost(
        "gemini-3.5-flash", input_tokens=1210, output_tokens=212, thinking_tokens=1187, cached_tokens=1024
    )
    assert cost == pytest.approx((186 * 1.50 + 1024 * 0.15 + (212 + 1187) * 9.00) / 1e6)
    assert pricing.cost("gemini-3.5-flash-001", input_tokens=1000, output_tokens=0) == pytest.approx(0.0015)
    assert pricing.cost("unknown-model", input_tokens=1, output_tokens=1) is None


@pytest.mark.parametrize(
    ("budget", "timeout", "attempts", "expected"),
    [(12000, 8000, 2, (5500, 2)), (500, 30000, 3, (250, 2)), (1000, 500, 2, (500, 2)), (300, 8000, 3, (300, 1))],
)
def test_every_attempt_and_back_off_fit_in_the_latency_budget(
    budget: int, timeout: int, attempts: int, expected: tuple[int, int]
) -> None:
    s = load_settings(
        model_timeout_ms=timeout,
        model_retry_attempts=attempts,
        latency_budget_ms=max(budget, 500),
        model_retry_initial_delay_s=0.0,
        model_retry_max_delay_s=1.0 if budget == 12000 else 0.0,
    )
    got = call_options(s, budget)
    assert got == expected
    per_attempt, n = got
    assert n * per_attempt + (n - 1) * s.model_retry_max_delay_s * 1000 <= budget
