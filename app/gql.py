"""GraphQL plumbing shared by every feature: the context, ids, authorisation, error masking."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.dataloader import DataLoader
from strawberry.extensions import MaskErrors
from strawberry.types import Info

from app.auth import Caller, Permission, authorize
from app.errors import AppError, ErrorCode
from app.logs import request_id_var

log = logging.getLogger("app.graphql")


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


def parse_id(value: strawberry.ID | str, what: str) -> int:
    """Ids are decimal integers; anything else cannot name a row, so it is NOT_FOUND."""
    text = str(value).strip()
    if not text.isdigit() or len(text) > 18:
        raise AppError(ErrorCode.NOT_FOUND, f"{what} {value!r} was not found.")
    return int(text)


def _is_expected(error: GraphQLError) -> bool:
    # No original error: a syntax or validation error graphql-core made itself.
    return error.original_error is None or isinstance(error.original_error, AppError)


def _anonymised(error: GraphQLError) -> GraphQLError:
    request_id = request_id_var.get()
    return GraphQLError(
        message=f"Internal server error (request id {request_id}).",
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
    )


def _log_unexpected(errors) -> None:
    for error in errors:
        if not _is_expected(error):
            log.error("unexpected error in %s", error.path, exc_info=error.original_error)


def present_errors(errors: list[GraphQLError]) -> list[dict[str, Any]]:
    """Errors as the client sees them, for results executed outside strawberry's own pipeline
    (live subscriptions): unexpected ones logged, then masked, as MaskUnexpectedErrors does."""
    _log_unexpected(errors)
    return [(error if _is_expected(error) else _anonymised(error)).formatted for error in errors]


class MaskUnexpectedErrors(MaskErrors):
    """Unexpected exceptions reach the client as a generic message and a request id."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda e: not _is_expected(e))

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return _anonymised(error)


class AppSchema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        # Runs before masking, so the traceback is still there to log.
        _log_unexpected(errors)


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
    for f in dataclasses.fields(cls):
        if f.init and f.name not in values and hasattr(record, f.name):
            value = getattr(record, f.name)
            values[f.name] = strawberry.ID(str(value)) if f.name == "id" else value
    return cls(**values)
