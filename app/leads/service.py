"""Leads: ingestion from integrations (idempotent, set-based), reading leads, inbound messages."""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from app import notifications, records
from app.account_status import service as account_status
from app.errors import AppError, ErrorCode, bad_input, not_found
from app.leads.models import ConversationState, EndReason, Lead, LeadStatus, MessageDirection
from app.leads.responder import RESPONDER
from app.missing_reps import service as missing_reps
from app.teams import service as teams
from app.teams.rep_matching import RepRef, match_reps
from app.validation import clean_email, clean_phone, normalize_name

log = logging.getLogger(__name__)

MAX_BATCH = 1000
MAX_EXTERNAL_ID = 200
MAX_TEXT = 200  # name, rep name, rep external id: the columns' length


def _fitting(value: str | None, field: str) -> str | None:
    """Spaces collapsed; None when empty. Longer than its column: this lead's own error, never cut."""
    text = " ".join((value or "").split())
    if len(text) > MAX_TEXT:
        raise bad_input(f"{field} must be at most {MAX_TEXT} characters; it has {len(text)}.", field=field)
    return text or None


@dataclass(frozen=True)
class LeadData:
    """One lead as an integration sends it (unvalidated)."""

    external_id: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    rep_name: str | None = None
    rep_email: str | None = None
    rep_external_id: str | None = None


@dataclass(frozen=True)
class IngestOutcome:
    index: int
    external_id: str
    lead_id: int | None = None
    created: bool = False
    error: AppError | None = None


@dataclass(frozen=True)
class LeadRecord:
    id: int
    team_id: int
    external_id: str
    name: str | None
    email: str | None
    phone: str | None
    status: LeadStatus
    rep_name: str | None
    rep_email: str | None
    rep_external_id: str | None
    assigned_user_id: int | None
    missing_rep_id: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class _CleanLead:
    index: int
    data: LeadData
    rep: RepRef | None


def _clean(index: int, raw: LeadData) -> _CleanLead:
    external_id = (raw.external_id or "").strip()
    if not external_id:
        raise bad_input("externalId must not be empty.", field="externalId")
    if len(external_id) > MAX_EXTERNAL_ID:
        raise bad_input(f"externalId must be at most {MAX_EXTERNAL_ID} characters.", field="externalId")
    email = clean_email(raw.email, field="email")
    phone = clean_phone(raw.phone, field="phone")
    if email is None and phone is None:
        raise bad_input("A lead needs an email or a phone so the assistant can reach it.", field="email")
    rep_email = clean_email(raw.rep_email, field="rep.email")
    rep_name = _fitting(raw.rep_name, "rep.name")
    if rep_name and not normalize_name(rep_name):
        rep_name = None  # punctuation only: names nobody
    rep = RepRef(name=rep_name or rep_email, email=rep_email) if (rep_name or rep_email) else None
    name = _fitting(raw.name, "name")
    data = LeadData(
        external_id=external_id,
        name=name,
        email=email,
        phone=phone,
        rep_name=rep_name,
        rep_email=rep_email,
        rep_external_id=_fitting(raw.rep_external_id, "rep.externalId"),
    )
    return _CleanLead(index=index, data=data, rep=rep)


# created_at is when the row was written (clock_timestamp), not when the transaction began:
# the pause guarantee is stated, and tested, against it.
_UPSERT_LEADS = """
INSERT INTO lead (team_id, external_id, name, email, phone, status, rep_name, rep_email,
                  rep_external_id, assigned_user_id, missing_rep_id, created_at, updated_at)
SELECT $1, v.external_id, v.name, v.email, v.phone, 'NEW_LEAD', v.rep_name, v.rep_email,
       v.rep_external_id, v.assigned_user_id, v.missing_rep_id, clock_timestamp(), clock_timestamp()
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
            $9::int[], $10::int[])
     AS v(external_id, name, email, phone, rep_name, rep_email, rep_external_id,
          assigned_user_id, missing_rep_id)
ORDER BY v.external_id
ON CONFLICT (team_id, external_id) DO UPDATE SET
    name = EXCLUDED.name, email = EXCLUDED.email, phone = EXCLUDED.phone,
    rep_name = EXCLUDED.rep_name, rep_email = EXCLUDED.rep_email,
    rep_external_id = EXCLUDED.rep_external_id, assigned_user_id = EXCLUDED.assigned_user_id,
    missing_rep_id = COALESCE(EXCLUDED.missing_rep_id, lead.missing_rep_id), updated_at = now()
RETURNING id, external_id, (xmax = 0) AS inserted, missing_rep_id
"""

_START_CONVERSATIONS = """
INSERT INTO conversation (team_id, lead_id, state, assistant_may_reply, created_at)
SELECT $1, id, 'ACTIVE', true, clock_timestamp() FROM unnest($2::bigint[]) AS id
"""


async def ingest_leads(team_id: int, leads: list[LeadData]) -> list[IngestOutcome]:
    """Creates or updates each lead (by external id), one outcome per input, in order.

    Invalid leads are rejected one by one; the rest are written in one transaction of a few
    set-based statements. A paused team refuses the whole batch (ACCOUNT_PAUSED).
    """
    if len(leads) > MAX_BATCH:
        raise bad_input(f"A batch holds at most {MAX_BATCH} leads; this one has {len(leads)}.")
    outcomes: dict[int, IngestOutcome] = {}
    valid: list[_CleanLead] = []
    first_index: dict[str, int] = {}
    for index, raw in enumerate(leads):
        try:
            clean = _clean(index, raw)
        except AppError as error:
            outcomes[index] = IngestOutcome(index=index, external_id=raw.external_id, error=error)
            continue
        key = clean.data.external_id
        if key in first_index:
            outcomes[index] = IngestOutcome(
                index=index,
                external_id=key,
                error=bad_input(f"externalId {key!r} already appears at index {first_index[key]} of this batch.", field="externalId"),
            )
            continue
        first_index[key] = index
        valid.append(clean)

    new_rep_ids: list[int] = []
    async with in_transaction() as conn:
        gate = await account_status.lock_team_for_lead_creation(conn, team_id)
        matches = await match_reps(conn, team_id, [c.rep for c in valid if c.rep])
        if gate.default_rep_id is None:
            still_valid = []
            for c in valid:
                if c.rep and matches[c.rep] is None:
                    outcomes[c.index] = IngestOutcome(
                        index=c.index,
                        external_id=c.data.external_id,
                        error=AppError(
                            ErrorCode.CONFLICT,
                            f"Rep {c.rep.name!r} is not a user of this team and the team has no Default Rep: "
                            "an Admin must set one (setDefaultRep) before such leads can be ingested.",
                        ),
                    )
                else:
                    still_valid.append(c)
            valid = still_valid
        if valid:
            unmatched = [c.rep for c in valid if c.rep and matches[c.rep] is None]
            detected = await missing_reps.record_unmatched_reps(conn, team_id, unmatched)
            rows = [_row_values(c, matches, detected, gate.default_rep_id) for c in valid]
            written = await conn.execute_query_dict(_UPSERT_LEADS, [team_id, *map(list, zip(*rows))])
            by_external = {r["external_id"]: r for r in written}
            created_ids = [r["id"] for r in written if r["inserted"]]
            if created_ids:
                await conn.execute_query(_START_CONVERSATIONS, [team_id, created_ids])
            await missing_reps.count_originally_assigned(
                conn, Counter(r["missing_rep_id"] for r in written if r["inserted"] and r["missing_rep_id"])
            )
            new_rep_ids = [d.id for d in detected.values() if d.inserted]
            for c in valid:
                row = by_external[c.data.external_id]
                outcomes[c.index] = IngestOutcome(
                    index=c.index, external_id=c.data.external_id, lead_id=row["id"], created=row["inserted"]
                )
    await missing_reps.publish_detected(team_id, new_rep_ids)
    return [outcomes[i] for i in range(len(leads))]


def _row_values(c: _CleanLead, matches, detected, default_rep_id: int | None) -> tuple:
    user_id = matches.get(c.rep) if c.rep else None
    missing_rep_id = None
    if c.rep and user_id is None:
        rep = detected[c.rep.normalized_name]
        missing_rep_id = rep.id
        # A rep resolved after this batch matched its reps (Add as User / Map to Rep committed
        # in between): the lead goes to that user, not to a Default Rep nobody moves it from.
        user_id = rep.resolved_user_id or default_rep_id
    elif c.rep is None:
        user_id = default_rep_id
    d = c.data
    return (d.external_id, d.name, d.email, d.phone, d.rep_name, d.rep_email, d.rep_external_id, user_id, missing_rep_id)


def _record(lead: Lead) -> LeadRecord:
    return records.build(LeadRecord, lead)


@dataclass(frozen=True)
class MovedBatch:
    last_id: int | None  # the highest lead id the batch looked at; None: nothing left
    scanned: int
    moved: int


_MOVE_BATCH = """
WITH batch AS (
    SELECT id FROM lead
     WHERE missing_rep_id = $1 AND id > $2 AND team_id = $3
       AND (assigned_user_id = $4 OR assigned_user_id IS NULL)
     ORDER BY id
     LIMIT $6
), moved AS (
    UPDATE lead SET assigned_user_id = $5, updated_at = now()
      FROM batch
     WHERE lead.id = batch.id AND (lead.assigned_user_id = $4 OR lead.assigned_user_id IS NULL)
    RETURNING lead.id
)
SELECT (SELECT max(id) FROM batch) AS last_id, (SELECT count(*) FROM batch) AS scanned,
       (SELECT count(*) FROM moved) AS moved
"""


async def count_leads_with_default_rep(
    conn: BaseDBAsyncClient, team_id: int, missing_rep_id: int, default_rep_id: int | None
) -> int:
    """Leads detected under a missing rep that are still with the Default Rep (or with nobody)."""
    rows = await conn.execute_query_dict(
        """
        SELECT count(*) AS n FROM lead
         WHERE missing_rep_id = $1 AND team_id = $2 AND (assigned_user_id = $3 OR assigned_user_id IS NULL)
        """,
        [missing_rep_id, team_id, default_rep_id],
    )
    return rows[0]["n"]


async def move_batch_from_default_rep(
    conn: BaseDBAsyncClient,
    team_id: int,
    missing_rep_id: int,
    *,
    default_rep_id: int | None,
    to_user_id: int,
    after_id: int,
    limit: int,
) -> MovedBatch:
    """One batch: the next `limit` leads (by id, after `after_id`) of the missing rep that are
    still with the Default Rep go to `to_user_id`. One set-based statement walking the
    (missing_rep_id, id) index; it locks only the rows it moves. A lead that changed hands
    meanwhile is re-checked by the UPDATE and left alone.
    """
    rows = await conn.execute_query_dict(
        _MOVE_BATCH, [missing_rep_id, after_id, team_id, default_rep_id, to_user_id, limit]
    )
    row = rows[0]
    return MovedBatch(last_id=row["last_id"], scanned=row["scanned"], moved=row["moved"])


async def leads_by_ids(team_id: int, lead_ids: list[int]) -> dict[int, LeadRecord]:
    return {lead.id: _record(lead) for lead in await Lead.filter(team_id=team_id, id__in=lead_ids)}


async def get_lead(team_id: int, lead_id: int) -> LeadRecord | None:
    lead = await Lead.get_or_none(team_id=team_id, id=lead_id)
    return _record(lead) if lead else None


# --- inbound messages: what happens when a lead writes ----------------------------------------

MAX_MESSAGE_LENGTH = 10_000
OWNER_NOTICE_INTERVAL = "1 hour"


class OwnerNotification(str, Enum):
    NOT_NEEDED = "NOT_NEEDED"  # the assistant answered, or the conversation ended otherwise
    EMAIL_QUEUED = "EMAIL_QUEUED"
    ALREADY_NOTIFIED = "ALREADY_NOTIFIED"  # an email about this lead went out within the hour
    NO_RECIPIENT = "NO_RECIPIENT"  # no assigned user, or the user has no email


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

# At most one "wrote again" email per lead per hour, decided by the database: concurrent
# messages queue on the lead's row and only the first one inside the hour updates it.
_CLAIM_OWNER_NOTICE = f"""
UPDATE lead SET owner_notified_at = now()
WHERE id = $1 AND (owner_notified_at IS NULL OR owner_notified_at <= now() - interval '{OWNER_NOTICE_INTERVAL}')
RETURNING id
"""


async def receive_lead_message(team_id: int, lead_id: int, body: str) -> InboundOutcome:
    """Stores a lead's message; the assistant answers only on an active conversation.

    On a conversation ended by mass end nothing answers, and the lead's assigned user is
    emailed (queued in this transaction; at most once per lead per hour) to reach out directly.
    """
    text = body.strip()
    if not text:
        raise bad_input("body must not be empty.", field="body")
    if len(text) > MAX_MESSAGE_LENGTH:
        raise bad_input(f"body must be at most {MAX_MESSAGE_LENGTH} characters.", field="body")
    lead_model = await Lead.get_or_none(id=lead_id, team_id=team_id)
    if lead_model is None:
        raise not_found("Lead")
    lead = _record(lead_model)
    async with in_transaction() as conn:
        rows = await conn.execute_query_dict(_LOCK_CONVERSATION, [lead_id, team_id])
        if not rows:  # ingestion always starts one; a lead without any still gets its message kept
            rows = await conn.execute_query_dict(_START_CONVERSATION, [team_id, lead_id])
        conversation = _conversation(rows[0])
        message = await _add_message(conn, conversation.id, MessageDirection.INBOUND, text)
        reply = None
        notification, notified_user_id = OwnerNotification.NOT_NEEDED, None
        if conversation.state == ConversationState.ACTIVE and conversation.assistant_may_reply:
            answer = await RESPONDER.reply(lead_name=lead.name, inbound=text)
            reply = await _add_message(conn, conversation.id, MessageDirection.OUTBOUND, answer)
        elif conversation.end_reason == EndReason.MASS_END:
            notification, notified_user_id = await _notify_owner(conn, team_id, lead, text)
    return InboundOutcome(
        lead=lead,
        conversation=conversation,
        message=message,
        reply=reply,
        notification=notification,
        notified_user_id=notified_user_id,
    )


async def _notify_owner(conn, team_id: int, lead: LeadRecord, text: str) -> tuple[OwnerNotification, int | None]:
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


async def _add_message(conn, conversation_id: int, direction: MessageDirection, body: str) -> MessageRecord:
    rows = await conn.execute_query_dict(_ADD_MESSAGE, [conversation_id, direction.value, body])
    return records.build(MessageRecord, rows[0])


def _conversation(row: dict) -> ConversationRecord:
    return records.build(ConversationRecord, row)
