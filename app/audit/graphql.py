"""GraphQL for the audit log: newest first, paged with cursors."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from app.audit import service
from app.auth import Permission
from app import paging
from app.gql import AppInfo, page_edges, record_as_root
from app.teams.graphql import UserType


@record_as_root
@strawberry.type(name="AuditEvent")
class AuditEventType:
    """Its root value is the service's AuditEntry."""

    id: strawberry.ID
    action: str
    details: JSON
    created_at: datetime
    team_id: strawberry.Private[int]
    actor_id: strawberry.Private[int | None]
    # Read in the page's own statement, one user per actor shared by the page's entries: a page
    # completes without a resolver call or a task per row.
    actor: UserType | None = None


@strawberry.type
class AuditEventEdge:
    cursor: str
    node: AuditEventType


@strawberry.type
class AuditPageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class AuditEventConnection:
    edges: list[AuditEventEdge]
    page_info: AuditPageInfo


def _before_id(cursor: str) -> int:
    (event_id,) = paging.decode_cursor(cursor, "the audit log", 1)
    if type(event_id) is not int or event_id < 1:
        raise paging.malformed_cursor("the audit log")
    return event_id


@strawberry.type
class Query:
    @strawberry.field(description="The team's audit log, newest first (Admins, Team Leaders, Managers).")
    async def audit_log(self, info: AppInfo, first: int | None = None, after: str | None = None) -> AuditEventConnection:
        caller = info.context.require(Permission.READ_AUDIT_LOG)
        limit = paging.page_size(first)
        before_id = _before_id(after) if after else None
        events = await service.events_with_actors(caller.team_id, limit=limit + 1, before_id=before_id)
        has_next_page = len(events) > limit
        events = events[:limit]
        edges = page_edges(AuditEventEdge, AuditEventType, list(zip(paging.encode_cursors((), [(e.id,) for e in events]), events)))
        return AuditEventConnection(
            edges=edges,
            page_info=AuditPageInfo(has_next_page=has_next_page, end_cursor=edges[-1].cursor if edges else None),
        )
