"""Removing a user's alias: undoes a Map to Rep (or an Add as User's alias) for future leads.

Existing leads stay where they are; the rep the alias came from goes back on the Missing Reps
list (reopened: MISSING again, its resolution cleared, its history in the audit log), so the next
lead under that name reaches the Default Rep and the rep can be mapped again. The CRM owner ids
that the same resolution attached to the user are detached with it: otherwise leads carrying
the rep's external id would still go to the user, and the Map to Rep would not be undone.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from app.audit import service as audit
from app.errors import bad_input, not_found
from app.teams import service as teams
from app.validation import MAX_NAME, clean_text, normalize_name


class AliasAuditAction(str, Enum):
    REMOVED = "USER_ALIAS_REMOVED"


@dataclass(frozen=True)
class AliasRemoval:
    user: teams.UserRecord
    alias: str
    leads_staying: int
    reopened_missing_rep_id: int | None
    crm_owner_ids_removed: list[str]

    @property
    def message(self) -> str:
        leads = "1 existing lead stays" if self.leads_staying == 1 else f"{self.leads_staying} existing leads stay"
        text = (
            f"{self.alias!r} is no longer an alias of {self.user.name}: new leads under that name go to the "
            f"Default Rep. {leads} with {self.user.name}."
        )
        if self.crm_owner_ids_removed:
            text += f" CRM owner id {', '.join(self.crm_owner_ids_removed)} no longer leads to them either."
        if self.reopened_missing_rep_id is not None:
            text += " The rep is back on the Missing Reps list."
        return text


# Leads assigned to the user that came to them under the alias: sent under that name (compared
# normalised, in Python: few distinct names per user), under a detached CRM owner id, or moved
# there from the rep the alias came from.
_LEADS_BY_REP = """
SELECT rep_name, COALESCE(rep_external_id = ANY($3::text[]), false) AS by_crm_id,
       COALESCE(missing_rep_id = $4::int, false) AS from_rep, count(*) AS n
  FROM lead WHERE team_id = $1 AND assigned_user_id = $2
 GROUP BY 1, 2, 3
"""

# The rep the alias came from, or (aliases older than that link) the rep of that name resolved
# to this user. Only a rep still resolved to this user is reopened.
_REOPEN = """
UPDATE missing_rep SET status = 'MISSING', resolution = NULL, resolved_user_id = NULL, resolved_by_id = NULL,
       resolved_at = NULL, reassignment_pending = false, leads_moved = 0
 WHERE team_id = $1 AND status = 'RESOLVED' AND resolved_user_id = $2
   AND id = COALESCE($3, (SELECT id FROM missing_rep WHERE team_id = $1 AND external_id IS NULL
                                                   AND normalized_name = $4 AND resolved_user_id = $2))
RETURNING id, name
"""


async def remove_alias(team_id: int, actor_id: int | None, user_id: int, alias: str) -> AliasRemoval:
    """Removes `alias` from the user (compared normalised): NOT_FOUND when the user has no such
    alias; one transaction with its audit event."""
    text = clean_text(alias, field="alias", max_length=MAX_NAME, required=True)
    normalized = normalize_name(text)
    if not normalized:
        raise bad_input("alias must contain letters or digits.", field="alias")
    user = await teams.get_user(team_id, user_id)
    async with in_transaction() as conn:
        removed = await teams.delete_alias(conn, team_id, user.id, normalized)
        if removed is None:
            raise not_found(f"The alias {text!r} of {user.name}")
        reopened = await conn.execute_query_dict(
            _REOPEN, [team_id, user.id, removed.missing_rep_id, removed.normalized_name]
        )
        rep_id = reopened[0]["id"] if reopened else removed.missing_rep_id
        crm_ids = await teams.delete_crm_owner_ids_from(conn, team_id, user.id, rep_id) if rep_id else []
        staying = await _leads_staying(conn, team_id, user.id, removed.normalized_name, crm_ids, rep_id)
        result = AliasRemoval(
            user=user,
            alias=removed.alias,
            leads_staying=staying,
            reopened_missing_rep_id=reopened[0]["id"] if reopened else None,
            crm_owner_ids_removed=crm_ids,
        )
        await audit.record(
            team_id,
            actor_id,
            AliasAuditAction.REMOVED.value,
            {
                "user_id": user.id,
                "user_name": user.name,
                "alias": removed.alias,
                "missing_rep_id": removed.missing_rep_id,
                "reopened_missing_rep_id": result.reopened_missing_rep_id,
                "crm_owner_ids_removed": crm_ids,
                "leads_staying": staying,
            },
            connection=conn,
        )
    return result


async def _leads_staying(
    conn: BaseDBAsyncClient, team_id: int, user_id: int, normalized: str, crm_ids: list[str], rep_id: int | None
) -> int:
    rows = await conn.execute_query_dict(_LEADS_BY_REP, [team_id, user_id, crm_ids, rep_id])
    return sum(
        row["n"]
        for row in rows
        if row["by_crm_id"] or row["from_rep"] or (row["rep_name"] and normalize_name(row["rep_name"]) == normalized)
    )
