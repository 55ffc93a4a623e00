"""A small error hierarchy that carries the HTTP status; translated to JSON in shared.platform.http."""

from __future__ import annotations

from typing import Any


class CxError(Exception):
    status = 500
    code = "internal"
    retry_after: int | None = None
    """Seconds for a ``Retry-After`` header: set when trying again later can succeed (503, contention 409)."""

    def __init__(
        self, message: str, *, details: list[dict[str, str]] | None = None, current: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []
        self.current = current
        """The state the request conflicted with (409), returned so the caller can decide again."""


class BadRequest(CxError):
    status = 400
    code = "invalid_request"


class NotFound(CxError):
    status = 404
    code = "not_found"


class MethodNotAllowed(CxError):
    status = 405
    code = "method_not_allowed"


class Conflict(CxError):
    status = 409
    code = "conflict"


class PayloadTooLarge(CxError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(CxError):
    status = 415
    code = "unsupported_media_type"


class Forbidden(CxError):
    status = 403
    code = "forbidden"


class Unavailable(CxError):
    """A dependency (Firestore) is down: the caller may retry."""

    status = 503
    code = "unavailable"
    retry_after = 5


class Contention(Conflict):
    """Concurrent writers on one document outlasted the retries: trying again shortly can succeed."""

    code = "contention"
    retry_after = 1


class Unauthenticated(CxError):
    """No identity, or one that does not verify (signature, issuer, audience, expiry)."""

    status = 401
    code = "unauthenticated"
