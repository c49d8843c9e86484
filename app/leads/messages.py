"""What happens when a lead writes: the message is kept, and the assistant answers only on an
active conversation; on a mass-ended one, the lead's owner is told instead (owner_notice)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from app import records
from app.errors import not_found
from app.leads.models import ConversationState, EndReason, MessageDirection
from app.leads.owner_notice import OwnerNotification, notify_owner
from app.leads.reading import LeadRecord, get_lead
from app.leads.responder import RESPONDER
from app.validation import clean_text

MAX_MESSAGE_LENGTH = 10_000


@dataclass(frozen=True)
class ConversationRecord:
    id: int
    lead_id: int
    state: ConversationState
    end_reason: EndReason | None
    ended_at: datetime | None
    assistant_may_reply: bool
    created_at: datetime


@dataclass(frozen=True)
class MessageRecord:
    id: int
    conversation_id: int
    direction: MessageDirection
    body: str
    created_at: datetime


@dataclass(frozen=True)
class InboundOutcome:
    lead: LeadRecord
    conversation: ConversationRecord
    message: MessageRecord
    reply: MessageRecord | None
    notification: OwnerNotification
    notified_user_id: int | None
    # Everyone emailed: the owner; or, if the owner has no email, the Default Rep; or the Admins.
    notified_user_ids: tuple[int, ...] = ()


# The lead's latest conversation, locked: a mass-end batch ending it waits for this message
# (and the reply) to commit, and the message never sees a half-ended conversation.
_LOCK_CONVERSATION = """
SELECT c.id, c.lead_id, c.state, c.end_reason, c.ended_at, c.assistant_may_reply, c.created_at
FROM conversation c
WHERE c.lead_id = $1 AND c.team_id = $2
ORDER BY c.id DESC
LIMIT 1
FOR UPDATE
"""

_START_CONVERSATION = """
INSERT INTO conversation (team_id, lead_id, state, assistant_may_reply, created_at)
VALUES ($1, $2, 'ACTIVE', true, now())
RETURNING id, lead_id, state, end_reason, ended_at, assistant_may_reply, created_at
"""

_ADD_MESSAGE = """
INSERT INTO message (conversation_id, direction, body, created_at) VALUES ($1, $2, $3, now())
RETURNING id, conversation_id, direction, body, created_at
"""


async def receive_lead_message(team_id: int, lead_id: int, body: str) -> InboundOutcome:
    """Stores a lead's message; the assistant answers only on an active conversation.

    On a conversation ended by mass end nothing answers, and the lead's assigned user is
    emailed (queued in this transaction; at most once per lead per hour) to reach out directly.
    """
    text = clean_text(body, field="body", max_length=MAX_MESSAGE_LENGTH, required=True, one_line=False)
    lead = await get_lead(team_id, lead_id)
    if lead is None:
        raise not_found("Lead")
    async with in_transaction() as conn:
        rows = await conn.execute_query_dict(_LOCK_CONVERSATION, [lead_id, team_id])
        if not rows:  # ingestion always starts one; a lead without any still gets its message kept
            rows = await conn.execute_query_dict(_START_CONVERSATION, [team_id, lead_id])
        conversation = _conversation(rows[0])
        message = await _add_message(conn, conversation.id, MessageDirection.INBOUND, text)
        reply = None
        notification, notified = OwnerNotification.NOT_NEEDED, []
        if conversation.state == ConversationState.ACTIVE and conversation.assistant_may_reply:
            answer = await RESPONDER.reply(lead_name=lead.name, inbound=text)
            reply = await _add_message(conn, conversation.id, MessageDirection.OUTBOUND, answer)
        elif conversation.end_reason == EndReason.MASS_END:
            notification, notified = await notify_owner(conn, team_id, lead, text)
    return InboundOutcome(
        lead=lead,
        conversation=conversation,
        message=message,
        reply=reply,
        notification=notification,
        notified_user_id=notified[0] if notified else None,
        notified_user_ids=tuple(notified),
    )


async def _add_message(conn, conversation_id: int, direction: MessageDirection, body: str) -> MessageRecord:
    rows = await conn.execute_query_dict(_ADD_MESSAGE, [conversation_id, direction.value, body])
    return records.build(MessageRecord, rows[0])


def _conversation(row: dict) -> ConversationRecord:
    return records.build(ConversationRecord, row)
