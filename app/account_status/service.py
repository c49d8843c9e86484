"""Account Status: the team-wide kill switch (pause, unpause, timed pauses and their reminders)
and the gate lead creation passes.

The guarantee: a lead is only created by a transaction that holds the team's lead gate (a
PostgreSQL advisory lock, shared) and read the team ACTIVE after taking it. Pausing takes the
gate exclusively, which waits for every such transaction to commit, and only then stamps
paused_at (clock_timestamp) and commits. Hence every lead ever created for a team was written
before its pause's paused_at, and a transaction that reaches the gate after a pause committed
reads PAUSED and creates nothing.

Why an advisory lock and not the team row (FOR SHARE against FOR UPDATE): new row-level sharers
join existing ones without queueing, so under steady ingestion a pause starved (seen here: 8
overlapping ingestion loops held it off indefinitely). The lock manager queues a new shared
request behind a waiting exclusive one, so a pause waits at most for the batches already in flight.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from app import broadcast, db, jobs, notifications, records
from app.audit import service as audit
from app.errors import AppError, ErrorCode, bad_input, not_found
# The reading module only (leads' ingestion imports this service).
from app.leads.reading import ACTIVITY_COUNTS_SQL, ActivityCounts, activity_from_row
from app.teams import service as teams
from app.teams.models import Role
from app.validation import aware_datetime, clean_text
from app.account_status.models import AccountState
from app.webhooks import payloads
from app.webhooks import service as webhooks
from app.webhooks.models import EventType

CHANGED_TOPIC = "account_status_changed"
MAX_REASON = 500
MAX_PAUSE = timedelta(days=90)
RESUME_TASK = "account_resume"
REMINDER_TASK = "account_pause_reminder"
REMINDED_ROLES = [Role.ADMIN, Role.TEAM_LEADER]
# A timer job that fails (the database briefly away) is retried with backoff, about four minutes in all.
TIMER_RETRIES = 8


@dataclass(frozen=True)
class AccountStatusRecord:
    team_id: int
    state: AccountState
    paused_at: datetime | None
    paused_by_id: int | None
    pause_reason: str | None
    resumes_at: datetime | None


@dataclass(frozen=True)
class LeadCreationGate:
    default_rep_id: int | None


_STATUS_COLUMNS = "id AS team_id, state, paused_at, paused_by_id, pause_reason, resumes_at"


def _status(row: dict) -> AccountStatusRecord:
    return records.build(AccountStatusRecord, row)


_STATUS = f"SELECT {_STATUS_COLUMNS} FROM team WHERE id = $1"
# The status screen shows the status with what a mass end would touch: one statement, not two.
_STATUS_AND_ACTIVITY = f"SELECT {_STATUS_COLUMNS}, activity.* FROM team CROSS JOIN ({ACTIVITY_COUNTS_SQL}) activity WHERE id = $1"


def status_sql(*, with_activity: bool) -> str:
    """The statement get_status runs ($1: the team), or get_status_and_activity's: for a read that
    adds to it (the status screen's open mass end), run by status_row and read by status_from_row."""
    return _STATUS_AND_ACTIVITY if with_activity else _STATUS


async def status_row(sql: str, team_id: int) -> Any:
    """The team's row of a status statement (status_sql, or one built on it); NOT_FOUND without one."""
    rows = await db.fetch_rows(sql, [team_id])
    if not rows:
        raise not_found("Team")
    return rows[0]


def status_from_row(row: Any, *, with_activity: bool) -> tuple[AccountStatusRecord, ActivityCounts | None]:
    return _status(row), activity_from_row(row) if with_activity else None


async def get_status(team_id: int) -> AccountStatusRecord:
    return _status(await status_row(_STATUS, team_id))


async def get_status_and_activity(team_id: int) -> tuple[AccountStatusRecord, ActivityCounts]:
    """get_status and leads' activity_counts, read together."""
    row = await status_row(_STATUS_AND_ACTIVITY, team_id)
    return _status(row), activity_from_row(row)


async def pause(
    team_id: int, actor_id: int, reason: str | None, until: datetime | None = None, *, remind_every: timedelta
) -> AccountStatusRecord:
    """Pauses the team until `until` (it then resumes by itself), or until someone unpauses it.

    A paused team's schedule is all a second pause changes: the same `until` (or none again) is a
    no-op that returns the state; another one replaces it (the old timer then does nothing), and
    the pauser, reason and pausedAt stay. While paused, the team's Admins and Team Leaders are
    reminded by email every `remind_every`, counted from the pause.
    """
    reason = clean_text(reason, field="reason", max_length=MAX_REASON)
    until = aware_datetime(until)
    async with in_transaction() as conn:
        if until is not None:
            await _check_resume_time(conn, until)
        current = await _lock_team(conn, team_id)
        if current.state == AccountState.PAUSED:
            if current.resumes_at == until:
                return current
            changed = await _reschedule(conn, current, actor_id, until)
        else:
            rows = await conn.execute_query_dict(
                f"""
                WITH now AS (SELECT clock_timestamp() AS at)
                UPDATE team SET state = 'PAUSED', paused_at = now.at, paused_by_id = $2, pause_reason = $3,
                    resumes_at = $4, pause_reminder_at = now.at + make_interval(secs => $5)
                FROM now WHERE id = $1 AND state = 'ACTIVE'
                RETURNING {_STATUS_COLUMNS}, pause_reminder_at
                """,
                [team_id, actor_id, reason, until, remind_every.total_seconds()],
            )
            changed = _status(rows[0])
            details: dict[str, Any] = {"reason": reason}
            if until is not None:
                details["resumes_at"] = until.isoformat()
            await audit.record(team_id, actor_id, "ACCOUNT_PAUSED", details, connection=conn)
            await webhooks.emit(conn, team_id, EventType.ACCOUNT_PAUSED, [payloads.account_status(changed, actor_id)])
            await _queue_reminder(conn, changed, rows[0]["pause_reminder_at"])
        if changed.resumes_at is not None:
            await _queue_resume(conn, changed)
    await _publish(changed)
    return changed


async def _check_resume_time(conn: BaseDBAsyncClient, until: datetime) -> None:
    # The database's clock: the one the resume timer runs on.
    now = (await conn.execute_query_dict("SELECT clock_timestamp() AS now"))[0]["now"]
    if until <= now:
        raise bad_input("until must be in the future.", field="until")
    if until > now + MAX_PAUSE:
        raise bad_input(f"until must be at most {MAX_PAUSE.days} days ahead.", field="until")


async def _take_lead_gate(conn: BaseDBAsyncClient, team_id: int) -> None:
    # Before the team row: waits for lead-creating transactions in flight, so a pause's
    # clock_timestamp() is taken after the last of them committed.
    await conn.execute_query("SELECT pg_advisory_xact_lock($1, $2)", [db.LockSpace.TEAM_LEAD_GATE, team_id])


async def _lock_team(conn: BaseDBAsyncClient, team_id: int) -> AccountStatusRecord:
    await _take_lead_gate(conn, team_id)
    rows = await conn.execute_query_dict(f"SELECT {_STATUS_COLUMNS} FROM team WHERE id = $1 FOR UPDATE", [team_id])
    if not rows:
        raise not_found("Team")
    return _status(rows[0])


async def _reschedule(
    conn: BaseDBAsyncClient, current: AccountStatusRecord, actor_id: int, until: datetime | None
) -> AccountStatusRecord:
    rows = await conn.execute_query_dict(
        f"UPDATE team SET resumes_at = $2 WHERE id = $1 AND state = 'PAUSED' RETURNING {_STATUS_COLUMNS}",
        [current.team_id, until],
    )
    changed = _status(rows[0])
    details = {"resumes_at": _iso(until), "previous_resumes_at": _iso(current.resumes_at)}
    await audit.record(current.team_id, actor_id, "ACCOUNT_PAUSE_RESCHEDULED", details, connection=conn)
    return changed


async def unpause(team_id: int, actor_id: int) -> AccountStatusRecord:
    """Unpauses the team; unpausing an active team changes nothing and returns its state."""
    return await _unpause(team_id, actor_id, {}) or await get_status(team_id)


async def resume_when_due(team_id: int, paused_at: datetime, resumes_at: datetime) -> AccountStatusRecord | None:
    """A timed pause's end, run by its timer: unpauses the team just as `unpause` does, by no
    user, if it is still the pause of `paused_at` scheduled to end at `resumes_at` and that time
    has come on the database's clock. Otherwise it does nothing (None): a manual unpause, a new
    pause or a new schedule since then, or a call before the time."""
    return await _unpause(
        team_id,
        None,
        {"scheduled": True, "resumes_at": resumes_at.isoformat()},
        only_if="paused_at = $2 AND resumes_at = $3 AND resumes_at <= clock_timestamp()",
        params=[paused_at, resumes_at],
    )


async def _unpause(
    team_id: int, actor_id: int | None, audit_details: dict, *, only_if: str = "TRUE", params: list | None = None
) -> AccountStatusRecord | None:
    """Unpauses the team if it is paused and `only_if` holds, in one conditional UPDATE: of two
    racing unpauses (or an unpause and a timer) exactly one changes the row, and only it audits,
    emits and publishes. None when nothing changed."""
    async with in_transaction() as conn:
        await _take_lead_gate(conn, team_id)
        rows = await conn.execute_query_dict(
            f"""
            UPDATE team SET state = 'ACTIVE', paused_at = NULL, paused_by_id = NULL, pause_reason = NULL,
                resumes_at = NULL, pause_reminder_at = NULL
            WHERE id = $1 AND state = 'PAUSED' AND {only_if}
            RETURNING {_STATUS_COLUMNS}
            """,
            [team_id, *(params or [])],
        )
        if not rows:
            return None
        changed = _status(rows[0])
        await audit.record(team_id, actor_id, "ACCOUNT_UNPAUSED", audit_details, connection=conn)
        await webhooks.emit(conn, team_id, EventType.ACCOUNT_UNPAUSED, [payloads.account_status(changed, actor_id)])
    await _publish(changed)
    return changed


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


async def announce(team_id: int) -> None:
    """Publishes the team's status again: something it shows (e.g. the open mass end) changed."""
    await _publish(await get_status(team_id))


async def _publish(status: AccountStatusRecord) -> None:
    await broadcast.publish(broadcast.team_channel(status.team_id, CHANGED_TOPIC), records.to_payload(status))


async def watch_changes(team_id: int) -> AsyncIterator[AccountStatusRecord]:
    """The team's status after each change from now on (and again after the event bus lost events)."""
    async with broadcast.bus().subscribe(broadcast.team_channel(team_id, CHANGED_TOPIC)) as payloads:
        async for payload in payloads:
            if payload is broadcast.RESYNC:
                yield await get_status(team_id)
            else:
                yield records.from_payload(AccountStatusRecord, payload)


async def lock_team_for_lead_creation(conn: BaseDBAsyncClient, team_id: int) -> LeadCreationGate:
    """Refuses with ACCOUNT_PAUSED unless the team is active, and keeps it active until `conn` commits.

    Batches share the gate and do not block each other; a pause takes it exclusively.
    """
    await conn.execute_query("SELECT pg_advisory_xact_lock_shared($1, $2)", [db.LockSpace.TEAM_LEAD_GATE, team_id])
    # Read after the lock is granted: READ COMMITTED gives this statement a snapshot that
    # includes any pause committed while we waited.
    rows = await conn.execute_query_dict("SELECT state, default_rep_id FROM team WHERE id = $1", [team_id])
    if not rows:
        raise not_found("Team")
    if rows[0]["state"] != AccountState.ACTIVE.value:
        raise AppError(
            ErrorCode.ACCOUNT_PAUSED,
            "This team's account is paused: no lead can be created until an Admin or Team Leader unpauses it.",
        )
    return LeadCreationGate(default_rep_id=rows[0]["default_rep_id"])


# --- timers: the timed resume and the reminders, as scheduled jobs ------------------------------
#
# Each timer is a queue job due at its time, queued in the transaction that set the time, and
# names the pause it belongs to (paused_at) and the time it is for. It acts through a
# conditional UPDATE on those same values, so it acts once however many workers run it, and a
# timer left over from an older pause or schedule does nothing.


async def _queue_resume(conn: BaseDBAsyncClient, status: AccountStatusRecord) -> bool:
    paused_at, resumes_at = status.paused_at.isoformat(), status.resumes_at.isoformat()
    job_id = await jobs.enqueue(
        conn,
        RESUME_TASK,
        {"team_id": status.team_id, "paused_at": paused_at, "resumes_at": resumes_at},
        # A schedule set, changed and set back again finds its first job still queued: that one serves.
        dedupe_key=f"{RESUME_TASK}:{status.team_id}:{paused_at}:{resumes_at}",
        skip_duplicate=True,
        run_at=status.resumes_at,
    )
    return job_id is not None


async def _queue_reminder(conn: BaseDBAsyncClient, status: AccountStatusRecord, due_at: datetime) -> bool:
    paused_at = status.paused_at.isoformat()
    job_id = await jobs.enqueue(
        conn,
        REMINDER_TASK,
        {"team_id": status.team_id, "paused_at": paused_at, "due_at": due_at.isoformat()},
        dedupe_key=f"{REMINDER_TASK}:{status.team_id}:{paused_at}:{due_at.isoformat()}",
        skip_duplicate=True,
        run_at=due_at,
    )
    return job_id is not None


@jobs.task(RESUME_TASK, retries=TIMER_RETRIES)
async def _resume_task(payload: dict[str, Any], ctx: jobs.JobContext) -> None:
    paused_at, resumes_at = datetime.fromisoformat(payload["paused_at"]), datetime.fromisoformat(payload["resumes_at"])
    if await resume_when_due(payload["team_id"], paused_at, resumes_at) is not None:
        return
    early = await _seconds_until_due(payload["team_id"], paused_at, resumes_at)
    if early is not None:  # claimed before its time (the queue's row changed by hand?): never resume early
        raise jobs.retry_later(early, "the timed pause is not due yet")


async def _seconds_until_due(team_id: int, paused_at: datetime, resumes_at: datetime) -> float | None:
    """How long until that pause's schedule is due, if it still holds and is not due yet."""
    rows = await db.connection().execute_query_dict(
        "SELECT extract(epoch FROM resumes_at - clock_timestamp())::float8 AS left FROM team"
        " WHERE id = $1 AND state = 'PAUSED' AND paused_at = $2 AND resumes_at = $3 AND resumes_at > clock_timestamp()",
        [team_id, paused_at, resumes_at],
    )
    return rows[0]["left"] if rows else None


@jobs.task(REMINDER_TASK, retries=TIMER_RETRIES)
async def _reminder_task(payload: dict[str, Any], ctx: jobs.JobContext) -> None:
    await send_pause_reminder(
        payload["team_id"],
        datetime.fromisoformat(payload["paused_at"]),
        datetime.fromisoformat(payload["due_at"]),
        remind_every=timedelta(seconds=ctx.settings.pause_reminder_interval_seconds),
    )


async def send_pause_reminder(team_id: int, paused_at: datetime, due_at: datetime, *, remind_every: timedelta) -> bool:
    """The reminder due at `due_at` of the pause of `paused_at`: if that pause still holds and
    this reminder is still the next one, emails the team's Admins and Team Leaders and moves the
    next one on, in one transaction; False when it had nothing to do.

    The next reminder is the first one of the pause's cadence still ahead: after a time with no
    worker up, one email covers the reminders missed.
    """
    async with in_transaction() as conn:
        # The team row before the users: the order the tables are locked in elsewhere.
        rows = await conn.execute_query_dict(
            f"""
            WITH now AS (SELECT clock_timestamp() AS at, $4::float8 AS every)
            UPDATE team SET pause_reminder_at = paused_at
                + make_interval(secs => every * (floor(extract(epoch FROM now.at - paused_at) / every) + 1))
            FROM now WHERE id = $1 AND state = 'PAUSED' AND paused_at = $2 AND pause_reminder_at = $3
            RETURNING {_STATUS_COLUMNS}, pause_reminder_at, now.at AS now
            """,
            [team_id, paused_at, due_at, remind_every.total_seconds()],
        )
        if not rows:
            return False
        status = _status(rows[0])
        recipients = await teams.users_with_email(team_id, REMINDED_ROLES, connection=conn)
        pauser = await teams.users_by_ids(team_id, [status.paused_by_id]) if status.paused_by_id else {}
        for user in recipients:
            await notifications.queue_email(conn, reminder_email(user, status, pauser.get(status.paused_by_id)))
        await _queue_reminder(conn, status, rows[0]["pause_reminder_at"])
    return True


def reminder_email(
    user: teams.UserRecord, status: AccountStatusRecord, pauser: teams.UserRecord | None
) -> notifications.Email:
    by = f" by {pauser.name}" if pauser else ""
    why = f"The reason given: {status.pause_reason}\n" if status.pause_reason else ""
    if status.resumes_at:
        until = f"It resumes by itself at {status.resumes_at:%Y-%m-%d %H:%M} UTC, unless someone unpauses it first."
    else:
        until = "It stays paused until an Admin or Team Leader unpauses it (Settings › Connections › Account Status)."
    body = (
        f"Hi {user.name},\n\n"
        f"Your team's account has been paused since {status.paused_at:%Y-%m-%d %H:%M} UTC{by}: "
        "no new lead is created for anyone while it is.\n"
        f"{why}{until}\n\n-- Switchboard\n"
    )
    return notifications.Email(to=user.email, subject="Reminder: your team's account is still paused", body=body)


@jobs.on_worker_start
async def requeue_pause_timers() -> int:
    """Queues again the timers of paused teams whose queued job was lost (a job held after its
    last retry, or dropped by hand); timers still queued or running are left alone (dedupe keys).
    Returns how many were queued."""
    count = 0
    rows = await db.connection().execute_query_dict(
        f"SELECT {_STATUS_COLUMNS}, pause_reminder_at FROM team WHERE state = 'PAUSED' ORDER BY id"
    )
    for row in rows:
        status = _status(row)
        async with in_transaction() as conn:
            if status.resumes_at is not None:
                count += await _queue_resume(conn, status)
            if row["pause_reminder_at"] is not None:
                count += await _queue_reminder(conn, status, row["pause_reminder_at"])
    return count
