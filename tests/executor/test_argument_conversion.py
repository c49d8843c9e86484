"""The compiled argument converters give what strawberry's own conversion gives, for generated
argument values of every field of the real schema that takes arguments (ingestLeads' list of
LeadInput among them)."""

from __future__ import annotations

from graphql import (
    GraphQLInputObjectType,
    get_nullable_type,
    is_enum_type,
    is_input_object_type,
    is_list_type,
    is_non_null_type,
    parse,
)
from graphql.execution.values import get_argument_values, get_variable_values
from hypothesis import given, settings
from hypothesis import strategies as st
from strawberry.types.arguments import convert_arguments

import strawberry
from strawberry.scalars import JSON

from app.executor.arguments import compile_arguments
from app.executor.compiler import CompiledOperation
from app.schema import schema

GRAPHQL_SCHEMA = schema._schema
CONVERTER = schema.schema_converter
SCALARS = {
    "String": st.one_of(st.text(max_size=8), st.sampled_from(["a@b.example", "+14155550123", " x "])),
    "ID": st.sampled_from(["1", "42", "x", "2147483648"]),
    "Int": st.integers(-3, 200),
    "Float": st.floats(allow_nan=False, allow_infinity=False),
    "Boolean": st.booleans(),
}


def values_of(type_, depth: int = 0):
    """JSON values of a GraphQL input type (mostly valid; null where the type allows it)."""
    nullable = not is_non_null_type(type_)
    inner = get_nullable_type(type_)
    if is_list_type(inner):
        strategy = st.lists(values_of(inner.of_type, depth + 1), max_size=4)
    elif is_input_object_type(inner):
        strategy = _objects(inner, depth)
    elif is_enum_type(inner):
        strategy = st.sampled_from(list(inner.values))
    else:
        strategy = SCALARS.get(inner.name, st.just("x"))
    return st.one_of(st.none(), strategy) if nullable else strategy


def _objects(type_: GraphQLInputObjectType, depth: int):
    fields = type_.fields

    @st.composite
    def build(draw):
        value = {}
        for name, field in fields.items():
            if is_non_null_type(field.type) or draw(st.booleans()):
                value[name] = draw(values_of(field.type, depth + 1))
        return value

    return build()


FIELDS = [
    (root, name, field)
    for root, root_type in (("query", GRAPHQL_SCHEMA.query_type), ("mutation", GRAPHQL_SCHEMA.mutation_type))
    for name, field in root_type.fields.items()
    if field.args
]


@settings(max_examples=600, deadline=None)
@given(st.data())
def test_compiled_conversion_gives_strawberrys_arguments(data):
    root, name, field = data.draw(st.sampled_from(FIELDS))
    raw = {arg: data.draw(values_of(a.type)) for arg, a in field.args.items() if is_non_null_type(a.type) or data.draw(st.booleans())}
    declared = ", ".join(f"${arg}: {a.type}" for arg, a in field.args.items())
    passed = ", ".join(f"{arg}: ${arg}" for arg in field.args)
    document = parse(f"{root}({declared}) {{ {name}({passed}) {{ __typename }} }}")
    operation = document.definitions[0]
    variables = get_variable_values(GRAPHQL_SCHEMA, operation.variable_definitions, raw)
    if isinstance(variables, list):
        return  # graphql-core refuses the value: no resolver is called with it
    node = operation.selection_set.selections[0]
    args = get_argument_values(field, node, variables)
    strawberry_field = field.extensions["strawberry-definition"]
    expected = convert_arguments(args, strawberry_field.arguments, CONVERTER.scalar_registry, schema.config)
    compiled = compile_arguments(strawberry_field, CONVERTER.scalar_registry, schema.config)(args)
    assert compiled == expected and [type(v) for v in compiled.values()] == [type(v) for v in expected.values()]


def test_every_argument_of_the_real_schema_compiles():
    for _, _, field in FIELDS:
        compile_arguments(field.extensions["strawberry-definition"], CONVERTER.scalar_registry, schema.config)



@strawberry.input
class Pick:
    names: list[str]
    limit: int = 2


@strawberry.type
class PickQuery:
    @strawberry.field
    def picked(self, ids: list[strawberry.ID], pick: Pick, extra: JSON) -> str:
        answer = f"{ids} {pick.names} {pick.limit} {extra}"
        ids.append(strawberry.ID("changed"))
        pick.names.append("changed")
        pick.limit = 99
        extra["changed"] = True
        return answer


def test_literal_arguments_coerced_once_are_never_shared_with_a_resolver():
    """Arguments written without variables are coerced once per compiled field (compiler.
    _constant_arguments); each call still gets objects of its own: a resolver that changes its
    arguments (a list, an input object, a JSON value) changes nothing the next request sees."""
    compiled = CompiledOperation(
        strawberry.Schema(query=PickQuery)._schema,
        parse('{ picked(ids: ["1", "2"], pick: {names: ["a"]}, extra: {k: 1}) }'),
        None,
    )
    answers = [compiled.execute(None, None, {}).data["picked"] for _ in range(3)]
    assert answers == ["['1', '2'] ['a'] 2 {'k': 1}"] * 3
