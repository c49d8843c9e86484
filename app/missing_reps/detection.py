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


# Reps without an external id, by name: the rep of that name without an external id; failing
# that, the oldest rep of that name keyed by an external id (one an id adopted, see below), so an
# integration that sends the id only sometimes does not split one person in two; else a new row.
_BY_NAME_SQL = """
WITH v AS (
    SELECT * FROM unnest($2::text[], $3::text[], $4::text[]) AS v(name, normalized_name, email)
), keyed AS (
    SELECT DISTINCT ON (m.normalized_name) m.id, m.normalized_name
      FROM missing_rep m JOIN v ON m.normalized_name = v.normalized_name
     WHERE m.team_id = $1 AND m.external_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM missing_rep n
                        WHERE n.team_id = $1 AND n.external_id IS NULL AND n.normalized_name = v.normalized_name)
     ORDER BY m.normalized_name, m.id
), touched AS (
    UPDATE missing_rep m SET email = COALESCE(m.email, v.email)
      FROM keyed JOIN v ON v.normalized_name = keyed.normalized_name
     WHERE m.id = keyed.id
    RETURNING m.id, keyed.normalized_name AS key, false AS inserted, m.status, m.resolved_user_id
), upserted AS (
    INSERT INTO missing_rep (team_id, name, normalized_name, email, date_found, leads_originally_assigned, status)
    SELECT $1, v.name, v.normalized_name, v.email, now(), 0, 'MISSING'
      FROM v WHERE v.normalized_name NOT IN (SELECT normalized_name FROM keyed)
     ORDER BY v.normalized_name
    ON CONFLICT (team_id, normalized_name) WHERE external_id IS NULL
    DO UPDATE SET email = COALESCE(missing_rep.email, EXCLUDED.email)
    RETURNING id, normalized_name AS key, (xmax = 0) AS inserted, status, resolved_user_id
)
SELECT * FROM touched UNION ALL SELECT * FROM upserted
"""

# Reps with an external id, by it. A rep of the same name without an external id is adopted
# (given the id) rather than doubled; otherwise the rep with that id is created, or renamed to the
# name the CRM sends now.
_BY_EXTERNAL_ID_SQL = """
WITH v AS (
    SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bool[])
                  AS v(external_id, name, normalized_name, email, may_adopt)
), adopted AS (
    UPDATE missing_rep m SET external_id = v.external_id, name = v.name, email = COALESCE(m.email, v.email)
      FROM v
     WHERE v.may_adopt AND m.team_id = $1 AND m.external_id IS NULL AND m.normalized_name = v.normalized_name
       AND NOT EXISTS (SELECT 1 FROM missing_rep x WHERE x.team_id = $1 AND x.external_id = v.external_id)
    RETURNING m.id, m.external_id AS key, false AS inserted, m.status, m.resolved_user_id
), upserted AS (
    INSERT INTO missing_rep (team_id, external_id, name, normalized_name, email, date_found,
                             leads_originally_assigned, status)
    SELECT $1, v.external_id, v.name, v.normalized_name, v.email, now(), 0, 'MISSING'
      FROM v WHERE v.external_id NOT IN (SELECT key FROM adopted)
     ORDER BY v.external_id
    ON CONFLICT (team_id, external_id)
    DO UPDATE SET name = EXCLUDED.name, normalized_name = EXCLUDED.normalized_name,
                  email = COALESCE(EXCLUDED.email, missing_rep.email)
    RETURNING id, external_id AS key, (xmax = 0) AS inserted, status, resolved_user_id
)
SELECT * FROM adopted UNION ALL SELECT * FROM upserted
"""


def _detected(row: dict) -> DetectedRep:
    resolved = row["status"] == MissingRepStatus.RESOLVED.value
    return DetectedRep(
        id=row["id"], inserted=row["inserted"], resolved_user_id=row["resolved_user_id"] if resolved else None
    )


async def record_unmatched_reps(
    conn: BaseDBAsyncClient, team_id: int, reps: list[RepRef]
) -> dict[tuple[str, str | None], DetectedRep]:
    """The MissingRep row of each unmatched rep, by `RepRef.key`, created when new.

    A rep sent with an external id is keyed by it (unique per team): a rename in the CRM renames
    the row. A rep without one is keyed by its normalised name (unique per team among reps
    without an external id). The first time a rep known by name arrives with an external id, the
    row of that name is adopted: it takes the id (and keeps its leads and count).

    One statement per kind of key present. The unique indexes make two concurrent batches naming
    the same new rep create one row (the second waits and updates it). Rows are touched in key
    order so concurrent batches cannot deadlock on each other; two batches that adopt and create
    the same new id at once make one of them fail on the unique index and be run again
    (app.leads.ingestion retries it).

    The upsert locks each row until the ingestion commits, and reads its latest committed
    version: if an Add as User / Map to Rep committed after this batch matched its reps, the
    row says RESOLVED and names the user, so the lead goes there; if the resolve comes later,
    it waits for this ingestion, and its reassignment then sees the new lead.
    """
    by_name: dict[str, RepRef] = {}
    by_id: dict[str, RepRef] = {}
    for rep in reps:
        if rep.external_id:
            by_id.setdefault(rep.external_id, rep)
        else:
            by_name.setdefault(rep.normalized_name, rep)
    found: dict[tuple[str, str | None], DetectedRep] = {}
    if by_id:
        ids = sorted(by_id)
        # One id per name may adopt that name's row (several new ids under one name: the first).
        adopters: dict[str, str] = {}
        for external_id in ids:
            adopters.setdefault(by_id[external_id].normalized_name, external_id)
        rows = await conn.execute_query_dict(
            _BY_EXTERNAL_ID_SQL,
            [
                team_id,
                ids,
                [by_id[i].name for i in ids],
                [by_id[i].normalized_name for i in ids],
                [by_id[i].email for i in ids],
                [adopters[by_id[i].normalized_name] == i for i in ids],
            ],
        )
        found.update({("id", row["key"]): _detected(row) for row in rows})
    if by_name:
        names = sorted(by_name)
        rows = await conn.execute_query_dict(
            _BY_NAME_SQL,
            [team_id, [by_name[n].name for n in names], names, [by_name[n].email for n in names]],
        )
        found.update({("name", row["key"]): _detected(row) for row in rows})
    return found


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
