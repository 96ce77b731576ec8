"""Errors the services raise; the API turns each into the contract's error body and status."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """Base of every expected failure. `status` is the HTTP status the API answers with."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class Invalid(ServiceError):
    """Bad input; `details` lists each problem."""

    status = 422
    code = "validation_error"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class Unauthorized(ServiceError):
    status = 401
    code = "unauthorized"


class Unavailable(ServiceError):
    status = 503
    code = "unavailable"
