"""Reading leads and their conversations: what other features ask of them."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from app import db, records
from app.leads.models import Lead, LeadStatus


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
class ActivityCounts:
    active_conversations: int
    members_with_active_conversations: int


def _record(lead: Lead) -> LeadRecord:
    return records.build(LeadRecord, lead)


_LEAD_COLUMNS = ", ".join(f.name for f in dataclasses.fields(LeadRecord))


async def leads_by_ids(team_id: int, lead_ids: list[int]) -> dict[int, LeadRecord]:
    # Plain SQL: ingestion reads back up to 1,000 leads per batch, and building ORM models for
    # them cost more than the query (bench/ingest.py, py-spy).
    rows = await db.fetch_rows(
        f"SELECT {_LEAD_COLUMNS} FROM lead WHERE team_id = $1 AND id = ANY($2::int[])", [team_id, lead_ids]
    )
    return {lead.id: lead for lead in records.build_all(LeadRecord, rows)}


async def get_lead(team_id: int, lead_id: int) -> LeadRecord | None:
    lead = await Lead.get_or_none(team_id=team_id, id=lead_id)
    return _record(lead) if lead else None


# What a mass end would touch in team $1: one row (conversations, members).
ACTIVITY_COUNTS_SQL = """
SELECT count(*) AS conversations, count(DISTINCT l.assigned_user_id) AS members
FROM conversation c JOIN lead l ON l.id = c.lead_id
WHERE c.team_id = $1 AND c.state = 'ACTIVE'
"""


def activity_from_row(row) -> ActivityCounts:
    return ActivityCounts(row["conversations"], row["members"])


async def activity_counts(team_id: int) -> ActivityCounts:
    """What a mass end would touch: active conversations and the members they belong to."""
    rows = await db.fetch_rows(ACTIVITY_COUNTS_SQL, [team_id])
    return activity_from_row(rows[0])
