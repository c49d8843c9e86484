"""Lead ingestion from integrations: idempotent by external id, validated lead by lead, written
set-based behind the team's lead gate, with missing-rep detection."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

import asyncpg
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app.account_status import service as account_status
from app.errors import AppError, ErrorCode, bad_input
from app.missing_reps import service as missing_reps
from app.teams.rep_matching import RepRef, match_reps
from app.validation import MAX_NAME, clean_email, clean_phone, clean_text, normalize_name
from app.webhooks import payloads
from app.webhooks import service as webhooks
from app.webhooks.models import EventType

log = logging.getLogger(__name__)

MAX_BATCH = 1000
MAX_EXTERNAL_ID = 200
# A batch that loses a race on a missing rep's key (a unique index, or a deadlock between the
# upserts by id and by name) is rolled back whole and run again, at most this many times in all.
_WRITE_ATTEMPTS = 3


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
class _CleanLead:
    index: int
    data: LeadData
    rep: RepRef | None


def clean_lead(index: int, raw: LeadData) -> _CleanLead:
    """One lead validated and normalised, or BAD_USER_INPUT naming its first bad field."""
    external_id = clean_text(raw.external_id, field="externalId", max_length=MAX_EXTERNAL_ID, required=True)
    email = clean_email(raw.email, field="email")
    phone = clean_phone(raw.phone, field="phone")
    if email is None and phone is None:
        raise bad_input("A lead needs an email or a phone so the assistant can reach it.", field="email")
    rep_email = clean_email(raw.rep_email, field="rep.email")
    rep_name = clean_text(raw.rep_name, field="rep.name", max_length=MAX_NAME)
    if rep_name and not normalize_name(rep_name):
        rep_name = None  # punctuation only: names nobody
    rep_external_id = clean_text(raw.rep_external_id, field="rep.externalId", max_length=MAX_EXTERNAL_ID)
    # A rep sent with only an email is known by that email, with only an id by that id.
    rep_label = rep_name or rep_email or rep_external_id
    rep = RepRef(name=rep_label, email=rep_email, external_id=rep_external_id) if rep_label else None
    name = clean_text(raw.name, field="name", max_length=MAX_NAME)
    data = LeadData(
        external_id=external_id,
        name=name,
        email=email,
        phone=phone,
        rep_name=rep_name,
        rep_email=rep_email,
        rep_external_id=rep_external_id,
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
RETURNING id, external_id, (xmax = 0) AS inserted, missing_rep_id, name, email, phone, status, rep_name,
          rep_email, rep_external_id, assigned_user_id, created_at
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
            clean = clean_lead(index, raw)
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

    for attempt in range(1, _WRITE_ATTEMPTS + 1):
        try:
            new_rep_ids = await _write(team_id, valid, outcomes)
            break
        except (IntegrityError, asyncpg.DeadlockDetectedError) as error:
            # Only the races the missing-rep upserts can lose are run again (see
            # app.missing_reps.detection); any other error is a real one.
            if attempt == _WRITE_ATTEMPTS or not _lost_a_rep_race(error):
                raise
            log.info("ingestion lost a race on a missing rep's key; running the batch again: %s", error)
    await missing_reps.publish_detected(team_id, new_rep_ids)
    return [outcomes[i] for i in range(len(leads))]


def _lost_a_rep_race(error: Exception) -> bool:
    if isinstance(error, asyncpg.DeadlockDetectedError):
        return True
    cause = error.__cause__
    return isinstance(cause, asyncpg.UniqueViolationError) and cause.table_name == "missing_rep"


async def _write(team_id: int, valid: list[_CleanLead], outcomes: dict[int, IngestOutcome]) -> list[int]:
    """The batch's one transaction; the ids of the reps it detected first."""
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
            await webhooks.emit(conn, team_id, EventType.LEAD_CREATED, [payloads.lead_created(r) for r in written if r["inserted"]])
            reps = {rep.key: rep for rep in unmatched}
            await webhooks.emit(
                conn,
                team_id,
                EventType.MISSING_REP_DETECTED,
                [
                    payloads.missing_rep_detected(d.id, reps[k].name, reps[k].email, reps[k].external_id)
                    for k, d in detected.items()
                    if d.inserted
                ],
            )
            for c in valid:
                row = by_external[c.data.external_id]
                outcomes[c.index] = IngestOutcome(
                    index=c.index, external_id=c.data.external_id, lead_id=row["id"], created=row["inserted"]
                )
    return new_rep_ids


def _row_values(c: _CleanLead, matches, detected, default_rep_id: int | None) -> tuple:
    user_id = matches.get(c.rep) if c.rep else None
    missing_rep_id = None
    if c.rep and user_id is None:
        rep = detected[c.rep.key]
        missing_rep_id = rep.id
        # A rep resolved after this batch matched its reps (Add as User / Map to Rep committed
        # in between): the lead goes to that user, not to a Default Rep nobody moves it from.
        user_id = rep.resolved_user_id or default_rep_id
    elif c.rep is None:
        user_id = default_rep_id
    d = c.data
    return (d.external_id, d.name, d.email, d.phone, d.rep_name, d.rep_email, d.rep_external_id, user_id, missing_rep_id)
