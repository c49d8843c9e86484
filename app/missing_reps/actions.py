"""The Missing Reps screen's actions: Ignore, Restore, Add as User, Map to Rep.

Each is one conditional UPDATE ... WHERE status = ... (see app.missing_reps.service for the
state machine) committed with its audit event; a resolve then moves the rep's leads.
"""

from __future__ import annotations

import asyncio
import logging
from enum import Enum
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from app.audit import service as audit
from app.errors import AppError, ErrorCode, bad_input, conflict, not_found
from app.missing_reps.listing import (
    COLUMNS,
    MissingRepRecord,
    record_from_row,
    require_missing_rep,
)
from app.missing_reps.models import MissingRepResolution, MissingRepStatus
from app.missing_reps.reassignment import (
    count_leads_to_move,
    finish_reassignment,
    leads_source,
)
from app.teams import invitations
from app.teams import service as teams
from app.teams.models import Role
from app.validation import clean_email, clean_name, clean_phone, normalize_name

log = logging.getLogger(__name__)


class AuditAction(str, Enum):
    ADDED_AS_USER = "MISSING_REP_ADDED_AS_USER"
    MAPPED_TO_USER = "MISSING_REP_MAPPED_TO_USER"
    IGNORED = "MISSING_REP_IGNORED"
    RESTORED = "MISSING_REP_RESTORED"


async def _refusal(conn: BaseDBAsyncClient, team_id: int, rep_id: int, action: str) -> AppError:
    """Why a conditional UPDATE on the rep changed nothing (read after it, in its transaction)."""
    rows = await conn.execute_query_dict(
        "SELECT status, resolution FROM missing_rep WHERE team_id = $1 AND id = $2", [team_id, rep_id]
    )
    if not rows:
        return not_found("Missing rep")
    status = MissingRepStatus(rows[0]["status"])
    if status is MissingRepStatus.RESOLVED:
        how = "added as a user" if rows[0]["resolution"] == MissingRepResolution.ADDED_AS_USER.value else "mapped to a user"
        return conflict(f"This rep was already {how}: it is no longer missing.", status=status.value)
    if status is MissingRepStatus.IGNORED:
        if action == "ignore":
            return conflict("This rep is already ignored.", status=status.value)
        return conflict("This rep is ignored: restore it to the Missing Reps list first.", status=status.value)
    if action == "restore":
        return conflict("This rep is not ignored: only ignored reps can be restored.", status=status.value)
    return conflict("This rep changed while you acted on it: reload it and try again.", status=status.value)


async def _change_status(
    conn: BaseDBAsyncClient, team_id: int, rep_id: int, action: str, *, expected: MissingRepStatus, set_sql: str, params: list
) -> MissingRepRecord:
    """The one state transition: an UPDATE that only applies while the rep is in `expected`.

    A concurrent action on the same rep waits for this row lock, then finds the status
    changed and updates nothing: it gets CONFLICT.
    """
    rows = await conn.execute_query_dict(
        f"UPDATE missing_rep SET {set_sql} WHERE team_id = $1 AND id = $2 AND status = $3 RETURNING {COLUMNS}",
        [team_id, rep_id, expected.value, *params],
    )
    if not rows:
        raise await _refusal(conn, team_id, rep_id, action)
    return record_from_row(rows[0])


def _details(rep: MissingRepRecord, **extra: Any) -> dict[str, Any]:
    return {"missing_rep_id": rep.id, "missing_rep_name": rep.name, **extra}


async def ignore(team_id: int, actor_id: int | None, rep_id: int) -> MissingRepRecord:
    """MISSING -> IGNORED; the rep's leads stay with the Default Rep."""
    async with in_transaction() as conn:
        rep = await _change_status(
            conn, team_id, rep_id, "ignore", expected=MissingRepStatus.MISSING, set_sql="status = 'IGNORED'", params=[]
        )
        await audit.record(team_id, actor_id, AuditAction.IGNORED.value, _details(rep), connection=conn)
    return rep


async def restore(team_id: int, actor_id: int | None, rep_id: int) -> MissingRepRecord:
    """IGNORED -> MISSING: back on the Missing Reps list, to be added or mapped."""
    async with in_transaction() as conn:
        rep = await _change_status(
            conn, team_id, rep_id, "restore", expected=MissingRepStatus.IGNORED, set_sql="status = 'MISSING'", params=[]
        )
        await audit.record(team_id, actor_id, AuditAction.RESTORED.value, _details(rep), connection=conn)
    return rep


_RESOLVE_SET = """status = 'RESOLVED', resolution = $4, resolved_user_id = $5, resolved_by_id = $6,
resolved_at = now(), reassignment_pending = true"""


async def add_as_user(
    team_id: int,
    actor_id: int | None,
    rep_id: int,
    *,
    name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    role: Role = Role.REP,
    actor_role: Role | None = None,
    dashboard_url: str | None = None,
) -> MissingRepRecord:
    """Creates a user from the missing rep, resolves the rep, and moves its leads that are still
    with the Default Rep to the new user.

    The role defaults to REP and may not be above the caller's own (FORBIDDEN). The name defaults
    to the rep's; an email or a phone is required; an email already taken in the team is
    CONFLICT. When the user's name differs from the rep's, the rep's name becomes the user's
    alias, so integrations that keep sending it reach the new user; a rep with an external id
    gives the user that CRM owner id. A new user with an email is sent an invitation
    (app.teams.invitations), queued in the same transaction.
    """
    if not teams.may_grant(actor_role, role):
        raise AppError(
            ErrorCode.FORBIDDEN,
            f"You may not add a user with the {role.value} role: it is above your own.",
            field="role",
        )
    rep = await require_missing_rep(team_id, rep_id)
    name = clean_name(name if name and name.strip() else rep.name, field="name")
    email = clean_email(email, field="email")
    phone = clean_phone(phone, field="phone")
    if email is None and phone is None:
        raise bad_input("Give the new user an email or a phone number.", field="email")
    team = await teams.get_team(team_id)
    async with in_transaction() as conn:
        rep = await _change_status(
            conn,
            team_id,
            rep_id,
            "add",
            expected=MissingRepStatus.MISSING,
            set_sql=_RESOLVE_SET,
            params=[MissingRepResolution.ADDED_AS_USER.value, None, actor_id],
        )
        user = await teams.create_user(team_id, name=name, role=role, email=email, phone=phone, connection=conn)
        alias_added = normalize_name(name) != rep.normalized_name and await _add_alias(conn, team_id, rep, user, actor_id)
        await _attach_crm_owner_id(conn, team_id, rep, user, actor_id)
        await _record_resolution(conn, team, rep, user, AuditAction.ADDED_AS_USER, actor_id, alias_added)
        if user.email:
            await invitations.queue_invitation(conn, team, user, actor_id, dashboard_url=dashboard_url)
    return await _finish_after_resolve(team_id, rep_id)


async def map_to_user(team_id: int, actor_id: int | None, rep_id: int, user_id: int) -> MissingRepRecord:
    """Adds the rep's name as an alias of an existing user (and its external id, if it has one, as
    the user's CRM owner id), resolves the rep, and moves its leads that are still with the
    Default Rep to that user. Later leads under that name or id go straight to the user (rep
    resolution matches both)."""
    team = await teams.get_team(team_id)
    async with in_transaction() as conn:
        rep = await _change_status(
            conn,
            team_id,
            rep_id,
            "map",
            expected=MissingRepStatus.MISSING,
            set_sql=_RESOLVE_SET,
            params=[MissingRepResolution.MAPPED_TO_USER.value, None, actor_id],
        )
        user = await teams.get_user(team_id, user_id, connection=conn)
        alias_added = await _add_alias(conn, team_id, rep, user, actor_id)
        await _attach_crm_owner_id(conn, team_id, rep, user, actor_id)
        await _record_resolution(conn, team, rep, user, AuditAction.MAPPED_TO_USER, actor_id, alias_added)
    return await _finish_after_resolve(team_id, rep_id)


async def _add_alias(
    conn: BaseDBAsyncClient, team_id: int, rep: MissingRepRecord, user: teams.UserRecord, actor_id: int | None
) -> bool:
    """The rep's name as the user's alias. A name taken by another user is CONFLICT, except for
    a rep with an external id: the id tells it apart (two CRM owners may share a name), so the
    user gets the id alone."""
    try:
        return await teams.add_alias(conn, team_id, user.id, rep.name, created_by_id=actor_id, missing_rep_id=rep.id)
    except AppError as error:
        if error.code is ErrorCode.CONFLICT and rep.external_id:
            return False  # add_alias checks before it writes: the transaction is intact
        raise


async def _attach_crm_owner_id(
    conn: BaseDBAsyncClient, team_id: int, rep: MissingRepRecord, user: teams.UserRecord, actor_id: int | None
) -> None:
    """A rep keyed by an external id gives it to its user, so the next leads match by id."""
    if rep.external_id:
        await teams.add_crm_owner_id(
            conn, team_id, user.id, rep.external_id, created_by_id=actor_id, missing_rep_id=rep.id
        )


async def _record_resolution(
    conn: BaseDBAsyncClient,
    team: teams.TeamRecord,
    rep: MissingRepRecord,
    user: teams.UserRecord,
    action: AuditAction,
    actor_id: int | None,
    alias_added: bool,
) -> None:
    """The rest of a resolve, in its transaction: the rep points at its user, and the audit event
    says how many leads the batches are about to move."""
    await conn.execute_query("UPDATE missing_rep SET resolved_user_id = $2 WHERE id = $1", [rep.id, user.id])
    leads_to_move = await count_leads_to_move(conn, team.id, rep.id, leads_source(team.default_rep_id, user.id))
    extra: dict[str, Any] = {}
    if rep.external_id:
        extra["crm_owner_id"] = rep.external_id
    if action is AuditAction.ADDED_AS_USER:
        extra["role"] = user.role.value
    await audit.record(
        team.id,
        actor_id,
        action.value,
        _details(rep, user_id=user.id, user_name=user.name, alias_added=alias_added, leads_moved=leads_to_move, **extra),
        connection=conn,
    )


async def _finish_after_resolve(team_id: int, rep_id: int) -> MissingRepRecord:
    """Moves the leads of a rep just resolved, then returns the rep.

    The resolve has committed: if moving fails part-way, the caller still gets the resolved
    rep, with `reassignment_pending` set, and the sweep finishes the move. Shielded, so a
    client that disconnects does not stop it either.
    """
    try:
        await asyncio.shield(finish_reassignment(team_id, rep_id))
    except Exception:  # noqa: BLE001 - the rep is resolved; the sweep completes the move
        log.exception("moving the leads of missing rep %s stopped; the sweep will finish it", rep_id)
    return await require_missing_rep(team_id, rep_id)

