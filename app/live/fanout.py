"""Shared execution: one group per distinct subscription, each event executed and encoded once.

Subscribers whose subscriptions have the same document, operation, variables and visibility
(the caller's team and role: what decides what they may see) would each compute the same
result for every event. They form a group instead: the group opens the subscription's source
stream once, executes the selection once per event (with a fresh context, so nothing read for
one event is shown for the next), encodes the result once, and hands the same text to every
subscriber's connection, which splices in its own subscription id. Nothing per subscriber but
the write.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, Protocol

import orjson
from graphql import ExecutionResult, GraphQLError, GraphQLSchema, located_error

from app.auth import Caller
from app.gql import SNAPSHOT_STREAM, STATE_STREAM, Context
from app.pipeline import execution
from app.pipeline.core import Prepared
from app.pipeline.errors import format_error

log = logging.getLogger(__name__)

DELIVERY_SLICE = 64  # sockets handed a payload between two turns of the event loop


class Subscriber(Protocol):
    """One subscription of one connection (see app.live.protocol)."""

    coalesce: bool

    def deliver(self, payload: str) -> None: ...

    def fail(self, errors: str) -> None: ...

    def finish(self) -> None: ...


def encode_result(result: ExecutionResult) -> str:
    """A result as the `payload` of a next/data message, encoded once for every subscriber."""
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [format_error(error) for error in result.errors]
    return orjson.dumps(payload).decode()


def encode_errors(errors: list[GraphQLError]) -> str:
    return orjson.dumps([format_error(error) for error in errors]).decode()


class Group:
    """Subscribers of one distinct subscription, and the task that serves them."""

    __slots__ = ("fanout", "key", "prepared", "caller", "kind", "subscribers", "latest", "task", "closed")

    def __init__(self, fanout: Fanout, key: tuple, prepared: Prepared, caller: Caller, kind: str) -> None:
        self.fanout = fanout
        self.key = key
        self.prepared = prepared
        self.caller = caller
        self.kind = kind
        self.subscribers: dict[int, Subscriber] = {}
        self.latest: str | None = None  # the last payload, for late joiners of a snapshot stream
        self.closed = False
        self.task: asyncio.Task | None = None

    def _context(self) -> Context:
        return Context(caller=self.caller)

    async def run(self) -> None:
        entry, name, variables = self.prepared.entry, self.prepared.plan.name, self.prepared.variables
        errors: list[GraphQLError] | None = None
        try:
            source = await execution.subscription_source(entry, name, variables, self._context())
            if isinstance(source, ExecutionResult):
                errors = source.errors
                return
            try:
                async for event in source:
                    # Through the pipeline's seam, the event as root, in a fresh context.
                    result = await execution.execute_operation(entry, name, variables, self._context(), event)
                    payload = encode_result(result)
                    if self.kind == "snapshot":
                        self.latest = payload
                    for index, subscriber in enumerate(list(self.subscribers.values()), 1):
                        subscriber.deliver(payload)
                        if index % DELIVERY_SLICE == 0:
                            # Let requests (the next mutation) run between slices: a delivery
                            # wakes one writer per socket, and thousands at once would queue
                            # every other task behind them.
                            await asyncio.sleep(0)
                    # And let the last slice's writers take their frame before the next event
                    # (already queued, when two came at once) is delivered: a state frame is
                    # replaced only for a reader that is truly behind, never for one that
                    # merely had not had its turn.
                    await asyncio.sleep(0)
            finally:
                if hasattr(source, "aclose"):
                    await source.aclose()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the source stream failed: tell its subscribers
            node = self.prepared.plan.node.selection_set.selections[0]
            errors = [located_error(exc, [node], [_root_field(self.prepared) or ""])]
        finally:
            self.fanout._forget(self)
            encoded = encode_errors(errors) if errors else None
            for subscriber in list(self.subscribers.values()):
                if encoded is not None:
                    subscriber.fail(encoded)
                else:
                    subscriber.finish()
            self.subscribers.clear()


class Fanout:
    """The groups of one process. With `shared` off, every subscriber is a group of its own:
    the baseline the benchmark compares with."""

    def __init__(self, schema: GraphQLSchema, *, shared: bool = True) -> None:
        self.schema = schema
        self.shared = shared
        self.groups: dict[tuple, Group] = {}

    def stream_kind(self, prepared: Prepared) -> str:
        """"state", "snapshot" or "events", as the subscription field declares (app.gql)."""
        subscription_type = self.schema.subscription_type
        field = subscription_type.fields.get(_root_field(prepared) or "") if subscription_type else None
        definition = field.extensions.get("strawberry-definition") if field else None
        metadata = getattr(definition, "metadata", None) or {}
        for declared in (SNAPSHOT_STREAM, STATE_STREAM):
            if all(metadata.get(k) == v for k, v in declared.items()):
                return declared["live_stream"]
        return "events"

    def join(self, subscriber: Subscriber, prepared: Prepared, caller: Caller, kind: str) -> Callable[[], None]:
        """Adds `subscriber` to its group (made and started when new); returns how to leave it."""
        if self.shared:
            key: tuple = (prepared.entry.key, prepared.plan.name, _canonical(prepared.variables), caller.visibility)
        else:
            key = (id(subscriber),)
        group = self.groups.get(key)
        if group is None or group.closed:
            group = Group(self, key, prepared, caller, kind)
            self.groups[key] = group
            group.task = asyncio.create_task(group.run(), name="live-group")
        elif group.latest is not None:
            subscriber.deliver(group.latest)
        token = id(subscriber)
        group.subscribers[token] = subscriber

        def leave() -> None:
            group.subscribers.pop(token, None)
            if not group.subscribers and not group.closed and group.task is not None:
                self._forget(group)
                group.task.cancel()

        return leave

    def _forget(self, group: Group) -> None:
        group.closed = True
        if self.groups.get(group.key) is group:
            del self.groups[group.key]

    async def stop(self) -> None:
        tasks = [group.task for group in self.groups.values() if group.task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def _root_field(prepared: Prepared) -> str | None:
    """A subscription's one root field (the pipeline collected it, fragments included)."""
    return next(iter(prepared.plan.root_fields), None)


def _canonical(variables: dict) -> bytes:
    return orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)
