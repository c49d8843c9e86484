"""The compiled executor gives graphql-core's response for generated operations over a schema whose
resolvers raise, return null where they must not, return the wrong type, and do so async too.

A difference is a bug in the compiler, not a tolerance: data and errors (message, path,
locations, and their order) are compared exactly.
"""

from __future__ import annotations

import asyncio

from graphql import build_schema, parse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.executor.compiler import CompiledOperation
from tests.executor.generate import both, operations, valid

SDL = """
enum Tag { A B C }

type Node {
  id: Int!
  name: String
  nnName: String!
  child: Node
  asyncChild: Node
  nnChild: Node!
  children: [Node!]
  looseChildren: [Node]
  asyncChildren: [Node!]!
  asyncValue: Int
  nnAsyncValue: Int!
  tag: Tag
  score: Float
  flag: Boolean
  wrong: Int
  notList: [Int]
  echo(value: String = "d", times: Int): String
}

type Query {
  node(id: Int!): Node
  nnNode(id: Int!): Node!
  nodes(count: Int = 3): [Node]
  strictNodes: [Node!]!
  str: String
  nnStr: String!
  boom: String
  asyncBoom: String!
  nullNN: Int!
}

type Mutation {
  bump(by: Int!): Int
  bumpNode(id: Int!): Node
  fail: Int!
  asyncFail: Int
}
"""
SCHEMA = build_schema(SDL)


class Node:
    """Behaviour is a function of the id: every few ids a field raises, is null or is wrong."""

    def __init__(self, id: int) -> None:
        self.id = id

    @property
    def name(self):
        return None if self.id % 3 == 0 else f"node {self.id}"

    @property
    def nnName(self):
        return None if self.id % 4 == 1 else f"N{self.id}"

    def child(self, info):
        return Node(self.id * 2 + 1) if self.id < 40 else None

    async def asyncChild(self, info):
        await asyncio.sleep(0)
        if self.id % 5 == 2:
            raise ValueError(f"asyncChild of {self.id} failed")
        return Node(self.id * 2 + 2) if self.id < 40 else None

    def nnChild(self, info):
        if self.id % 3 == 2:
            raise RuntimeError(f"no nnChild for {self.id}")
        return Node(self.id + 7)

    def children(self, info):
        return [Node(self.id + k) for k in range(3)] if self.id < 40 else []

    def looseChildren(self, info):
        return [Node(self.id + 1), None, Node(self.id + 2)]

    async def asyncChildren(self, info):
        await asyncio.sleep(0)
        return [self._later(self.id + k) for k in range(2)]

    async def _later(self, id: int):
        await asyncio.sleep(0)
        if id % 7 == 6:
            raise ValueError(f"item {id} failed")
        return Node(id)

    async def asyncValue(self, info):
        await asyncio.sleep(0)
        if self.id % 4 == 3:
            raise ValueError(f"asyncValue of {self.id} failed")
        return None if self.id % 4 == 2 else self.id * 10

    async def nnAsyncValue(self, info):
        await asyncio.sleep(0)
        return None if self.id % 5 == 4 else self.id

    @property
    def tag(self):
        return ("A", "B", "C", "D")[self.id % 4]  # "D" is not a Tag

    @property
    def score(self):
        return float("nan") if self.id % 6 == 5 else self.id / 2

    @property
    def flag(self):
        return "yes" if self.id % 5 == 1 else self.id % 2 == 0  # a string for a Boolean

    @property
    def wrong(self):
        return "not a number" if self.id % 2 else 2**40  # never a valid Int

    @property
    def notList(self):
        return 5 if self.id % 2 else [1, "x", 3]

    def echo(self, info, value="d", times=None):
        return value * (times if times is not None else 1) if times is None or times >= 0 else None


class Root:
    def __init__(self) -> None:
        self.counter = 0

    def node(self, info, id):
        return None if id == 0 else Node(id)

    def nnNode(self, info, id):
        return None if id == 0 else Node(id)

    def nodes(self, info, count=3):
        return [Node(i) for i in range(1, (count or 0) + 1)] if count and count > 0 else None

    async def strictNodes(self, info):
        return [Node(1), Node(2), Node(5)]

    str = "plain"
    nnStr = None

    def boom(self, info):
        raise RuntimeError("boom")

    async def asyncBoom(self, info):
        raise RuntimeError("async boom")

    nullNN = None

    # mutations: side effects on the root show that they run in order, once each
    def bump(self, info, by):
        self.counter += by
        return self.counter

    async def bumpNode(self, info, id):
        await asyncio.sleep(0)
        self.counter += 1
        return Node(id + self.counter)

    def fail(self, info):
        raise RuntimeError(f"fail after {self.counter}")

    async def asyncFail(self, info):
        raise RuntimeError("async fail")


ARGUMENTS = {"id": ["0", "1", "2", "3", "4", "5", "6", "9", "13"], "count": ["0", "1", "2", "4", "null"],
             "times": ["0", "2", "-1", "null", "$times"], "by": ["1", "2", "$by"], "value": ['"x"', "$value", "null"]}
VARIABLES = {"times": ("Int", [0, 1, 3, None]), "by": ("Int!", [1, 5]), "value": ("String", ["v", None, ""])}


def _context():
    return {"request": "test"}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(st.data())
async def test_generated_queries_give_graphql_cores_response(data):
    text, variables = data.draw(operations(SCHEMA, "query", arguments=ARGUMENTS, variables=VARIABLES))
    if not valid(SCHEMA, text):
        return  # e.g. two aliases of different fields under one name: validation refuses it
    mine, theirs = await both(SCHEMA, text, variables, root_factory=Root, context_factory=_context)
    assert mine == theirs, text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(st.data())
async def test_generated_mutations_run_serially_as_graphql_core_does(data):
    text, variables = data.draw(operations(SCHEMA, "mutation", arguments=ARGUMENTS, variables=VARIABLES))
    if not valid(SCHEMA, text):
        return
    mine, theirs = await both(SCHEMA, text, variables, root_factory=Root, context_factory=_context)
    assert mine == theirs, text


async def test_variable_errors_are_graphql_cores():
    text = "query($by: Int!) { str }"
    mine, theirs = await both(SCHEMA, text, {"by": "nope"}, root_factory=Root, context_factory=_context)
    assert mine == theirs and mine["errors"]


async def test_a_non_null_root_error_nulls_the_whole_response():
    mine, theirs = await both(SCHEMA, "{ str nullNN nodes { id } }", {}, root_factory=Root, context_factory=_context)
    assert mine == theirs and mine["data"] is None


def test_a_plan_is_compiled_once_per_skip_include_combination():
    compiled = CompiledOperation(SCHEMA, parse("query($skipIt: Boolean!) { str @skip(if: $skipIt) }"), None)
    first = compiled.plan_for(compiled.coerce_variables({"skipIt": True}))
    assert compiled.plan_for(compiled.coerce_variables({"skipIt": True})) is first
    assert compiled.plan_for(compiled.coerce_variables({"skipIt": False})) is not first
