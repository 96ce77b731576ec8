"""The contract's error body for every 4xx/5xx: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import ServiceError

log = logging.getLogger("xinedai_workflow.api")

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    503: "unavailable",
}


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    """Every error answer has this shape."""

    error: ErrorBody


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: Any = None
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details}}
    return JSONResponse(body, status_code=status, headers=headers)


def validation_details(errors: Any) -> list[dict[str, Any]]:
    details = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
        message = str(err.get("msg", "")).removeprefix("Value error, ")
        if not loc and err.get("type") == "missing":
            message = "a JSON request body is required"
        details.append({"field": ".".join(loc), "message": message, "type": err.get("type", "")})
    return details


def validation_message(details: list[dict[str, Any]]) -> str:
    """The first problem in words (the caller sees what to fix without reading `details`)."""
    if not details:
        return "the request is not valid"
    first = details[0]
    what = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
    more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
    return f"the request is not valid: {what}{more}"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service_error(_request: Request, exc: ServiceError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return error_response(exc.status, exc.code, exc.message, exc.details, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = validation_details(exc.errors())
        return error_response(422, "validation_error", validation_message(details), details)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return error_response(exc.status_code, code, message, None, getattr(exc, "headers", None))

    @app.exception_handler(OperationalError)
    async def _db_down(_request: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database unavailable: %s", exc)
        return error_response(503, "database_unavailable", "the database is not available; retry shortly")

    @app.exception_handler(DataError)
    async def _data_error(_request: Request, exc: DataError) -> JSONResponse:
        # bad input that only the database caught (a value out of a column's range): a missing
        # check at the edge, so it is logged, but it is the caller's input, not a server fault
        log.warning("input refused by the database: %s", exc.orig)
        return error_response(422, "validation_error", "a value is out of the range the service stores")

    @app.exception_handler(DBAPIError)
    async def _db_error(_request: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:
            return error_response(503, "database_unavailable", "the database connection was lost; retry")
        log.exception("database error", exc_info=exc)
        return error_response(500, "internal_error", "an internal error occurred")

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return error_response(500, "internal_error", "an internal error occurred")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": code.replace("_", " ")}
    for status, code in {
        400: "bad_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        409: "conflict",
        413: "payload_too_large",
        422: "validation_error",
        503: "unavailable",
    }.items()
}
