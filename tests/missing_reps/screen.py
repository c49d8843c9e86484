"""The Missing Reps screen's GraphQL operations and helpers shared by its tests."""

from __future__ import annotations

import re
import uuid


from app.audit.models import AuditEvent
from app.leads.models import Lead
from tests.support import Api, TeamFixture, ingest, lead_input, missing_rep_of

REP_FIELDS = """
id name email dateFound leadsOriginallyAssigned status resolution resolvedAt leadsMoved reassignmentPending
resolvedUser { id name email phone role aliases } resolvedBy { id }
"""

LIST = f"""
query($status: MissingRepStatus, $orderBy: MissingRepOrder, $first: Int, $after: String) {{
  missingReps(status: $status, orderBy: $orderBy, first: $first, after: $after) {{
    totalCount
    edges {{ cursor node {{ {REP_FIELDS} }} }}
    pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
  }}
}}
"""

COUNT = "query($status: MissingRepStatus) { missingReps(status: $status, first: 0) { totalCount } }"

ONE = f"query($id: ID!) {{ missingRep(id: $id) {{ {REP_FIELDS} }} }}"

SUGGESTIONS = """
query($id: ID!) { missingRep(id: $id) { id name suggestedMatches { score user { id name email } } } }
"""

ADD = f"""
mutation($id: ID!, $input: NewUserInput!) {{ addMissingRepAsUser(id: $id, input: $input) {{ {REP_FIELDS} }} }}
"""

MAP = f"""
mutation($id: ID!, $userId: ID!) {{ mapMissingRepToUser(id: $id, userId: $userId) {{ {REP_FIELDS} }} }}
"""

IGNORE = f"mutation($id: ID!) {{ ignoreMissingRep(id: $id) {{ {REP_FIELDS} }} }}"

RESTORE = f"mutation($id: ID!) {{ restoreMissingRep(id: $id) {{ {REP_FIELDS} }} }}"


async def detect(api: Api, team: TeamFixture, rep_name: str, leads: int = 1, *, rep_email: str | None = None, prefix: str | None = None) -> str:
    """Ingests `leads` new leads naming `rep_name` (one call: one date found); the rep's id."""
    prefix = prefix or f"{re.sub(r'[^0-9A-Za-z]+', '-', rep_name)}-{uuid.uuid4().hex[:6]}-"
    result = await ingest(
        api, team, [lead_input(f"{prefix}{i}", rep_name, rep_email) for i in range(leads)]
    )
    rep = await missing_rep_of(result["results"][0]["lead"])
    assert rep is not None, result
    return str(rep.id)


async def leads_of(team: TeamFixture, rep_id: str) -> dict[str, int | None]:
    """external id -> assigned user id, for the leads detected under a missing rep."""
    rows = await Lead.filter(team_id=team.id, missing_rep_id=int(rep_id)).values_list("external_id", "assigned_user_id")
    return dict(rows)


async def audit_events(team: TeamFixture) -> list[AuditEvent]:
    return await AuditEvent.filter(team_id=team.id).order_by("id")
