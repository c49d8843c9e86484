"""GraphQL plumbing shared by every feature: the context, ids, authorisation, loaders.

Error masking and coding live in the request pipeline (app/pipeline/errors.py)."""

from __future__ import annotations

import dataclasses
import functools
import operator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import orjson
import strawberry
from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode
from strawberry.dataloader import DataLoader
from strawberry.scalars import JSON
from strawberry.schema.types.base_scalars import DateTimeDefinition
from strawberry.schema.types.scalar import DEFAULT_SCALAR_REGISTRY
from strawberry.types import Info

from app import records
from app.auth import Caller, Permission, authorize
from app.errors import AppError, ErrorCode, bad_input
from app.validation import id_number


@dataclass
class Context:
    request: Any = None
    response: Any = None
    caller: Caller | None = None
    auth_error: str | None = None
    connection_params: dict[str, Any] | None = None
    loaders: dict[str, Any] = field(default_factory=dict)

    def require(self, permission: Permission) -> Caller:
        return authorize(self.caller, permission, auth_error=self.auth_error)


AppInfo = Info[Context, None]


def serialize_datetime(value: Any) -> str:
    """DateTime's output, `value.isoformat()` as strawberry writes it; for an aware datetime in UTC
    (every timestamp the database returns) orjson writes the same text at a third of the cost, and
    a page has a timestamp per row. tests/platform/test_datetime_output.py proves them equal."""
    if type(value) is datetime and value.tzinfo is timezone.utc:
        return orjson.dumps(value)[1:-1].decode()
    return value.isoformat()


# The compiled executor writes this serialiser inline where its condition holds (a page has a
# timestamp per row): (condition on `v`, the same text as an expression of `v`, the names they use).
serialize_datetime.inline = (  # type: ignore[attr-defined]
    "type(v) is _datetime and v.tzinfo is _utc",
    "_dumps(v)[1:-1].decode()",
    {"_datetime": datetime, "_utc": timezone.utc, "_dumps": orjson.dumps},
)


# The schema's DateTime: strawberry's, with the output above (same name, description and input).
DATETIME = dataclasses.replace(DateTimeDefinition, serialize=serialize_datetime)


def serialize_json(value: Any) -> Any:
    """JSON's output, as strawberry's: the value itself."""
    return value


# An object (an audit event's details, on every row of the audit page) is written inline.
serialize_json.inline = ("type(v) is dict", "v", {})  # type: ignore[attr-defined]

# The schema's JSON: strawberry's, with the serialiser above (same name, description and input).
JSON_SCALAR = dataclasses.replace(DEFAULT_SCALAR_REGISTRY[JSON], serialize=serialize_json)


def parse_id(value: strawberry.ID | str, what: str, *, lookup: bool = True) -> int:
    """The row an ID names (app.validation.id_number). Anything else names no row: NOT_FOUND
    when the id is looked up, BAD_USER_INPUT when it is an argument that must be an id."""
    number = id_number(value)
    if number is None:
        if lookup:
            raise AppError(ErrorCode.NOT_FOUND, f"{what} {value!r} was not found.")
        raise bad_input(f"{value!r} is not an id of a {what}.")
    return number


# What a subscription's events are, declared on the field (`metadata=`) and read by the live
# fan-out (app/live): without either, events, each of which matters and is never dropped.
STATE_STREAM = {"live_stream": "state"}  # each event is the whole state: a newer one may replace an unsent older one
SNAPSHOT_STREAM = {"live_stream": "snapshot"}  # state, starting with the state now: late joiners get the latest


def selects(info: AppInfo, *names: str) -> bool:
    """Whether the field being resolved asks for any of its sub-fields `names` (by their names in
    the schema), in its own selection set or in a fragment there. @skip and @include are not evaluated (true
    where a directive may drop it): for work done ahead in the same statement, such as a count,
    which a resolver that finds it missing does itself."""
    raw = info._raw_info
    # The answer depends on the field's nodes alone (and their document's fragments): kept by the
    # nodes, for the cached documents asked again and again. The nodes are held with it, so that
    # their ids cannot be other nodes'.
    nodes = raw.field_nodes
    key = (*map(id, nodes), names)
    known = _SELECTS.get(key)
    if known is not None and all(a is b for a, b in zip(known[0], nodes)):
        return known[1]
    answer = _selects(raw, names)
    if len(_SELECTS) >= _SELECTS_MAX:
        _SELECTS.clear()
    _SELECTS[key] = (tuple(nodes), answer)
    return answer


_SELECTS: dict[tuple, tuple[tuple, bool]] = {}
_SELECTS_MAX = 4096


def _selects(raw: Any, names: tuple[str, ...]) -> bool:
    pending = [node.selection_set for node in raw.field_nodes]
    seen_fragments: set[str] = set()
    while pending:
        selection_set = pending.pop()
        if selection_set is None:
            continue
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value in names:
                    return True
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen_fragments:
                seen_fragments.add(selection.name.value)
                fragment = raw.fragments.get(selection.name.value)
                if fragment is not None:
                    pending.append(fragment.selection_set)
    return False


def loader(info: AppInfo, key: str, load_fn) -> Any:
    """A per-request DataLoader, so a list of N items costs one query per relation, not N."""
    loaders = info.context.loaders
    if key not in loaders:
        loaders[key] = DataLoader(load_fn=load_fn)
    return loaders[key]


def from_record(cls: type, record: Any, /, **values: Any) -> Any:
    """A GraphQL type from a service record: every init field of `cls` that the record has is
    copied (`id` as an ID), and a field `record` the record lacks holds the record itself;
    `values` give the rest or override."""
    return _copier_for(cls, type(record), frozenset(values) if values else _NO_VALUES)(record, values)


def record_as_root(cls: type) -> type:
    """For a GraphQL type whose record is its root value itself, not a copy: from_record (and
    page_edges) give the record. The type declares only fields (Private ones too) that its record
    has, each holding what the field shows (an int id serialises as the ID); its resolvers read
    `self`, which is the record. For the types a page holds one per row, where the copy cost
    about as much as building the record."""
    _RECORD_ROOTS.add(cls)
    return cls


_RECORD_ROOTS: set[type] = set()


def _copier_for(cls: type, record_type: type, given: frozenset[str]):
    key = (cls, record_type, given)
    copy = _COPIERS.get(key)
    if copy is None:
        if cls in _RECORD_ROOTS:
            copy = _record_itself(cls, record_type, given)
        elif dataclasses.is_dataclass(record_type):
            copy = _copier(*key)
        else:
            copy = functools.partial(_copy, cls)
        _COPIERS[key] = copy
    return copy


def _record_itself(cls: type, record_type: type, given: frozenset[str]):
    """from_record for a record_as_root type: the record, once it is known to hold every field."""
    has = {f.name for f in dataclasses.fields(record_type)} if dataclasses.is_dataclass(record_type) else set()
    lacking = [name for name in _init_fields(cls) if name not in has and not hasattr(record_type, name)]
    if lacking:
        raise TypeError(f"{record_type.__name__} cannot stand for {cls.__name__}: it lacks {lacking}")
    if given:
        raise TypeError(f"{cls.__name__} is its record itself: nothing can be given besides ({sorted(given)})")
    return _itself


def _itself(record: Any, values: dict[str, Any]) -> Any:
    return record


def page_edges(edge_cls: type, node_cls: type, pairs: list[tuple[str, Any]], /) -> list[Any]:
    """A page's edges from its (cursor, record) pairs: `edge_cls(cursor=cursor,
    node=from_record(node_cls, record))` for each, with the copier looked up once per page. Where
    the node is its record itself (record_as_root), each edge is its pair, read as a RecordEdge."""
    if not pairs:
        return []
    record_type = type(pairs[0][1])
    if not all(type(record) is record_type for _, record in pairs):
        return [edge_cls(cursor=cursor, node=from_record(node_cls, record)) for cursor, record in pairs]
    copy = _copier_for(node_cls, record_type, _NO_VALUES)
    make_edge = _EDGE_MAKERS.get(edge_cls) or _EDGE_MAKERS.setdefault(edge_cls, _edge_maker(edge_cls))
    if copy is _itself:
        return list(map(RecordEdge, pairs))
    return [make_edge(cursor, copy(record, _NO_ARGUMENTS), _NO_ARGUMENTS) for cursor, record in pairs]


class RecordEdge(tuple):
    """The root value of an edge type (cursor, node) whose node is its record (record_as_root): the
    (cursor, record) pair itself, its fields read as attributes. Building an edge object per row
    cost a page about 14 µs; a pair costs about 3."""

    __slots__ = ()
    cursor = property(operator.itemgetter(0))
    node = property(operator.itemgetter(1))


_NO_VALUES: frozenset[str] = frozenset()
_NO_ARGUMENTS: dict[str, Any] = {}
_COPIERS: dict[tuple[type, type, frozenset[str]], Any] = {}
_EDGE_MAKERS: dict[type, Any] = {}


def _edge_maker(edge_cls: type):
    """`make(cursor, node, values)` for an edge type (its fields: cursor, node)."""
    names = tuple(f.name for f in dataclasses.fields(edge_cls))
    if set(names) != {"cursor", "node"} or set(_init_fields(edge_cls)) != {"cursor", "node"}:
        raise TypeError(f"{edge_cls.__name__} is not an edge (cursor, node): {names}")
    items = [(name, name) for name in names]
    return records.compile_maker(edge_cls, "cursor, node", items, items, plain=records.fills_like_init(edge_cls), namespace={})


def _copy(cls: type, record: Any, values: dict[str, Any]) -> Any:
    """from_record from any object: whatever attributes it has."""
    values = dict(values)  # the caller's (page_edges shares one empty dict between rows)
    for name in _init_fields(cls):
        if name not in values and hasattr(record, name):
            value = getattr(record, name)
            values[name] = strawberry.ID(str(value)) if name == "id" else value
    if "record" in _init_fields(cls) and "record" not in values:
        values["record"] = record
    return cls(**values)


@functools.cache
def _init_fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.init)


def _copier(cls: type, record_type: type, given: frozenset[str]):
    """from_record for one pair of classes, generated once: lists build one object per row. A
    record (a dataclass) has its fields and its class's attributes, and nothing else."""
    record_fields = dataclasses.fields(record_type)
    has = {f.name for f in record_fields}
    namespace: dict[str, Any] = {}
    items = []  # (name, expression), in the order the dataclass's __init__ sets them
    copied = []  # what __init__ is given when it builds the object itself
    plain = records.fills_like_init(cls) and given <= set(_init_fields(cls))
    for f in dataclasses.fields(cls):
        name = f.name
        if f.init and name in given:
            items.append((name, f"values[{name!r}]"))
        elif f.init and (name in has or hasattr(record_type, name)):
            items.append((name, "str(record.id)" if name == "id" else f"record.{name}"))
            copied.append(items[-1])
        elif f.init and name == "record":
            items.append((name, "record"))
            copied.append(items[-1])
        elif f.default is not dataclasses.MISSING:
            namespace[f"d_{name}"] = f.default
            items.append((name, f"d_{name}"))
        elif f.default_factory is not dataclasses.MISSING:
            namespace[f"f_{name}"] = f.default_factory
            items.append((name, f"f_{name}()"))
        elif f.init:
            plain = False  # a required field left out: the class's __init__ says so
    # Where the record's __dict__ holds every field it shares with `cls` (a dataclass-built
    # record whose fields all go through __init__), copy that dict: only what differs is set.
    shared = {name for name, expression in items if expression == f"record.{name}" and name in has}
    frozen = cls.__dataclass_params__.frozen  # its __setattr__ refuses `made.__dict__ = ...`
    if plain and shared and not frozen and records.fills_like_init(record_type) and all(f.init for f in record_fields):
        others = [(name, expression) for name, expression in items if name not in shared]
        drop = tuple(f.name for f in record_fields if f.name not in {name for name, _ in items})
        return records.compile_maker(
            cls, "record", others, copied, plain=True, namespace=namespace, base="record.__dict__", drop=drop
        )
    return records.compile_maker(cls, "record", items, copied, plain=plain, namespace=namespace)
