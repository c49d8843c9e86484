"""The mass end's SQL: the job row's transitions and the batch that ends conversations.

Run on one asyncpg connection taken from the ORM's pool for the whole job: it holds the team's
session advisory lock, and each batch is one statement (its own short transaction) on it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg

from app import db


JOB_COLUMNS = (
    "id, team_id, requested_by_id, state, total, processed, runs, error, created_at, started_at, finished_at"
)
JOB_COLUMNS_OF_JOB = ", ".join(f"mass_end_job.{column.strip()}" for column in JOB_COLUMNS.split(","))

# One statement inserts the job, or finds that the team has one open already: the partial unique
# index mass_end_job_one_open_per_team makes a concurrent second insert wait for the first and
# then do nothing. `total` is the team's active conversations at this moment (read here, in
# the same statement, rather than through the leads service, so that the count and the job agree).
START_JOB = f"""
INSERT INTO mass_end_job (team_id, requested_by_id, state, total, processed, runs, created_at)
SELECT $1, $2, 'QUEUED', count(*), 0, 0, now()
FROM conversation WHERE team_id = $1 AND state = 'ACTIVE'
ON CONFLICT (team_id) WHERE state IN ('QUEUED', 'RUNNING') DO NOTHING
RETURNING {JOB_COLUMNS}
"""

OPEN_JOB = f"""
SELECT {JOB_COLUMNS} FROM mass_end_job WHERE team_id = $1 AND state IN ('QUEUED', 'RUNNING')
"""

OPEN_JOB_IDS = "SELECT id FROM mass_end_job WHERE state IN ('QUEUED', 'RUNNING') ORDER BY id"

LOAD_JOB = f"SELECT {JOB_COLUMNS} FROM mass_end_job WHERE id = $1"

TEAM_JOB = f"SELECT {JOB_COLUMNS} FROM mass_end_job WHERE id = $1 AND team_id = $2"

START_RUN = f"""
UPDATE mass_end_job
SET state = 'RUNNING', runs = runs + 1, started_at = COALESCE(started_at, now())
WHERE id = $1 AND state IN ('QUEUED', 'RUNNING')
RETURNING {JOB_COLUMNS}
"""

# The final total is the number actually ended (conversations started during the job included).
COMPLETE = f"""
UPDATE mass_end_job SET state = 'COMPLETED', total = processed, finished_at = now()
WHERE id = $1 AND state = 'RUNNING'
RETURNING {JOB_COLUMNS}
"""

FAIL = f"""
UPDATE mass_end_job SET state = 'FAILED', error = $2, finished_at = now()
WHERE id = $1 AND state IN ('QUEUED', 'RUNNING')
RETURNING {JOB_COLUMNS}
"""

# Writes the leads feature's tables directly, not through its service, for speed: a batch must be
# one statement (see bench/mass_end.py).
# One batch, one statement, so one transaction and one round trip: the next `limit` active
# conversations after `after_id` in id order, their leads, and the job's count commit together.
#  - Keyset, on the partial index conversation_active_by_team: `bound` reads the batch's last id
#    from the index alone, and the UPDATE takes the (team_id, id) range up to it. The row
#    comparisons can only be served by that index (never a walk of the primary key across other
#    teams' rows), and no batch re-walks rows that earlier batches ended.
#  - `state = 'ACTIVE'` in the UPDATE makes a row that is already ended (a concurrent run, a
#    re-run after a crash) change nothing and count nothing: `processed` = rows changed.
#  - Nothing changes unless the job is still RUNNING (`running`): then the statement returns no
#    job row and the run stops.
#  - No FOR UPDATE: the UPDATE locks the rows itself; a separate lock step writes every row twice.
#  - `= ANY(ARRAY(...))` keeps the lead update an index lookup per row, whatever the estimate.
END_BATCH = f"""
WITH running AS (
    SELECT id FROM mass_end_job WHERE id = $1 AND state = 'RUNNING'
), bound AS (
    SELECT max(id) AS last_id FROM (
        SELECT id FROM conversation
        WHERE team_id = $2 AND state = 'ACTIVE' AND id > $3
        ORDER BY id
        LIMIT $4
    ) AS next_ids
), ended AS (
    UPDATE conversation
    SET state = 'ENDED', end_reason = 'MASS_END', ended_at = now(), assistant_may_reply = false
    WHERE team_id = $2 AND state = 'ACTIVE'
      AND (team_id, id) > ($2, $3) AND (team_id, id) <= ($2, (SELECT last_id FROM bound))
      AND EXISTS (SELECT FROM running)
    RETURNING lead_id
), unqualified AS (
    UPDATE lead SET status = 'UNQUALIFIED', updated_at = now()
    WHERE id = ANY(ARRAY(SELECT lead_id FROM ended)) AND status = 'NEW_LEAD'
), counted AS (
    SELECT count(*) AS ended FROM ended
), progress AS (
    UPDATE mass_end_job
    SET processed = processed + counted.ended, total = GREATEST(total, processed + counted.ended)
    FROM counted
    WHERE id = (SELECT id FROM running)
    RETURNING {JOB_COLUMNS_OF_JOB}
)
SELECT bound.last_id, counted.ended, progress.*
FROM bound CROSS JOIN counted LEFT JOIN progress ON true
"""

_DEADLOCK_RETRIES = 3


class JobGone(Exception):
    """The job row is no longer RUNNING (its team was deleted): the batch changed nothing."""


@dataclass(frozen=True)
class Batch:
    last_id: int | None  # the highest id the batch looked at; None: no active row after after_id
    ended: int
    job: dict[str, Any]


async def try_lock_team(conn: asyncpg.Connection, team_id: int) -> bool:
    db.took_session_state(conn)  # a session lock: released by the pool's reset if not by us
    return await conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", db.LockSpace.MASS_END, team_id)


async def unlock_team(conn: asyncpg.Connection, team_id: int) -> None:
    await conn.execute("SELECT pg_advisory_unlock($1, $2)", db.LockSpace.MASS_END, team_id)


async def job_row(conn: asyncpg.Connection, sql: str, *args: Any) -> dict[str, Any] | None:
    row = await conn.fetchrow(sql, *args)
    return dict(row) if row else None


@contextlib.asynccontextmanager
async def batch_commits_without_flush_wait(conn: asyncpg.Connection) -> AsyncIterator[None]:
    """Batches committed inside do not wait for their WAL to reach disk.

    If the server crashes first, a batch is lost whole (rows and count together) and the resumed
    job redoes it; the job's final COMPLETED commit, made after this, flushes every batch.
    """
    db.took_session_state(conn)
    await conn.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        # A broken connection needs no reset (and the pool resets a released one anyway).
        with contextlib.suppress(asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
            await conn.execute("RESET synchronous_commit")


async def end_batch(conn: asyncpg.Connection, job_id: int, team_id: int, after_id: int, limit: int) -> Batch:
    for attempt in range(_DEADLOCK_RETRIES):
        try:
            row = await conn.fetchrow(END_BATCH, job_id, team_id, after_id, limit)
        except asyncpg.DeadlockDetectedError:
            # Ingestion re-sending this team's leads locks them in another order; try again.
            if attempt == _DEADLOCK_RETRIES - 1:
                raise
            continue
        if row["id"] is None:
            raise JobGone(job_id)
        job = {k: row[k] for k in row.keys() if k not in ("last_id", "ended")}
        return Batch(last_id=row["last_id"], ended=row["ended"], job=job)
    raise AssertionError("unreachable")
