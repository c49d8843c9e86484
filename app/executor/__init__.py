"""The compiled executor: each validated operation compiled once into a plan of closures.

`compile_operation` compiles (or says it cannot: None, counted in FALLBACKS and logged at debug);
`execute` runs a compiled plan, falling back to graphql-core when a request needs it.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from graphql import DocumentNode, ExecutionResult, GraphQLSchema
from graphql import execute as graphql_execute

from app.executor.compiler import CompiledOperation, Unsupported, is_awaitable

log = logging.getLogger(__name__)

# Why operations went to graphql-core instead, by reason: visible in tests and benchmarks.
FALLBACKS: Counter[str] = Counter()


def compile_operation(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> CompiledOperation | None:
    try:
        return CompiledOperation(schema, document, operation_name)
    except Unsupported as reason:
        FALLBACKS[str(reason)] += 1
        log.debug("graphql-core runs %s: %s", operation_name or "the operation", reason)
        return None


async def execute(
    compiled: CompiledOperation | None,
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    root_value: Any,
    context_value: Any,
    variable_values: dict[str, Any] | None,
) -> ExecutionResult:
    """The compiled plan's result, or graphql-core's where the plan cannot run this request."""
    if compiled is not None:
        variables = compiled.coerce_variables(variable_values)
        if isinstance(variables, list):
            return ExecutionResult(None, variables)
        try:
            result = compiled.execute_coerced(root_value, context_value, variables)
        except Unsupported as reason:  # raised before anything ran
            FALLBACKS[str(reason)] += 1
            log.debug("graphql-core runs %s: %s", operation_name or "the operation", reason)
        else:
            return await result if is_awaitable(result) else result
    result = graphql_execute(schema, document, root_value, context_value, variable_values, operation_name)
    return await result if is_awaitable(result) else result


__all__ = ["FALLBACKS", "CompiledOperation", "Unsupported", "compile_operation", "execute"]
