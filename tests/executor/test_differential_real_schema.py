"""The compiled executor gives graphql-core's response for generated queries over the real schema,
with the real context (caller, loaders) and the real database, for callers of every role."""

from __future__ import annotations

import pytest
from graphql import parse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.auth import resolve_caller
from app.executor.compiler import CompiledOperation
from app.gql import Context
from app.schema import schema
from app.teams.models import Role
from tests.executor.generate import both, operations, valid
from tests.support import make_team

GRAPHQL_SCHEMA = schema._schema


@pytest.fixture
async def world(api, server):
    """A team with missing reps (one ignored), an audit log, a paused-then-unpaused account."""
    team = await make_team()
    leads = [{"externalId": f"{name}-{i}", "email": f"{i}.{name[:2]}@x.example", "rep": {"name": name}}
             for name, n in (("Stephen Smith", 3), ("Ann Lee", 1), ("Bo Diddley", 2)) for i in range(n)]
    await api.data("mutation($leads: [LeadInput!]!) { ingestLeads(leads: $leads) { createdCount } }", {"leads": leads},
                   token=team.integration_token)
    reps = await api.data("{ missingReps(first: 50) { edges { node { id } } } }", token=team.token(Role.MANAGER))
    rep_ids = [e["node"]["id"] for e in reps["missingReps"]["edges"]]
    admin = team.token(Role.ADMIN)
    await api.data('mutation { pauseAccount(confirmation: "CONFIRM", reason: "r") { state } }', token=admin)
    await api.data('mutation { unpauseAccount(confirmation: "CONFIRM") { state } }', token=admin)
    await api.data("mutation($id: ID!) { ignoreMissingRep(id: $id) { id } }", {"id": rep_ids[2]}, token=team.token(Role.MANAGER))
    callers = {role: (await resolve_caller(f"Bearer {team.token(role)}"))[0] for role in Role}
    callers[None] = (await resolve_caller(f"Bearer {team.integration_token}"))[0]
    return rep_ids, callers


def _arguments(rep_ids: list[str]) -> dict[str, list[str]]:
    return {
        "id": [f'"{i}"' for i in rep_ids] + ['"999999"', '"x"', '"0"'],
        "first": ["0", "1", "2", "50", "-1", "$first"],
        "after": ["null", '"bad cursor"', "$after"],
        "status": ["MISSING", "IGNORED", "null"],
        "orderBy": ["{field: NAME, direction: DESC}", "{field: LEADS_ORIGINALLY_ASSIGNED}", "{}", "null"],
    }


VARIABLES = {"first": ("Int", [0, 1, 3, None]), "after": ("String", [None, "nope"])}
ROOT_FIELDS = ["viewer", "accountStatus", "auditLog", "missingReps", "missingRep", "massEndJob"]


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.data())
async def test_generated_queries_over_the_real_schema_match_graphql_core(world, data):
    rep_ids, callers = world
    text, variables = data.draw(
        operations(GRAPHQL_SCHEMA, "query", arguments=_arguments(rep_ids), variables=VARIABLES, root_fields=ROOT_FIELDS, max_depth=5)
    )
    if not valid(GRAPHQL_SCHEMA, text):
        return
    caller = callers[data.draw(st.sampled_from([*Role, None]))]
    mine, theirs = await both(
        GRAPHQL_SCHEMA, text, variables, root_factory=lambda: None, context_factory=lambda: Context(caller=caller),
        errors_in_order=False,
    )
    assert mine == theirs, text


def test_the_real_schemas_queries_all_compile():
    """Every field of the real schema is compiled, none sent to graphql-core."""
    text = """
    query($first: Int) {
      viewer { id name email phone role aliases team { id name defaultRep { id } } }
      accountStatus { state pausedAt pauseReason pausedBy { id } activeMassEndJob { id state total processed
        createdAt startedAt finishedAt estimatedSecondsLeft failureReason requestedBy { id } }
        activeConversationCount activeMemberCount }
      auditLog(first: $first) { edges { cursor node { id action details createdAt actor { id } } } pageInfo { hasNextPage endCursor } }
      missingReps { totalCount edges { cursor node { id name email dateFound leadsOriginallyAssigned status resolution
        resolvedAt leadsMoved reassignmentPending resolvedUser { id } resolvedBy { id } suggestedMatches { score user { id } } } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }
    }
    """
    CompiledOperation(GRAPHQL_SCHEMA, parse(text), None)
