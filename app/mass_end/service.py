"""Mass end: one durable job per team ends the active conversations a filter chooses (every one
when the filter is empty), batch by batch; within a window it can be undone by a REOPEN job.

`end_conversations` records the job and queues its background work in one transaction. The
job (`run_job`, run by any worker) holds the team's advisory lock, so two workers never run one
team's mass end at once, and ends conversations in keyset batches, each committed together with
the job's `processed` and then published on the job's progress channel. A run that dies is
taken up again by another worker; since every batch only changes rows still ACTIVE, nothing is
ended twice and `processed` counts exactly the rows changed. Runs are counted in the job row
(the queue does not count a re-claim as an attempt) and the job FAILS after MASS_END_MAX_RUNS.

Each batch records what it did to every conversation (mass_ended_conversation). `reopen_mass_end`
starts a REOPEN job, a job like the others (same queue task, team lock, batches, progress): it
reopens each conversation still exactly as its END job left it, puts back the lead status that
job changed, and records why it left the others ended. Which conversations an END job takes
(its filter, as given, stored and previewed) is app.mass_end.filtering.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import asyncpg
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from app import broadcast, db, jobs, notifications, records
from app.account_status import service as account_status
from app.audit import service as audit
from app.errors import bad_input, conflict, not_found
from app.leads import service as leads
from app.mass_end import filtering
from app.mass_end import sql
from app.mass_end.models import MassEndKind, MassEndState, ReopenSkipReason
from app.settings import Settings
from app.teams import service as teams
from app.webhooks import payloads
from app.webhooks import service as webhooks
from app.webhooks.models import EventType

log = logging.getLogger(__name__)

RUN_TASK = "mass_end"
AUDIT_ACTION = "MASS_END"
REOPEN_AUDIT_ACTION = "MASS_END_REOPEN"
MAX_SKIPPED_LISTED = 1000
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
    kind: MassEndKind
    conversation_filter: dict[str, Any] | None  # END jobs: the filter as given; None: every conversation
    reopens_id: int | None  # REOPEN jobs: the END job undone
    state: MassEndState
    total: int
    processed: int
    skipped_count: int
    runs: int
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    reopenable_until: datetime | None  # END jobs that can be undone: until when (see is_reopenable)

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

    def is_reopenable(self, now: datetime | None = None) -> bool:
        """A completed END job inside its window, not reopened yet (starting a reopen clears it)."""
        return self.reopenable_until is not None and self.reopenable_until > (now or datetime.now(timezone.utc))

    @property
    def noun(self) -> str:
        return "reopen" if self.kind == MassEndKind.REOPEN else "mass end"

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> MassEndJobRecord:
        scope = row["conversation_filter"]
        if isinstance(scope, str):  # jsonb read through asyncpg without a codec
            scope = json.loads(scope)
        return records.build(cls, row, conversation_filter=scope)


def progress_channel(team_id: int, job_id: int) -> str:
    return broadcast.team_channel(team_id, f"{PROGRESS_TOPIC}:{job_id}")


# --- starting jobs -----------------------------------------------------------------------------


async def end_all_conversations(team_id: int, requested_by_id: int | None) -> MassEndJobRecord:
    """`end_conversations` with the empty filter: every active conversation."""
    return await end_conversations(team_id, requested_by_id, leads.ConversationFilter())


async def end_conversations(team_id: int, requested_by_id: int | None, scope: leads.ConversationFilter) -> MassEndJobRecord:
    """Starts the team's mass end of the conversations `scope` chooses and returns its job at once.

    The job row (with its filter), its queued background work and the audit event commit
    together. Asking again while the same end (same filter) is open returns that job and changes
    nothing; while another job (another filter, or a reopen) is open, it is a CONFLICT.
    """
    shown = filtering.filter_json(scope)
    for _ in range(3):
        async with in_transaction() as conn:
            rows = await conn.execute_query_dict(
                sql.START_JOB, [team_id, requested_by_id, None if shown is None else json.dumps(shown), *scope.params()]
            )
            if rows:
                job = MassEndJobRecord.from_row(rows[0])
                await _queue_run(conn, job.id)
                await audit.record(
                    team_id,
                    requested_by_id,
                    AUDIT_ACTION,
                    {"job_id": job.id, "total": job.total, "filter": shown},
                    connection=conn,
                )
            else:
                rows = await conn.execute_query_dict(sql.OPEN_JOB, [team_id])
                if not rows:
                    continue  # the open job finished between the two statements: start a new one
                open_job = MassEndJobRecord.from_row(rows[0])
                if open_job.kind == MassEndKind.END_CONVERSATIONS and open_job.conversation_filter == shown:
                    return open_job
                raise _open_job_conflict(open_job)
        await account_status.announce(team_id)  # dashboards show the open job
        return job
    raise RuntimeError(f"could not start or find a mass end for team {team_id}")


async def reopen_mass_end(team_id: int, requested_by_id: int | None, job_id: int) -> MassEndJobRecord:
    """Starts undoing END job `job_id` and returns the REOPEN job at once.

    Only a COMPLETED END job of the team, within its window (`reopenable_until`), once (the
    database decides: the insert does nothing otherwise, and the reason is then read). The team's
    one open job rule holds for reopens too. The REOPEN job, its queued work, the END job's closed
    window and the audit event commit together.
    """
    for _ in range(3):
        async with in_transaction() as conn:
            rows = await conn.execute_query_dict(sql.START_REOPEN, [job_id, team_id, requested_by_id])
            if not rows:
                await _refuse_reopen(conn, team_id, job_id)
                continue  # nothing explains it any more (the open job just finished): try again
            await conn.execute_query(sql.CLOSE_REOPEN_WINDOW, [job_id])
            job = MassEndJobRecord.from_row(rows[0])
            await _queue_run(conn, job.id)
            await audit.record(
                team_id,
                requested_by_id,
                REOPEN_AUDIT_ACTION,
                {"job_id": job.id, "reopens_job_id": job_id, "total": job.total},
                connection=conn,
            )
        await account_status.announce(team_id)
        return job
    raise RuntimeError(f"could not start the reopen of mass end {job_id} of team {team_id}")


async def _refuse_reopen(conn, team_id: int, job_id: int) -> None:
    """Raises why END job `job_id` cannot be reopened now; returns if nothing explains it."""
    rows = await conn.execute_query_dict(sql.TEAM_JOB, [job_id, team_id])
    if not rows:
        raise not_found("Mass end job")
    target = MassEndJobRecord.from_row(rows[0])
    if target.kind != MassEndKind.END_CONVERSATIONS:
        raise conflict("This job is itself a reopen; only a mass end can be reopened.")
    if target.state != MassEndState.COMPLETED:
        raise conflict(f"Only a completed mass end can be reopened; this one is {target.state.value}.")
    reopen = await conn.execute_query_dict(sql.REOPEN_OF, [job_id])
    if reopen:
        raise conflict(f"This mass end was already reopened (job {reopen[0]['id']}).", reopenJobId=str(reopen[0]["id"]))
    if not target.is_reopenable():
        raise conflict(
            f"The time to reopen this mass end is over: it finished at {target.finished_at:%Y-%m-%d %H:%M} UTC."
        )
    opened = await conn.execute_query_dict(sql.OPEN_JOB, [team_id])
    if opened:
        raise _open_job_conflict(MassEndJobRecord.from_row(opened[0]))


def _open_job_conflict(open_job: MassEndJobRecord) -> Exception:
    return conflict(
        f"The team's {open_job.noun} (job {open_job.id}) is still {open_job.state.value.lower()}; "
        "start this once it has finished.",
        openJobId=str(open_job.id),
    )


async def jobs_by_ids(team_id: int, job_ids: list[int]) -> dict[int, MassEndJobRecord]:
    rows = await db.connection().execute_query_dict(sql.TEAM_JOBS, [team_id, job_ids])
    return {row["id"]: MassEndJobRecord.from_row(row) for row in rows}


async def reopens_of(team_id: int, end_job_ids: list[int]) -> dict[int, MassEndJobRecord]:
    """The REOPEN job of each of these END jobs that has one, by END job id."""
    rows = await db.connection().execute_query_dict(sql.REOPENS_OF, [team_id, end_job_ids])
    return {row["reopens_id"]: MassEndJobRecord.from_row(row) for row in rows}


async def last_job(team_id: int) -> MassEndJobRecord | None:
    """The team's most recent job of either kind."""
    rows = await db.connection().execute_query_dict(sql.LAST_JOB, [team_id])
    return MassEndJobRecord.from_row(rows[0]) if rows else None


async def skipped(job: MassEndJobRecord, first: int) -> list[tuple[int, ReopenSkipReason]]:
    """A REOPEN job's first `first` conversations left ended: (lead id, why)."""
    if not 0 <= first <= MAX_SKIPPED_LISTED:
        raise bad_input(f"first must be between 0 and {MAX_SKIPPED_LISTED}.", field="first")
    if job.kind != MassEndKind.REOPEN or job.reopens_id is None or first == 0:
        return []
    rows = await db.connection().execute_query_dict(sql.SKIPPED, [job.reopens_id, first])
    return [(row["lead_id"], ReopenSkipReason(row["reopen_outcome"])) for row in rows]


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


async def status_with_open_job(
    team_id: int, *, with_activity: bool
) -> tuple[account_status.AccountStatusRecord, leads.ActivityCounts | None, MassEndJobRecord | None]:
    """account_status.get_status (and its activity counts, with_activity) with open_job, in one
    statement: the status screen shows them together, and every dashboard polls it."""
    row = await account_status.status_row(sql.with_open_job(account_status.status_sql(with_activity=with_activity)), team_id)
    status, activity = account_status.status_from_row(row, with_activity=with_activity)
    job = None
    if row[f"{sql.OPEN_JOB_PREFIX}id"] is not None:
        job = records.build_all(MassEndJobRecord, [row], prefix=sql.OPEN_JOB_PREFIX)[0]
    return status, activity, job


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
            if await _queue_run(conn, row["id"], skip_duplicate=True):
                count += 1
    return count


def _queue_run(conn: BaseDBAsyncClient, job_id: int, *, skip_duplicate: bool = False):
    """Queues the run of mass-end job `job_id`, at most one at a time per job (its dedupe key)."""
    return jobs.enqueue(
        conn, RUN_TASK, {"job_id": job_id}, dedupe_key=f"{RUN_TASK}:{job_id}", skip_duplicate=skip_duplicate
    )


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
        await _fail(job, f"The {job.noun} was started {settings.mass_end_max_runs} times without finishing.")
        return
    run_batches = _reopen_in_batches if job.kind == MassEndKind.REOPEN else _end_in_batches
    try:
        await run_batches(conn, job, settings.mass_end_batch_size, stopping)
        await _complete(job, settings.mass_end_reopen_hours)
    except jobs.RetryRequested:
        raise
    except sql.JobGone:
        log.info("%s %s is no longer running (its team was deleted?); stopping", job.noun, job.id)
    except Exception as exc:  # noqa: BLE001 - bounded by runs: retry, or fail for good
        log.exception("%s %s failed in run %s", job.noun, job.id, job.runs)
        if job.runs >= settings.mass_end_max_runs:
            await _fail(job, f"The {job.noun} failed {job.runs} times; the last error was {type(exc).__name__}.")
            return
        raise jobs.retry_later(settings.mass_end_retry_seconds, f"run {job.runs} failed: {exc!r}") from exc


async def _end_in_batches(conn: asyncpg.Connection, job: MassEndJobRecord, batch_size: int, stopping: asyncio.Event) -> None:
    after_id, swept = 0, False
    scope = filtering.filter_from_json(job.conversation_filter)
    async with sql.batch_commits_without_flush_wait(conn):
        while True:
            if stopping.is_set():
                raise jobs.retry_later(0, "worker stopping; another worker resumes it")
            batch = await sql.end_batch(conn, job.id, job.team_id, after_id, batch_size, scope)
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


async def _reopen_in_batches(conn: asyncpg.Connection, job: MassEndJobRecord, batch_size: int, stopping: asyncio.Event) -> None:
    """Walks what the END job recorded, once, in id order: nothing is added to it any more, and a
    row judged by an earlier run is passed over."""
    assert job.reopens_id is not None
    after_id = 0
    async with sql.batch_commits_without_flush_wait(conn):
        while True:
            if stopping.is_set():
                raise jobs.retry_later(0, "worker stopping; another worker resumes it")
            batch = await sql.reopen_batch(conn, job.id, job.reopens_id, after_id, batch_size)
            if batch.last_id is None:
                break
            if batch.ended:
                await _publish(MassEndJobRecord.from_row(batch.job))
            after_id = batch.last_id


async def _complete(job: MassEndJobRecord, reopen_hours: float) -> None:
    row = await _finish(job.team_id, sql.COMPLETE, job.id, reopen_hours * 3600)
    if row is not None:
        await _publish(MassEndJobRecord.from_row(row))
        await account_status.announce(job.team_id)
        log.info("%s %s of team %s completed: %s conversations", job.noun, job.id, job.team_id, row["processed"])


async def _fail(job: MassEndJobRecord, reason: str) -> None:
    row = await _finish(job.team_id, sql.FAIL, job.id, reason)
    if row is not None:
        log.error("mass end %s of team %s failed: %s", job.id, job.team_id, reason)
        await _publish(MassEndJobRecord.from_row(row))
        await account_status.announce(job.team_id)


async def _finish(team_id: int, statement: str, *params: Any) -> dict[str, Any] | None:
    """COMPLETE or FAIL the job; in the same transaction, the team's Admins are emailed (once per
    job: only the statement that finishes it returns a row) and a completion is announced to
    partners as one mass_end.completed (or mass_end.reopened) summary: the conversations it ended
    or reopened send no events."""
    async with in_transaction() as conn:
        # Users are read first: tables are then locked in the order the test harness's TRUNCATE
        # takes them, so a job finishing during a test's teardown cannot deadlock with it.
        admins = await teams.admins(team_id, connection=conn)
        rows = await conn.execute_query_dict(statement, list(params))
        if not rows:
            return None
        job = MassEndJobRecord.from_row(rows[0])
        if job.state == MassEndState.COMPLETED and job.kind == MassEndKind.REOPEN:
            await webhooks.emit(conn, job.team_id, EventType.MASS_END_REOPENED, [payloads.mass_end_reopened(job)])
        elif job.state == MassEndState.COMPLETED:
            await webhooks.emit(conn, job.team_id, EventType.MASS_END_COMPLETED, [payloads.mass_end_completed(job)])
        for admin in admins:
            await notifications.queue_email(conn, finished_email(admin, job))
    return rows[0]


def finished_email(admin: teams.UserRecord, job: MassEndJobRecord) -> notifications.Email:
    if job.kind == MassEndKind.REOPEN:
        return _reopen_finished_email(admin, job)
    if job.state == MassEndState.COMPLETED:
        subject = f"Mass end completed: {job.processed} conversations ended"
        what = f"The mass end of your team's conversations completed: {job.processed} conversations were ended."
    else:
        subject = "Mass end failed"
        what = (
            f"The mass end of your team's conversations failed after ending {job.processed} of them: {job.error}\n"
            "The conversations it did not reach are still active; you can start a mass end again."
        )
    return _job_email(admin, job, subject, what)


def _job_email(admin: teams.UserRecord, job: MassEndJobRecord, subject: str, what: str) -> notifications.Email:
    body = f"Hi {admin.name},\n\n{what}\n\nRequested at {job.created_at:%Y-%m-%d %H:%M} UTC (job {job.id}).\n\n-- Switchboard\n"
    return notifications.Email(to=admin.email, subject=subject, body=body)


async def _publish(job: MassEndJobRecord) -> None:
    await broadcast.publish(progress_channel(job.team_id, job.id), records.to_payload(job))


def _reopen_finished_email(admin: teams.UserRecord, job: MassEndJobRecord) -> notifications.Email:
    reopened = job.processed - job.skipped_count
    if job.state == MassEndState.COMPLETED:
        subject = f"Mass end undone: {reopened} conversations reopened"
        what = (
            f"The undo of mass end {job.reopens_id} completed: {reopened} conversations were reopened "
            f"and {job.skipped_count} left ended because something happened to them since (the dashboard lists them)."
        )
    else:
        subject = "Undoing a mass end failed"
        what = (
            f"The undo of mass end {job.reopens_id} failed after reopening {reopened} conversations: {job.error}\n"
            "The conversations it did not reach are still ended."
        )
    return _job_email(admin, job, subject, what)
