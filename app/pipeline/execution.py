"""THE SEAM: runs one operation of a cached, validated document. Nothing before it executes;
nothing after it resolves.

Everything the pipeline knows about the document is on `entry` (app.pipeline.documents.CacheEntry:
the AST, each operation's plan, and `entry.extra` for work kept per document). Queries and
mutations, and each event of a subscription (the event as root: app/live), run the operation's
compiled plan (app/executor), compiled on first use and kept in `entry.extra`; what the compiler
does not cover runs on graphql-core over the strawberry schema's GraphQLSchema.

`variables` are the raw JSON values (coercion is the executor's job: a value it cannot coerce
comes back as an error without a path and without data, which the pipeline reports as
BAD_USER_INPUT).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import AsyncIterator, Awaitable
from functools import cache
from typing import Any

from graphql import ExecutionResult, GraphQLSchema
from graphql.execution.execute import create_source_event_stream

from app import executor
from app.pipeline.documents import CacheEntry

_NOT_COMPILED = object()


@cache
def _strawberry_schema():
    from app.schema import schema

    return schema


def graphql_schema() -> GraphQLSchema:
    return _strawberry_schema()._schema


def execute_operation(
    entry: CacheEntry, operation_name: str | None, variables: dict[str, Any], context: Any, root: Any
) -> Awaitable[ExecutionResult]:
    """A query or mutation: an awaitable of its one result (the executor's own coroutine: one
    frame less for every suspension of the request to pass through)."""
    schema = _strawberry_schema()
    plans = entry.extra.setdefault("compiled", {})
    compiled = plans.get(operation_name, _NOT_COMPILED)
    if compiled is _NOT_COMPILED:
        # Once per document and operation; None: graphql-core runs it (counted in executor.FALLBACKS).
        compiled = plans[operation_name] = executor.compile_operation(schema._schema, entry.document, operation_name)
    return executor.execute(
        compiled,
        schema._schema,
        entry.document,
        operation_name,
        root,
        context,
        variables,
        # The differential check's second run gets its own loaders, as a request of its own would.
        context_factory=lambda: dataclasses.replace(context, loaders={}) if dataclasses.is_dataclass(context) else context,
        graphql_core_options={"executor_class": schema.execution_context_class},
    )


async def subscription_source(
    entry: CacheEntry, operation_name: str | None, variables: dict[str, Any], context: Any
) -> AsyncIterator[Any] | ExecutionResult:
    """A subscription's source event stream (the live fan-out executes each event with
    `execute_operation`, the event as root), or one result with the errors that prevented it."""
    schema = _strawberry_schema()
    executor = schema.execution_context_class.build(
        schema._schema, entry.document, None, context, variables, operation_name
    )
    if isinstance(executor, list):  # e.g. variables that do not coerce
        return ExecutionResult(None, errors=executor)
    source = create_source_event_stream(executor)
    if inspect.isawaitable(source):
        source = await source
    return source
