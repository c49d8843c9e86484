"""Compiled variable coercion gives graphql-core's coerced variables, or steps aside (and
graphql-core decides, with its errors) — for generated values of every argument type of the
real schema, valid ones and broken ones."""

from __future__ import annotations

from graphql import get_nullable_type, is_input_object_type, parse
from graphql.execution.values import get_variable_values
from hypothesis import given, settings
from hypothesis import strategies as st

from app.executor.compiler import CompiledOperation
from app.executor.variables import compile_variables
from tests.executor.test_argument_conversion import FIELDS, GRAPHQL_SCHEMA, values_of

BROKEN = st.sampled_from([None, 1, "x", 2.5, True, [], {}, {"unknown": 1}, [None], 2**40])


@st.composite
def raw_values(draw, type_):
    """A value of the type, sometimes broken somewhere inside."""
    value = draw(values_of(type_))
    if draw(st.integers(0, 3)) == 0:
        return draw(BROKEN)
    if isinstance(value, list) and value and draw(st.booleans()):
        value[draw(st.integers(0, len(value) - 1))] = draw(BROKEN)
    if isinstance(value, dict) and draw(st.booleans()):
        inner = get_nullable_type(type_)
        key = draw(st.sampled_from([*value, "extra"])) if value else "extra"
        if is_input_object_type(inner) or key == "extra":
            value[key] = draw(BROKEN)
    return value


@settings(max_examples=800, deadline=None)
@given(st.data())
def test_compiled_variable_coercion_is_graphql_cores_or_steps_aside(data):
    root, name, field = data.draw(st.sampled_from(FIELDS))
    raw = {arg: data.draw(raw_values(a.type)) for arg, a in field.args.items() if data.draw(st.integers(0, 4)) > 0}
    declared = ", ".join(f"${arg}: {a.type}" for arg, a in field.args.items())
    passed = ", ".join(f"{arg}: ${arg}" for arg in field.args)
    operation = parse(f"{root}({declared}) {{ {name}({passed}) {{ __typename }} }}").definitions[0]
    fast = compile_variables(GRAPHQL_SCHEMA, operation)(raw)
    slow = get_variable_values(GRAPHQL_SCHEMA, operation.variable_definitions, raw, max_errors=50)
    if fast is None:
        return  # graphql-core coerces it
    assert not isinstance(slow, list), (raw, slow)
    assert fast.coerced == slow.coerced
    assert {k: v.value for k, v in fast.sources.items()} == {k: v.value for k, v in slow.sources.items()}


def test_ingest_leads_variables_take_the_compiled_path():
    document = parse("mutation($leads: [LeadInput!]!) { ingestLeads(leads: $leads) { createdCount } }")
    compiled = CompiledOperation(GRAPHQL_SCHEMA, document, None)
    leads = [{"externalId": f"e{i}", "email": f"e{i}@x.example", "rep": {"name": "R"}} for i in range(3)]
    assert compiled._coerce_fast({"leads": leads}) is not None
    assert compiled._coerce_fast({"leads": [{"email": "no external id"}]}) is None
