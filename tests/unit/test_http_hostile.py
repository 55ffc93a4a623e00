"""Hostile bodies, odd methods and dependency failures all answer in the JSON error format, never a bare 500."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import flask
import pytest
from google.api_core import exceptions as gexc
from pydantic import BaseModel, ConfigDict

from shared.platform.calls import CallContext
from shared.platform.errors import Conflict
from shared.platform.http import ENDPOINTS, MAX_DETAIL_CHARS, MAX_JSON_DEPTH, endpoint
from shared.platform.identity import Authenticator
from shared.safety.access import AccessPolicy
from shared.settings import load_settings
from tests.conftest import agent_headers

app = flask.Flask(__name__)
SETTINGS = load_settings(model_backend="offline")
AUTH = Authenticator(SETTINGS, AccessPolicy.load(SETTINGS.config_dir / "safety/access.yaml"))


class Probe(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer_id: str
    payload: Any = None


class Echo(BaseModel):
    customer_id: str


@pytest.fixture(autouse=True)
def _unregister() -> Iterator[None]:
    yield
    ENDPOINTS.pop("hostile_probe", None)


def _entry(behaviour: Callable[[Probe], Echo] | None = None) -> Callable[[flask.Request], flask.Response]:
    @endpoint("hostile_probe", Probe, Echo, settings_factory=lambda: SETTINGS, authenticator=lambda: AUTH)
    def handler(body: Probe, call: CallContext) -> Echo:
        return behaviour(body) if behaviour else Echo(customer_id=body.customer_id)

    return handler


def _call(raw: bytes | str, *, method: str = "POST", behaviour: Any = None) -> flask.Response:
    data = raw.encode() if isinstance(raw, str) else raw
    with app.test_request_context(
        "/",
        method="POST",
        data=data,
        content_type="application/json",
        headers=agent_headers("agent-1"),  # a signed-in agent (the local issuer)
        environ_overrides={"REQUEST_METHOD": method},
    ):
        return _entry(behaviour)(flask.request)


def _error(resp: flask.Response) -> dict[str, Any]:
    assert resp.mimetype == "application/json"
    return json.loads(resp.get_data())["error"]


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ('{"customer_id": "C-1", "payload": ' + "[" * 1000 + "]" * 1000 + "}", "nesting deeper"),
        ("[" * 5000 + "]" * 5000, "nesting deeper"),
        ('{"customer_id": "C-1", "payload": ' + '{"a": ' * 40 + "1" + "}" * 40 + "}", "nesting deeper"),
        ('{"customer_id": "C-1", "payload": ' + "9" * 4301 + "}", "number literal longer"),
        ('{"customer_id": "C-1", "payload": 1e999999}', "out of range"),
        ('{"customer_id": "C-1", "payload": NaN}', "NaN is not valid JSON"),
        ('{"customer_id": "C-1", "payload": -Infinity}', "Infinity is not valid JSON"),
        ('{"customer_id": "C-1", "payload": "' + '\\"[' * 3000, "unterminated string"),
    ],
)
def test_bodies_that_exhaust_the_decoder_are_400(raw: str, problem: str) -> None:
    resp = _call(raw)
    assert resp.status_code == 400
    err = _error(resp)
    assert err["code"] == "invalid_request" and err["details"][0]["field"] == "body"
    assert problem in err["details"][0]["problem"]


def test_nesting_up_to_the_bound_and_brackets_inside_strings_are_fine() -> None:
    depth = MAX_JSON_DEPTH - 1  # the object itself is one level
    nested = '{"customer_id": "C-1", "payload": ' + "[" * depth + "]" * depth + "}"
    assert _call(nested).status_code == 200
    brackets = json.dumps({"customer_id": "C-1", "payload": "[" * 5000 + "{" * 5000})
    assert _call(brackets).status_code == 200


def test_error_details_are_clipped_not_echoed() -> None:
    resp = _call(json.dumps({"customer_id": "C-1", "k" * 10_000: 1}))
    assert resp.status_code == 400
    (detail,) = _error(resp)["details"]
    assert len(detail["field"]) <= MAX_DETAIL_CHARS and detail["field"].startswith("kkk")
    assert len(resp.get_data()) < 2_000


@pytest.mark.parametrize("method", ["post", "Post", "GET", "BREW"])
def test_any_method_but_post_gets_the_json_405(method: str) -> None:
    resp = _call('{"customer_id": "C-1"}', method=method)
    assert resp.status_code == 405 and resp.headers["Allow"] == "POST"
    assert _error(resp)["code"] == "method_not_allowed"


def _raise(exc: BaseException) -> Callable[[Probe], Echo]:
    def behaviour(body: Probe) -> Echo:
        raise exc

    return behaviour


def _aborted_after_retries() -> BaseException:
    try:
        try:
            raise gexc.Aborted("too much contention on these datastore entities")
        except gexc.Aborted as inner:
            raise ValueError("Failed to commit transaction in 5 attempts.") from inner
    except ValueError as outer:
        return outer


def _outage_in_a_transaction() -> BaseException:
    try:
        try:
            raise gexc.RetryError("Timeout of 3.0s exceeded", cause=gexc.ServiceUnavailable("connection refused"))
        except gexc.RetryError:
            raise ValueError("The transaction has no transaction ID, so it cannot be rolled back.")  # noqa: B904
    except ValueError as outer:
        return outer


@pytest.mark.parametrize(
    ("exc", "status", "code", "retry_after"),
    [
        (gexc.ServiceUnavailable("connection refused"), 503, "unavailable", "5"),
        (gexc.DeadlineExceeded("deadline"), 503, "unavailable", "5"),
        (gexc.RetryError("Timeout of 3.0s exceeded", cause=None), 503, "unavailable", "5"),
        (_outage_in_a_transaction(), 503, "unavailable", "5"),
        (gexc.Aborted("lock timeout"), 409, "contention", "1"),
        (_aborted_after_retries(), 409, "contention", "1"),
    ],
)
def test_dependency_failures_are_retryable_answers(
    exc: BaseException, status: int, code: str, retry_after: str
) -> None:
    resp = _call('{"customer_id": "C-1"}', behaviour=_raise(exc))
    assert resp.status_code == status and resp.headers["Retry-After"] == retry_after
    assert _error(resp)["code"] == code


def test_a_conflict_carries_the_current_state_and_a_bug_is_still_a_500() -> None:
    current = {"version": 3, "confirmed_by": "agent-2"}
    resp = _call('{"customer_id": "C-1"}', behaviour=_raise(Conflict("changed since", current=current)))
    assert resp.status_code == 409 and _error(resp)["current"] == current
    resp = _call('{"customer_id": "C-1"}', behaviour=_raise(KeyError("bug")))
    assert resp.status_code == 500 and "Retry-After" not in resp.headers
