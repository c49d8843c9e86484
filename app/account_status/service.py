"""Account Status: the team-wide kill switch (pause, unpause) and the gate lead creation passes.

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
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from app import broadcast, db, records
from app.audit import service as audit
from app.errors import AppError, ErrorCode, not_found
from app.validation import clean_text
from app.account_status.models import AccountState
from app.webhooks import payloads
from app.webhooks import service as webhooks
from app.webhooks.models import EventType

CHANGED_TOPIC = "account_status_changed"
MAX_REASON = 500


@dataclass(frozen=True)
class AccountStatusRecord:
    team_id: int
    state: AccountState
    paused_at: datetime | None
    paused_by_id: int | None
    pause_reason: str | None


@dataclass(frozen=True)
class LeadCreationGate:
    default_rep_id: int | None


_STATUS_COLUMNS = "id AS team_id, state, paused_at, paused_by_id, pause_reason"


def _status(row: dict) -> AccountStatusRecord:
    return records.build(AccountStatusRecord, row)


async def get_status(team_id: int) -> AccountStatusRecord:
    rows = await db.connection().execute_query_dict(f"SELECT {_STATUS_COLUMNS} FROM team WHERE id = $1", [team_id])
    if not rows:
        raise not_found("Team")
    return _status(rows[0])


async def pause(team_id: int, actor_id: int, reason: str | None) -> AccountStatusRecord:
    """Pauses the team; pausing a paused team changes nothing and returns its state."""
    reason = clean_text(reason, field="reason", max_length=MAX_REASON)
    return await _change_state(
        team_id,
        actor_id,
        target=AccountState.PAUSED,
        assignments="paused_at = clock_timestamp(), paused_by_id = $3, pause_reason = $4",
        params=[actor_id, reason],
        audit_details={"reason": reason},
    )


async def unpause(team_id: int, actor_id: int) -> AccountStatusRecord:
    """Unpauses the team; unpausing an active team changes nothing and returns its state."""
    return await _change_state(
        team_id,
        actor_id,
        target=AccountState.ACTIVE,
        assignments="paused_at = NULL, paused_by_id = NULL, pause_reason = NULL",
        params=[],
        audit_details={},
    )


async def _change_state(
    team_id: int, actor_id: int, *, target: AccountState, assignments: str, params: list, audit_details: dict
) -> AccountStatusRecord:
    async with in_transaction() as conn:
        # The gate first: waits for lead-creating transactions in flight, so the clock_timestamp()
        # below is taken after the last of them committed.
        await conn.execute_query("SELECT pg_advisory_xact_lock($1, $2)", [db.LockSpace.TEAM_LEAD_GATE, team_id])
        locked = await conn.execute_query_dict(f"SELECT {_STATUS_COLUMNS} FROM team WHERE id = $1 FOR UPDATE", [team_id])
        if not locked:
            raise not_found("Team")
        current = _status(locked[0])
        if current.state == target:
            return current
        rows = await conn.execute_query_dict(
            f"UPDATE team SET state = $2, {assignments} WHERE id = $1 RETURNING {_STATUS_COLUMNS}",
            [team_id, target.value, *params],
        )
        changed = _status(rows[0])
        action = "ACCOUNT_PAUSED" if target == AccountState.PAUSED else "ACCOUNT_UNPAUSED"
        await audit.record(team_id, actor_id, action, audit_details, connection=conn)
        event = EventType.ACCOUNT_PAUSED if target == AccountState.PAUSED else EventType.ACCOUNT_UNPAUSED
        await webhooks.emit(conn, team_id, event, [payloads.account_status(changed, actor_id)])
    await _publish(changed)
    return changed


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
