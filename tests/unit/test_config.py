from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from shared.engine.config_check import ConfigError, check, validate
from shared.settings import ROOT, SettingsError, load_settings


def test_defaults_run_offline_without_a_project(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CX_PROJECT", raising=False)
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    assert load_settings().backend == "offline"


def test_auto_picks_vertex_with_project_and_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    creds = tmp_path / "adc.json"
    creds.write_text("{}")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(creds))
    assert load_settings(project="acme-cx").backend == "vertex"
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS")
    monkeypatch.delenv("K_SERVICE", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "none"))
    assert load_settings(project="acme-cx").backend == "offline"


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CX_CONTEXT_TOKEN_BUDGET", "900")
    monkeypatch.setenv("CX_PROMPT_VERSIONS", '{"context_summary": "v1"}')
    s = load_settings()
    assert s.context_token_budget == 900 and s.prompt_versions == {"context_summary": "v1"}


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"CX_MODEL_TIMEOUT_MS": "fast"}, "CX_MODEL_TIMEOUT_MS"),
        ({"CX_CONTEXT_TOKEN_BUDGET": "10"}, "CX_CONTEXT_TOKEN_BUDGET"),
        ({"CX_MODEL_BACKEND": "vertex"}, "needs CX_PROJECT"),
        ({"CX_ENVIRONMENT": "prod", "CX_PROJECT": "p"}, "CX_PSEUDONYM_KEY"),
        ({"CX_PROMPTS_DIR": "/nonexistent/prompts"}, "does not exist"),
    ],
)
def test_invalid_settings_fail_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], needle: str
) -> None:
    monkeypatch.delenv("CX_PROJECT", raising=False)
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(SettingsError) as exc:
        load_settings()
    assert needle in str(exc.value)
    assert "Traceback" not in str(exc.value)


# --- configuration checked at start -------------------------------------------------------


def _copy_tree(tmp_path: Path) -> tuple[Path, Path]:
    import shutil

    cfg, prompts = tmp_path / "config", tmp_path / "prompts"
    shutil.copytree(ROOT / "config", cfg)
    shutil.copytree(ROOT / "prompts", prompts)
    return cfg, prompts


def test_shipped_configuration_is_valid() -> None:
    errors, _notes = check(load_settings())
    assert errors == []


def test_missing_phrase_key_is_named_with_its_file(tmp_path: Path) -> None:
    cfg, prompts = _copy_tree(tmp_path)
    texts = prompts / "reply_draft" / "v1" / "texts.yaml"
    raw = yaml.safe_load(texts.read_text("utf-8"))
    del raw["en"]["safe_reply"]
    texts.write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    policy = cfg / "safety/output_policy.yaml"
    praw = yaml.safe_load(policy.read_text("utf-8"))
    praw["actions"]["teleport"] = "replace"
    policy.write_text(yaml.safe_dump(praw, allow_unicode=True), "utf-8")
    with pytest.raises(ConfigError) as exc:
        validate(load_settings(config_dir=cfg, prompts_dir=prompts))
    message = str(exc.value)
    assert f"{texts}: en: missing key 'safe_reply'" in message
    assert f"{policy}: actions: unknown category 'teleport'" in message


def test_a_new_intent_without_texts_is_a_note_not_an_error(tmp_path: Path) -> None:
    cfg, prompts = _copy_tree(tmp_path)
    examples = cfg / "language/intent_examples.yaml"
    raw = yaml.safe_load(examples.read_text("utf-8"))
    raw["examples"]["account_billing_management"] = ["Please merge my two billing accounts."]
    examples.write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    errors, notes = check(load_settings(config_dir=cfg, prompts_dir=prompts))
    assert errors == []
    assert any("body_account_billing_management_formal" in n and "generic template" in n for n in notes)


def test_settings_load_fails_at_start_naming_file_and_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from shared.runtime import startup_settings
    from shared.settings import get_settings

    cfg, prompts = _copy_tree(tmp_path)
    texts = prompts / "reply_draft" / "v1" / "texts.yaml"
    raw = yaml.safe_load(texts.read_text("utf-8"))
    del raw["en"]["body_general_formal"]  # the generic template every unknown intent falls back to
    texts.write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    monkeypatch.setenv("CX_CONFIG_DIR", str(cfg))
    monkeypatch.setenv("CX_PROMPTS_DIR", str(prompts))
    get_settings.cache_clear()
    startup_settings.cache_clear()
    try:
        with pytest.raises(SettingsError) as exc:
            startup_settings()
    finally:
        get_settings.cache_clear()
        startup_settings.cache_clear()
    assert f"{texts}: en: missing key 'body_general_formal'" in str(exc.value)


def test_every_served_prompt_version_is_checked_including_experiment_arms(tmp_path: Path) -> None:
    cfg, prompts = _copy_tree(tmp_path)
    nba_v2 = prompts / "next_best_action" / "v2" / "texts.yaml"  # the running experiment's candidate arm
    raw = yaml.safe_load(nba_v2.read_text("utf-8"))
    del raw["en"]["goal_general"]
    nba_v2.write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    (prompts / "closing_message" / "v2" / "user.j2").unlink()
    settings = load_settings(
        config_dir=cfg,
        prompts_dir=prompts,
        prompt_versions={**load_settings().prompt_versions, "context_summary": "v9"},
    )
    errors, _notes = check(settings)
    assert f"{nba_v2}: en: missing key 'goal_general' (the fallback for labels without their own text)" in errors
    assert f"{prompts / 'closing_message' / 'v2' / 'user.j2'}: file is missing" in errors
    assert any(e.startswith(f"{prompts / 'context_summary' / 'v9'}: prompt version folder is missing") for e in errors)
