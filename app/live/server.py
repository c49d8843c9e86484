"""The websocket endpoint and what it shares across connections: operations, fan-out, guard."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import gc
import logging
from collections.abc import Coroutine

from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.http.websocket_origin import is_same_origin, normalize_origin

from app.live.fanout import Fanout
from app.live.guard import Guard
from app.live.protocol import LEGACY_WS, TRANSPORT_WS, LiveConnection
from app.pipeline.core import Pipeline
from app.settings import Settings

log = logging.getLogger(__name__)

SUBPROTOCOLS = (TRANSPORT_WS, LEGACY_WS)  # in order of preference
TRIM_INTERVAL_SECONDS = 5.0
TRIM_AFTER_CLOSED = 100
FREEZE_AFTER_OPENED = 200


def _find_malloc_trim():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to trim
        return None


_malloc_trim = _find_malloc_trim()


class LiveServer:
    """An ASGI websocket app; `start()` and `stop()` run in the application's lifespan."""

    def __init__(self, pipeline: Pipeline, settings: Settings) -> None:
        self.pipeline = pipeline
        self.settings = settings
        self.fanout = Fanout(pipeline.schema, shared=settings.live_shared_execution)
        self.guard = Guard(settings.ws_auth_check_interval)
        self.connections: set[LiveConnection] = set()
        self._stopping = asyncio.Event()
        self._tasks: set[asyncio.Task] = set()
        self._allowed_origins = {normalize_origin(o) for o in settings.allowed_origins}
        self._closed_since_trim = 0

    def spawn(self, coroutine: Coroutine) -> None:
        """Runs `coroutine` in the background, kept referenced until it ends."""
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def start(self) -> None:
        self._stopping.clear()
        self.spawn(self.guard.run(self._stopping))
        self.spawn(self._keep_legacy_alive())
        self.spawn(self._tend_memory())

    async def _tend_memory(self) -> None:
        """Keeps thousands of open sockets from costing pauses, and closed ones from costing memory.

        - After many sockets opened, their long-lived objects are frozen out of the collector:
          otherwise each full collection walks all of them, a pause of hundreds of milliseconds
          at 5,000 sockets that lands on whatever request is running (bench/fanout.py).
        - After many closed, everything is thawed and collected once, and the freed memory handed
          back to the system (CPython and glibc keep freed blocks for reuse)."""
        frozen_with = len(self.connections)
        while not self._stopping.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), TRIM_INTERVAL_SECONDS)
            if self._closed_since_trim >= TRIM_AFTER_CLOSED:
                self._closed_since_trim = 0
                gc.unfreeze()
                gc.collect()
                if _malloc_trim is not None:
                    _malloc_trim(0)
                frozen_with = 0
            if len(self.connections) - frozen_with >= FREEZE_AFTER_OPENED:
                gc.collect()
                gc.freeze()
                frozen_with = len(self.connections)

    async def stop(self) -> None:
        self._stopping.set()
        await self.fanout.stop()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _keep_legacy_alive(self) -> None:
        """graphql-ws clients expect `ka` now and then; one timer for every connection."""
        while not self._stopping.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.settings.ws_keepalive_interval)
            for connection in list(self.connections):
                if connection.protocol == LEGACY_WS and connection.acknowledged:
                    connection.send({"type": "ka"})

    def _origin_allowed(self, ws: WebSocket) -> bool:
        # Browsers always send Origin on a websocket handshake; other clients carry no cookies.
        origin = ws.headers.get("origin")
        if origin is None or ws.headers.get("sec-fetch-site") == "same-origin":
            return True
        if is_same_origin(origin, ws.headers.get("host")) or "*" in self.settings.allowed_origins:
            return True
        return normalize_origin(origin) in self._allowed_origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ws = WebSocket(scope, receive, send)
        offered = [p.strip() for p in ws.headers.get("sec-websocket-protocol", "").split(",")]
        protocol = next((p for p in SUBPROTOCOLS if p in offered), None)
        if not self._origin_allowed(ws):
            log.warning("refused a websocket from origin %r", ws.headers.get("origin"))
            await ws.close(code=4403)
            return
        if protocol is None:
            await ws.close(code=4406, reason="Subprotocol not acceptable")
            return
        await ws.accept(subprotocol=protocol)
        connection = LiveConnection(self, ws, protocol)
        self.connections.add(connection)
        try:
            await connection.serve()
        finally:
            self.connections.discard(connection)
            self._closed_since_trim += 1
