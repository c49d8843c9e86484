"""GraphQL over HTTP (GET and POST /graphql): the body cap, JSON, content negotiation, statuses.

`application/graphql-response+json` is served to clients that ask for it, with the statuses its
spec gives (4xx when nothing was executed); `application/json` (also for `*/*` and no Accept)
keeps 200 for every answer GraphQL itself gave. Browsers (Accept: text/html) get GraphiQL.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import orjson
from graphql import GraphQLError, OperationType
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from app import web
from app.auth import resolve_caller
from app.errors import ErrorCode
from app.gql import Context
from app.pipeline.core import GraphQLRequest, Pipeline, bad_request
from app.pipeline.errors import RequestRefused, limit_exceeded, mask_error

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"
_QUERIES_ONLY = frozenset({OperationType.QUERY})
_GET_OR_HEAD = ("GET", "HEAD")  # HEAD: GET's answer without its body (the server drops it)
_QUERIES_AND_MUTATIONS = frozenset({OperationType.QUERY, OperationType.MUTATION})


@functools.lru_cache(maxsize=256)  # clients send the same few headers on every request
def negotiate(accept: str | None) -> str | None:
    """The response media type for an Accept header; None when none of ours is acceptable."""
    if not accept:
        return APPLICATION_JSON
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept.split(",")):
        media, *params = [p.strip() for p in part.split(";")]
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0:
            ranked.append((-q, position, media.lower()))
    for _, _, media in sorted(ranked):
        if media == GRAPHQL_RESPONSE_JSON:
            return GRAPHQL_RESPONSE_JSON
        if media in (APPLICATION_JSON, "application/*", "*/*"):
            return APPLICATION_JSON
    return None


def _header(headers: dict[bytes, bytes], name: bytes) -> str | None:
    value = headers.get(name)
    return None if value is None else value.decode("latin-1")


def _raw_headers(request: Request) -> dict[bytes, bytes]:
    """The request's headers by name, read once: ASGI gives names in lower case, and the first of
    a repeated header wins, as in Starlette's Headers (which scans them all for every lookup)."""
    return dict(reversed(request.scope["headers"]))


def _json_response(body: Any, status: int, media_type: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type=f"{media_type}; charset=utf-8",
        headers=headers,
    )


def _loads(raw: bytes | str) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        # orjson refuses lone surrogates ("\ud800"); the standard parser keeps them, so that
        # the input check can name the variable instead of calling the whole body malformed.
        try:
            return json.loads(raw)
        except ValueError:
            raise bad_request("The body is not valid JSON.") from None


class GraphQLHTTP:
    """The ASGI endpoint of Route("/graphql", methods=["GET", "POST"])."""

    def __init__(self, pipeline: Pipeline, *, graphiql: bool) -> None:
        self.pipeline = pipeline
        self.graphiql = graphiql

    async def __call__(self, scope, receive, send) -> None:
        # An ASGI app, not a function endpoint: Starlette would wrap each request in two more
        # closures to route its exceptions to handlers, and `handle` answers every one itself.
        response = await self.handle(Request(scope, receive, send))
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        headers = _raw_headers(request)
        accept = _header(headers, b"accept")
        if request.method in _GET_OR_HEAD and self.graphiql and "text/html" in (accept or ""):
            return web.page_response(web.graphiql_html())  # a browser
        media_type = negotiate(accept)
        if media_type is None:
            return _json_response(
                {"errors": [{"message": f"Accept {GRAPHQL_RESPONSE_JSON} or {APPLICATION_JSON}.",
                             "extensions": {"code": ErrorCode.BAD_REQUEST.value}}]},
                406,
                APPLICATION_JSON,
            )
        try:
            body, status = await self._answer(request, headers)
            return _json_response(body, status, media_type)
        except RequestRefused as refused:
            status = refused.status if media_type == GRAPHQL_RESPONSE_JSON else refused.json_status
            return _json_response({"errors": refused.errors}, status, media_type, refused.headers)
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is left to read it
        except Exception as exc:  # a bug before execution: masked like any other
            error = mask_error(GraphQLError(str(exc), original_error=exc))
            return _json_response({"errors": [error.formatted]}, 500, media_type)

    async def _answer(self, request: Request, headers: dict[bytes, bytes]) -> tuple[dict[str, Any], int]:
        authorization = _header(headers, b"authorization")
        context = Context(request=request)
        context.caller, context.auth_error = await resolve_caller(authorization)
        await self.pipeline.admit(context.caller, request.client.host if request.client else "unknown")
        # Before the body is read, the header alone says which cap applies.
        limits = self.pipeline.limits if authorization else self.pipeline.anonymous_limits
        if request.method in _GET_OR_HEAD:
            params = self._get_params(request)
            allowed = _QUERIES_ONLY
        else:
            params = _loads(await self._read_body(request, headers, limits.max_body_bytes))
            allowed = _QUERIES_AND_MUTATIONS
        graphql_request = GraphQLRequest.from_params(params)
        prepared = await self.pipeline.prepare(graphql_request, context, allowed=allowed)
        return await self.pipeline.execute(prepared, context), 200

    @staticmethod
    def _get_params(request: Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query_params)
        for name in ("variables", "extensions"):
            if name in params:
                value = _loads(params[name]) if params[name] else None
                if value is not None and not isinstance(value, dict):
                    raise bad_request(f"{name} must be a JSON object.")
                params[name] = value
        return params

    @staticmethod
    async def _read_body(request: Request, headers: dict[bytes, bytes], max_bytes: int) -> bytes:
        content_type = _header(headers, b"content-type") or ""
        media, _, params = content_type.partition(";")
        if media.strip().lower() != APPLICATION_JSON:
            raise RequestRefused(
                ErrorCode.BAD_REQUEST, "POST a JSON body (Content-Type: application/json).", status=415, json_status=415
            )
        charset = params.strip().lower()
        if charset and charset.replace(" ", "") not in ("charset=utf-8", "charset=\"utf-8\""):
            raise RequestRefused(
                ErrorCode.BAD_REQUEST, "The body must be UTF-8.", status=415, json_status=415
            )
        length = _header(headers, b"content-length")
        if length is not None and length.isdigit() and int(length) > max_bytes:
            raise _too_large(max_bytes, int(length))
        # The ASGI messages themselves: Starlette's request.stream() is an async generator, whose
        # machinery cost more than the usual one-message body.
        chunks, size = [], 0
        while True:
            message = await request.receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > max_bytes:
                raise _too_large(max_bytes, None)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        if not body:
            raise bad_request("The POST body is empty: send {\"query\": ...}.")
        return body


def _too_large(max_bytes: int, actual: int | None) -> RequestRefused:
    refused = limit_exceeded(
        ErrorCode.PAYLOAD_TOO_LARGE,
        "maxBodyBytes",
        max_bytes,
        actual,
        f"The request body is larger than {max_bytes} bytes (limit maxBodyBytes).",
    )
    refused.status = refused.json_status = 413
    return refused
