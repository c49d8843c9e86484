"""The audit log as CSV rows, newest first like the `auditLog` query, read a keyset page at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson

from app.audit.service import events_of_team
from app.teams import service as teams

HEADER = ("id", "created_at", "action", "actor_id", "actor_name", "details")
PAGE_SIZE = 500


async def rows(team_id: int) -> AsyncIterator[list[tuple]]:
    before_id = None
    while True:
        events = await events_of_team(team_id, limit=PAGE_SIZE, before_id=before_id)
        if not events:
            return
        actor_ids = sorted({e.actor_id for e in events if e.actor_id is not None})
        actors = await teams.users_by_ids(team_id, actor_ids) if actor_ids else {}
        yield [
            (
                e.id,
                e.created_at.isoformat(),
                e.action,
                e.actor_id,
                actors[e.actor_id].name if e.actor_id in actors else None,
                orjson.dumps(e.details, option=orjson.OPT_SORT_KEYS).decode(),
            )
            for e in events
        ]
        if len(events) < PAGE_SIZE:
            return
        before_id = events[-1].id
