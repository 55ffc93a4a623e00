"""Structured JSON logs in the shape Cloud Logging parses from stdout.

Callers pass facts as ``extra={"fields": {...}}``; never raw personal data (use the
pseudonymous customer key from :mod:`shared.safety.pii.base`).
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

_request: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("cx_request", default=None)


def bind_request(request_id: str, trace: str | None, project: str | None) -> None:
    """Attach the request id and Cloud Trace id to every log line of this request."""
    ctx: dict[str, Any] = {"request_id": request_id}
    if trace:
        trace_id = trace.split("/", 1)[0]
        ctx["logging.googleapis.com/trace"] = f"projects/{project}/traces/{trace_id}" if project else trace_id
    _request.set(ctx)


def clear_request() -> None:
    _request.set({})


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "severity": record.levelname,
            "message": record.getMessage(),
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "logger": record.name,
        }
        entry.update(_request.get() or {})
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


_configured = False


def get_logger(name: str, level: str = "INFO") -> logging.Logger:
    global _configured
    if not _configured:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(JsonFormatter())
        root = logging.getLogger("cx")
        root.handlers[:] = [handler]
        root.propagate = False
        root.setLevel(level)
        _configured = True
    return logging.getLogger(f"cx.{name}")
