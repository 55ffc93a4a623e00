"""Opt-in CORS on every HTTP function (CX_CORS_ORIGINS): off by default, preflight answered."""

from __future__ import annotations

import json
from collections.abc import Iterator

import flask
import pytest
from pydantic import BaseModel, ConfigDict

from shared.platform.calls import CallContext
from shared.platform.http import ENDPOINTS, endpoint
from shared.platform.identity import Authenticator
from shared.safety.access import AccessPolicy
from shared.settings import load_settings
from tests.conftest import agent_headers

app = flask.Flask(__name__)
SITE = "https://desk.example.com"


class Ping(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer_id: str


class Pong(BaseModel):
    customer_id: str


@pytest.fixture(autouse=True)
def _unregister() -> Iterator[None]:
    """The probe must not leak into the OpenAPI document other tests build from ENDPOINTS."""
    yield
    ENDPOINTS.pop("cors_probe", None)


def _entry(origins: list[str]):
    settings = load_settings(cors_origins=origins, model_backend="offline")
    authenticator = Authenticator(settings, AccessPolicy.load(settings.config_dir / "safety/access.yaml"))

    @endpoint("cors_probe", Ping, Pong, settings_factory=lambda: settings, authenticator=lambda: authenticator)
    def handler(body: Ping, call: CallContext) -> Pong:
        return Pong(customer_id=body.customer_id)

    return handler


def _call(entry, method: str = "POST", origin: str | None = SITE, body: object = None, **headers: str):
    if origin:
        headers["Origin"] = origin
    headers = {**agent_headers("agent-1"), **headers}  # a signed-in agent (the local issuer)
    data = json.dumps(body if body is not None else {"customer_id": "C-1"})
    with app.test_request_context(
        "/", method=method, data=data if method == "POST" else None, content_type="application/json", headers=headers
    ):
        return entry(flask.request)


def test_cors_is_off_by_default() -> None:
    entry = _entry([])
    resp = _call(entry)
    assert resp.status_code == 200
    assert "Access-Control-Allow-Origin" not in resp.headers
    preflight = _call(entry, "OPTIONS", **{"Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 405  # no preflight answer when CORS is off


def test_allowed_origin_gets_headers_on_success_and_errors() -> None:
    entry = _entry([SITE])
    ok = _call(entry)
    assert ok.status_code == 200
    assert ok.headers["Access-Control-Allow-Origin"] == SITE
    assert ok.headers["Access-Control-Expose-Headers"] == "X-Request-Id, Retry-After"
    assert "Origin" in ok.headers["Vary"]
    bad = _call(entry, body={"customer_id": "C-1", "extra": 1})
    assert bad.status_code == 400
    assert bad.headers["Access-Control-Allow-Origin"] == SITE  # the page can read the error and its request id
    assert json.loads(bad.get_data())["error"]["details"][0]["field"] == "extra"


def test_preflight_is_answered_without_identity() -> None:
    entry = _entry([SITE])
    resp = _call(
        entry,
        "OPTIONS",
        **{
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-agent-id,x-agent-role",
        },
    )
    assert resp.status_code == 204
    assert resp.headers["Access-Control-Allow-Origin"] == SITE
    assert "POST" in resp.headers["Access-Control-Allow-Methods"]
    allowed = resp.headers["Access-Control-Allow-Headers"].lower()
    for header in ("content-type", "x-goog-iap-jwt-assertion", "x-agent-id", "x-agent-role", "x-request-id"):
        assert header in allowed


def test_other_origins_get_no_headers() -> None:
    entry = _entry([SITE])
    resp = _call(entry, origin="https://evil.example.net")
    assert resp.status_code == 200
    assert "Access-Control-Allow-Origin" not in resp.headers
    assert _call(entry, "OPTIONS", origin="https://evil.example.net").status_code == 405


def test_setting_reads_a_json_list_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("CX_CORS_ORIGINS", json.dumps([SITE, "http://localhost:8080"]))
    assert load_settings().cors_origins == [SITE, "http://localhost:8080"]
