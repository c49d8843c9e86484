"""CSV exports over HTTP: GET /export/missing-reps.csv and GET /export/audit-log.csv.

Authenticated with the same Bearer token as the API, counted against the caller's rate limit,
allowed to the roles the permission table gives the matching query. Refusals are JSON errors
coded like the API's: 400 bad parameters, 401 no or invalid token, 403 the role may not, 429
over the rate limit. The body is streamed: the features hand over one keyset page of rows at a
time, so an export of any size holds one page in memory.

A cell a spreadsheet would read as a formula (starting with = + - @, a tab or a carriage
return) is prefixed with ' so that it is shown as text, never run.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from enum import Enum
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from app.audit import export as audit_export
from app.auth import Caller, Permission, authorize, resolve_caller
from app.errors import AppError, ErrorCode
from app.missing_reps import export as missing_reps_export
from app.missing_reps.listing import SortDirection, SortField
from app.missing_reps.models import MissingRepStatus
from app.pipeline.errors import RequestRefused

log = logging.getLogger(__name__)

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_STATUSES = {
    ErrorCode.BAD_USER_INPUT: 400,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
}


def safe_cell(value: Any) -> Any:
    """A cell as written: text a spreadsheet would evaluate gets a leading '."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def encode_rows(rows: Iterable[Iterable[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return buffer.getvalue().encode("utf-8")


def _error(code: ErrorCode, message: str, status: int, headers: dict[str, str] | None = None, **details: Any) -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": code.value, **details}}]}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json; charset=utf-8", headers=headers)


def _enum_param(params: dict[str, str], name: str, kind: type[Enum], default: Enum) -> Enum:
    value = params.get(name)
    if value is None:
        return default
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise AppError(ErrorCode.BAD_USER_INPUT, f"{name} must be one of {allowed}.", field=name) from None


def _params(request: Request, allowed: set[str]) -> dict[str, str]:
    """The query parameters, each given at most once, none unknown (a typo is an error, not a
    silently different export)."""
    names = [name for name, _ in request.query_params.multi_items()]
    unknown = sorted(set(names) - allowed)
    if unknown:
        raise AppError(ErrorCode.BAD_USER_INPUT, f"Unknown parameter {unknown[0]!r}.", field=unknown[0])
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise AppError(ErrorCode.BAD_USER_INPUT, f"{repeated[0]} is given more than once.", field=repeated[0])
    return dict(request.query_params)


async def _caller(request: Request, permission: Permission) -> Caller:
    caller, auth_error = await resolve_caller(request.headers.get("authorization"))
    await request.app.state.pipeline.admit(caller, request.client.host if request.client else "unknown")
    return authorize(caller, permission, auth_error=auth_error)


def _csv_response(filename: str, header: tuple[str, ...], pages: AsyncIterator[list[tuple]]) -> StreamingResponse:
    async def body() -> AsyncIterator[bytes]:
        yield encode_rows([header])
        try:
            async for rows in pages:
                yield encode_rows(rows)
        except Exception:
            # The status is sent already: the client sees a cut-off file (no final line break).
            log.exception("the %s export stopped part-way", filename)
            raise

    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


def _endpoint(
    permission: Permission, allowed: set[str], export: Callable[[Caller, dict[str, str]], StreamingResponse]
) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        try:
            caller = await _caller(request, permission)
            return export(caller, _params(request, allowed))
        except AppError as error:
            return _error(error.code, error.message, _STATUSES.get(error.code, 400), **{
                k: v for k, v in error.extensions.items() if k != "code"
            })
        except RequestRefused as refused:
            return Response(
                orjson.dumps({"errors": refused.errors}),
                status_code=refused.json_status,
                media_type="application/json; charset=utf-8",
                headers=refused.headers,
            )

    return endpoint


def _missing_reps(caller: Caller, params: dict[str, str]) -> StreamingResponse:
    status = _enum_param(params, "status", MissingRepStatus, MissingRepStatus.MISSING)
    field = _enum_param(params, "orderBy", SortField, SortField.NAME)
    direction = _enum_param(params, "direction", SortDirection, SortDirection.ASC)
    pages = missing_reps_export.rows(caller.team_id, status=status, field=field, direction=direction)
    return _csv_response("missing-reps.csv", missing_reps_export.HEADER, pages)


def _audit_log(caller: Caller, params: dict[str, str]) -> StreamingResponse:
    return _csv_response("audit-log.csv", audit_export.HEADER, audit_export.rows(caller.team_id))


def routes() -> list[BaseRoute]:
    return [
        Route(
            "/export/missing-reps.csv",
            _endpoint(Permission.MANAGE_MISSING_REPS, {"status", "orderBy", "direction"}, _missing_reps),
            methods=["GET"],
        ),
        Route("/export/audit-log.csv", _endpoint(Permission.READ_AUDIT_LOG, set(), _audit_log), methods=["GET"]),
    ]
