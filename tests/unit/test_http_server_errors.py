"""The server's and the framework's own refusals answer in the JSON error format too.

What gunicorn refuses before any application code, what werkzeug's routing and
functions-framework answer outside a function, and a body the server cannot read.
The same, end to end through a served instance: tests/integration/test_reliability_http.py.
"""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Callable, Iterator
from typing import Any

import flask
import pytest
from gunicorn.http.errors import InvalidChunkSize
from pydantic import BaseModel
from werkzeug.exceptions import NotFound

from shared.platform.calls import CallContext
from shared.platform.http import (
    CRASH_HEADER,
    ENDPOINTS,
    MAX_DETAIL_CHARS,
    endpoint,
    install_json_errors,
    server_error_bytes,
)
from shared.platform.identity import Authenticator
from shared.safety.access import AccessPolicy
from shared.settings import load_settings
from tests.conftest import agent_headers

SETTINGS = load_settings(model_backend="offline")
AUTH = Authenticator(SETTINGS, AccessPolicy.load(SETTINGS.config_dir / "safety/access.yaml"))


def _split(raw: bytes) -> tuple[str, dict[str, str], dict[str, Any]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    assert int(headers["content-length"]) == len(body)
    return status, headers, json.loads(body)


def test_a_server_refusal_is_a_whole_json_error_response() -> None:
    status, headers, body = _split(server_error_bytes(431, "Request Header Fields Too Large", "too many headers"))
    assert status == "HTTP/1.1 431 Request Header Fields Too Large"
    assert headers["content-type"] == "application/json" and headers["connection"] == "close"
    assert body["error"]["code"] == "headers_too_large"
    assert body["error"]["request_id"] == headers["x-request-id"]


def test_a_server_refusal_never_echoes_the_request_at_length_or_raw() -> None:
    quoted = "Invalid HTTP Header: 'X-Big: " + "\u00ff\x00<script>" * 2000 + "'"
    raw = server_error_bytes(400, "Bad Request", quoted)
    raw.decode("ascii")  # escaped: whatever the client sent, the answer is ASCII
    _, _, body = _split(raw)
    assert body["error"]["code"] == "invalid_request"
    assert len(body["error"]["message"]) <= MAX_DETAIL_CHARS


@pytest.mark.parametrize(("status", "code"), [(417, "expectation_failed"), (418, "invalid_request"), (502, "internal")])
def test_every_status_gets_a_code(status: int, code: str) -> None:
    assert _split(server_error_bytes(status, "Reason", ""))[2]["error"]["code"] == code


def test_gunicorns_error_writer_is_the_json_one_once_installed() -> None:
    from gunicorn import util

    install_json_errors(lambda key: lambda handler: handler)  # no app here: only the server half matters
    install_json_errors(lambda key: lambda handler: handler)  # idempotent
    left, right = socket.socketpair()
    try:
        util.write_error(left, 400, "Bad Request", "Invalid Request Line 'GARBAGE'")
        left.close()
        raw = b"".join(iter(lambda: right.recv(65536), b""))
    finally:
        right.close()
    status, headers, body = _split(raw)
    assert status.startswith("HTTP/1.1 400") and headers["content-type"] == "application/json"
    assert body["error"]["code"] == "invalid_request" and "GARBAGE" in body["error"]["message"]


@pytest.fixture
def framework_app() -> flask.Flask:
    """A Flask app as functions-framework builds one: its own text/plain 500 handler, then ours on top."""
    app = flask.Flask("framework_errors")
    app.register_error_handler(500, lambda e: (str(e), 500, {CRASH_HEADER[0]: CRASH_HEADER[1]}))
    install_json_errors(app.errorhandler)

    @app.route("/robots.txt")
    def robots() -> Any:
        raise NotFound(description="Not Found")

    @app.route("/event", methods=["POST"])
    def event() -> Any:
        flask.abort(400, description=f"not a CloudEvent. Got HTTP headers: {flask.request.headers}")

    @app.route("/body", methods=["POST"])
    def body() -> Any:
        raise InvalidChunkSize(b"ZZ")

    @app.route("/bug", methods=["POST"])
    def bug() -> Any:
        raise RuntimeError("/srv/app/secret_path.py line 3")

    return app


def test_framework_errors_are_json_and_quote_nothing(framework_app: flask.Flask) -> None:
    client = framework_app.test_client()
    cases = [
        (client.get("/robots.txt"), 404, "not_found"),
        (client.get("/event"), 405, "method_not_allowed"),  # werkzeug's routing
        (client.post("/event", headers={"Authorization": "Bearer SECRET"}), 400, "invalid_request"),
        (client.post("/body"), 400, "invalid_request"),  # a body the server could not parse: the client's error
        (client.post("/bug"), 500, "internal"),
    ]
    for resp, status, code in cases:
        assert (resp.status_code, resp.mimetype) == (status, "application/json"), resp.get_data()
        assert resp.get_json()["error"]["code"] == code and resp.get_json()["error"]["request_id"]
        assert b"SECRET" not in resp.get_data() and b"secret_path" not in resp.get_data()
    assert "POST" in cases[1][0].headers["Allow"]
    assert cases[4][0].headers[CRASH_HEADER[0]] == CRASH_HEADER[1]  # Cloud Functions still logs the crash


class Probe(BaseModel):
    customer_id: str


@pytest.fixture
def probe() -> Iterator[Callable[[flask.Request], flask.Response]]:
    @endpoint("server_errors_probe", Probe, Probe, settings_factory=lambda: SETTINGS, authenticator=lambda: AUTH)
    def handler(body: Probe, call: CallContext) -> Probe:
        return body

    yield handler
    ENDPOINTS.pop("server_errors_probe", None)


class _Broken(io.RawIOBase):
    """A body stream as gunicorn's reader behaves on a malformed chunked body: it raises, then it is empty."""

    def __init__(self) -> None:
        self.raised = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self.raised:
            self.raised = True
            raise InvalidChunkSize(b"ZZ")
        return 0


def _call(entry: Callable[[flask.Request], flask.Response], stream: io.RawIOBase, **headers: str) -> flask.Response:
    app = flask.Flask("probe")
    environ = {"wsgi.input": stream, "wsgi.input_terminated": True}
    with app.test_request_context("/", method="POST", headers=headers, environ_overrides=environ):
        flask.request.environ.pop("CONTENT_LENGTH", None)  # chunked: no length
        resp = entry(flask.request)
        assert flask.request.stream.read() == b""  # drained: the framework's own read finds nothing left
        return resp


def test_an_unreadable_body_is_a_400_not_a_500(probe: Callable[[flask.Request], flask.Response]) -> None:
    resp = _call(probe, _Broken(), **agent_headers("agent-1"), **{"Content-Type": "application/json"})
    assert resp.status_code == 400 and resp.get_json()["error"]["message"] == "request body could not be read"


def test_a_refused_request_with_an_unreadable_body_keeps_its_answer(
    probe: Callable[[flask.Request], flask.Response],
) -> None:
    resp = _call(probe, _Broken(), **{"Content-Type": "application/json"})  # not signed in: refused before the body
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "unauthenticated"
