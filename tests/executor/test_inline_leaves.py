"""Plain attribute fields of a strawberry type are completed inline by the generated selection-set
code (app.executor.compiler._fields_function). Whatever an attribute holds (the right type, null,
a value of another type, an out-of-range Int, NaN, a str subclass, an enum member or its name, an
awaitable, or a read that raises), the response must be graphql-core's for the same request.
"""

from __future__ import annotations

import asyncio
import enum
import json
from datetime import datetime, timedelta, timezone

import strawberry
from strawberry.scalars import JSON
from graphql.pyutils import Undefined
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.gql import DATETIME, JSON_SCALAR
from tests.executor.generate import both, operations, valid


@strawberry.enum
class Color(enum.Enum):
    RED = "RED"
    GREEN = "GREEN"


class Shout(str):
    """A str subclass: valid for String, but not the exact type the inline check takes."""


class Boom:
    """Stored in an attribute, makes reading it raise."""


class Moment(datetime):
    """A datetime subclass: serialised by isoformat, never by the inline DateTime expression."""

    def isoformat(self, *args, **kwargs) -> str:
        return "moment " + super().isoformat(*args, **kwargs)


class Later:
    """An awaitable holding `value` (not a coroutine: one never selected is never awaited)."""

    def __init__(self, value) -> None:
        self.value = value

    def __await__(self):
        yield from asyncio.sleep(0).__await__()
        return self.value


# Each entry makes a fresh value (an awaitable may be awaited only once, and each executor runs
# on its own objects).
VALUES = [
    lambda: "text",
    lambda: "",
    lambda: Shout("loud"),
    lambda: None,
    lambda: 0,
    lambda: 7,
    lambda: -(2**31),
    lambda: 2**31,
    lambda: True,
    lambda: False,
    lambda: 1.5,
    lambda: float("nan"),
    lambda: float("inf"),
    lambda: Color.RED,
    lambda: "GREEN",
    lambda: "BLUE",
    lambda: datetime(2026, 12, 1, 8, 30, tzinfo=timezone.utc),
    lambda: datetime(2026, 12, 1, 8, 30, 0, 123456, tzinfo=timezone.utc),
    lambda: datetime(2026, 12, 1, 8, 30, tzinfo=timezone(timedelta(hours=2))),
    lambda: datetime(2026, 12, 1, 8, 30),
    lambda: Moment(2026, 12, 1, 8, 30, tzinfo=timezone.utc),
    lambda: [1, 2],
    lambda: {"a": 1},
    lambda: ValueError("a value that is an error"),
    lambda: Boom(),
    lambda: Later("later"),
    lambda: Later(None),
    lambda: Later(Color.GREEN),
    lambda: Undefined,
]


# A scalar whose serialiser takes anything (null, an error, an awaitable included): what the
# completer treats before serialising must not reach it inline either.
Loose = strawberry.scalar(str, name="Loose", serialize=str, parse_value=str)


@strawberry.type
class Item:
    s: str
    ns: str | None
    i: int
    ni: int | None
    b: bool
    nb: bool | None
    f: float
    nf: float | None
    e: Color
    ne: Color | None
    id: strawberry.ID
    nid: strawberry.ID | None
    at: datetime
    nat: datetime | None
    j: JSON
    nj: JSON | None
    loose: Loose
    nloose: Loose | None
    child: Item | None
    nn_child: Item
    kids: list[Item] | None
    loose_kids: list[Item | None]

    def __getattribute__(self, name: str):
        value = object.__getattribute__(self, name)
        if isinstance(value, Boom):
            raise ValueError(f"reading {name} failed")
        return value


OBJECTS = ("child", "nn_child", "kids", "loose_kids")
FIELDS = [name for name in Item.__annotations__ if name not in OBJECTS]
# How an object (or list) attribute holds its value: as is, awaitable, a read that raises, an
# error as the value, a value of the wrong type.
HOLDERS = [lambda v: v, Later, lambda v: Boom(), lambda v: ValueError("an object that is an error"), lambda v: "not an object"]


def build(spec: dict) -> Item:
    item = object.__new__(Item)
    for name in FIELDS:
        object.__setattr__(item, name, VALUES[spec[name]]())
    for name in OBJECTS:
        holder, inner = spec[name]
        if name in ("kids", "loose_kids"):
            value = None if inner is None else [build(k) if k is not None else None for k in inner]
        else:
            value = build(inner) if inner is not None else None
        object.__setattr__(item, name, HOLDERS[holder](value))
    return item


def specs(depth: int = 0):
    leaves = {name: st.integers(0, len(VALUES) - 1) for name in FIELDS}
    holder = st.integers(0, len(HOLDERS) - 1)
    if depth >= 2:
        return st.fixed_dictionaries({**leaves, **{name: st.tuples(holder, st.none()) for name in OBJECTS}})
    inner = specs(depth + 1)
    many = st.none() | st.lists(st.none() | inner, max_size=2)
    return st.fixed_dictionaries(
        {**leaves, "child": st.tuples(holder, st.none() | inner), "nn_child": st.tuples(holder, st.none() | inner),
         "kids": st.tuples(holder, many), "loose_kids": st.tuples(holder, many)}
    )


ROOT: dict = {}


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item | None]:
        return [build(spec) if spec is not None else None for spec in ROOT["items"]]

    @strawberry.field
    def strict_items(self) -> list[Item]:
        return [build(spec) for spec in ROOT["items"] if spec is not None]

    @strawberry.field
    def item(self) -> Item | None:
        spec = ROOT["items"][0] if ROOT["items"] else None
        return build(spec) if spec is not None else None


# DateTime and JSON as the app's schema has them (app.gql: their serialisers are written inline).
SCHEMA = strawberry.Schema(query=Query, scalar_overrides={datetime: DATETIME, JSON: JSON_SCALAR})._schema


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(st.data())
async def test_inline_leaves_give_graphql_cores_response(data):
    ROOT["items"] = data.draw(st.lists(st.none() | specs(), max_size=3))
    text, variables = data.draw(operations(SCHEMA, "query").filter(lambda op: valid(SCHEMA, op[0])))
    mine, theirs = await both(SCHEMA, text, variables, root_factory=lambda: None, context_factory=lambda: None)
    # As text: a JSON scalar may carry NaN, which is not equal to itself.
    assert json.dumps(mine, default=repr) == json.dumps(theirs, default=repr), text


async def test_every_leaf_kind_is_inlined():
    """The generated code takes the inline path for each plain field of Item (not only the
    fallback): once an enum's value has been completed once (its name is then cached), a
    well-typed item completes without calling any field's executor."""
    from graphql import execute as graphql_execute
    from graphql import parse

    from app.executor.compiler import CompiledOperation

    fields = " ".join(strawberry_name for strawberry_name in ("s", "ns", "i", "ni", "b", "nb", "f", "nf", "e", "ne",
                                                              "id", "nid", "at", "nat", "j", "nj", "loose", "nloose"))
    compiled = CompiledOperation(SCHEMA, parse(f"{{ item {{ {fields} }} }}"), None)
    item_plan = compiled.plan_for(compiled.coerce_variables({}))[0]
    # nid holds an int, as a record's id does: the ID it serialises to is written inline too.
    good = dict(s=0, ns=3, i=5, ni=4, b=8, nb=3, f=10, nf=3, e=13, ne=3, id=0, nid=7, at=16, nat=3, j=22, nj=3,
                loose=0, nloose=3)
    ROOT["items"] = [{**good, **{name: (0, None) for name in OBJECTS}}]
    warm = compiled.execute(None, None, {})
    assert warm.errors is None, warm.errors
    calls = []
    inner = item_plan.complete.__globals__  # the generated function's namespace
    for key in [k for k in inner if k.startswith("x")]:
        original = inner[key]
        inner[key] = lambda run, source, path, _key=key, _original=original: calls.append(_key) or _original(run, source, path)
    result = compiled.execute(None, None, {})
    assert result.errors is None
    assert result.data["item"]["s"] == "text" and result.data["item"]["e"] == "RED" and result.data["item"]["nid"] == "2147483648"
    assert calls == []
    # What the inline path wrote (a DateTime's text, a JSON object) is what graphql-core writes.
    assert result.data == graphql_execute(SCHEMA, parse(f"{{ item {{ {fields} }} }}")).data
    # And the whole object in one call, as a list's items are completed (no executor, no Path).
    assert item_plan.complete.inline(build(ROOT["items"][0])) == result.data["item"]


async def test_a_list_of_nested_objects_is_completed_in_one_loop():
    """A list whose items' selections are plain reads all the way down (a page's edges and their
    nodes) is completed by the generated loop, nested objects written in place: no field's
    executor runs, and the response is graphql-core's."""
    from graphql import execute as graphql_execute
    from graphql import parse

    from app.executor.compiler import CompiledOperation

    query = "{ strictItems { s e child { i at child { s } } nnChild { id j } } }"
    compiled = CompiledOperation(SCHEMA, parse(query), None)
    plan = compiled.plan_for(compiled.coerce_variables({}))[0]
    good = dict(s=0, ns=3, i=5, ni=4, b=8, nb=3, f=10, nf=3, e=13, ne=3, id=0, nid=3, at=16, nat=3, j=22, nj=3,
                loose=0, nloose=3, kids=(0, None), loose_kids=(0, None))
    leaf = {**good, "child": (0, None), "nn_child": (0, None)}
    ROOT["items"] = [{**good, "child": (0, {**good, "child": (0, leaf), "nn_child": (0, leaf)}), "nn_child": (0, leaf)},
                     {**good, "child": (0, None), "nn_child": (0, leaf)}]
    assert compiled.execute(None, None, {}).errors is None  # the enum's name is cached from here on
    calls = []
    item_complete = _item_completer(plan.complete)
    names = item_complete.__globals__  # the generated functions' namespace
    for key in [k for k in names if k.startswith(("x", "c", "ta", "tc")) and callable(names[k])]:
        original = names[key]
        names[key] = lambda *a, _key=key, _original=original: calls.append(_key) or _original(*a)
    # Nor the one-item function, which the list completer calls per item only after the loop.
    for cell in _cells(plan.complete):
        if cell.cell_contents is item_complete.inline:
            cell.cell_contents = lambda item, _inline=item_complete.inline: calls.append("inline") or _inline(item)
    result = compiled.execute(None, None, {})
    assert calls == []
    assert result.errors is None and result.data == graphql_execute(SCHEMA, parse(query)).data
    assert result.data["strictItems"][1]["child"] is None and result.data["strictItems"][0]["child"]["child"]["s"] == "text"


def _cells(complete):
    """The closure cells of a completer and of the completers it holds."""
    pending, cells, seen = [complete], [], set()
    while pending:
        function = pending.pop()
        if id(function) in seen:
            continue
        seen.add(id(function))
        for cell in getattr(function, "__closure__", None) or ():
            cells.append(cell)
            if callable(cell.cell_contents):
                pending.append(cell.cell_contents)
    return cells


def _item_completer(complete):
    """The generated completer of a list's items, found through the list completer's closure."""
    return next(cell.cell_contents for cell in _cells(complete) if hasattr(cell.cell_contents, "inline_all"))
