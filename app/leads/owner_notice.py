"""The "wrote again" notice: a lead whose conversation a mass end ended writes again, and the
user it is assigned to is emailed to reach out directly, at most once per lead per hour."""

from __future__ import annotations

import contextlib
import logging
from enum import Enum

from app import notifications
from app.errors import AppError
from app.leads.reading import LeadRecord
from app.teams import service as teams

log = logging.getLogger(__name__)

OWNER_NOTICE_INTERVAL = "1 hour"


class OwnerNotification(str, Enum):
    NOT_NEEDED = "NOT_NEEDED"  # the assistant answered, or the conversation ended otherwise
    EMAIL_QUEUED = "EMAIL_QUEUED"
    ALREADY_NOTIFIED = "ALREADY_NOTIFIED"  # an email about this lead went out within the hour
    NO_RECIPIENT = "NO_RECIPIENT"  # no assigned user, or the user has no email


# At most one "wrote again" email per lead per hour, decided by the database: concurrent
# messages queue on the lead's row and only the first one inside the hour updates it.
_CLAIM_OWNER_NOTICE = f"""
UPDATE lead SET owner_notified_at = now()
WHERE id = $1 AND (owner_notified_at IS NULL OR owner_notified_at <= now() - interval '{OWNER_NOTICE_INTERVAL}')
RETURNING id
"""


async def notify_owner(conn, team_id: int, lead: LeadRecord, text: str) -> tuple[OwnerNotification, int | None]:
    # On the transaction's connection: a second pooled connection per message could exhaust the
    # pool under a burst of messages, each transaction waiting for a connection another holds.
    owner = None
    if lead.assigned_user_id is not None:
        with contextlib.suppress(AppError):
            owner = await teams.get_user(team_id, lead.assigned_user_id, connection=conn)
    if owner is None or not owner.email:
        log.warning("lead %s wrote again after a mass end, but nobody can be emailed", lead.id)
        return OwnerNotification.NO_RECIPIENT, None
    if not await conn.execute_query_dict(_CLAIM_OWNER_NOTICE, [lead.id]):
        return OwnerNotification.ALREADY_NOTIFIED, None
    await notifications.queue_email(conn, wrote_again_email(owner, lead, text))
    return OwnerNotification.EMAIL_QUEUED, owner.id


def wrote_again_email(owner: teams.UserRecord, lead: LeadRecord, text: str) -> notifications.Email:
    who = lead.name or lead.email or lead.phone or lead.external_id
    contact = "\n".join(
        f"  {label}: {value}" for label, value in (("Name", lead.name), ("Email", lead.email), ("Phone", lead.phone)) if value
    )
    body = (
        f"Hi {owner.name},\n\n"
        f"{who} wrote again, but their conversation was ended when your team ended all "
        "conversations, so the assistant will not answer them.\n\n"
        f"Their message:\n\n{text}\n\n"
        f"Please reach out to them directly:\n{contact}\n\n"
        "-- Switchboard\n"
    )
    return notifications.Email(to=owner.email, subject=f"{who} wrote again: please reach out directly", body=body)
