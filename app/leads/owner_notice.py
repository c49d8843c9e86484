"""The "wrote again" notice: a lead whose conversation a mass end ended writes again, and the
user it is assigned to is emailed to reach out directly, at most once per lead per hour. Nobody
is left unnotified: if that user has no email (Add as User allows a phone only), the team's
Default Rep is emailed, and failing that the team's Admins."""

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
    NO_RECIPIENT = "NO_RECIPIENT"  # nobody with an email: not the owner, the Default Rep or an Admin


# At most one "wrote again" email per lead per hour, decided by the database: concurrent
# messages queue on the lead's row and only the first one inside the hour updates it.
_CLAIM_OWNER_NOTICE = f"""
UPDATE lead SET owner_notified_at = now()
WHERE id = $1 AND (owner_notified_at IS NULL OR owner_notified_at <= now() - interval '{OWNER_NOTICE_INTERVAL}')
RETURNING id
"""


async def notify_owner(conn, team_id: int, lead: LeadRecord, text: str) -> tuple[OwnerNotification, list[int]]:
    """Emails whoever should reach out: the owner, else the Default Rep, else the Admins."""
    # On the transaction's connection: a second pooled connection per message could exhaust the
    # pool under a burst of messages, each transaction waiting for a connection another holds.
    owner = await _user_or_none(conn, team_id, lead.assigned_user_id)
    recipients = [owner] if owner is not None and owner.email else []
    if not recipients:
        team = await teams.get_team(team_id, connection=conn)
        default_rep = await _user_or_none(conn, team_id, team.default_rep_id)
        recipients = [default_rep] if default_rep is not None and default_rep.email else []
    if not recipients:
        recipients = await teams.admins(team_id, connection=conn)
    if not recipients:
        log.warning("lead %s wrote again after a mass end, but nobody can be emailed", lead.id)
        return OwnerNotification.NO_RECIPIENT, []
    if not await conn.execute_query_dict(_CLAIM_OWNER_NOTICE, [lead.id]):
        return OwnerNotification.ALREADY_NOTIFIED, []
    for recipient in recipients:
        await notifications.queue_email(conn, wrote_again_email(recipient, lead, text, owner=owner))
    return OwnerNotification.EMAIL_QUEUED, [r.id for r in recipients]


async def _user_or_none(conn, team_id: int, user_id: int | None) -> teams.UserRecord | None:
    if user_id is None:
        return None
    with contextlib.suppress(AppError):
        return await teams.get_user(team_id, user_id, connection=conn)
    return None


def wrote_again_email(
    recipient: teams.UserRecord, lead: LeadRecord, text: str, *, owner: teams.UserRecord | None = None
) -> notifications.Email:
    who = lead.name or lead.email or lead.phone or lead.external_id
    contact = "\n".join(
        f"  {label}: {value}" for label, value in (("Name", lead.name), ("Email", lead.email), ("Phone", lead.phone)) if value
    )
    if owner is not None and owner.id == recipient.id:
        why = ""
    elif owner is not None:
        why = f"You are told because {owner.name}, who owns this lead, has no email address.\n\n"
    else:
        why = "You are told because this lead is assigned to nobody.\n\n"
    body = (
        f"Hi {recipient.name},\n\n"
        f"{who} wrote again, but their conversation was ended when your team ended all "
        "conversations, so the assistant will not answer them.\n\n"
        f"{why}"
        f"Their message:\n\n{text}\n\n"
        f"Please reach out to them directly:\n{contact}\n\n"
        "-- Switchboard\n"
    )
    return notifications.Email(to=recipient.email, subject=f"{who} wrote again: please reach out directly", body=body)
