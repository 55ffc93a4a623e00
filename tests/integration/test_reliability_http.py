"""Every answer of a served function is the JSON error format, including the server's own refusals.

One function runs as deployed (functions-framework on gunicorn, a subprocess) and gets raw
requests a client library would never send: what gunicorn refuses before any application
code, what the framework answers outside the function, and bodies the server cannot read.
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts.bench_reliability import HEADERS, kill, serve, valid_bodies

pytestmark = pytest.mark.integration

SIGNED_IN = "".join(f"{k}: {v}\r\n" for k, v in HEADERS.items()).encode()
JSON = b"Content-Type: application/json\r\n"
EMPTY = b"Content-Length: 0\r\n\r\n"
CHUNKED = b"Transfer-Encoding: chunked\r\n\r\n"
# name: (raw request, status, error code)
CASES: dict[str, tuple[bytes, int, str]] = {
    # refused by gunicorn while parsing, before any application code
    "no method/target/version": (b"GARBAGE\r\n\r\n", 400, "invalid_request"),
    "request line of two parts": (b"GET /\r\nHost: x\r\n\r\n", 400, "invalid_request"),
    "bad character in method": (b"P@ST / HTTP/1.1\r\nHost: x\r\n" + EMPTY, 400, "invalid_request"),
    "HTTP/2.0 request line": (b"POST / HTTP/2.0\r\nHost: x\r\n" + EMPTY, 400, "invalid_request"),
    "h2c preface": (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400, "invalid_request"),
    "NUL in target": (b"POST /a\x00b HTTP/1.1\r\nHost: x\r\n" + EMPTY, 400, "invalid_request"),
    "bare LF line ends": (b"POST / HTTP/1.1\nHost: x\n\n", 400, "invalid_request"),
    "header name with a space": (b"POST / HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n" + EMPTY, 400, "invalid_request"),
    "control character in a header": (b"POST / HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n" + EMPTY, 400, "invalid_request"),
    "obsolete line folding": (b"POST / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  more\r\n" + EMPTY, 400, "invalid_request"),
    "header over 8 KB": (
        b"POST / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n" + EMPTY,
        431,
        "headers_too_large",
    ),
    "101 headers": (
        b"POST / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: 1\r\n" % i for i in range(101)) + EMPTY,
        431,
        "headers_too_large",
    ),
    "Content-Length not a number": (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        400,
        "invalid_request",
    ),
    "Content-Length and chunked": (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n" + CHUNKED + b"0\r\n\r\n",
        400,
        "invalid_request",
    ),
    "Transfer-Encoding gzip": (
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
        400,
        "invalid_request",
    ),
    "unknown Expect": (b"POST / HTTP/1.1\r\nHost: x\r\nExpect: bogus\r\n" + EMPTY, 417, "expectation_failed"),
    # answered by the framework outside the function
    "GET /robots.txt": (b"GET /robots.txt HTTP/1.1\r\nHost: x\r\n\r\n", 404, "not_found"),
    "POST /favicon.ico": (b"POST /favicon.ico HTTP/1.1\r\nHost: x\r\n" + EMPTY, 404, "not_found"),
    # answered by the function
    "lower-case method": (b"post / HTTP/1.1\r\nHost: x\r\n" + SIGNED_IN + JSON + EMPTY, 405, "method_not_allowed"),
    "unknown method": (b"FOO / HTTP/1.1\r\nHost: x\r\n" + EMPTY, 405, "method_not_allowed"),
    "OPTIONS without an allowed Origin": (b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 405, "method_not_allowed"),
    "malformed chunk size, signed in": (
        b"POST / HTTP/1.1\r\nHost: x\r\n" + SIGNED_IN + JSON + CHUNKED + b"ZZ\r\n{}\r\n0\r\n\r\n",
        400,
        "invalid_request",
    ),
    "chunk without its CRLF, signed in": (
        b"POST / HTTP/1.1\r\nHost: x\r\n" + SIGNED_IN + JSON + CHUNKED + b"2\r\n{}XX0\r\n\r\n",
        400,
        "invalid_request",
    ),
    "malformed chunk size, refused before the body": (
        b"POST / HTTP/1.1\r\nHost: x\r\n" + JSON + CHUNKED + b"ZZ\r\n{}\r\n0\r\n\r\n",
        401,
        "unauthenticated",
    ),
}


@pytest.fixture(scope="module")
def instance(seeded: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    log = tmp_path_factory.mktemp("served") / "feedback.log"
    proc, url = serve("feedback", {"CX_MODEL_BACKEND": "offline", "WORKERS": "1", "THREADS": "4"}, log)
    try:
        yield int(url.rstrip("/").rsplit(":", 1)[1]), log
    finally:
        kill(proc)


def exchange(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(raw)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
            if b"\r\n\r\n" in received:
                head, _, body = received.partition(b"\r\n\r\n")
                length = [
                    int(v)
                    for k, _, v in (h.partition(b":") for h in head.split(b"\r\n"))
                    if k.lower() == b"content-length"
                ]
                if length and len(body) >= length[0]:
                    break
        return received


def parse(raw: bytes) -> tuple[int, dict[str, str], Any]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, json.loads(body) if body else None


@pytest.mark.parametrize("case", CASES)
def test_every_answer_is_the_json_error_format(instance: tuple[int, Path], case: str) -> None:
    raw, status, code = CASES[case]
    got, headers, body = parse(exchange(instance[0], raw))
    assert got == status and headers["content-type"].startswith("application/json"), (got, headers)
    assert body["error"]["code"] == code and body["error"]["request_id"]
    assert len(body["error"]["message"]) <= 500


def test_head_answers_the_json_405_without_a_body(instance: tuple[int, Path]) -> None:
    status, headers, body = parse(exchange(instance[0], b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
    assert (status, headers["content-type"], headers["allow"], body) == (405, "application/json", "POST", None)


def test_refusals_leave_no_traceback_and_the_instance_serves_on(instance: tuple[int, Path]) -> None:
    port, log = instance
    for raw, _, _ in CASES.values():  # whatever ran before, once more in a row
        exchange(port, raw)
    ok = json.dumps({**valid_bodies()["feedback"], "event_id": f"served-{uuid.uuid4().hex[:12]}"}).encode()
    request = b"POST / HTTP/1.1\r\nHost: x\r\n" + SIGNED_IN + JSON + b"Content-Length: %d\r\n\r\n" % len(ok) + ok
    status, _, body = parse(exchange(port, request))
    assert (status, body["error"]["message"]) == (404, "suggestion not found")  # the function ran, to Firestore
    text = log.read_text()
    assert "Traceback" not in text and '"severity": "ERROR"' not in text
