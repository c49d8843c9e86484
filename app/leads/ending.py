"""Ending one conversation (endConversation): by an Admin, a Team Leader or the lead's owner."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from app import records
from app.audit import service as audit
from app.auth import Caller, Permission, authorize
from app.errors import conflict, not_found
from app.leads.messages import ConversationRecord
from app.leads.models import LeadStatus
from app.leads.reading import get_lead
from app.webhooks import payloads
from app.webhooks import service as webhooks
from app.webhooks.models import EventType

# The lead's latest conversation, locked (as a message or a mass-end batch locks it).
_LOCK_LATEST = """
SELECT id FROM conversation WHERE lead_id = $1 AND team_id = $2 ORDER BY id DESC LIMIT 1 FOR UPDATE
"""

_END_CONVERSATION = """
UPDATE conversation SET state = 'ENDED', end_reason = 'ENDED_BY_USER', ended_at = now(), assistant_may_reply = false
WHERE id = $1 AND state = 'ACTIVE'
RETURNING id, lead_id, state, end_reason, ended_at, assistant_may_reply, created_at
"""

# As a mass end does: a lead whose conversation ends before it was qualified is UNQUALIFIED.
_UNQUALIFY = """
UPDATE lead SET status = 'UNQUALIFIED', updated_at = now() WHERE id = $1 AND status = 'NEW_LEAD'
RETURNING id, team_id, external_id, name, email, phone, status, rep_name, rep_email, rep_external_id,
          assigned_user_id, missing_rep_id, created_at, updated_at
"""


async def end_conversation(team_id: int, lead_id: int, caller: Caller) -> ConversationRecord:
    """Ends the lead's active conversation (ENDED_BY_USER): the assistant never answers it again.

    Admins and Team Leaders may end any lead's; anyone else only a lead assigned to them. A NEW_LEAD
    becomes UNQUALIFIED. The change, its audit event and its webhooks (conversation.ended, and
    lead.status_changed when the status moved) commit together.
    """
    lead = await get_lead(team_id, lead_id)
    if lead is None:
        raise not_found("Lead")
    if caller.user_id is None or lead.assigned_user_id != caller.user_id:
        authorize(caller, Permission.END_ANY_CONVERSATION)
    async with in_transaction() as conn:
        rows = await conn.execute_query_dict(_LOCK_LATEST, [lead_id, team_id])
        ended = rows and await conn.execute_query_dict(_END_CONVERSATION, [rows[0]["id"]])
        if not ended:
            raise conflict("This lead has no active conversation to end.")
        conversation = records.build(ConversationRecord, ended[0])
        unqualified = await conn.execute_query_dict(_UNQUALIFY, [lead_id])
        await audit.record(
            team_id, caller.user_id, "CONVERSATION_ENDED", {"lead_id": lead_id, "conversation_id": conversation.id}, connection=conn
        )
        await webhooks.emit(
            conn, team_id, EventType.CONVERSATION_ENDED, [payloads.conversation_ended(conversation, lead_id, caller.user_id)]
        )
        if unqualified:
            await webhooks.emit(
                conn,
                team_id,
                EventType.LEAD_STATUS_CHANGED,
                [payloads.lead_status_changed(unqualified[0], LeadStatus.NEW_LEAD.value)],
            )
    return conversation
