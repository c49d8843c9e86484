"""Service records (frozen dataclasses) built from Tortoise models or SQL rows, one way."""

from __future__ import annotations

import dataclasses
import types
import typing
from enum import Enum
from functools import cache
from typing import Any, TypeVar

R = TypeVar("R")


@cache
def _enum_fields(cls: type) -> dict[str, type[Enum]]:
    """The fields of `cls` typed with an Enum (optionally `| None`): raw SQL gives them as strings."""
    found = {}
    for name, hint in typing.get_type_hints(cls).items():
        options = typing.get_args(hint) if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union else (hint,)
        for option in options:
            if isinstance(option, type) and issubclass(option, Enum):
                found[name] = option
    return found


def build(cls: type[R], source: Any, /, **values: Any) -> R:
    """`cls` from a model (its attributes) or a row (its keys); `values` give the rest or override."""
    enums = _enum_fields(cls)
    for f in dataclasses.fields(cls):
        if f.name in values:
            continue
        value = source[f.name] if isinstance(source, dict) else getattr(source, f.name)
        if value is not None and f.name in enums and not isinstance(value, enums[f.name]):
            value = enums[f.name](value)
        values[f.name] = value
    return cls(**values)
