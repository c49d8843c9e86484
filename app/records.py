"""Service records (frozen dataclasses): built from Tortoise models or SQL rows, and carried as JSON
payloads on the event bus, one way each, driven by the record's annotations."""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Any, TypeVar

import asyncpg
import orjson

R = TypeVar("R")


@cache
def _field_options(cls: type) -> dict[str, tuple[Any, ...]]:
    """Each field's annotated type, or the types of its union (`X | None` gives X and None)."""
    options = {}
    for name, hint in typing.get_type_hints(cls).items():
        union = isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
        options[name] = typing.get_args(hint) if union else (hint,)
    return options


@cache
def _converted_fields(cls: type) -> dict[str, type]:
    """The fields of `cls` typed (optionally `| None`) with an Enum or a datetime: the two types
    that raw SQL rows (enums) and JSON payloads (both) carry as strings."""
    found = {}
    for name, options in _field_options(cls).items():
        for option in options:
            if isinstance(option, type) and (issubclass(option, Enum) or issubclass(option, datetime)):
                found[name] = option
    return found


@cache
def _enum_fields(cls: type) -> dict[str, type[Enum]]:
    return {name: kind for name, kind in _converted_fields(cls).items() if issubclass(kind, Enum)}


@cache
def _json_fields(cls: type) -> frozenset[str]:
    """The fields of `cls` typed (optionally `| None`) as a dict: a raw SQL row carries a jsonb
    column as its JSON text."""
    return frozenset(
        name
        for name, options in _field_options(cls).items()
        if any(option is dict or typing.get_origin(option) is dict for option in options)
    )


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def build(cls: type[R], source: Any, /, **values: Any) -> R:
    """`cls` from a model (its attributes) or a row (its keys: a dict or an asyncpg Record; a
    jsonb column's text is decoded for a dict field); `values` give the rest or override."""
    key = (cls, isinstance(source, _ROWS), frozenset(values) if values else _NO_VALUES)
    builder = _BUILDERS.get(key)
    if builder is None:
        builder = _BUILDERS[key] = _builder(*key)
    return builder(source, values)


def build_all(cls: type[R], rows: list[Any], /, *, prefix: str = "", **values: Any) -> list[R]:
    """`[build(cls, row, **values) for row in rows]`; rows read as asyncpg Records are read by
    position (the columns of one statement's rows are the same), which costs half as much.
    With `prefix` (Records only) each field is read from the column named prefix + its name: the
    rows of a joined table beside another's."""
    if not rows:
        return []
    if not isinstance(rows[0], asyncpg.Record):
        if prefix:
            raise TypeError("build_all reads prefixed columns of asyncpg Records only")
        return [build(cls, row, **values) for row in rows]
    key = (cls, tuple(rows[0].keys()), frozenset(values) if values else _NO_VALUES, prefix)
    builder = _BY_POSITION.get(key)
    if builder is None:
        columns = {name[len(prefix):]: position for position, name in enumerate(key[1]) if name.startswith(prefix)}
        builder = _BY_POSITION[key] = _builder(cls, True, key[2], columns)
    return [builder(tuple(row), values) for row in rows]


_ROWS = (dict, asyncpg.Record)
_BY_POSITION: dict[tuple[type, tuple[str, ...], frozenset[str], str], Any] = {}
_NO_VALUES: frozenset[str] = frozenset()
_BUILDERS: dict[tuple[type, bool, frozenset[str]], Any] = {}


def _builder(cls: type, from_row: bool, given: frozenset[str], positions: dict[str, int] | None = None):
    """`build` for one class, source kind and set of given names, as one generated function: a
    page builds a record per row, and the generic loop cost more than the query. With
    `positions` the source is a row's values as a tuple, read by column position."""
    namespace: dict[str, Any] = {}
    enums = _enum_fields(cls)
    names = _field_names(cls)
    items = []
    for name in names:
        if name in given:
            items.append((name, f"values[{name!r}]"))
            continue
        if positions is not None:
            if name not in positions:
                raise KeyError(name)  # as reading a Record by a column it lacks does
            read = f"source[{positions[name]}]"
        else:
            read = f"source[{name!r}]" if from_row else f"source.{name}"
        if from_row and name in _json_fields(cls):
            namespace["loads"] = orjson.loads
            read = f"(loads(v) if type(v := {read}) is str else v)"
        if name in enums:  # a raw SQL row carries an enum as its value
            namespace[f"E_{name}"] = enums[name]
            namespace[f"M_{name}"] = enums[name]._value2member_map_
            read = (
                f"(v if (v := {read}) is None or type(v) is E_{name} else "
                f"(m if (m := M_{name}.get(v)) is not None else E_{name}(v)))"
            )
        items.append((name, read))
    plain = given <= set(names) and fills_like_init(cls) and all(f.init for f in dataclasses.fields(cls))
    arguments = [(name, read) for name, read in items if name not in given]
    return compile_maker(cls, "source", items, arguments, plain=plain, namespace=namespace)


def compile_maker(
    cls: type,
    source: str,
    fields: list[tuple[str, str]],
    arguments: list[tuple[str, str]],
    *,
    plain: bool,
    namespace: dict[str, Any],
    base: str | None = None,
    drop: tuple[str, ...] = (),
):
    """A generated `make(<source>, values)` returning a `cls`. With `plain` (see
    fills_like_init) a new instance whose __dict__ gets `fields` (name, expression) in __init__'s
    order: a frozen dataclass's __init__ sets each field through object.__setattr__, and filling
    __dict__ makes the same object for a fraction of the cost. With `base` too (an expression for
    a dict holding, under their names, the values of every field not in `fields`: a record's
    __dict__) the new __dict__ is a copy of it, `fields` set and the keys in `drop` removed: the
    same attributes and values, copied in C instead of one by one. Otherwise
    `cls(<arguments>, **values)`. The expressions read `source`, `values` and `namespace`."""
    namespace.update(cls=cls, new=object.__new__)
    if plain and base is not None:
        body = "\n".join(
            [f"    d = {base}.copy()"]
            + [f"    d[{name!r}] = {expression}" for name, expression in fields]
            + [f"    del d[{name!r}]" for name in drop]
            + ["    made = new(cls)", "    made.__dict__ = d", "    return made"]
        )
    elif plain:
        fill = ", ".join(f"{name!r}: {expression}" for name, expression in fields)
        body = f"    made = new(cls)\n    made.__dict__.update({{{fill}}})\n    return made"
    else:
        body = f"    return cls({''.join(f'{name}={expression}, ' for name, expression in arguments)}**values)"
    exec(f"def make({source}, values):\n{body}", namespace)  # noqa: S102
    return namespace["make"]


def fills_like_init(cls: type) -> bool:
    """Whether filling an instance's __dict__ with its fields' values, in order, makes what the
    class's __init__ makes: an __init__ written by dataclasses (not the class's own), no
    __post_init__, no __slots__. Anything else is built through its __init__."""
    code = getattr(getattr(cls, "__init__", None), "__code__", None)
    return (
        code is not None
        and code.co_filename == "<string>"  # dataclasses writes __init__ with exec
        and not hasattr(cls, "__post_init__")
        and "__slots__" not in cls.__dict__
    )


def to_payload(record: Any) -> dict[str, Any]:
    """A record as JSON-ready values: enums by value, datetimes in ISO 8601."""
    payload = {}
    for f in dataclasses.fields(record):
        value = getattr(record, f.name)
        if isinstance(value, Enum):
            value = value.value
        elif isinstance(value, datetime):
            value = value.isoformat()
        payload[f.name] = value
    return payload


def from_payload(cls: type[R], payload: dict[str, Any]) -> R:
    """The record `to_payload` made; fields the payload lacks take their defaults."""
    converted = _converted_fields(cls)
    values = {}
    for f in dataclasses.fields(cls):
        if f.name not in payload:
            continue
        value = payload[f.name]
        kind = converted.get(f.name)
        if value is not None and kind is not None:
            value = kind.fromisoformat(value) if issubclass(kind, datetime) else kind(value)
        values[f.name] = value
    return cls(**values)
