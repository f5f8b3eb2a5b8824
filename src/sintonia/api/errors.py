"""The one table from domain errors to HTTP status and google.rpc code, and the error body.

Clients pick their exception class from the HTTP status (the old SDK) or read `status`
(google-genai), so both must be right: see the spec's §3.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from sintonia import errors

SERVICE = "generativelanguage.googleapis.com"

# (exception class, HTTP status, canonical status). First match wins: subclasses first.
TABLE: list[tuple[type[errors.SintoniaError], int, str]] = [
    (errors.ApiKeyInvalid, 400, "INVALID_ARGUMENT"),
    # 413, but INVALID_ARGUMENT as the real API says for an oversized request: not retryable.
    (errors.PayloadTooLarge, 413, "INVALID_ARGUMENT"),
    (errors.InvalidArgument, 400, "INVALID_ARGUMENT"),
    (errors.Unauthenticated, 401, "UNAUTHENTICATED"),
    (errors.PermissionDenied, 403, "PERMISSION_DENIED"),
    (errors.NotFound, 404, "NOT_FOUND"),
    (errors.AlreadyExists, 409, "ALREADY_EXISTS"),
    (errors.Aborted, 409, "ABORTED"),
    (errors.FailedPrecondition, 400, "FAILED_PRECONDITION"),
    (errors.ResourceExhausted, 429, "RESOURCE_EXHAUSTED"),
    (errors.ModelLoadError, 500, "INTERNAL"),
    (errors.SintoniaError, 500, "INTERNAL"),
]

# google.rpc.Code numbers, for errors carried inside an Operation.
RPC_CODES = {"CANCELLED": 1, "INVALID_ARGUMENT": 3, "NOT_FOUND": 5, "INTERNAL": 13}
_HTTP_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "UNIMPLEMENTED",
    409: "ALREADY_EXISTS",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
}


def classify(exc: errors.SintoniaError) -> tuple[int, str]:
    for cls, http, status in TABLE:
        if isinstance(exc, cls):
            return http, status
    return 500, "INTERNAL"


def _details(exc: errors.SintoniaError) -> list[dict[str, Any]]:
    info = "type.googleapis.com/google.rpc.ErrorInfo"
    if isinstance(exc, errors.ApiKeyInvalid):
        return [
            {
                "@type": info,
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": SERVICE},
            },
            {
                "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                "locale": "en-US",
                "message": str(exc),
            },
        ]
    if isinstance(exc, errors.ScopeInsufficient):
        return [
            {
                "@type": info,
                "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                "domain": "googleapis.com",
                "metadata": {"service": SERVICE, "method": exc.method},
            }
        ]
    if isinstance(exc, errors.DatasetInvalid):
        return [
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [
                    {"field": p.field or "", "description": str(p)} for p in exc.problems
                ],
            }
        ]
    return []


def error_body(
    http: int, status: str, message: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"code": http, "message": message, "status": status}
    if details:
        body["details"] = details
    return {"error": body}


def error_response(exc: errors.SintoniaError) -> JSONResponse:
    http, status = classify(exc)
    return JSONResponse(error_body(http, status, str(exc), _details(exc)), status_code=http)


def install(app: FastAPI) -> None:
    """Every error leaves in the google.rpc.Status shape."""

    @app.exception_handler(errors.SintoniaError)
    async def domain(_request: Request, exc: errors.SintoniaError) -> JSONResponse:
        return error_response(exc)

    # Routes validate bodies with the pydantic schemas themselves (after wire.normalize), so
    # pydantic's own error is a bad request too, not a crash.
    @app.exception_handler(RequestValidationError)
    @app.exception_handler(ValidationError)
    async def validation(
        _request: Request, exc: RequestValidationError | ValidationError
    ) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'] if p != 'body')}: {e['msg']}" for e in exc.errors()
        )
        return JSONResponse(
            error_body(400, "INVALID_ARGUMENT", f"Invalid request: {problems}"), status_code=400
        )

    @app.exception_handler(StarletteHTTPException)
    async def http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status = _HTTP_STATUS_NAMES.get(exc.status_code, "UNKNOWN")
        message = exc.detail if isinstance(exc.detail, str) else "Request failed."
        if exc.status_code == 404:
            message = "The requested URL was not found on this server."
        return JSONResponse(
            error_body(exc.status_code, status, message), status_code=exc.status_code
        )

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(
            error_body(500, "INTERNAL", f"Internal error: {type(exc).__name__}"), status_code=500
        )
