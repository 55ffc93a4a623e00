"""HTTP conventions shared by every function: the one place errors become JSON.

A function module declares its request model and a typed handler; :func:`endpoint`
does method, size, media-type and schema checks, request ids, audit identity, the
access log line and the error mapping, so handlers never see a malformed request.
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import flask
from pydantic import BaseModel, ValidationError

from shared.platform import clients, identity, logs
from shared.platform.calls import CallContext
from shared.platform.errors import (
    BadRequest,
    CxError,
    Forbidden,
    MethodNotAllowed,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from shared.settings import Settings, get_settings

AGENT_ID_HEADER = identity.AGENT_ID_HEADER  # trusted only from an allow-listed platform service account
AGENT_ROLE_HEADER = identity.AGENT_ROLE_HEADER
REQUEST_ID_HEADER = "X-Request-Id"
TRACE_HEADER = "X-Cloud-Trace-Context"
Role = Literal["agent", "supervisor", "backoffice", "system", "privacy"]
ROLES: tuple[str, ...] = identity.ROLES
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")
MAX_JSON_DEPTH = 32
"""Deepest nesting of arrays/objects a body may have; the request models need 6."""
MAX_NUMBER_CHARS = 40
"""Longest number literal; int() of a 4,300-digit literal raises, and no field needs more than 20."""
MAX_DETAILS = 20
MAX_DETAIL_CHARS = 200

Req = TypeVar("Req", bound=BaseModel)


class ErrorDetail(BaseModel):
    field: str
    problem: str


class ErrorBody(BaseModel):
    code: str
    message: str
    request_id: str
    details: list[ErrorDetail] = []
    current: dict[str, Any] | None = None
    """409 only: the state the request conflicted with."""


class ErrorResponse(BaseModel):
    """Every non-2xx answer of every HTTP function."""

    error: ErrorBody


@dataclass(frozen=True)
class EndpointSpec:
    name: str
    summary: str
    request_model: type[BaseModel]
    response_model: type[BaseModel]
    roles: tuple[str, ...]


ENDPOINTS: dict[str, EndpointSpec] = {}


def validation_details(exc: ValidationError) -> list[dict[str, str]]:
    details = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = ".".join(str(p) for p in err["loc"]) or "body"
        details.append({"field": loc, "problem": err["msg"]})
    return details


def _json_response(payload: Any, status: int, request_id: str, **headers: str) -> flask.Response:
    body = json.dumps(payload, ensure_ascii=False, default=str)
    resp = flask.Response(body, status=status, mimetype="application/json")
    resp.headers[REQUEST_ID_HEADER] = request_id
    for name, value in headers.items():
        resp.headers[name.replace("_", "-")] = value
    return resp


CORS_ALLOW_HEADERS = ", ".join(
    (
        "Authorization",
        "Content-Type",
        identity.IAP_HEADER,
        AGENT_ID_HEADER,
        AGENT_ROLE_HEADER,
        REQUEST_ID_HEADER,
        TRACE_HEADER,
    )
)


def cors_headers(request: flask.Request, settings: Settings) -> dict[str, str]:
    """CORS headers for an allowed browser origin (``CX_CORS_ORIGINS``); none when CORS is off."""
    origin = request.headers.get("Origin")
    allowed = settings.cors_origins
    if not origin or not (origin in allowed or "*" in allowed):
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Vary": "Origin",
        "Access-Control-Expose-Headers": f"{REQUEST_ID_HEADER}, Retry-After",
    }


def _with(resp: flask.Response, headers: dict[str, str]) -> flask.Response:
    for name, value in headers.items():
        resp.headers[name] = value
    return resp


def _clip(text: str, limit: int = MAX_DETAIL_CHARS) -> str:
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _error_body(exc: CxError, request_id: str) -> dict[str, Any]:
    """The JSON error; details are bounded so a hostile body is never echoed at length."""
    err: dict[str, Any] = {"code": exc.code, "message": _clip(exc.message, 500), "request_id": request_id}
    if exc.details:
        err["details"] = [
            {"field": _clip(str(d.get("field", ""))), "problem": _clip(str(d.get("problem", "")))}
            for d in exc.details[:MAX_DETAILS]
        ]
    if exc.current is not None:
        err["current"] = exc.current
    return {"error": err}


class _TooLarge(ValueError):
    pass


def _bounded_number(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def check(literal: str) -> Any:
        if len(literal) > MAX_NUMBER_CHARS:
            raise _TooLarge(f"number literal longer than {MAX_NUMBER_CHARS} characters")
        return parse(literal)

    return check


def _reject_constant(name: str) -> Any:
    raise _TooLarge(f"{name} is not valid JSON")


# A JSON string (possessive: linear, never backtracks) or a lone quote, which starts an unterminated string.
_STRING_OR_QUOTE = re.compile(r'"(?:[^"\\]|\\.)*+"|"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_INNERMOST = re.compile(r"\[\]|\{\}")


def _drop_string(m: re.Match[str]) -> str:
    if len(m.group()) == 1:  # stops the scan: nothing after an unterminated string is JSON
        raise _TooLarge("unterminated string")
    return ""


def _check_depth(text: str) -> None:
    """Reject nesting deeper than MAX_JSON_DEPTH before the recursive decoder sees it.

    Strings are removed, then the innermost bracket pairs are peeled once per level:
    every step is a C-speed pass, at most MAX_JSON_DEPTH + 1 of them.
    """
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return
    skeleton = _NOT_BRACKET.sub("", _STRING_OR_QUOTE.sub(_drop_string, text))
    for _ in range(MAX_JSON_DEPTH):
        skeleton, peeled = _INNERMOST.subn("", skeleton)
        if not peeled:
            return  # balanced within the bound, or mismatched brackets the decoder rejects
    if _INNERMOST.search(skeleton):
        raise _TooLarge(f"nesting deeper than {MAX_JSON_DEPTH} levels")


def _finite(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise _TooLarge(f"number {literal[:20]} is out of range")
    return value


def parse_json(raw: bytes) -> Any:
    """Decode a request body with bounded nesting and number length, so no small body costs a 500.

    Python's decoder recurses per level (RecursionError near 1,000) and ``int()`` refuses
    literals over 4,300 digits (ValueError); both are checked here first and become 400s.
    """
    try:
        text = raw.decode("utf-8") if raw else "null"
        _check_depth(text)
        return json.loads(
            text, parse_int=_bounded_number(int), parse_float=_bounded_number(_finite), parse_constant=_reject_constant
        )
    except (UnicodeDecodeError, json.JSONDecodeError, _TooLarge, RecursionError) as exc:
        raise BadRequest("body is not valid JSON", details=[{"field": "body", "problem": str(exc)}]) from None


def _read_body(request: flask.Request, limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"request body exceeds {limit} bytes")
    try:
        data = request.stream.read(limit + 1)
    except Exception as exc:  # noqa: BLE001 - the server's body reader: a malformed chunked body, a dropped client
        raise BadRequest(
            "request body could not be read",
            details=[{"field": "body", "problem": _clip(str(exc) or type(exc).__name__)}],
        ) from None
    if len(data) > limit:
        raise PayloadTooLarge(f"request body exceeds {limit} bytes")
    return data


DRAIN_STEP = 64 * 1024


def _drain(request: flask.Request) -> None:
    """Read and discard what the handler left of the body, in bounded steps.

    functions-framework reads the rest of every body after the response is built (to keep the
    connection usable) with one unbounded ``get_data()``; a malformed chunked body then raised
    there, after our error mapping, and became the framework's HTML 500 with a traceback. Read
    here, an error only ends the body (the answer already decided stands) and the framework's
    read finds nothing left.
    """
    try:
        while request.stream.read(DRAIN_STEP):
            pass
    except Exception:  # noqa: BLE001, S110 - the answer is decided; an unreadable rest is the client's problem
        pass


def parse_request(request: flask.Request, model: type[Req], settings: Settings) -> Req:
    method = str(request.environ.get("REQUEST_METHOD", request.method))  # werkzeug upper-cases request.method
    if method != "POST":
        raise MethodNotAllowed(f"method {_clip(method, 20)} not allowed; use POST")
    mimetype = request.mimetype or "application/json"
    if mimetype != "application/json":
        raise UnsupportedMediaType(f"content type {mimetype!r} not supported; send application/json")
    raw = _read_body(request, settings.max_request_bytes)
    payload = parse_json(raw)
    if not isinstance(payload, dict):
        raise BadRequest("body must be a JSON object", details=[{"field": "body", "problem": "not an object"}])
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise BadRequest("request validation failed", details=validation_details(exc)) from None


def default_authenticator(settings: Settings) -> identity.Authenticator:
    """Token verification without a role mapping: every identity is refused (403) until the
    runtime's access policy is passed as ``authenticator`` (functions/*.py do)."""
    return identity.Authenticator(settings)


def _error_response(exc: CxError, request_id: str) -> flask.Response:
    extra = {"Allow": "POST"} if isinstance(exc, MethodNotAllowed) else {}
    if exc.retry_after is not None:
        extra["Retry-After"] = str(exc.retry_after)
    return _json_response(_error_body(exc, request_id), exc.status, request_id, **extra)


def accept_unconventional_methods() -> None:
    """Let a request with a lower-case method reach the function, which answers it in JSON.

    gunicorn (which functions-framework runs) rejects ``post`` with its own HTML 400 before
    any application code; with this default the request arrives and :func:`parse_request`
    answers 405 in the JSON error format (``REQUEST_METHOD`` keeps the case the client sent).
    Call before the server starts (main.py). A no-op without gunicorn (the dev server).
    """
    try:
        from gunicorn import config
    except ImportError:  # pragma: no cover - not installed where no server runs
        return
    config.PermitUnconventionalHTTPMethod.default = True


_STATUS_CODES = {
    400: "invalid_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    417: "expectation_failed",
    431: "headers_too_large",
    500: "internal",
    501: "not_implemented",
    503: "unavailable",
}
CRASH_HEADER = ("X-Google-Status", "crash")
"""What functions-framework's own 500 handler sets so Cloud Functions logs the crash; kept."""


def error_code(status: int) -> str:
    """The JSON error ``code`` for an HTTP status the server or the framework chose."""
    return _STATUS_CODES.get(status, "invalid_request" if status < 500 else "internal")


def server_error_bytes(status: int, reason: str, message: str) -> bytes:
    """A whole HTTP/1.1 error response in the JSON error format, for the server's own refusals.

    ``message`` is the server's description, which can quote the request (a request line, a
    header): clipped, and ASCII-escaped so the bytes are safe whatever the client sent.
    """
    request_id = uuid.uuid4().hex
    text = f"{reason}: {message}" if message else reason
    body = json.dumps(
        {"error": {"code": error_code(status), "message": _clip(text), "request_id": request_id}}, ensure_ascii=True
    ).encode("ascii")
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"{REQUEST_ID_HEADER}: {request_id}\r\n\r\n"
    )
    return head.encode("latin-1") + body


def _body_read_errors() -> tuple[type[Exception], ...]:
    """The server's exceptions for a malformed request body (gunicorn raises them while the app reads)."""
    try:
        from gunicorn.http.errors import ParseException
    except ImportError:  # pragma: no cover - not installed where no server runs
        return ()
    return (ParseException,)


def framework_error(exc: Exception) -> flask.Response:
    """An error the framework answers outside any function's code, in the JSON error format.

    Werkzeug's routing (functions-framework's 404 for /robots.txt and /favicon.ico, a 405 on an
    event function), functions-framework's 400 for a message that is not a CloudEvent and its
    500 for an exception outside a function. The message is the status name only: the
    framework's descriptions can quote every header and the body.
    """
    from werkzeug.exceptions import HTTPException, InternalServerError

    cause = exc.original_exception if isinstance(exc, InternalServerError) else exc
    if isinstance(cause, _body_read_errors()):
        status, message = 400, "request body could not be read"
    elif isinstance(exc, HTTPException) and exc.code and not isinstance(exc, InternalServerError):
        status, message = exc.code, (exc.name or "error").lower()
    else:
        status, message = 500, "internal error; quote the request id when reporting it"
    incoming = flask.request.headers.get(REQUEST_ID_HEADER, "") if flask.has_request_context() else ""
    request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
    body = {"error": {"code": error_code(status), "message": message, "request_id": request_id}}
    resp = _json_response(body, status, request_id)
    if status == 405 and isinstance(exc, HTTPException) and getattr(exc, "valid_methods", None):
        resp.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
    if status == 500:
        resp.headers[CRASH_HEADER[0]] = CRASH_HEADER[1]
    return resp


def install_json_errors(register: Callable[[Any], Callable[[Callable[..., Any]], Any]]) -> None:
    """Every answer in the JSON error format, including the server's and the framework's own.

    ``register`` is ``functions_framework.errorhandler`` (the app being built while main.py is
    imported; a no-op outside ``create_app``). Registers :func:`framework_error` for werkzeug's
    HTTP errors, for 500 (replacing functions-framework's text/plain crash handler) and for the
    server's body-parse errors; and makes gunicorn write its own refusals (a malformed request
    line or header, oversized headers, an unsupported Transfer-Encoding, a bad ``Expect``) as
    JSON: they are answered before any application code runs. docs/reliability.md lists them.
    """
    from werkzeug.exceptions import HTTPException

    for key in (HTTPException, 500, *_body_read_errors()):
        register(key)(framework_error)
    _json_server_refusals()


def _json_server_refusals() -> None:
    """Replace gunicorn's HTML error writer with :func:`server_error_bytes` (pinned gunicorn; checked by a test).

    gunicorn's worker answers a request it cannot parse through ``gunicorn.util.write_error(sock,
    status_int, reason, mesg)``; the replacement keeps that signature and is left out if it changed.
    """
    try:
        from gunicorn import util
    except ImportError:  # pragma: no cover - not installed where no server runs
        return
    if getattr(util.write_error, "cx_json", False):
        return
    if list(inspect.signature(util.write_error).parameters) != ["sock", "status_int", "reason", "mesg"]:
        logs.get_logger("http").warning("gunicorn's error writer changed; its refusals stay HTML")
        return

    def write_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
        util.write_nonblock(sock, server_error_bytes(status_int, reason, mesg))

    write_error.cx_json = True  # type: ignore[attr-defined]
    util.write_error = write_error


def endpoint(
    capability: str,
    request_model: type[Req],
    response_model: type[BaseModel],
    *,
    roles: tuple[str, ...] = ROLES,
    settings_factory: Callable[[], Settings] = get_settings,
    authenticator: Callable[[], identity.Authenticator] | None = None,
) -> Callable[[Callable[[Req, CallContext], BaseModel]], Callable[[flask.Request], flask.Response]]:
    """Wrap a typed handler ``(body, ctx) -> response model`` as a Cloud Functions entry point.

    ``authenticator`` gives the instance's :class:`identity.Authenticator` (token verification plus
    the role mapping); every call is authenticated before its body is read.
    """

    def decorate(
        handler: Callable[[Req, CallContext], BaseModel],
    ) -> Callable[[flask.Request], flask.Response]:
        log = logs.get_logger(capability)
        ENDPOINTS[capability] = EndpointSpec(
            capability,
            (handler.__doc__ or capability).strip().splitlines()[0],
            request_model,
            response_model,
            roles,
        )

        @functools.wraps(handler)
        def entry(request: flask.Request) -> flask.Response:
            settings = settings_factory()
            incoming = request.headers.get(REQUEST_ID_HEADER, "")
            request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
            logs.bind_request(request_id, request.headers.get(TRACE_HEADER), settings.project)
            ctx = CallContext(request_id=request_id)
            status = 500
            cors = cors_headers(request, settings)
            try:
                if request.method == "OPTIONS" and cors:  # preflight: no identity, no body
                    status = 204
                    preflight = flask.Response(status=204)
                    return _with(
                        preflight,
                        {
                            **cors,
                            "Access-Control-Allow-Methods": "POST, OPTIONS",
                            "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
                            "Access-Control-Max-Age": "3600",
                        },
                    )
                method = str(request.environ.get("REQUEST_METHOD", request.method))  # as sent, not upper-cased
                if method != "POST":  # answered before sign-in: it discloses nothing
                    raise MethodNotAllowed(f"method {_clip(method, 20)} not allowed; use POST")
                auth = authenticator() if authenticator else default_authenticator(settings)
                ctx.principal = auth.authenticate(request.headers)  # type: ignore[arg-type]  # a Mapping
                ctx.agent_id, ctx.agent_role = ctx.principal.agent_id, ctx.principal.role
                if ctx.agent_role not in roles:
                    raise Forbidden(f"role {ctx.agent_role!r} may not call {capability}")
                body = parse_request(request, request_model, settings)
                result = handler(body, ctx)
                status = 200
                return _with(_json_response(result.model_dump(mode="json"), 200, request_id), cors)
            except CxError as exc:
                status = exc.status
                return _with(_error_response(exc, request_id), cors)
            except Exception as exc:
                mapped = clients.dependency_error(exc)
                if mapped is not None:  # an outage or contention, not a bug: no traceback, a retryable answer
                    status = mapped.status
                    log.warning(
                        "dependency failed",
                        extra={"fields": {"capability": capability, "error": _clip(repr(exc), 300)}},
                    )
                    return _with(_error_response(mapped, request_id), cors)
                log.exception("unhandled error", extra={"fields": {"capability": capability}})
                internal = CxError("internal error; quote the request id when reporting it")
                return _with(_json_response(_error_body(internal, request_id), 500, request_id), cors)
            finally:
                _drain(request)
                latency_ms = ctx.elapsed_ms()
                severity = 40 if status >= 500 else 30 if status >= 400 else 20
                log.log(
                    severity,
                    f"{capability} {status}",
                    extra={
                        "fields": {
                            "capability": capability,
                            "status": status,
                            "latency_ms": latency_ms,
                            "agent_id": ctx.agent_id,
                            "agent_role": ctx.agent_role,
                            **ctx.log_fields,
                        }
                    },
                )
                logs.clear_request()

        return entry

    return decorate
