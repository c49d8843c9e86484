"""Variable coercion compiled per operation: graphql-core's coerce_variable_values for input that
is valid, with the type walk done once. On anything it does not take as is (a missing variable
with a default, a value of the wrong type, an unknown field...) it gives up (None) before
returning anything, and graphql-core coerces the request, errors and all.

On ingestLeads it replaces graphql-core's interpretation of 500 LeadInput objects, 11% of the
server's CPU (py-spy, bench/ingest.py).
"""

from __future__ import annotations

from typing import Any, Callable

from graphql import (
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    is_input_object_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
)
from graphql.execution.get_variable_signature import get_variable_signature
from graphql.execution.values import VariableValues, VariableValueSource
from graphql.pyutils import Undefined, is_iterable
from graphql.type import GraphQLBoolean, GraphQLID, GraphQLString
from graphql.utilities.coerce_input_value import coerce_default_value

from app.executor.unsupported import Unsupported

_BAIL = object()  # this value is not taken as is: graphql-core decides


def _coercer(type_, seen: frozenset) -> Callable[[Any], Any]:
    """coerce_input_value(value, type_) for valid values; _BAIL where it would not be that simple."""
    if is_non_null_type(type_):
        inner = _coercer(type_.of_type, seen)

        def non_null(value: Any) -> Any:
            if value is None:
                return _BAIL
            return inner(value)

        return non_null
    if is_list_type(type_):
        item = _coercer(type_.of_type, seen)

        def as_list(value: Any) -> Any:
            if value is None:
                return None
            if not is_iterable(value):
                single = item(value)
                return _BAIL if single is _BAIL else [single]
            out = []
            for x in value:
                coerced = item(x)
                if coerced is _BAIL:
                    return _BAIL
                out.append(coerced)
            return out

        return as_list
    if is_input_object_type(type_):
        if type_ in seen:
            raise Unsupported("recursive input types")
        if type_.is_one_of:
            raise Unsupported("oneOf input types")
        seen = seen | {type_}
        fields = [
            (name, field.out_name or name, is_non_null_type(field.type) and field.default is None and field.default_value is Undefined,
             field, _coercer(field.type, seen))
            for name, field in type_.fields.items()
        ]
        known = frozenset(type_.fields)
        out_type = type_.out_type

        def as_object(value: Any) -> Any:
            if value is None:
                return None
            if type(value) is not dict or not known.issuperset(value):
                return _BAIL
            coerced: dict[str, Any] = {}
            for name, out_name, required, field, convert in fields:
                if name in value:
                    result = convert(value[name])
                    if result is _BAIL:
                        return _BAIL
                    coerced[out_name] = result
                elif required:
                    return _BAIL
                else:
                    default = coerce_default_value(field)
                    if default is not Undefined:
                        coerced[out_name] = default
            return out_type(coerced)

        return as_object
    if is_leaf_type(type_):
        parse = type_.coerce_input_value
        exact = {GraphQLString: str, GraphQLID: str, GraphQLBoolean: bool}.get(type_)

        def leaf(value: Any) -> Any:
            if value is None:
                return None
            if exact is not None and type(value) is exact:
                return value  # what String, ID and Boolean give back for a value of their type
            try:
                result = parse(value)
            except Exception:  # noqa: BLE001 - graphql-core turns this into an error: let it
                return _BAIL
            return _BAIL if result is Undefined else result

        return leaf
    raise Unsupported(f"input type {type_}")


def compile_variables(schema: GraphQLSchema, operation: OperationDefinitionNode) -> Callable[[dict], VariableValues | None]:
    plan = []
    for node in operation.variable_definitions or ():
        signature = get_variable_signature(schema, node)
        if isinstance(signature, GraphQLError):
            raise Unsupported("a variable of an unknown type")
        plan.append((signature.name, signature, node.default_value is not None, is_non_null_type(signature.type),
                     _coercer(signature.type, frozenset())))

    def coerce(inputs: dict) -> VariableValues | None:
        sources: dict[str, VariableValueSource] = {}
        coerced: dict[str, Any] = {}
        for name, signature, has_default, non_null, convert in plan:
            value = inputs.get(name, Undefined)
            if value is Undefined:
                if has_default or non_null:
                    return None  # a default to apply, or a missing value to report
                sources[name] = VariableValueSource(signature)
                continue
            sources[name] = VariableValueSource(signature, value)
            result = convert(value)
            if result is _BAIL:
                return None
            coerced[name] = result
        return VariableValues(sources, coerced)

    return coerce
