"""Hypothesis strategies that write GraphQL operations over any schema, and the comparison of a
compiled plan's result with graphql-core's for the same request."""

from __future__ import annotations

from inspect import isawaitable
from typing import Any

from graphql import (
    ExecutionResult,
    GraphQLObjectType,
    GraphQLSchema,
    OperationType,
    get_named_type,
    is_enum_type,
    is_leaf_type,
    is_non_null_type,
    is_object_type,
    is_scalar_type,
    parse,
    validate,
)
from graphql import execute as graphql_execute
from hypothesis import strategies as st

from app.executor.compiler import CompiledOperation

ALIASES = ("a", "b", "c")
# Variables every generated operation may use: booleans for @skip/@include (one with a default).
CONDITION_VARIABLES = {"skipIt": "Boolean!", "keep": "Boolean = true"}


def _literal_for(type_, draw, arguments: dict[str, Any]) -> str | None:
    """A literal for an argument of `type_`, from `arguments` (name -> candidate literals) or generic."""
    named = get_named_type(type_)
    if is_enum_type(named):
        return draw(st.sampled_from(list(named.values)))
    if is_scalar_type(named):
        return draw(
            st.sampled_from(
                {
                    "Int": ["0", "1", "2", "3", "5", "-1"],
                    "Float": ["0.5", "2"],
                    "Boolean": ["true", "false"],
                    "String": ['"x"', '"hello"', '""'],
                    "ID": ['"1"', '"2"', '"999999"', '"x"'],
                }.get(named.name, ["null"])
            )
        )
    return None


@st.composite
def operations(draw, schema: GraphQLSchema, root: str = "query", *, arguments: dict[str, list[str]] | None = None,
               max_depth: int = 4, root_fields: list[str] | None = None, variables: dict[str, tuple[str, list]] | None = None):
    """(document text, variable values) of a valid operation over `schema`.

    `arguments` gives candidate literals per argument name (e.g. valid ids); `variables` declares
    extra variables as name -> (type, candidate values) that arguments of that type may use.
    """
    arguments = arguments or {}
    variables = variables or {}
    fragments: dict[str, str] = {}
    used_variables: set[str] = set()
    root_type = schema.get_root_type(OperationType(root))

    def directives() -> str:
        choice = draw(st.sampled_from(["", "", "", "skip", "include"]))
        if not choice:
            return ""
        value = draw(st.sampled_from(["true", "false", "$skipIt", "$keep"]))
        if value.startswith("$"):
            used_variables.add(value[1:])
        return f" @{choice}(if: {value})"

    def args_of(field) -> str:
        parts = []
        for name, arg in field.args.items():
            if is_non_null_type(arg.type) or draw(st.booleans()):
                candidates = arguments.get(name)
                # A declared variable of the argument's type (validation throws out a misfit).
                variable = next((v for v, (t, _) in variables.items() if t.rstrip("!") == str(arg.type).rstrip("!")), None)
                if variable and draw(st.booleans()):
                    used_variables.add(variable)
                    parts.append(f"{name}: ${variable}")
                    continue
                literal = draw(st.sampled_from(candidates)) if candidates else _literal_for(arg.type, draw, arguments)
                if literal is None or (literal == "null" and is_non_null_type(arg.type)):
                    if is_non_null_type(arg.type):
                        return "SKIP"
                    continue
                parts.append(f"{name}: {literal}")
        return f"({', '.join(parts)})" if parts else ""

    def selection(type_: GraphQLObjectType, depth: int, names: list[str] | None = None) -> str:
        fields = names or list(type_.fields)
        items = []
        for _ in range(draw(st.integers(1, 4))):
            kind = draw(st.sampled_from(["field", "field", "field", "typename", "inline", "spread"]))
            if kind == "typename":
                items.append(f"__typename{directives()}")
                continue
            if kind in ("inline", "spread") and depth < max_depth:
                body = selection(type_, depth + 1, names)
                if kind == "inline":
                    condition = draw(st.sampled_from(["", f" on {type_.name}"]))
                    items.append(f"...{condition}{directives()} {{ {body} }}")
                else:
                    name = f"F{len(fragments)}"
                    fragments[name] = f"fragment {name} on {type_.name} {{ {body} }}"
                    items.append(f"...{name}{directives()}")
                continue
            name = draw(st.sampled_from(fields))
            field = type_.fields[name]
            named = get_named_type(field.type)
            args = args_of(field)
            if args == "SKIP":
                continue
            alias = f"{draw(st.sampled_from(ALIASES))}: " if draw(st.integers(0, 3)) == 0 else ""
            if is_leaf_type(named):
                items.append(f"{alias}{name}{args}{directives()}")
            elif is_object_type(named):
                if depth >= max_depth:
                    continue
                items.append(f"{alias}{name}{args}{directives()} {{ {selection(named, depth + 1)} }}")
        return " ".join(items) or "__typename"

    body = selection(root_type, 1, root_fields)
    declared = {**CONDITION_VARIABLES, **{v: t for v, (t, _) in variables.items()}}
    definitions = ", ".join(f"${v}: {declared[v]}" for v in sorted(used_variables))
    text = f"{root}{f'({definitions})' if definitions else ''} {{ {body} }}\n" + "\n".join(fragments.values())
    values: dict[str, Any] = {"skipIt": draw(st.booleans())}
    if draw(st.booleans()):
        values["keep"] = draw(st.booleans())
    for v, (_, candidates) in variables.items():
        if draw(st.booleans()):
            values[v] = draw(st.sampled_from(candidates))
    return text, {k: v for k, v in values.items() if k in used_variables}


def valid(schema: GraphQLSchema, text: str) -> bool:
    return not validate(schema, parse(text))


def shape(result: ExecutionResult, *, errors_in_order: bool = True) -> dict:
    """What a client sees: data, and each error's message, path, locations and extensions.

    Without `errors_in_order` the errors are sorted: when resolvers wait on the database, which of
    two concurrent fields fails first is up to the database, in either executor (the spec gives
    errors no order)."""
    formatted = result.formatted
    if not errors_in_order and formatted.get("errors"):
        formatted["errors"] = sorted(formatted["errors"], key=repr)
    return formatted


async def both(
    schema: GraphQLSchema, text: str, variables: dict, *, root_factory, context_factory, errors_in_order: bool = True
) -> tuple[dict, dict]:
    """The compiled plan's response and graphql-core's, each on a fresh root and context."""
    document = parse(text)
    compiled = CompiledOperation(schema, document, None)
    mine = compiled.execute(root_factory(), context_factory(), variables)
    if isawaitable(mine):
        mine = await mine
    theirs = graphql_execute(schema, document, root_factory(), context_factory(), variables, None)
    if isawaitable(theirs):
        theirs = await theirs
    return shape(mine, errors_in_order=errors_in_order), shape(theirs, errors_in_order=errors_in_order)
