"""Mass end: one durable job per team ends every active conversation, batch by batch.

`end_all_conversations` records the job and queues its background work in one transaction. The
job (`run_job`, run by any worker) holds the team's advisory lock, so two workers never run one
team's mass end at once, and ends conversations in keyset batches, each committed together with
the job's `processed` and then published on the job's progress channel. A run that dies is
taken up again by another worker; since every batch only changes rows still ACTIVE, nothing is
ended twice and `processed` counts exactly the rows changed. Runs are counted in the job row
(the queue does not count a re-claim as an attempt) and the job FAILS after MASS_END_MAX_RUNS.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import asyncpg
from tortoise.transactions import in_transaction

from app import broadcast, db, jobs, notifications, records
from app.account_status import service as account_status
from app.audit import service as audit
from app.errors import not_found
from app.mass_end import sql
from app.mass_end.models import MassEndState
from app.settings import Settings
from app.teams import service as teams
from app.webhooks import payloads
from app.webhooks import service as webhooks
from app.webhooks.models import EventType

log = logging.getLogger(__name__)

RUN_TASK = "mass_end"
AUDIT_ACTION = "MASS_END"
PROGRESS_TOPIC = "mass_end_progress"
# A subscriber re-reads the job this often when no event came: events can be lost (a worker
# killed between its commit and its publish, a broker restart) and a stream must still end.
PROGRESS_POLL_SECONDS = 5.0

_FINISHED = (MassEndState.COMPLETED, MassEndState.FAILED)
_STATE_ORDER = {MassEndState.QUEUED: 0, MassEndState.RUNNING: 1, MassEndState.COMPLETED: 2, MassEndState.FAILED: 2}


@dataclass(frozen=True)
class MassEndJobRecord:
    id: int
    team_id: int
    requested_by_id: int | None
    state: MassEndState
    total: int
    processed: int
    runs: int
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def finished(self) -> bool:
        return self.state in _FINISHED

    def estimated_seconds_left(self, now: datetime | None = None) -> float | None:
        """From the rate so far; None until the first batch has committed, 0 once finished."""
        if self.finished:
            return 0.0
        if self.state != MassEndState.RUNNING or not self.processed or self.started_at is None:
            return None
        elapsed = ((now or datetime.now(timezone.utc)) - self.started_at).total_seconds()
        return max(self.total - self.processed, 0) * max(elapsed, 0.0) / self.processed

    def is_after(self, other: MassEndJobRecord) -> bool:
        """Whether this snapshot is later than `other` (processed and state only move forward)."""
        return (self.processed, _STATE_ORDER[self.state]) > (other.processed, _STATE_ORDER[other.state])

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> MassEndJobRecord:
        return records.build(cls, row)


def progress_channel(team_id: int, job_id: int) -> str:
    return broadcast.team_channel(team_id, f"{PROGRESS_TOPIC}:{job_id}")


async def end_all_conversations(team_id: int, requested_by_id: int | None) -> MassEndJobRecord:
    """Starts the team's mass end and returns its job at once; if one is open, returns that one.

    The job row, its queued background work and the audit event commit together. Only a started
    job is audited: asking again while one runs changes nothing.
    """
    for _ in range(3):
        async with in_transaction() as conn:
            rows = await conn.execute_query_dict(sql.START_JOB, [team_id, requested_by_id])
            if rows:
                job = MassEndJobRecord.from_row(rows[0])
                await jobs.enqueue(conn, RUN_TASK, {"job_id": job.id}, dedupe_key=_dedupe_key(job.id))
                await audit.record(
                    team_id, requested_by_id, AUDIT_ACTION, {"job_id": job.id, "total": job.total}, connection=conn
                )
            else:
                rows = await conn.execute_query_dict(sql.OPEN_JOB, [team_id])
                if not rows:
                    continue  # the open job finished between the two statements: start a new one
                return MassEndJobRecord.from_row(rows[0])
        await account_status.announce(team_id)  # dashboards show the open job
        return job
    raise RuntimeError(f"could not start or find a mass end for team {team_id}")


async def get_job(team_id: int, job_id: int) -> MassEndJobRecord:
    """A job of the team; another team's job is NOT_FOUND, never a leak."""
    rows = await db.connection().execute_query_dict(sql.TEAM_JOB, [job_id, team_id])
    if not rows:
        raise not_found("Mass end job")
    return MassEndJobRecord.from_row(rows[0])


async def open_job(team_id: int) -> MassEndJobRecord | None:
    """The team's queued or running job, if any."""
    rows = await db.connection().execute_query_dict(sql.OPEN_JOB, [team_id])
    return MassEndJobRecord.from_row(rows[0]) if rows else None


async def watch_progress(team_id: int, job_id: int) -> AsyncIterator[MassEndJobRecord]:
    """The job now, then after each committed batch, ending with its final state.

    Subscribes before reading the snapshot, so no batch committed in between is missed; events
    older than what was already yielded are skipped. After the event bus lost events, the job is
    read and yielded again, whatever it says.
    """
    async with broadcast.bus().subscribe(progress_channel(team_id, job_id)) as payloads:
        events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        async def pump() -> None:
            async for payload in payloads:
                await events.put(payload)

        pump_task = asyncio.create_task(pump())
        try:
            current = await get_job(team_id, job_id)
            yield current
            while not current.finished:
                try:
                    payload = await asyncio.wait_for(events.get(), PROGRESS_POLL_SECONDS)
                except asyncio.TimeoutError:
                    latest = await get_job(team_id, job_id)
                else:
                    if payload is broadcast.RESYNC:
                        current = await get_job(team_id, job_id)
                        yield current
                        continue
                    latest = records.from_payload(MassEndJobRecord, payload)
                if latest.is_after(current):
                    current = latest
                    yield current
        finally:
            pump_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump_task


@jobs.on_worker_start
async def requeue_open_jobs() -> int:
    """Queues open jobs whose queued work was lost (a queue job can be dropped when the database
    fails under a worker); jobs still queued or running are left alone (dedupe key)."""
    count = 0
    for row in await db.connection().execute_query_dict(sql.OPEN_JOB_IDS):
        async with in_transaction() as conn:
            if await jobs.enqueue(conn, RUN_TASK, {"job_id": row["id"]}, dedupe_key=_dedupe_key(row["id"]), skip_duplicate=True):
                count += 1
    return count


def _dedupe_key(job_id: int) -> str:
    return f"{RUN_TASK}:{job_id}"


# --- the job ---------------------------------------------------------------------------------


@jobs.task(RUN_TASK)
async def _run(payload: dict[str, Any], ctx: jobs.JobContext) -> None:
    await run_job(payload["job_id"], ctx.settings, ctx.stopping)


async def run_job(job_id: int, settings: Settings, stopping: asyncio.Event | None = None) -> None:
    """Runs (or resumes) one mass end to its end; asks the queue to retry it later when the team's
    lock is held elsewhere, after an error, or when this worker is stopping."""
    stopping = stopping or asyncio.Event()
    async with db.connection().acquire_connection() as conn:
        row = await sql.job_row(conn, sql.LOAD_JOB, job_id)
        if row is None or MassEndJobRecord.from_row(row).finished:
            return
        team_id = row["team_id"]
        if not await sql.try_lock_team(conn, team_id):
            raise jobs.retry_later(settings.mass_end_retry_seconds, f"team {team_id}'s mass end runs elsewhere")
        try:
            await _run_locked(conn, job_id, settings, stopping)
        finally:
            with contextlib.suppress(Exception):  # a broken connection has dropped the lock anyway
                await sql.unlock_team(conn, team_id)


async def _run_locked(conn: asyncpg.Connection, job_id: int, settings: Settings, stopping: asyncio.Event) -> None:
    row = await sql.job_row(conn, sql.START_RUN, job_id)
    if row is None:
        return  # finished while we waited for the lock
    job = MassEndJobRecord.from_row(row)
    if job.runs > settings.mass_end_max_runs:
        await _fail(job, f"The mass end was started {settings.mass_end_max_runs} times without finishing.")
        return
    try:
        await _end_in_batches(conn, job, settings.mass_end_batch_size, stopping)
    except jobs.RetryRequested:
        raise
    except sql.JobGone:
        log.info("mass end %s is no longer running (its team was deleted?); stopping", job.id)
    except Exception as exc:  # noqa: BLE001 - bounded by runs: retry, or fail for good
        log.exception("mass end %s failed in run %s", job.id, job.runs)
        if job.runs >= settings.mass_end_max_runs:
            await _fail(job, f"The mass end failed {job.runs} times; the last error was {type(exc).__name__}.")
            return
        raise jobs.retry_later(settings.mass_end_retry_seconds, f"run {job.runs} failed: {exc!r}") from exc


async def _end_in_batches(conn: asyncpg.Connection, job: MassEndJobRecord, batch_size: int, stopping: asyncio.Event) -> None:
    after_id, swept = 0, False
    async with sql.batch_commits_without_flush_wait(conn):
        while True:
            if stopping.is_set():
                raise jobs.retry_later(0, "worker stopping; another worker resumes it")
            batch = await sql.end_batch(conn, job.id, job.team_id, after_id, batch_size)
            if batch.ended:
                await _publish(MassEndJobRecord.from_row(batch.job))
            if batch.last_id is not None:
                after_id = batch.last_id
                continue
            if swept or after_id == 0:
                break
            # One more pass from the start: a conversation whose insert committed after this
            # pass went by its (lower) id is still ended.
            after_id, swept = 0, True
    row = await _finish(job.team_id, sql.COMPLETE, job.id)
    if row is not None:
        await _publish(MassEndJobRecord.from_row(row))
        await account_status.announce(job.team_id)
        log.info("mass end %s of team %s completed: %s conversations", job.id, job.team_id, row["processed"])


async def _fail(job: MassEndJobRecord, reason: str) -> None:
    row = await _finish(job.team_id, sql.FAIL, job.id, reason)
    if row is not None:
        log.error("mass end %s of team %s failed: %s", job.id, job.team_id, reason)
        await _publish(MassEndJobRecord.from_row(row))
        await account_status.announce(job.team_id)


async def _finish(team_id: int, statement: str, *params: Any) -> dict[str, Any] | None:
    """COMPLETE or FAIL the job; in the same transaction, the team's Admins are emailed (once per
    job: only the statement that finishes it returns a row) and a completion is announced to
    partners as one mass_end.completed summary (the conversations it ended send no events)."""
    async with in_transaction() as conn:
        # Users are read first: tables are then locked in the order the test harness's TRUNCATE
        # takes them, so a job finishing during a test's teardown cannot deadlock with it.
        admins = await teams.admins(team_id, connection=conn)
        rows = await conn.execute_query_dict(statement, list(params))
        if not rows:
            return None
        job = MassEndJobRecord.from_row(rows[0])
        if job.state == MassEndState.COMPLETED:
            await webhooks.emit(conn, job.team_id, EventType.MASS_END_COMPLETED, [payloads.mass_end_completed(job)])
        for admin in admins:
            await notifications.queue_email(conn, finished_email(admin, job))
    return rows[0]


def finished_email(admin: teams.UserRecord, job: MassEndJobRecord) -> notifications.Email:
    if job.state == MassEndState.COMPLETED:
        subject = f"Mass end completed: {job.processed} conversations ended"
        what = f"The mass end of your team's conversations completed: {job.processed} conversations were ended."
    else:
        subject = "Mass end failed"
        what = (
            f"The mass end of your team's conversations failed after ending {job.processed} of them: {job.error}\n"
            "The conversations it did not reach are still active; you can start a mass end again."
        )
    body = f"Hi {admin.name},\n\n{what}\n\nRequested at {job.created_at:%Y-%m-%d %H:%M} UTC (job {job.id}).\n\n-- Switchboard\n"
    return notifications.Email(to=admin.email, subject=subject, body=body)


async def _publish(job: MassEndJobRecord) -> None:
    await broadcast.publish(progress_channel(job.team_id, job.id), records.to_payload(job))
