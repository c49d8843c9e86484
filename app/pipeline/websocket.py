"""Websockets keep strawberry's protocol handlers (graphql-transport-ws and the legacy graphql-ws);
each operation they receive goes through the same pipeline as HTTP (cache, limits, APQ,
authorisation, rate limits), instead of the schema's own execution.

Strawberry's Operation keeps only query / variables / operationName, so the whole payload (with
its `extensions`, where APQ's hash travels) is carried in place of the query.
"""

from __future__ import annotations

import asyncio
import contextlib

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    _OperationStreamClosed,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.types.execution import PreExecutionError
from strawberry.utils.aio import aclosing


def _client(context) -> str:
    request = getattr(context, "request", None)
    client = getattr(request, "client", None)
    return client.host if client else "unknown"


class TransportWSHandler(BaseGraphQLTransportWSHandler):
    async def handle_subscribe(self, message) -> None:
        payload = message.get("payload") or {}
        carried = {"query": payload, "variables": None, "operationName": payload.get("operationName")}
        await super().handle_subscribe({**message, "payload": carried})

    async def run_operation(self, operation) -> None:
        try:
            results = self.view.pipeline.stream(operation.query, self.context, _client(self.context), self.root_value)
            async with aclosing(results):
                await self._send_result_stream(operation, results)
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except _OperationStreamClosed:
            return
        except Exception as error:  # pragma: no cover - as strawberry's own handler does
            await self.handle_task_exception(error)
            with contextlib.suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise


class LegacyWSHandler(BaseGraphQLWSHandler):
    async def handle_start(self, message) -> None:
        payload = message.get("payload") or {}
        carried = {"query": payload, "variables": None, "operationName": payload.get("operationName")}
        await super().handle_start({**message, "payload": carried})

    async def handle_async_results(self, operation_id, query, operation_name, variables) -> None:
        try:
            results = self.view.pipeline.stream(query, self.context, _client(self.context), self.root_value)
            self.subscriptions[operation_id] = results
            first = True
            async for result in results:
                if first and isinstance(result, PreExecutionError):
                    await self.send_message(
                        {"type": "error", "id": operation_id, "payload": result.errors[0].formatted}
                    )
                    return
                await self.send_data_message(result, operation_id)
                first = False
            await self.send_message({"type": "complete", "id": operation_id})
        except asyncio.CancelledError:
            await self.send_message({"type": "complete", "id": operation_id})
        finally:
            self.subscriptions.pop(operation_id, None)
            self.tasks.pop(operation_id, None)
