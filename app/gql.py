"""GraphQL plumbing shared by every feature: the context, ids, authorisation, loaders.

Error masking and coding live in the request pipeline (app/pipeline/errors.py)."""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from typing import Any

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types import Info

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


def loader(info: AppInfo, key: str, load_fn) -> Any:
    """A per-request DataLoader, so a list of N items costs one query per relation, not N."""
    loaders = info.context.loaders
    if key not in loaders:
        loaders[key] = DataLoader(load_fn=load_fn)
    return loaders[key]


def from_record(cls: type, record: Any, /, **values: Any) -> Any:
    """A GraphQL type from a service record: every init field of `cls` that the record has is
    copied (`id` as an ID); `values` give the rest or override."""
    for name in _init_fields(cls):
        if name not in values and hasattr(record, name):
            value = getattr(record, name)
            values[name] = strawberry.ID(str(value)) if name == "id" else value
    return cls(**values)


@functools.cache
def _init_fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.init)
