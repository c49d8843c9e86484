"""The Missing Reps list as CSV rows: the same filter and order as the `missingReps` query, read
a keyset page at a time (app.missing_reps.listing), so an export of any size holds one page."""

from __future__ import annotations

from collections.abc import AsyncIterator

from app.missing_reps.listing import MissingRepRecord, SortDirection, SortField, list_missing_reps
from app.missing_reps.models import MissingRepStatus
from app.paging import MAX_PAGE_SIZE
from app.teams import service as teams

HEADER = (
    "id",
    "name",
    "email",
    "status",
    "date_found",
    "leads_originally_assigned",
    "resolution",
    "resolved_user_id",
    "resolved_user_name",
    "resolved_at",
    "leads_moved",
)


def _row(rep: MissingRepRecord, users: dict[int, teams.UserRecord]) -> tuple:
    resolved = users.get(rep.resolved_user_id) if rep.resolved_user_id is not None else None
    return (
        rep.id,
        rep.name,
        rep.email,
        rep.status.value,
        rep.date_found.isoformat(),
        rep.leads_originally_assigned,
        rep.resolution.value if rep.resolution else None,
        rep.resolved_user_id,
        resolved.name if resolved else None,
        rep.resolved_at.isoformat() if rep.resolved_at else None,
        rep.leads_moved,
    )


async def rows(
    team_id: int, *, status: MissingRepStatus, field: SortField, direction: SortDirection
) -> AsyncIterator[list[tuple]]:
    """The team's reps in `status`, ordered as the screen orders them, one page of rows at a time."""
    after = None
    while True:
        page = await list_missing_reps(team_id, status=status, field=field, direction=direction, first=MAX_PAGE_SIZE, after=after)
        reps = [rep for _, rep in page.edges]
        user_ids = sorted({rep.resolved_user_id for rep in reps if rep.resolved_user_id is not None})
        users = await teams.users_by_ids(team_id, user_ids) if user_ids else {}
        if reps:
            yield [_row(rep, users) for rep in reps]
        if not page.has_next_page:
            return
        after = page.edges[-1][0]
