"""Errors of the request pipeline: refusals before execution, and the one formatter of results.

A refusal carries two HTTP statuses: the one `application/graphql-response+json` asks for (a
response without `data` is a 4xx) and the one for legacy `application/json` clients, who expect
200 for anything GraphQL itself answered.
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError

from app.errors import AppError, ErrorCode
from app.logs import request_id_var

log = logging.getLogger("app.graphql")


class RequestRefused(Exception):
    """The request is answered with this error alone: nothing was executed."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        status: int = 400,
        json_status: int = 200,
        headers: dict[str, str] | None = None,
        errors: list[dict[str, Any]] | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.json_status = json_status
        self.headers = headers or {}
        self.errors = errors or [{"message": message, "extensions": {"code": code.value, **details}}]


def limit_exceeded(code: ErrorCode, limit: str, maximum: int, actual: int | None, message: str) -> RequestRefused:
    """A refusal that names the limit (its setting's name), its value and what was sent."""
    details: dict[str, Any] = {"limit": limit, "max": maximum}
    if actual is not None:
        details["actual"] = actual
    return RequestRefused(code, message, **details)


def refused_from(code: ErrorCode, errors: list[GraphQLError], *, status: int = 400) -> RequestRefused:
    """A refusal made of graphql-core's own errors (syntax, validation, variables), coded."""
    formatted = []
    for error in errors:
        item = error.formatted
        item["extensions"] = {**(item.get("extensions") or {}), "code": _code_of(error, code)}
        formatted.append(item)
    return RequestRefused(code, formatted[0]["message"], status=status, errors=formatted)


def _code_of(error: GraphQLError, default: ErrorCode) -> str:
    # A literal refused by app.validation while graphql-core validated it is bad input, not a
    # malformed document.
    original = error.original_error
    if isinstance(original, AppError):
        return original.code.value
    return default.value


def is_expected(error: GraphQLError) -> bool:
    # No original error: an error graphql-core made itself (e.g. a null in a non-null field).
    return error.original_error is None or isinstance(error.original_error, AppError)


def mask_error(error: GraphQLError) -> GraphQLError:
    """An execution error as the client sees it: expected ones as they are, the rest logged and
    replaced by a generic message with the request id."""
    if is_expected(error):
        return error
    log.error("unexpected error in %s", error.path, exc_info=error.original_error)
    request_id = request_id_var.get()
    return GraphQLError(
        message=f"Internal server error (request id {request_id}).",
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
    )


def format_error(error: GraphQLError) -> dict[str, Any]:
    return mask_error(error).formatted
