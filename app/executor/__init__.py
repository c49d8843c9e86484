"""The compiled executor: each validated operation compiled once into a plan of closures.

`compile_operation` compiles (or says it cannot: None, counted in FALLBACKS and logged at debug);
`execute` runs a compiled plan, and graphql-core where the plan cannot run the request.

With `DIFFERENTIAL.enabled` (the test suite turns it on) every request is also run by graphql-core
and a difference is recorded in `DIFFERENTIAL.mismatches`. The compiled run records what each
resolver returned. A mutation runs once: graphql-core then executes the same document with every
resolver replaced by its recorded result (a replay), so nothing is written twice (this compares
field collection, completion, null propagation and errors, not the resolvers' arguments). A query
runs twice, in full; when the two differ, the replay decides: equal there, the data changed
between the runs (a background job, a concurrent test writer) and it is counted in `raced`.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from graphql import DocumentNode, ExecutionResult, GraphQLSchema, OperationType
from graphql import execute as graphql_execute

from app.executor.compiler import CompiledOperation, is_awaitable
from app.executor.unsupported import Unsupported

log = logging.getLogger(__name__)

# Why requests went to graphql-core instead, by reason: read by tests and benchmarks.
FALLBACKS: Counter[str] = Counter()


def _fell_back(operation_name: str | None, reason: Unsupported) -> None:
    FALLBACKS[str(reason)] += 1
    log.debug("graphql-core runs %s: %s", operation_name or "the operation", reason)


# SWITCHBOARD_COMPILED_EXECUTOR=0 sends everything to graphql-core: bench/reads.py's "before".
ENABLED = os.environ.get("SWITCHBOARD_COMPILED_EXECUTOR", "1") != "0"


def compile_operation(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> CompiledOperation | None:
    if not ENABLED:
        return None
    try:
        return CompiledOperation(schema, document, operation_name)
    except Unsupported as reason:
        _fell_back(operation_name, reason)
        return None
    except Exception as error:  # a compiler bug must not fail the request: graphql-core serves it
        FALLBACKS[f"compiler error: {type(error).__name__}"] += 1
        log.exception("compiling %s failed; graphql-core runs it", operation_name or "the operation")
        return None


@dataclass
class Differential:
    enabled: bool = False
    compared: int = 0
    raced: int = 0
    mismatches: list[dict] = field(default_factory=list)


DIFFERENTIAL = Differential()


async def execute(
    compiled: CompiledOperation | None,
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    root_value: Any,
    context_value: Any,
    variable_values: dict[str, Any] | None,
    *,
    context_factory=None,
    graphql_core_options: dict[str, Any] | None = None,
) -> ExecutionResult:
    """The compiled plan's result, or graphql-core's where the plan cannot run this request.

    `context_factory` gives a fresh context for the differential re-run (per-request loaders must
    not be shared between the two runs); `graphql_core_options` go to graphql-core when it runs."""
    if compiled is not None:
        variables = compiled.coerce_variables(variable_values)
        if isinstance(variables, list):
            return ExecutionResult(None, variables)
        try:
            recorded: dict | None = {} if DIFFERENTIAL.enabled else None
            result = compiled.execute_coerced(root_value, context_value, variables, recorded=recorded)
        except Unsupported as reason:  # raised before anything ran
            _fell_back(operation_name, reason)
        else:
            result = await result if is_awaitable(result) else result
            if DIFFERENTIAL.enabled:
                await _compare(compiled, result, recorded, schema, document, operation_name, root_value, context_value,
                               variable_values, context_factory)
            return result
    result = graphql_execute(
        schema, document, root_value, context_value, variable_values, operation_name, **(graphql_core_options or {})
    )
    return await result if is_awaitable(result) else result


async def _compare(compiled, mine, recorded, schema, document, operation_name, root_value, context_value, variables,
                   context_factory):
    mine_view = _client_view(mine)

    async def graphql_core(replayed: bool) -> dict:
        context = context_factory() if context_factory else context_value
        middleware = [_replay(recorded)] if replayed else None
        result = graphql_execute(schema, document, root_value, context, variables, operation_name, middleware=middleware)
        return _client_view(await result if is_awaitable(result) else result)

    DIFFERENTIAL.compared += 1
    theirs = await graphql_core(replayed=compiled.serial)
    if mine_view != theirs and not compiled.serial:
        if await graphql_core(replayed=True) == mine_view:
            DIFFERENTIAL.raced += 1
            return
    if mine_view != theirs:
        query = document.loc.source.body if document.loc else None
        log.error("compiled executor differs from graphql-core on %s", query)
        DIFFERENTIAL.mismatches.append({"query": query, "variables": variables, "compiled": mine_view, "graphql_core": theirs})


def _replay(recorded: dict):
    """graphql-core middleware: every resolver the compiled run called gives what it gave then."""

    def replay(next_, source, info, **args):
        key = tuple(info.path.as_list())
        if key in recorded:
            value = recorded[key]
            if isinstance(value, BaseException):
                raise value
            return value
        return next_(source, info, **args)

    return replay


def _client_view(result: ExecutionResult) -> dict:
    formatted = result.formatted
    if formatted.get("errors"):
        # Which of two concurrent database-bound fields fails first is the database's choice.
        formatted["errors"] = sorted(formatted["errors"], key=repr)
    return formatted


__all__ = [
    "DIFFERENTIAL",
    "FALLBACKS",
    "CompiledOperation",
    "OperationType",
    "Unsupported",
    "compile_operation",
    "execute",
]
