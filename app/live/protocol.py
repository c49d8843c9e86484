"""One websocket connection speaking graphql-transport-ws or the legacy graphql-ws subprotocol.

Rules (each has a test named after it in tests/live/):
- `connection_init` must arrive within WS_CONNECTION_INIT_TIMEOUT (10 s): else close 4408.
- It carries the API token (`Authorization`); a bad or missing one closes with 4403
  (graphql-ws: `connection_error`, then close). A second `connection_init` closes with 4429.
- At most MAX_OPERATIONS_PER_SOCKET (20) operations run at once on one connection: one more is
  answered with the protocol's `error` message for its id (code SUBSCRIPTION_LIMIT), not started.
- Every operation passes the same request pipeline as over HTTP (app.pipeline: rate limits,
  document cache and APQ, limits, authorisation); a refusal is the `error` message for its id.
- Queries and mutations over the socket get one result, then `complete`, on both subprotocols.
- Every frame goes through the connection's bounded outbox (app.live.outbox); a reader that
  lets WS_SEND_BUFFER frames pile up is closed with 1013 (try again later): it reconnects and
  resubscribes, and state streams start again from the current state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson
from graphql import GraphQLError, OperationType
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from app.auth import Caller, resolve_caller
from app.gql import Context
from app.live.fanout import encode_errors
from app.live.outbox import Outbox
from app.pipeline.core import GraphQLRequest, Prepared
from app.pipeline.errors import RequestRefused

if TYPE_CHECKING:
    from app.live.server import LiveServer

log = logging.getLogger(__name__)

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
SLOW_CONSUMER = 1013
SLOW_CONSUMER_REASON = "Fell too far behind the live stream: reconnect"
# After the server closes a socket, how long the peer has to answer the close frame; a peer
# that stopped reading never will, and its connection is then let go of all the same.
CLOSE_HANDSHAKE_TIMEOUT = 5.0


class LiveSubscription:
    """One running subscription of a connection: what the fan-out delivers to."""

    __slots__ = ("connection", "id", "head", "coalesce", "leave")

    def __init__(self, connection: LiveConnection, op_id: str, coalesce: bool) -> None:
        self.connection = connection
        self.id = op_id
        # The frame up to the payload, encoded once: the fan-out's text is spliced in after it.
        self.head = connection.frame_head(op_id)
        self.coalesce = coalesce
        self.leave: Callable[[], None] | None = None

    def deliver(self, payload: str) -> None:
        self.connection.put(self.head + payload + "}", self.id if self.coalesce else None)

    def fail(self, errors: str) -> None:
        self.connection.operation_failed(self.id, errors)

    def finish(self) -> None:
        self.connection.operation_completed(self.id)


class LiveConnection:
    __slots__ = (
        "server",
        "ws",
        "protocol",
        "outbox",
        "caller",
        "init_received",
        "acknowledged",
        "operations",
        "closing",
        "writer",
        "serving",
    )

    def __init__(self, server: LiveServer, ws: WebSocket, protocol: str) -> None:
        self.server = server
        self.ws = ws
        self.protocol = protocol
        self.outbox = Outbox(server.settings.ws_send_buffer)
        self.caller: Caller | None = None
        self.init_received = False
        self.acknowledged = False
        # id -> a LiveSubscription, or the task of a query / mutation
        self.operations: dict[str, LiveSubscription | asyncio.Task] = {}
        self.closing = False
        # Writes the outbox out; runs only while it holds frames, so an idle socket costs no task.
        self.writer: asyncio.Task | None = None
        # The task reading the socket (`serve`), ended by `close_soon` if the peer never answers.
        self.serving: asyncio.Task | None = None

    # --- sending -------------------------------------------------------------------------

    def frame_head(self, op_id: str) -> str:
        kind = "next" if self.protocol == TRANSPORT_WS else "data"
        return '{"type":"' + kind + '","id":' + orjson.dumps(op_id).decode() + ',"payload":'

    def put(self, frame: str, coalesce_key: str | None = None) -> None:
        if self.closing:
            return
        if not self.outbox.put(frame, coalesce_key):
            self.close_soon(SLOW_CONSUMER, SLOW_CONSUMER_REASON)
        elif self.writer is None:
            self.writer = asyncio.create_task(self.write())

    def send(self, message: dict[str, Any]) -> None:
        self.put(orjson.dumps(message).decode())

    def operation_failed(self, op_id: str, errors: str) -> None:
        """Ends an operation with errors: graphql-transport-ws `error` (the list), graphql-ws
        `error` (its first error, as that protocol's clients expect)."""
        if self.operations.pop(op_id, None) is not None:
            self.send_error(op_id, errors)

    def send_error(self, op_id: str, errors: str) -> None:
        payload = errors if self.protocol == TRANSPORT_WS else orjson.dumps(orjson.loads(errors)[0]).decode()
        self.put('{"type":"error","id":' + orjson.dumps(op_id).decode() + ',"payload":' + payload + "}")

    def operation_completed(self, op_id: str) -> None:
        if self.operations.pop(op_id, None) is not None:
            self.send({"type": "complete", "id": op_id})

    async def write(self) -> None:
        """The connection's one writer: frames leave in the order they were put."""
        try:
            while (frame := self.outbox.pop()) is not None:
                await self.ws.send_text(frame)
        except (WebSocketDisconnect, RuntimeError, OSError):
            self.outbox.clear()
        finally:
            self.writer = None

    def close_soon(self, code: int, reason: str) -> None:
        """Closes the socket from a callback that cannot wait for it (a delivery, the guard)."""
        if not self.closing:
            self.closing = True
            self.server.spawn(self.close_and_let_go(code, reason))

    async def close_and_let_go(self, code: int, reason: str) -> None:
        """Closes the socket, then stops reading it if the peer has not answered in time (a
        reader that stopped reading never sends its close frame back)."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.close(code, reason), CLOSE_HANDSHAKE_TIMEOUT)
        if self.serving is not None and not self.serving.done():
            await asyncio.wait({self.serving}, timeout=CLOSE_HANDSHAKE_TIMEOUT)
            if not self.serving.done():
                self.serving.cancel()

    async def close(self, code: int, reason: str) -> None:
        self.closing = True
        self.leave_all()
        self.outbox.clear()  # what a closed reader never read is not kept
        if self.writer is not None and self.writer is not asyncio.current_task():
            self.writer.cancel()
        if self.ws.application_state != WebSocketState.DISCONNECTED:
            with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
                await self.ws.close(code=code, reason=reason)

    def leave_all(self) -> None:
        for operation in list(self.operations.values()):
            if isinstance(operation, LiveSubscription):
                if operation.leave is not None:
                    operation.leave()
            else:
                operation.cancel()
        self.operations.clear()

    # --- receiving -----------------------------------------------------------------------

    async def serve(self) -> None:
        settings = self.server.settings
        self.serving = asyncio.current_task()
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + settings.ws_connection_init_timeout
            while not self.closing:
                if self.init_received:
                    message = await self.ws.receive()
                else:
                    try:
                        message = await asyncio.wait_for(self.ws.receive(), max(deadline - loop.time(), 0))
                    except asyncio.TimeoutError:
                        await self.close(4408, "Connection initialisation timeout")
                        return
                if message["type"] == "websocket.disconnect":
                    return
                text = message.get("text")
                if text is None:
                    await self.close(4400, "WebSocket message type must be text")
                    return
                try:
                    data = orjson.loads(text)
                except orjson.JSONDecodeError:
                    data = None
                if not isinstance(data, dict) or not isinstance(data.get("type"), str):
                    await self.close(4400, "WebSocket message must be a JSON object with a type")
                    return
                await self.handle(data)
        except WebSocketDisconnect:
            pass
        except asyncio.CancelledError:
            if not self.closing:
                raise
            # Let go of by close_and_let_go: the socket is closed on our side, and is over.
            asyncio.current_task().uncancel()
        finally:
            self.closing = True
            self.serving = None
            self.leave_all()
            self.server.guard.forget(self)
            if self.writer is not None:
                self.writer.cancel()

    async def handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        legacy = self.protocol == LEGACY_WS
        if kind == "connection_init":
            await self.handle_init(message.get("payload"))
        elif kind in ("subscribe", "start"):
            await self.handle_subscribe(message.get("id"), message.get("payload"))
        elif kind in ("complete", "stop"):
            operation = self.operations.pop(message.get("id"), None) if isinstance(message.get("id"), str) else None
            if isinstance(operation, LiveSubscription) and operation.leave is not None:
                operation.leave()
            elif operation is not None:
                operation.cancel()
        elif kind == "ping" and not legacy:
            self.send({"type": "pong"})
        elif kind == "pong" and not legacy:
            pass
        elif kind == "connection_terminate" and legacy:
            await self.close(1000, "")
        else:
            await self.close(4400, f"Unknown message type: {kind}")

    async def handle_init(self, payload: Any) -> None:
        if self.init_received:
            await self.close(4429, "Too many initialisation requests")
            return
        self.init_received = True
        if payload is not None and not isinstance(payload, dict):
            await self.reject("Invalid connection init payload")
            return
        params = payload or {}
        authorization = params.get("Authorization") or params.get("authorization")
        caller, error = await resolve_caller(authorization if isinstance(authorization, str) else None)
        if caller is None:
            await self.reject(error or "Send Authorization in connection_init.")
            return
        self.caller = caller
        self.server.guard.watch(self)
        self.send({"type": "connection_ack"})
        self.acknowledged = True

    async def reject(self, message: str) -> None:
        if self.protocol == LEGACY_WS:
            # graphql-ws has no 4403: it answers connection_error, then closes.
            self.send({"type": "connection_error", "payload": {"message": message}})
            if self.writer is not None:
                await asyncio.wait([self.writer], timeout=1)  # written before the close
            await self.close(1011, "")
        else:
            await self.close(4403, "Forbidden")

    async def handle_subscribe(self, op_id: Any, payload: Any) -> None:
        settings = self.server.settings
        if not self.acknowledged:
            await self.close(4401, "Unauthorized")
            return
        if not isinstance(op_id, str) or not isinstance(payload, dict):
            await self.close(4400, "An operation needs an `id` (a string) and a `payload` (an object)")
            return
        if op_id in self.operations:
            if self.protocol == TRANSPORT_WS:
                await self.close(4409, f"Subscriber for {op_id} already exists")
                return
            await self.handle({"type": "stop", "id": op_id})  # graphql-ws: a new start replaces it
        if len(self.operations) >= settings.max_operations_per_socket:
            error = GraphQLError(
                f"At most {settings.max_operations_per_socket} operations may run at once on one connection: "
                "complete one first, or open another connection.",
                extensions={"code": "SUBSCRIPTION_LIMIT"},
            )
            self.send_error(op_id, encode_errors([error]))
            return
        pipeline = self.server.pipeline
        context = self.context()
        try:
            await pipeline.admit(self.caller, self.ws.client.host if self.ws.client else "unknown")
            prepared = await pipeline.prepare(GraphQLRequest.from_params(payload), context)
        except RequestRefused as refused:
            self.send_error(op_id, orjson.dumps(refused.errors).decode())
            return
        if prepared.plan.kind is OperationType.SUBSCRIPTION:
            kind = self.server.fanout.stream_kind(prepared)
            subscription = LiveSubscription(self, op_id, coalesce=kind != "events")
            self.operations[op_id] = subscription
            subscription.leave = self.server.fanout.join(subscription, prepared, self.caller, kind)
        else:
            self.operations[op_id] = asyncio.create_task(self.run_once(op_id, prepared, context))

    def context(self) -> Context:
        return Context(request=self.ws, caller=self.caller)

    async def run_once(self, op_id: str, prepared: Prepared, context: Context) -> None:
        """A query or mutation over the socket: its one result, then complete."""
        try:
            body = await self.server.pipeline.execute(prepared, context)
        except RequestRefused as refused:
            self.operation_failed(op_id, orjson.dumps(refused.errors).decode())
            return
        if op_id in self.operations:
            self.put(self.frame_head(op_id) + orjson.dumps(body).decode() + "}")
            self.operation_completed(op_id)
