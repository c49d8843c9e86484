"""Reading missing reps: one rep, many by id, and the keyset-paged Missing Reps list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from operator import attrgetter
from collections.abc import Callable, Mapping
from typing import Any

from app import db, paging, records
from app.errors import bad_input, not_found
from app.missing_reps.models import MissingRep, MissingRepResolution, MissingRepStatus


@dataclass(frozen=True)
class MissingRepRecord:
    id: int
    team_id: int
    name: str
    email: str | None
    date_found: datetime
    leads_originally_assigned: int
    status: MissingRepStatus
    resolution: MissingRepResolution | None
    resolved_user_id: int | None
    resolved_at: datetime | None
    normalized_name: str = ""
    resolved_by_id: int | None = None
    reassignment_pending: bool = False
    leads_moved: int = 0
    external_id: str | None = None


def _record(rep: MissingRep) -> MissingRepRecord:
    return records.build(MissingRepRecord, rep)


def record_from_row(row: Mapping[str, Any]) -> MissingRepRecord:
    return records.build(MissingRepRecord, row)


COLUMNS = """id, team_id, name, normalized_name, email, date_found, leads_originally_assigned, status,
resolution, resolved_user_id, resolved_by_id, resolved_at, reassignment_pending, leads_moved, external_id"""


async def get_missing_rep(team_id: int, rep_id: int) -> MissingRepRecord | None:
    rep = await MissingRep.get_or_none(team_id=team_id, id=rep_id)
    return _record(rep) if rep else None


async def require_missing_rep(team_id: int, rep_id: int) -> MissingRepRecord:
    """The team's missing rep; another team's (or no) rep is NOT_FOUND, never a leak."""
    rep = await get_missing_rep(team_id, rep_id)
    if rep is None:
        raise not_found("Missing rep")
    return rep


async def missing_reps_by_ids(team_id: int, rep_ids: list[int]) -> dict[int, MissingRepRecord]:
    return {r.id: _record(r) for r in await MissingRep.filter(team_id=team_id, id__in=rep_ids)}


class SortField(str, Enum):
    NAME = "NAME"
    DATE_FOUND = "DATE_FOUND"
    LEADS_ORIGINALLY_ASSIGNED = "LEADS_ORIGINALLY_ASSIGNED"


class SortDirection(str, Enum):
    ASC = "ASC"
    DESC = "DESC"


# Each has an index (team_id, status, column, id): a page is one index range scan.
_SORT_COLUMNS = {
    SortField.NAME: "normalized_name",  # case, accents and punctuation already ignored
    SortField.DATE_FOUND: "date_found",
    SortField.LEADS_ORIGINALLY_ASSIGNED: "leads_originally_assigned",
}


@dataclass(frozen=True)
class Page:
    edges: list[tuple[str, MissingRepRecord]]  # (cursor, rep)
    has_next_page: bool
    has_previous_page: bool
    total_count: int | None = None  # when asked for


# A row's values in its cursor, per ordering: its sort key (a date as ISO 8601 text) and its id.
_CURSOR_VALUES: dict[SortField, Callable[[MissingRepRecord], tuple[Any, int]]] = {
    SortField.NAME: attrgetter("normalized_name", "id"),
    SortField.DATE_FOUND: lambda rep: (rep.date_found.isoformat(), rep.id),
    SortField.LEADS_ORIGINALLY_ASSIGNED: attrgetter("leads_originally_assigned", "id"),
}


LIST_NAME = "the Missing Reps list"


def cursors(reps: list[MissingRepRecord], field: SortField, direction: SortDirection) -> list[str]:
    """Each rep's cursor in the list in this order: the ordering, then the row's sort key and id."""
    return paging.encode_cursors((field.value, direction.value), map(_CURSOR_VALUES[field], reps))


def decode_cursor(cursor: str, field: SortField, direction: SortDirection) -> tuple[Any, int]:
    """The (sort key, id) a cursor points at; BAD_USER_INPUT for a cursor of another ordering."""
    cursor_field, cursor_direction, key, rep_id = paging.decode_cursor(cursor, LIST_NAME, 4)
    malformed = paging.malformed_cursor(LIST_NAME)
    if (cursor_field, cursor_direction) != (field.value, direction.value):
        raise bad_input(
            f"after is a cursor of the list ordered by {cursor_field} {cursor_direction}; this one is ordered by "
            f"{field.value} {direction.value}: start again without it.",
            field="after",
        )
    expected_type = {SortField.NAME: str, SortField.DATE_FOUND: str, SortField.LEADS_ORIGINALLY_ASSIGNED: int}[field]
    if type(key) is not expected_type or type(rep_id) is not int:
        raise malformed
    if not all(0 <= n < 2**31 for n in (rep_id, key) if type(n) is int):  # int columns
        raise malformed
    if field is SortField.DATE_FOUND:
        try:
            key = datetime.fromisoformat(key)
        except ValueError:
            raise malformed from None
    return key, rep_id


async def list_missing_reps(
    team_id: int,
    *,
    status: MissingRepStatus = MissingRepStatus.MISSING,
    field: SortField = SortField.NAME,
    direction: SortDirection = SortDirection.ASC,
    first: int | None = None,
    after: str | None = None,
    with_count: bool = False,
) -> Page:
    """A page of the team's reps in `status`, keyset-paged: ties broken by id, so rows detected
    while a client pages never make it skip or repeat a row. `with_count`: the page's
    `total_count` (count_missing_reps) too, from the same statement."""
    limit = paging.page_size(first)
    column = _SORT_COLUMNS[field]
    order, compare = ("ASC", ">") if direction is SortDirection.ASC else ("DESC", "<")
    params: list[Any] = [team_id, status.value]
    where = "team_id = $1 AND status = $2"
    if after is not None:
        key, rep_id = decode_cursor(after, field, direction)
        params += [key, rep_id]
        where += f" AND ({column}, id) {compare} ($3, $4)"
    params.append(limit + 1)
    # With the count: an uncorrelated subquery, run once per statement (an InitPlan), on each row.
    counted = f", ({_COUNT}) AS total_count" if with_count else ""
    rows = await db.fetch_rows(
        f"SELECT {COLUMNS}{counted} FROM missing_rep WHERE {where} "
        f"ORDER BY {column} {order}, id {order} LIMIT ${len(params)}",
        params,
    )
    total_count = None
    if with_count:
        # No row, no count: none in `status` at all without a cursor, else counted on its own.
        total_count = rows[0]["total_count"] if rows else 0 if after is None else await count_missing_reps(team_id, status)
    reps = records.build_all(MissingRepRecord, rows[:limit])
    return Page(
        edges=list(zip(cursors(reps, field, direction), reps)),
        has_next_page=len(rows) > limit,
        has_previous_page=after is not None,
        total_count=total_count,
    )


_COUNT = "SELECT count(*) FROM missing_rep WHERE team_id = $1 AND status = $2"


async def count_missing_reps(team_id: int, status: MissingRepStatus = MissingRepStatus.MISSING) -> int:
    """The count behind "Missing Reps (x)"; 0 when nothing is missing."""
    # Plain SQL: the dashboard asks for it on every page, and the ORM's query building cost more
    # than the (index-only) count itself.
    rows = await db.fetch_rows(_COUNT, [team_id, status.value])
    return rows[0][0]
