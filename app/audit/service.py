"""The audit log: every pause, unpause, mass end and missing-rep action, recorded once."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from app.audit.models import AuditEvent
from app import db, records
from app.teams import service as teams


@dataclass(frozen=True)
class AuditRecord:
    id: int
    team_id: int
    actor_id: int | None
    action: str
    details: dict[str, Any]
    created_at: datetime


async def record(
    team_id: int,
    actor_id: int | None,
    action: str,
    details: dict[str, Any] | None = None,
    *,
    connection: BaseDBAsyncClient | None = None,
) -> None:
    """Writes an audit event; pass the action's transaction so both commit or neither does."""
    await AuditEvent.create(
        team_id=team_id, actor_id=actor_id, action=action, details=details or {}, using_db=connection
    )


def _record(event: AuditEvent) -> AuditRecord:
    return records.build(AuditRecord, event)


_EVENTS = (
    "SELECT id, team_id, actor_id, action, details, created_at FROM audit_event"
    " WHERE team_id = $1 AND ($2::int IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
)


async def events_of_team(team_id: int, *, limit: int, before_id: int | None = None) -> list[AuditRecord]:
    """Newest first; page with the id of the last event seen."""
    # Plain SQL: the dashboard polls it, and building ORM models cost more than the query.
    return records.build_all(AuditRecord, await db.fetch_rows(_EVENTS, [team_id, before_id, limit]))


_EVENTS_WITH_ACTORS = (
    f"SELECT e.*, {teams.user_columns('u', 'actor__')} FROM ({_EVENTS}) e"
    " LEFT JOIN app_user u ON u.id = e.actor_id AND u.team_id = e.team_id ORDER BY e.id DESC"
)


@dataclass(frozen=True)
class AuditEntry(AuditRecord):
    """An event of a page with the users who acted on that page, read in the same statement and
    shared by its entries: `actor` is the one who did this one (None: the system, or a user no
    longer in the team)."""

    actors: Mapping[int, teams.UserRecord] = dataclasses.field(default_factory=dict, repr=False, compare=False)

    @property
    def actor(self) -> teams.UserRecord | None:
        return None if self.actor_id is None else self.actors.get(self.actor_id)


async def events_with_actors(team_id: int, *, limit: int, before_id: int | None = None) -> list[AuditEntry]:
    """events_of_team, each with who acted, in one statement."""
    rows = await db.fetch_rows(_EVENTS_WITH_ACTORS, [team_id, before_id, limit])
    # One row per actor: a page is mostly the same few people.
    acted = list({row["actor__id"]: row for row in rows if row["actor__id"] is not None}.values())
    actors = {user.id: user for user in records.build_all(teams.UserRecord, acted, prefix="actor__")}
    return records.build_all(AuditEntry, rows, actors=actors)
