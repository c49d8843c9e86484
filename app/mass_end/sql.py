"""The mass end's SQL: the job row's transitions, the batch that ends conversations and the batch
that reopens them.

Run on one asyncpg connection taken from the ORM's pool for the whole job: it holds the team's
session advisory lock, and each batch is one statement (its own short transaction) on it.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg

from app import db
from app.leads import service as leads


JOB_COLUMNS = (
    "id, team_id, requested_by_id, kind, conversation_filter, reopens_id, state, total, processed, skipped_count, "
    "runs, error, created_at, started_at, finished_at, reopenable_until"
)
JOB_COLUMNS_OF_JOB = ", ".join(f"mass_end_job.{column.strip()}" for column in JOB_COLUMNS.split(","))

# One statement inserts the job, or finds that the team has one open already: the partial unique
# index mass_end_job_one_open_per_team makes a concurrent second insert wait for the first and
# then do nothing. `total` is the team's active conversations matching the filter ($4..$6) at
# this moment (read here, in the same statement, so that the count and the job agree).
START_JOB = f"""
INSERT INTO mass_end_job (team_id, requested_by_id, kind, conversation_filter, state, total, processed,
                          skipped_count, runs, created_at)
SELECT $1, $2, 'END_CONVERSATIONS', $3::jsonb, 'QUEUED', count(*), 0, 0, 0, now()
FROM conversation c
WHERE c.team_id = $1 AND c.state = 'ACTIVE' AND {leads.matches_sql(4)}
ON CONFLICT (team_id) WHERE state IN ('QUEUED', 'RUNNING') DO NOTHING
RETURNING {JOB_COLUMNS}
"""

# The undo of END job $1 of team $2, requested by $3: only a COMPLETED END job still within its
# window. Nothing is inserted when the team has an open job (the partial unique index) or the END
# job has a REOPEN already (mass_end_job_reopened_once): the caller then asks why. `total` is what
# the END job recorded ending.
START_REOPEN = f"""
INSERT INTO mass_end_job (team_id, requested_by_id, kind, reopens_id, state, total, processed, skipped_count,
                          runs, created_at)
SELECT e.team_id, $3, 'REOPEN', e.id, 'QUEUED',
       (SELECT count(*) FROM mass_ended_conversation r WHERE r.job_id = e.id), 0, 0, 0, now()
FROM mass_end_job e
WHERE e.id = $1 AND e.team_id = $2 AND e.kind = 'END_CONVERSATIONS' AND e.state = 'COMPLETED'
  AND e.reopenable_until > now()
ON CONFLICT DO NOTHING
RETURNING {JOB_COLUMNS}
"""

# In the transaction that started its REOPEN: the END job can no longer be undone.
CLOSE_REOPEN_WINDOW = "UPDATE mass_end_job SET reopenable_until = NULL WHERE id = $1"

REOPEN_OF = f"SELECT {JOB_COLUMNS} FROM mass_end_job WHERE reopens_id = $1"

REOPENS_OF = f"SELECT {JOB_COLUMNS} FROM mass_end_job WHERE team_id = $1 AND reopens_id = ANY($2::int[])"

LAST_JOB = f"SELECT {JOB_COLUMNS} FROM mass_end_job WHERE team_id = $1 ORDER BY id DESC LIMIT 1"

# The conversations a reopen left ended, in the order it met them.
SKIPPED = """
SELECT c.lead_id, r.reopen_outcome
FROM mass_ended_conversation r JOIN conversation c ON c.id = r.conversation_id
WHERE r.job_id = $1 AND r.reopen_outcome IS NOT NULL AND r.reopen_outcome <> 'REOPENED'
ORDER BY r.id LIMIT $2
"""

OPEN_JOB = f"""
SELECT {JOB_COLUMNS} FROM mass_end_job WHERE team_id = $1 AND state IN ('QUEUED', 'RUNNING')
"""

# A statement reading one row per team ($1: the team; a column team_id) with the team's open job
# beside it, its columns prefixed (all null: none). At most one job is open per team
# (mass_end_job_one_open_per_team), so the row is never repeated.
OPEN_JOB_PREFIX = "open_job__"


@functools.cache  # the status screen's statement, asked on every poll
def with_open_job(team_sql: str) -> str:
    columns = ", ".join(f"j.{column.strip()} AS {OPEN_JOB_PREFIX}{column.strip()}" for column in JOB_COLUMNS.split(","))
    return (
        f"SELECT t.*, {columns} FROM ({team_sql}) t "
        "LEFT JOIN mass_end_job j ON j.team_id = t.team_id AND j.state IN ('QUEUED', 'RUNNING')"
    )


OPEN_JOB_IDS = "SELECT id FROM mass_end_job WHERE state IN ('QUEUED', 'RUNNING') ORDER BY id"

LOAD_JOB = f"SELECT {JOB_COLUMNS} FROM mass_end_job WHERE id = $1"

TEAM_JOB = f"SELECT {JOB_COLUMNS} FROM mass_end_job WHERE id = $1 AND team_id = $2"

TEAM_JOBS = f"SELECT {JOB_COLUMNS} FROM mass_end_job WHERE team_id = $1 AND id = ANY($2::int[])"

START_RUN = f"""
UPDATE mass_end_job
SET state = 'RUNNING', runs = runs + 1, started_at = COALESCE(started_at, now())
WHERE id = $1 AND state IN ('QUEUED', 'RUNNING')
RETURNING {JOB_COLUMNS}
"""

# The final total is the number actually ended (conversations started during the job included).
# An END job can be undone from now on for $2 seconds (fixed here: a later change of the setting
# applies to the jobs that complete after it).
COMPLETE = f"""
UPDATE mass_end_job SET state = 'COMPLETED', total = processed, finished_at = now(),
    reopenable_until = CASE WHEN kind = 'END_CONVERSATIONS' THEN now() + make_interval(secs => $2) END
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
# conversations after `after_id` in id order, those of them matching the job's filter ($5..$7)
# ended, their leads, what was done to each (for an undo), and the job's count commit together.
#  - Keyset, on the partial index conversation_active_by_team: `bound` reads the batch's last id
#    from the index alone, and the UPDATE takes the (team_id, id) range up to it. The row
#    comparisons can only be served by that index (never a walk of the primary key across other
#    teams' rows), and no batch re-walks rows that earlier batches ended. A filter narrows what
#    the UPDATE ends inside the range, not the range: a scoped job walks the team's active
#    conversations once.
#  - `state = 'ACTIVE'` in the UPDATE makes a row that is already ended (a concurrent run, a
#    re-run after a crash) change nothing and count nothing: `processed` = rows changed.
#  - Nothing changes unless the job is still RUNNING (`running`): then the statement returns no
#    job row and the run stops.
#  - No FOR UPDATE: the UPDATE locks the rows itself; a separate lock step writes every row twice.
#  - `= ANY(ARRAY(...))` keeps the lead update an index lookup per row, whatever the estimate.
#  - `recorded` keeps, per conversation, the ended_at set here, its newest message, and the lead's
#    status before and after: a reopen restores exactly that where nothing moved since. A status
#    read here that a concurrent change made stale only makes the reopen skip that conversation.
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
    UPDATE conversation c
    SET state = 'ENDED', end_reason = 'MASS_END', ended_at = now(), assistant_may_reply = false
    WHERE c.team_id = $2 AND c.state = 'ACTIVE'
      AND (c.team_id, c.id) > ($2, $3) AND (c.team_id, c.id) <= ($2, (SELECT last_id FROM bound))
      AND EXISTS (SELECT FROM running)
      AND {leads.matches_sql(5)}
    RETURNING c.id, c.lead_id, c.ended_at, (SELECT l.status FROM lead l WHERE l.id = c.lead_id) AS lead_status
), unqualified AS (
    UPDATE lead SET status = 'UNQUALIFIED', updated_at = now()
    WHERE id = ANY(ARRAY(SELECT lead_id FROM ended)) AND status = 'NEW_LEAD'
    RETURNING id
), recorded AS (
    INSERT INTO mass_ended_conversation
        (job_id, conversation_id, ended_at, last_message_id, lead_status_before, lead_status_after)
    SELECT $1, e.id, e.ended_at,
           (SELECT max(m.id) FROM message m WHERE m.conversation_id = e.id),
           CASE WHEN u.id IS NULL THEN e.lead_status ELSE 'NEW_LEAD' END,
           CASE WHEN u.id IS NULL THEN e.lead_status ELSE 'UNQUALIFIED' END
    FROM ended e LEFT JOIN unqualified u ON u.id = e.lead_id
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

# A reopen batch is two statements in one transaction. First the next `limit` conversations the
# END job ended (and this job has not judged) are locked with their leads: a lead's message locks
# its conversation before it is stored, so any message that got there first has committed, and
# any later one waits for this batch and then finds the conversation ACTIVE (and is answered).
REOPEN_LOCK = """
SELECT r.id FROM mass_ended_conversation r
JOIN conversation c ON c.id = r.conversation_id
JOIN lead l ON l.id = c.lead_id
WHERE r.job_id = $1 AND r.id > $2 AND r.reopen_outcome IS NULL
ORDER BY r.id
LIMIT $3
FOR UPDATE OF c, l
"""

# Then, in a statement whose snapshot sees all that committed before the locks, each is judged and
# only a conversation still exactly as the END job left it is reopened (its lead's status put
# back where the END job changed it); every judgement is recorded and counted with the batch.
# The UPDATEs restate the conditions they rely on: they only ever match rows as the job left them.
REOPEN_BATCH = f"""
WITH running AS (
    SELECT id FROM mass_end_job WHERE id = $1 AND state = 'RUNNING'
), judged AS (
    SELECT r.id, r.conversation_id, c.lead_id, r.ended_at, r.lead_status_before, r.lead_status_after,
        CASE
            WHEN c.state <> 'ENDED' OR c.end_reason IS DISTINCT FROM 'MASS_END' OR c.ended_at IS DISTINCT FROM r.ended_at
                 OR EXISTS (SELECT FROM conversation n WHERE n.lead_id = c.lead_id AND n.id > c.id)
                THEN 'CONVERSATION_CHANGED'
            WHEN EXISTS (SELECT FROM message m WHERE m.conversation_id = c.id AND m.id > COALESCE(r.last_message_id, 0))
                THEN 'LEAD_WROTE'
            WHEN l.status <> r.lead_status_after
                THEN 'LEAD_STATUS_CHANGED'
            ELSE 'REOPENED'
        END AS outcome
    FROM mass_ended_conversation r
    JOIN conversation c ON c.id = r.conversation_id
    JOIN lead l ON l.id = c.lead_id
    WHERE r.id = ANY($2::bigint[]) AND r.reopen_outcome IS NULL AND EXISTS (SELECT FROM running)
), reopened AS (
    UPDATE conversation c
    SET state = 'ACTIVE', end_reason = NULL, ended_at = NULL, assistant_may_reply = true
    FROM judged j
    WHERE c.id = j.conversation_id AND j.outcome = 'REOPENED'
      AND c.state = 'ENDED' AND c.end_reason = 'MASS_END' AND c.ended_at = j.ended_at
    RETURNING c.id
), restored AS (
    UPDATE lead l SET status = j.lead_status_before, updated_at = now()
    FROM judged j
    WHERE l.id = j.lead_id AND j.outcome = 'REOPENED'
      AND j.lead_status_before <> j.lead_status_after AND l.status = j.lead_status_after
    RETURNING l.id
), marked AS (
    UPDATE mass_ended_conversation r SET reopen_outcome = j.outcome FROM judged j WHERE r.id = j.id
    RETURNING r.id
), counted AS (
    SELECT count(*) AS handled, count(*) FILTER (WHERE outcome <> 'REOPENED') AS skipped FROM judged
), progress AS (
    UPDATE mass_end_job
    SET processed = processed + counted.handled, skipped_count = skipped_count + counted.skipped
    FROM counted
    WHERE id = (SELECT id FROM running)
    RETURNING {JOB_COLUMNS_OF_JOB}
)
SELECT counted.handled, progress.*
FROM counted LEFT JOIN progress ON true
"""

_DEADLOCK_RETRIES = 3
R = TypeVar("R")


class JobGone(Exception):
    """The job row is no longer RUNNING (its team was deleted): the batch changed nothing."""


@dataclass(frozen=True)
class Batch:
    last_id: int | None  # the highest id the batch looked at; None: no row left after after_id
    ended: int  # END: conversations ended; REOPEN: conversations judged (reopened or skipped)
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


async def _retrying_deadlocks(attempt: Callable[[], Awaitable[R]]) -> R:
    """Runs one batch; again if PostgreSQL chose it as a deadlock's victim (ingestion re-sending
    a team's leads locks them in external-id order, a batch in its own): it changed nothing."""
    for tries_left in range(_DEADLOCK_RETRIES - 1, -1, -1):
        try:
            return await attempt()
        except asyncpg.DeadlockDetectedError:
            if not tries_left:
                raise
    raise AssertionError("unreachable")


async def end_batch(
    conn: asyncpg.Connection, job_id: int, team_id: int, after_id: int, limit: int, scope: leads.ConversationFilter
) -> Batch:
    row = await _retrying_deadlocks(lambda: conn.fetchrow(END_BATCH, job_id, team_id, after_id, limit, *scope.params()))
    if row["id"] is None:
        raise JobGone(job_id)
    job = {k: row[k] for k in row.keys() if k not in ("last_id", "ended")}
    return Batch(last_id=row["last_id"], ended=row["ended"], job=job)


async def reopen_batch(conn: asyncpg.Connection, job_id: int, end_job_id: int, after_id: int, limit: int) -> Batch:
    """Judges (and where it may, reopens) the next conversations END job `end_job_id` ended."""

    async def attempt() -> tuple[list[int], asyncpg.Record | None]:
        async with conn.transaction():
            ids = [r["id"] for r in await conn.fetch(REOPEN_LOCK, end_job_id, after_id, limit)]
            return ids, (await conn.fetchrow(REOPEN_BATCH, job_id, ids) if ids else None)

    ids, row = await _retrying_deadlocks(attempt)
    if row is None:
        return Batch(last_id=None, ended=0, job={})
    if row["id"] is None:
        raise JobGone(job_id)
    job = {k: row[k] for k in row.keys() if k != "handled"}
    return Batch(last_id=max(ids), ended=row["handled"], job=job)
