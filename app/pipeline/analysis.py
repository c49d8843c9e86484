"""What an operation would cost, measured on its AST before validation and before any resolver.

One walk per operation (fragments are walked once and memoised, so a fragment spread a thousand
times costs one walk) gives its depth, its aliases, its cost and the permissions the types and
fields it reaches need (app.auth.VISIBILITY). The result is stored on the document cache entry,
so a cached document is never walked again.

The cost model (docs/security.md): a field costs 1 plus its selection's cost times its
multiplier. A field with a `first` argument multiplies its selection by `first` (its default page
size when absent, the largest page when it is a variable); a list field without `first` multiplies
by its declared size (LIST_SIZES, DEFAULT_LIST_SIZE otherwise).

Introspection (everything under __schema and __type) counts as depth 1 and multiplies nothing:
its nesting is bounded by graphql-core's MaxIntrospectionDepthRule, which validation applies
before anything runs, and its lists by the size of the schema. Its fields still cost 1 each and
its aliases count.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

from app import paging
from app.auth import VISIBILITY, Permission

INTROSPECTION_ROOT_FIELDS = frozenset({"__schema", "__type", "__typename"})

# Lists without a `first` argument: how many items they hold at most.
DEFAULT_LIST_SIZE = 10
LIST_SIZES: dict[str, int] = {
    # A connection's edges are as many as its field's `first`, which already multiplied.
    "MissingRepConnection.edges": 1,
    "AuditEventConnection.edges": 1,
    "UserConnection.edges": 1,
    "IngestLeadsResult.results": 1000,  # app.leads.service.MAX_BATCH
    "MissingRep.suggestedMatches": 5,
}


@dataclass(frozen=True)
class Measure:
    depth: int
    aliases: int
    cost: int
    needs: tuple[tuple[Permission, str], ...]  # (permission, the type or field that needs it)


@dataclass(frozen=True)
class OperationPlan:
    """One operation of a document, measured: what the limits and the authorisation look at."""

    name: str | None
    kind: OperationType
    node: OperationDefinitionNode
    depth: int
    aliases: int
    cost: int
    root_fields: frozenset[str]
    needs: tuple[tuple[Permission, str], ...]

    @property
    def introspection_only(self) -> bool:
        return self.root_fields <= INTROSPECTION_ROOT_FIELDS


class Analyzer:
    """Measures the operations of documents against one schema."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema
        self.list_sizes = LIST_SIZES

    def plan(self, document) -> dict[str | None, OperationPlan]:
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        walk = _Walk(self, fragments)
        plans: dict[str | None, OperationPlan] = {}
        for definition in document.definitions:
            if not isinstance(definition, OperationDefinitionNode):
                continue
            root = self.schema.get_root_type(definition.operation)
            m = walk.selection_set(definition.selection_set, root, False)
            name = definition.name.value if definition.name else None
            plans[name] = OperationPlan(
                name=name,
                kind=definition.operation,
                node=definition,
                depth=m.depth,
                aliases=m.aliases,
                cost=m.cost,
                root_fields=frozenset(walk.root_fields(definition.selection_set)),
                needs=m.needs,
            )
        return plans


def _named(type_) -> tuple[GraphQLNamedType | None, bool]:
    """The named type under the wrappers, and whether a list wrapper was among them."""
    is_list = False
    while isinstance(type_, (GraphQLNonNull, GraphQLList)):
        is_list = is_list or isinstance(type_, GraphQLList)
        type_ = type_.of_type
    return type_, is_list


class _Walk:
    def __init__(self, analyzer: Analyzer, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.analyzer = analyzer
        self.fragments = fragments
        self.memo: dict[tuple[str, bool], Measure] = {}
        self.visiting: set[str] = set()

    def root_fields(self, selection_set: SelectionSetNode, seen: frozenset[str] = frozenset()) -> set[str]:
        names: set[str] = set()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                names.add(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                names |= self.root_fields(selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in self.fragments and name not in seen:
                    names |= self.root_fields(self.fragments[name].selection_set, seen | {name})
        return names

    def selection_set(self, selection_set: SelectionSetNode | None, parent, introspection: bool) -> Measure:
        depth = aliases = cost = 0
        needs: dict[tuple[Permission, str], None] = {}
        if selection_set is None:
            return Measure(0, 0, 0, ())
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                m = self.field(selection, parent, introspection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.analyzer.schema.get_type(condition.name.value) if condition else parent
                m = self.selection_set(selection.selection_set, target, introspection)
            elif isinstance(selection, FragmentSpreadNode):
                m = self.fragment(selection.name.value, introspection)
            else:  # pragma: no cover - the grammar has no other selection
                continue
            depth = max(depth, m.depth)
            aliases += m.aliases
            cost += m.cost
            needs.update(dict.fromkeys(m.needs))
        return Measure(depth, aliases, cost, tuple(needs))

    def fragment(self, name: str, introspection: bool) -> Measure:
        key = (name, introspection)
        if key in self.memo:
            return self.memo[key]
        definition = self.fragments.get(name)
        if definition is None or name in self.visiting:  # unknown or cyclic: validation refuses it
            return Measure(0, 0, 0, ())
        self.visiting.add(name)
        target = self.analyzer.schema.get_type(definition.type_condition.name.value)
        self.memo[key] = measure = self.selection_set(definition.selection_set, target, introspection)
        self.visiting.discard(name)
        return measure

    def field(self, node: FieldNode, parent, introspection: bool) -> Measure:
        name = node.name.value
        introspection = introspection or name in ("__schema", "__type")
        field_def = None
        if name == "__schema":
            field_def = SchemaMetaFieldDef
        elif name == "__type":
            field_def = TypeMetaFieldDef
        elif parent is not None and hasattr(parent, "fields"):
            field_def = parent.fields.get(name)
        named, is_list = _named(field_def.type) if field_def is not None else (None, False)
        parent_name = parent.name if parent is not None else "?"
        needs: list[tuple[Permission, str]] = []
        for key in (f"{parent_name}.{name}", named.name if named is not None else None):
            if key in VISIBILITY:
                needs.append((VISIBILITY[key], key))
        child = self.selection_set(node.selection_set, named, introspection)
        multiplier = 1
        if introspection:
            pass
        elif field_def is not None and "first" in field_def.args:
            multiplier = _first(node)
        elif is_list:
            multiplier = self.analyzer.list_sizes.get(f"{parent_name}.{name}", DEFAULT_LIST_SIZE)
        return Measure(
            depth=1 if introspection else 1 + child.depth,
            aliases=child.aliases + (1 if node.alias is not None else 0),
            cost=1 + multiplier * child.cost,
            needs=tuple(dict.fromkeys([*needs, *child.needs])),
        )


def _first(node: FieldNode) -> int:
    for argument in node.arguments or ():
        if argument.name.value == "first":
            if isinstance(argument.value, IntValueNode):
                return max(0, min(int(argument.value.value), paging.MAX_PAGE_SIZE))
            if isinstance(argument.value, VariableNode):
                return paging.MAX_PAGE_SIZE
    return paging.DEFAULT_PAGE_SIZE
