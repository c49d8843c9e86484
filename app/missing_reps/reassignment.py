"""Moving a resolved missing rep's leads off the Default Rep, in batches, and the sweep that
finishes a move a dead process left half done.

The statements here write the `lead` table: which leads a missing rep's resolution moves is this
feature's rule, so leads never calls back into missing reps.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from app import db, jobs
from app.teams import service as teams

log = logging.getLogger(__name__)

# Leads moved per transaction when a rep is resolved: each batch locks at most this many rows.
REASSIGN_BATCH_SIZE = 1000
SWEEP_INTERVAL_SECONDS = 60.0


def leads_source(default_rep_id: int | None, user_id: int) -> int | None:
    """Whose leads move: the Default Rep's (and unassigned ones); only unassigned ones when the
    rep is resolved to the Default Rep themself."""
    return None if default_rep_id == user_id else default_rep_id


@dataclass(frozen=True)
class MovedBatch:
    last_id: int | None  # the highest lead id the batch looked at; None: nothing left
    scanned: int
    moved: int


_MOVE_BATCH = """
WITH batch AS (
    SELECT id FROM lead
     WHERE missing_rep_id = $1 AND id > $2 AND team_id = $3
       AND (assigned_user_id = $4 OR assigned_user_id IS NULL)
     ORDER BY id
     LIMIT $6
), moved AS (
    UPDATE lead SET assigned_user_id = $5, updated_at = now()
      FROM batch
     WHERE lead.id = batch.id AND (lead.assigned_user_id = $4 OR lead.assigned_user_id IS NULL)
    RETURNING lead.id
)
SELECT (SELECT max(id) FROM batch) AS last_id, (SELECT count(*) FROM batch) AS scanned,
       (SELECT count(*) FROM moved) AS moved
"""


async def count_leads_to_move(
    conn: BaseDBAsyncClient, team_id: int, missing_rep_id: int, source: int | None
) -> int:
    """Leads detected under a missing rep that are still with the Default Rep (or with nobody)."""
    rows = await conn.execute_query_dict(
        """
        SELECT count(*) AS n FROM lead
         WHERE missing_rep_id = $1 AND team_id = $2 AND (assigned_user_id = $3 OR assigned_user_id IS NULL)
        """,
        [missing_rep_id, team_id, source],
    )
    return rows[0]["n"]


async def move_batch_from_default_rep(
    conn: BaseDBAsyncClient,
    team_id: int,
    missing_rep_id: int,
    *,
    default_rep_id: int | None,
    to_user_id: int,
    after_id: int,
    limit: int,
) -> MovedBatch:
    """One batch: the next `limit` leads (by id, after `after_id`) of the missing rep that are
    still with the Default Rep go to `to_user_id`. One set-based statement walking the
    (missing_rep_id, id) index; it locks only the rows it moves. A lead that changed hands
    meanwhile is re-checked by the UPDATE and left alone.
    """
    rows = await conn.execute_query_dict(
        _MOVE_BATCH, [missing_rep_id, after_id, team_id, default_rep_id, to_user_id, limit]
    )
    row = rows[0]
    return MovedBatch(last_id=row["last_id"], scanned=row["scanned"], moved=row["moved"])


async def finish_reassignment(team_id: int, rep_id: int) -> None:
    """Moves a resolved rep's leads that are still with the Default Rep to its user, in batches.

    Each batch is its own transaction: it locks the rep row (the order ingestion locks in:
    rep, then leads), moves up to REASSIGN_BATCH_SIZE leads by keyset over lead id, and adds
    them to `leads_moved`; the last batch clears `reassignment_pending`. Safe to run twice at
    once (batches of one rep serialise on its row, and a moved lead no longer qualifies).
    """
    team = await teams.get_team(team_id)
    after_id = 0
    while True:
        async with in_transaction() as conn:
            rows = await conn.execute_query_dict(
                "SELECT resolved_user_id, reassignment_pending FROM missing_rep "
                "WHERE team_id = $1 AND id = $2 FOR NO KEY UPDATE",
                [team_id, rep_id],
            )
            if not rows or not rows[0]["reassignment_pending"]:
                return  # finished (by another process) or gone
            user_id = rows[0]["resolved_user_id"]
            if user_id is None:  # the user was deleted since: nobody to move the leads to
                done, moved = True, 0
            else:
                batch = await move_batch_from_default_rep(
                    conn,
                    team_id,
                    rep_id,
                    default_rep_id=leads_source(team.default_rep_id, user_id),
                    to_user_id=user_id,
                    after_id=after_id,
                    limit=REASSIGN_BATCH_SIZE,
                )
                done, moved = batch.scanned < REASSIGN_BATCH_SIZE, batch.moved
            await conn.execute_query(
                "UPDATE missing_rep SET leads_moved = leads_moved + $2, reassignment_pending = $3 WHERE id = $1",
                [rep_id, moved, not done],
            )
        if done:
            return
        after_id = batch.last_id


@jobs.periodic(SWEEP_INTERVAL_SECONDS)
async def finish_pending_reassignments() -> int:
    """Completes every reassignment a process left unfinished; returns how many reps it saw."""
    rows = await db.connection().execute_query_dict(
        "SELECT team_id, id FROM missing_rep WHERE reassignment_pending = true ORDER BY id"
    )
    for row in rows:
        try:
            await finish_reassignment(row["team_id"], row["id"])
        except Exception:  # noqa: BLE001 - one rep's failure must not stop the others
            log.exception("could not finish moving the leads of missing rep %s", row["id"])
    return len(rows)

