from __future__ import annotations

import pytest

from shared.config import SettingsError, load_settings


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
