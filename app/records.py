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

R = TypeVar("R")


@cache
def _converted_fields(cls: type) -> dict[str, type]:
    """The fields of `cls` typed (optionally `| None`) with an Enum or a datetime: the two types
    that raw SQL rows (enums) and JSON payloads (both) carry as strings."""
    found = {}
    for name, hint in typing.get_type_hints(cls).items():
        union = isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
        for option in typing.get_args(hint) if union else (hint,):
            if isinstance(option, type) and (issubclass(option, Enum) or issubclass(option, datetime)):
                found[name] = option
    return found


@cache
def _enum_fields(cls: type) -> dict[str, type[Enum]]:
    return {name: kind for name, kind in _converted_fields(cls).items() if issubclass(kind, Enum)}


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def build(cls: type[R], source: Any, /, **values: Any) -> R:
    """`cls` from a model (its attributes) or a row (its keys); `values` give the rest or override."""
    enums = _enum_fields(cls)
    from_dict = isinstance(source, dict)
    for name in _field_names(cls):
        if name in values:
            continue
        value = source[name] if from_dict else getattr(source, name)
        if value is not None and name in enums and not isinstance(value, enums[name]):
            value = enums[name](value)
        values[name] = value
    return cls(**values)


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
