"""Detecting missing reps during lead ingestion (inside its transaction), and telling Managers
and Admins about each new one live."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient

from app import broadcast, records
from app.missing_reps.listing import MissingRepRecord, missing_reps_by_ids
from app.missing_reps.models import MissingRepStatus
from app.teams.rep_matching import RepRef

DETECTED_TOPIC = "missing_rep_detected"


@dataclass(frozen=True)
class DetectedRep:
    id: int
    inserted: bool
    # Set when the rep was already resolved: its leads go to this user.
    resolved_user_id: int | None = None


async def record_unmatched_reps(
    conn: BaseDBAsyncClient, team_id: int, reps: list[RepRef]
) -> dict[str, DetectedRep]:
    """The MissingRep row of each unmatched rep (by normalised name), created when new.

    One statement; the unique (team, normalised name) index makes two concurrent batches
    naming the same new rep create one row (the second waits and updates it). Rows are
    touched in name order so concurrent batches cannot deadlock on each other.

    The upsert locks each row until the ingestion commits, and reads its latest committed
    version: if an Add as User / Map to Rep committed after this batch matched its reps, the
    row says RESOLVED and names the user, so the lead goes there; if the resolve comes later,
    it waits for this ingestion, and its reassignment then sees the new lead.
    """
    by_name: dict[str, RepRef] = {}
    for rep in reps:
        by_name.setdefault(rep.normalized_name, rep)
    if not by_name:
        return {}
    names = sorted(by_name)
    rows = await conn.execute_query_dict(
        """
        INSERT INTO missing_rep (team_id, name, normalized_name, email, date_found,
                                 leads_originally_assigned, status)
        SELECT $1, v.name, v.normalized_name, v.email, now(), 0, 'MISSING'
        FROM unnest($2::text[], $3::text[], $4::text[]) AS v(name, normalized_name, email)
        ORDER BY v.normalized_name
        ON CONFLICT (team_id, normalized_name)
        DO UPDATE SET email = COALESCE(missing_rep.email, EXCLUDED.email)
        RETURNING id, normalized_name, (xmax = 0) AS inserted, status, resolved_user_id
        """,
        [
            team_id,
            [by_name[n].name for n in names],
            names,
            [by_name[n].email for n in names],
        ],
    )
    return {
        row["normalized_name"]: DetectedRep(
            id=row["id"],
            inserted=row["inserted"],
            resolved_user_id=row["resolved_user_id"] if row["status"] == MissingRepStatus.RESOLVED.value else None,
        )
        for row in rows
    }


async def count_originally_assigned(conn: BaseDBAsyncClient, new_leads_by_rep: dict[int, int]) -> None:
    """Adds newly created leads to their missing reps' "leads originally assigned"."""
    if not new_leads_by_rep:
        return
    ids = sorted(new_leads_by_rep)
    await conn.execute_query(
        """
        UPDATE missing_rep m SET leads_originally_assigned = m.leads_originally_assigned + v.n
        FROM unnest($1::int[], $2::int[]) AS v(id, n) WHERE m.id = v.id
        """,
        [ids, [new_leads_by_rep[i] for i in ids]],
    )


async def publish_detected(team_id: int, rep_ids: list[int]) -> None:
    """Tells the team's Managers and Admins about newly detected reps (after the commit)."""
    if not rep_ids:
        return
    reps = await missing_reps_by_ids(team_id, rep_ids)
    channel = broadcast.team_channel(team_id, DETECTED_TOPIC)
    for rep_id in sorted(reps):
        if reps[rep_id].status is MissingRepStatus.MISSING:
            await broadcast.publish(channel, records.to_payload(reps[rep_id]))


async def watch_detected(team_id: int) -> AsyncIterator[MissingRepRecord]:
    """Each rep of the team detected from now on, once."""
    async with broadcast.bus().subscribe(broadcast.team_channel(team_id, DETECTED_TOPIC)) as payloads:
        async for payload in payloads:
            if payload is not broadcast.RESYNC:  # events, not state: nothing to re-send
                yield records.from_payload(MissingRepRecord, payload)
