"""THE SEAM: runs one operation of a cached, validated document. Nothing before it executes;
nothing after it resolves.

Everything the pipeline knows about the document is on `entry` (app.pipeline.documents.CacheEntry:
the AST, each operation's plan, and `entry.extra` for work kept per document). Today this hands
the AST to graphql-core's executor over the strawberry schema's GraphQLSchema; a compiled
executor replaces the bodies of these two functions (keeping its compiled plan in `entry.extra`).

`variables` are the raw JSON values (coercion is the executor's job: a value it cannot coerce
comes back as an error without a path and without data, which the pipeline reports as
BAD_USER_INPUT).
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from functools import cache
from typing import Any

from graphql import ExecutionResult, GraphQLSchema, execute, subscribe
from graphql.execution.execute import create_source_event_stream

from app.pipeline.documents import CacheEntry


@cache
def _strawberry_schema():
    from app.schema import schema

    return schema


def graphql_schema() -> GraphQLSchema:
    return _strawberry_schema()._schema


async def execute_operation(
    entry: CacheEntry, operation_name: str | None, variables: dict[str, Any], context: Any, root: Any
) -> ExecutionResult:
    """A query or mutation: its one result."""
    schema = _strawberry_schema()
    result = execute(
        schema._schema,
        entry.document,
        root_value=root,
        context_value=context,
        variable_values=variables,
        operation_name=operation_name,
        executor_class=schema.execution_context_class,
    )
    if inspect.isawaitable(result):
        result = await result
    return result


async def subscribe_operation(
    entry: CacheEntry, operation_name: str | None, variables: dict[str, Any], context: Any, root: Any
) -> AsyncIterator[ExecutionResult] | ExecutionResult:
    """A subscription: its stream of results, or one result with the errors that prevented it."""
    schema = _strawberry_schema()
    result = subscribe(
        schema._schema,
        entry.document,
        root_value=root,
        context_value=context,
        variable_values=variables,
        operation_name=operation_name,
        executor_class=schema.execution_context_class,
    )
    if inspect.isawaitable(result):
        result = await result
    return result


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
