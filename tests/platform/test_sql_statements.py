"""Each dashboard operation costs a fixed number of SQL statements, however many rows it shows:
an N+1 (one query per row) cannot come back unnoticed.

Statements are counted where every one of them passes: the connections of the ORM's pool
(app.db.PooledConnection: the ORM's queries, the services' raw SQL through Tortoise or straight
from the pool), each call still going to PostgreSQL. The job queue's own connections and
transaction control (BEGIN, COMMIT, savepoints) are not counted.
"""

from __future__ import annotations

import contextlib

import pytest
from asyncpg.connection import Connection

from app import executor
from app.db import PooledConnection
from app.teams.models import Role
from tests.support import make_member, make_team

ACCOUNT_STATUS = """
{ accountStatus { state pausedAt pauseReason pausedBy { id name team { id name } }
  activeMassEndJob { id state requestedBy { id } } activeConversationCount activeMemberCount } }
"""
MISSING_REPS_PAGE = """
{ missingReps(orderBy: {field: LEADS_ORIGINALLY_ASSIGNED, direction: DESC}) {
    totalCount
    edges { cursor node { id name email dateFound leadsOriginallyAssigned status
      resolvedUser { id name team { name } } suggestedMatches { score user { id name email aliases team { id } } } } }
    pageInfo { hasNextPage endCursor } } }
"""
AUDIT_LOG = """
{ auditLog(first: 50) { edges { cursor node { id action details createdAt actor { id name role team { id } } } }
    pageInfo { hasNextPage endCursor } } }
"""

# Per request, besides the caller's token (looked up at most once a second: app.auth, and not
# counted here). missingReps: page with its count, suggestions, aliases, teams; accountStatus:
# status with its counts and open mass end, paused-by user, team; auditLog: page with its actors, teams.
EXPECTED = {"accountStatus": 3, "missingReps": 4, "auditLog": 2}

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@contextlib.contextmanager
def statements(monkeypatch: pytest.MonkeyPatch):
    """The SQL statements sent while the block runs, in order: fetch, fetchrow, fetchval and an
    execute with arguments go through `_execute`, executemany through `_executemany`, and an
    execute without arguments is a simple query of its own."""
    sent: list[str] = []

    def record(query) -> None:
        text = " ".join(str(query).split())[:160]
        if not text.upper().startswith(TRANSACTION_CONTROL):
            sent.append(text)

    def counting(original, *, only_without_arguments: bool = False):
        async def method(self, query, *args, **kwargs):
            if not only_without_arguments or not args:
                record(query)
            return await original(self, query, *args, **kwargs)

        return method

    monkeypatch.setattr(PooledConnection, "_execute", counting(Connection._execute), raising=False)
    monkeypatch.setattr(PooledConnection, "_executemany", counting(Connection._executemany), raising=False)
    monkeypatch.setattr(PooledConnection, "execute", counting(Connection.execute, only_without_arguments=True), raising=False)
    try:
        yield sent
    finally:
        monkeypatch.undo()


async def _grow(api, team, admin_token: str, rounds: int) -> None:
    """More rows of everything the dashboards show: reps (with look-alike users), audit events."""
    for i in range(rounds):
        await make_member(team.id, f"Stephen Smith{i}", Role.REP)
        await api.data(
            "mutation($leads: [LeadInput!]!) { ingestLeads(leads: $leads) { createdCount } }",
            {"leads": [{"externalId": f"l-{rounds}-{i}", "email": f"l{rounds}-{i}@x.example", "rep": {"name": f"Stephen Smith{i} Jr"}}]},
            token=team.integration_token,
        )
        await api.data('mutation { pauseAccount(confirmation: "CONFIRM", reason: "r") { state } }', token=admin_token)
        await api.data('mutation { unpauseAccount(confirmation: "CONFIRM") { state } }', token=admin_token)


async def test_dashboard_operations_cost_a_fixed_number_of_statements(api, server, monkeypatch):
    executor.DIFFERENTIAL.enabled = False  # its second run would double the count
    team = await make_team()
    admin = team.token(Role.ADMIN)
    counts: dict[str, list[int]] = {name: [] for name in EXPECTED}
    seen: dict[str, list[str]] = {}
    for rounds in (1, 6):
        await _grow(api, team, admin, rounds)
        await api.data('mutation { pauseAccount(confirmation: "CONFIRM", reason: "r") { state } }', token=admin)
        for name, query in (("accountStatus", ACCOUNT_STATUS), ("missingReps", MISSING_REPS_PAGE), ("auditLog", AUDIT_LOG)):
            with statements(monkeypatch) as sent:
                data = await api.data(query, token=admin)
            assert data[name]
            sent[:] = [statement for statement in sent if "api_token" not in statement]
            counts[name].append(len(sent))
            seen[name] = sent
        await api.data('mutation { unpauseAccount(confirmation: "CONFIRM") { state } }', token=admin)
    for name, expected in EXPECTED.items():
        assert counts[name] == [expected, expected], (name, counts[name], seen[name])


def _mixed_batch(tag: str, size: int) -> list[dict]:
    """Leads whose reps are matched every way (CRM owner id, email, name, alias) or are missing
    (new ones keyed by external id or by name, and one known by its id)."""
    leads = []
    for i in range(size):
        rep = [
            {"externalId": "005KNOWN", "name": "Anyone"},
            {"email": "owner@corp.example"},
            {"name": "Olga Owner"},
            {"name": "Olly Alias"},
            {"externalId": f"005NEW-{tag}-{i}", "name": f"New By Id {i}"},
            {"name": f"New By Name {tag} {i}"},
            {"externalId": "005MISSING", "name": "Still Missing"},
        ][i % 7]
        leads.append({"externalId": f"{tag}-{i}", "email": f"{tag}-{i}@x.example", "rep": rep})
    return leads


async def test_ingestion_costs_a_fixed_number_of_statements_however_big_the_batch(api, server, monkeypatch):
    """Rep matching and missing-rep detection stay set-based: a batch of 70 leads costs what a
    batch of 7 does, whatever mix of reps it names."""
    from app import db
    from app.teams import service as teams

    executor.DIFFERENTIAL.enabled = False
    team = await make_team()
    owner = await make_member(team.id, "Olga Owner", Role.REP, email="owner@corp.example")
    await teams.add_alias(db.connection(), team.id, owner.id, "Olly Alias")
    await db.connection().execute_query(
        "INSERT INTO user_crm_owner_id (team_id, user_id, external_id, created_at) VALUES ($1, $2, '005KNOWN', now())",
        [team.id, owner.id],
    )
    ingest = "mutation($leads: [LeadInput!]!) { ingestLeads(leads: $leads) { createdCount results { error { message } } } }"
    counts = []
    for tag, size in (("warm", 7), ("small", 7), ("big", 70)):
        with statements(monkeypatch) as sent:
            data = await api.data(ingest, {"leads": _mixed_batch(tag, size)}, token=team.integration_token)
        assert data["ingestLeads"]["createdCount"] == size, data
        counts.append(len([statement for statement in sent if "api_token" not in statement]))
    # One per step (gate, rep match, reps by id, reps by name, leads, ...), none per lead; the
    # token's lookup is not counted (it is cached for a second: app.auth).
    assert counts[1] == counts[2] == 12, counts
