"""One error shape for every API of both roles: ``{"detail": "...", "code": "..."}`` with a 4xx."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class DomainError(Exception):
    """A business rule refused the request. Services raise it; the API turns it into a 4xx."""

    status_code = status.HTTP_409_CONFLICT
    code = "conflict"

    def __init__(self, detail: str, *, code: str | None = None, status_code: int | None = None, **extra):
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        if status_code:
            self.status_code = status_code
        self.extra = extra


class NotFound(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"


class Invalid(DomainError):
    status_code = status.HTTP_400_BAD_REQUEST
    code = "invalid"


class PermissionRefused(DomainError):
    status_code = status.HTTP_403_FORBIDDEN
    code = "permission_denied"


def _flatten(detail) -> str:
    if isinstance(detail, dict):
        return "; ".join(f"{k}: {_flatten(v)}" for k, v in detail.items())
    if isinstance(detail, list):
        return " ".join(_flatten(v) for v in detail)
    return str(detail)


# What a database says when another transaction holds what this one needs for longer than it waits:
# SQLite's busy timeout ran out, or PostgreSQL's lock timeout, a deadlock or a serialization failure;
# or every connection of the worker's pool (psycopg_pool, cloud.settings.prod) stayed taken past its
# timeout, so the request never reached the database.
_BUSY_MESSAGES = (
    "database is locked",
    "database table is locked",
    "lock timeout",
    "deadlock detected",
    "could not serialize",
    "couldn't get a connection",
)
RETRY_AFTER_BUSY_S = 2


def database_busy(exc: BaseException) -> bool:
    """True for an ``OperationalError`` that only says "try again": nothing was written (the
    transaction rolled back), and the same request can succeed a moment later."""
    return isinstance(exc, OperationalError) and any(m in str(exc).lower() for m in _BUSY_MESSAGES)


def exception_handler(exc, context):
    if database_busy(exc):
        return Response(
            {
                "detail": "The database is busy with other writes; nothing was changed. Retry shortly.",
                "code": "busy",
            },
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_BUSY_S)},
        )
    if isinstance(exc, DomainError):
        return Response({"detail": exc.detail, "code": exc.code, **exc.extra}, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.messages)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"detail": _flatten(exc.detail), "code": "invalid", "fields": exc.detail}
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        response.data = {"detail": _flatten(exc.detail), "code": codes if isinstance(codes, str) else "error"}
    return response
