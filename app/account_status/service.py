"""Account Status: the team-wide kill switch."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient

from app.errors import AppError, ErrorCode, not_found


@dataclass(frozen=True)
class LeadCreationGate:
    default_rep_id: int | None


async def lock_team_for_lead_creation(conn: BaseDBAsyncClient, team_id: int) -> LeadCreationGate:
    """Refuses with ACCOUNT_PAUSED unless the team is active, and keeps it active until `conn` commits.

    FOR SHARE conflicts with the UPDATE that pauses: a pause waits for lead-creating transactions
    in flight, and a transaction that locks after a pause committed reads PAUSED. So no lead is
    ever created after a pause commits. Batches do not block each other (shared locks).
    """
    _, rows = await conn.execute_query(
        "SELECT state, default_rep_id FROM team WHERE id = $1 FOR SHARE", [team_id]
    )
    if not rows:
        raise not_found("Team")
    if rows[0]["state"] != "ACTIVE":
        raise AppError(
            ErrorCode.ACCOUNT_PAUSED,
            "This team's account is paused: no lead can be created until an Admin or Team Leader unpauses it.",
        )
    return LeadCreationGate(default_rep_id=rows[0]["default_rep_id"])
