"""The authorization matrix: every query, mutation and subscription x every kind of caller, checked
against the permission table (app.auth, the SPEC's table).

Callers: each role, an integration token, another team's Admin using this team's ids, a revoked
token, no token. A caller the table allows is never refused FORBIDDEN / UNAUTHENTICATED (it may
meet another rule: CONFIRMATION_REQUIRED, CONFLICT); every other caller is refused with the code
the table gives, and another team's ids are simply not found.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable

import pytest
import websockets

from app import auth
from app.auth import INTEGRATION_PERMISSIONS, USER_PERMISSIONS, Permission
from app.schema import schema
from app.teams.models import Role
from tests.missing_reps.screen import detect
from tests.support import Subscription, ingest, lead_input, make_team

P = Permission


@dataclass(frozen=True)
class Op:
    permission: Permission
    query: str
    variables: Callable[[dict], dict] = lambda ids: {}
    uses_ids: bool = False  # names rows of the team under test


OPERATIONS: dict[str, Op] = {
    # queries
    "viewer": Op(P.VIEW_SELF, "{ viewer { id email role } }"),
    "accountStatus": Op(P.READ_ACCOUNT_STATUS, "{ accountStatus { state pausedBy { id } } }"),
    "auditLog": Op(P.READ_AUDIT_LOG, "{ auditLog { edges { node { id } } } }"),
    "users": Op(P.LIST_USERS, "{ users { edges { node { id email } } } }"),
    "massEndJob": Op(P.READ_ACCOUNT_STATUS, "query($id: ID!) { massEndJob(id: $id) { id } }", lambda i: {"id": i["job"]}, True),
    "massEndPreview": Op(P.MANAGE_ACCOUNT_STATUS, "{ massEndPreview(filter: {leadStatuses: [NEW_LEAD]}) { summary byMember { user { id } } } }"),
    "missingReps": Op(P.MANAGE_MISSING_REPS, "{ missingReps { edges { node { id } } } }"),
    "missingRep": Op(
        P.MANAGE_MISSING_REPS,
        "query($id: ID!) { missingRep(id: $id) { id suggestedMatches { user { email } } } }",
        lambda i: {"id": i["rep"]},
        True,
    ),
    "suggestedMatchesPreview": Op(
        P.MANAGE_MISSING_REPS,
        "query($ids: [ID!]) { suggestedMatchesPreview(minScore: 0.9, ids: $ids) { missingRep { id } user { id } score } }",
        lambda i: {"ids": [i["rep"]]},
    ),
    # mutations
    "setDefaultRep": Op(P.MANAGE_TEAM, "mutation($id: ID!) { setDefaultRep(userId: $id) { id } }", lambda i: {"id": i["user"]}, True),
    "ingestLeads": Op(
        P.INGEST_LEADS,
        "mutation($l: [LeadInput!]!) { ingestLeads(leads: $l) { createdCount } }",
        lambda i: {"l": [lead_input("matrix")]},
    ),
    "receiveLeadMessage": Op(
        P.INGEST_LEADS,
        "mutation($id: ID!) { receiveLeadMessage(leadId: $id, body: \"hello\") { assistantReplied } }",
        lambda i: {"id": i["lead"]},
        True,
    ),
    "pauseAccount": Op(P.MANAGE_ACCOUNT_STATUS, "mutation { pauseAccount(confirmation: \"nope\") { state } }"),
    "unpauseAccount": Op(P.MANAGE_ACCOUNT_STATUS, "mutation { unpauseAccount(confirmation: \"nope\") { state } }"),
    "endAllConversations": Op(P.MANAGE_ACCOUNT_STATUS, "mutation { endAllConversations(confirmation: \"nope\") { id } }"),
    "endConversations": Op(
        P.MANAGE_ACCOUNT_STATUS, "mutation { endConversations(confirmation: \"nope\", filter: {leadStatuses: [NEW_LEAD]}) { id } }"
    ),
    # CONFIRM: the job is looked up (another team's is NOT_FOUND); this team's is still open, or
    # the first allowed caller undoes it and the rest meet a CONFLICT.
    "reopenMassEnd": Op(
        P.MANAGE_ACCOUNT_STATUS,
        "mutation($id: ID!) { reopenMassEnd(jobId: $id, confirmation: \"CONFIRM\") { id } }",
        lambda i: {"id": i["job"]},
        True,
    ),
    "addMissingRepAsUser": Op(
        P.MANAGE_MISSING_REPS,
        "mutation($id: ID!) { addMissingRepAsUser(id: $id, input: {email: \"matrix@corp.example\"}) { id } }",
        lambda i: {"id": i["rep"]},
        True,
    ),
    "mapMissingRepToUser": Op(
        P.MANAGE_MISSING_REPS,
        "mutation($id: ID!, $u: ID!) { mapMissingRepToUser(id: $id, userId: $u) { id } }",
        lambda i: {"id": i["rep"], "u": i["user"]},
        True,
    ),
    # (a wrong confirmation: the allowed callers stop there, after the permission check)
    "removeUserAlias": Op(
        P.MANAGE_MISSING_REPS,
        "mutation($u: ID!) { removeUserAlias(userId: $u, alias: \"Matrix Ghost\", confirmation: \"nope\") { leadsStaying } }",
        lambda i: {"u": i["user"]},
    ),
    "ignoreMissingRep": Op(P.MANAGE_MISSING_REPS, "mutation($id: ID!) { ignoreMissingRep(id: $id) { id } }", lambda i: {"id": i["rep"]}, True),
    "restoreMissingRep": Op(P.MANAGE_MISSING_REPS, "mutation($id: ID!) { restoreMissingRep(id: $id) { id } }", lambda i: {"id": i["rep"]}, True),
    "ignoreMissingReps": Op(
        P.MANAGE_MISSING_REPS,
        "mutation($ids: [ID!]!) { ignoreMissingReps(ids: $ids) { changed { id } skipped { reason } } }",
        lambda i: {"ids": [i["rep"]]},
    ),
    "restoreMissingReps": Op(
        P.MANAGE_MISSING_REPS,
        "mutation($ids: [ID!]!) { restoreMissingReps(ids: $ids) { changed { id } skipped { reason } } }",
        lambda i: {"ids": [i["rep"]]},
    ),
    "acceptSuggestedMatches": Op(
        P.MANAGE_MISSING_REPS,
        "mutation($ids: [ID!]) { acceptSuggestedMatches(minScore: 0.9, ids: $ids, confirmation: \"nope\") { changed { id } } }",
        lambda i: {"ids": [i["rep"]]},
    ),
    # (the world's lead is not assigned to any role's member: only the table decides)
    "endConversation": Op(
        P.END_ANY_CONVERSATION, "mutation($id: ID!) { endConversation(leadId: $id) { id } }", lambda i: {"id": i["lead"]}, True
    ),
    "webhookEndpoints": Op(P.MANAGE_WEBHOOKS, "{ webhookEndpoints { url } }"),
    "webhookEndpoint": Op(
        P.MANAGE_WEBHOOKS,
        "query($id: ID!) { webhookEndpoint(id: $id) { id deliveries { edges { node { id } } } } }",
        lambda i: {"id": i["endpoint"]},
        True,
    ),
    "createWebhookEndpoint": Op(
        P.MANAGE_WEBHOOKS,
        "mutation { createWebhookEndpoint(url: \"https://93.184.215.14/matrix\", events: [LEAD_CREATED]) { endpoint { url } } }",
    ),
    "updateWebhookEndpoint": Op(
        P.MANAGE_WEBHOOKS,
        "mutation($id: ID!) { updateWebhookEndpoint(id: $id, description: \"matrix\") { id } }",
        lambda i: {"id": i["endpoint"]},
        True,
    ),
    "rotateWebhookSecret": Op(
        P.MANAGE_WEBHOOKS, "mutation($id: ID!) { rotateWebhookSecret(id: $id) { endpoint { id } } }", lambda i: {"id": i["endpoint"]}, True
    ),
    "sendTestWebhook": Op(P.MANAGE_WEBHOOKS, "mutation($id: ID!) { sendTestWebhook(id: $id) { state } }", lambda i: {"id": i["endpoint"]}, True),
    "redeliverWebhook": Op(
        P.MANAGE_WEBHOOKS, "mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { state } }", lambda i: {"id": i["delivery"]}, True
    ),
    "deleteWebhookEndpoint": Op(P.MANAGE_WEBHOOKS, "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }", lambda i: {"id": i["endpoint"]}, True),
    # subscriptions
    "accountStatusChanged": Op(P.READ_ACCOUNT_STATUS, "subscription { accountStatusChanged { state } }"),
    "massEndProgress": Op(
        P.READ_ACCOUNT_STATUS,
        "subscription($id: ID!) { massEndProgress(jobId: $id) { id } }",
        lambda i: {"id": i["job"]},
        True,
    ),
    "missingRepDetected": Op(P.MANAGE_MISSING_REPS, "subscription { missingRepDetected { id } }"),
}

CALLERS = [*(r.value for r in Role), "INTEGRATION", "OTHER_TEAM_ADMIN", "REVOKED", "NONE"]
ALLOWED = "allowed"


def expected(op: Op, caller: str) -> str:
    """What the permission table says this caller gets."""
    if caller in ("REVOKED", "NONE"):
        return "UNAUTHENTICATED"
    if caller == "INTEGRATION":
        return ALLOWED if op.permission in INTEGRATION_PERMISSIONS else "FORBIDDEN"
    role = Role.ADMIN if caller == "OTHER_TEAM_ADMIN" else Role(caller)
    if role not in USER_PERMISSIONS[op.permission]:
        return "FORBIDDEN"
    if caller == "OTHER_TEAM_ADMIN" and op.uses_ids:
        return "NOT_FOUND"
    return ALLOWED


def test_the_matrix_covers_every_root_field():
    graphql = schema._schema
    roots = [graphql.query_type, graphql.mutation_type, graphql.subscription_type]
    assert sorted(name for root in roots for name in root.fields) == sorted(OPERATIONS)


@pytest.fixture
async def world(api, server):
    """This team with a missing rep, a lead, a mass end job; another team; a revoked token."""
    team, other = await make_team(), await make_team()
    rep_id = await detect(api, team, "Matrix Ghost")
    lead = (await ingest(api, team, [lead_input("matrix-lead")]))["results"][0]["lead"]
    job = (await api.data("mutation { endAllConversations(confirmation: \"CONFIRM\") { id } }", token=team.token(Role.ADMIN)))
    revoked = await auth.create_token(team.id, user_id=team.member(Role.ADMIN).id, name="revoked")
    await auth.revoke_token(team.id, revoked)
    tokens = {r.value: team.token(r) for r in Role}
    tokens |= {"INTEGRATION": team.integration_token, "OTHER_TEAM_ADMIN": other.token(Role.ADMIN), "REVOKED": revoked, "NONE": None}
    # An endpoint on a closed loopback port (refused at once) with one delivery of a test event.
    endpoint = (
        await api.data(
            "mutation { createWebhookEndpoint(url: \"http://127.0.0.1:9/matrix\", events: [LEAD_CREATED]) { endpoint { id } } }",
            token=team.token(Role.ADMIN),
        )
    )["createWebhookEndpoint"]["endpoint"]["id"]
    delivery = (
        await api.data("mutation($id: ID!) { sendTestWebhook(id: $id) { id } }", {"id": endpoint}, token=team.token(Role.ADMIN))
    )["sendTestWebhook"]["id"]
    ids = {
        "rep": rep_id,
        "lead": lead["id"],
        "job": job["endAllConversations"]["id"],
        "user": str(team.member(Role.REP).id),
        "endpoint": endpoint,
        "delivery": delivery,
    }
    return team, tokens, ids


def _code(errors: list[dict] | None) -> str:
    if not errors:
        return ALLOWED
    codes = [e["extensions"]["code"] for e in errors]
    assert "INTERNAL_SERVER_ERROR" not in codes, errors
    refusals = [c for c in codes if c in ("UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND")]
    return refusals[0] if refusals else ALLOWED


async def _outcome_http(api, op: Op, token: str | None, ids: dict) -> tuple[str, dict]:
    body = await api(op.query, op.variables(ids), token=token)
    return _code(body.get("errors")), body


async def _outcome_ws(api, op: Op, token: str | None, ids: dict) -> tuple[str, dict]:
    try:
        sub = await Subscription.connect(api, token)
    except (AssertionError, websockets.ConnectionClosed) as refused:
        closed = getattr(refused, "rcvd", None)
        assert closed is None or closed.code == 4403, refused
        return "UNAUTHENTICATED", {}
    async with sub:
        await sub.subscribe(op.query, op.variables(ids))
        try:
            message = await sub.next_message(timeout=0.5)
        except TimeoutError:
            return ALLOWED, {}  # subscribed, waiting for events
        payload = message.get("payload")
        errors = payload if message["type"] == "error" else (payload or {}).get("errors")
        return _code(errors), payload or {}


@pytest.mark.parametrize("name", list(OPERATIONS))
async def test_every_caller_gets_what_the_permission_table_says(api, world, name):
    team, tokens, ids = world
    op = OPERATIONS[name]
    subscription = name in schema._schema.subscription_type.fields
    got = {}
    for caller in CALLERS:
        outcome, body = await (_outcome_ws if subscription else _outcome_http)(api, op, tokens[caller], ids)
        got[caller] = outcome
        if caller == "OTHER_TEAM_ADMIN" and outcome == ALLOWED:
            # Acting in its own team: nothing of this team shows through.
            shown = json.dumps(body.get("data"))
            assert not any(f'"{value}"' in shown for value in ids.values() if value), body
    assert got == {caller: expected(op, caller) for caller in CALLERS}


async def test_an_integration_cannot_see_missing_reps_or_user_contacts_through_ingest_leads(api, world):
    """The permission holds wherever the type is reached, not only at its root field."""
    team, tokens, ids = world
    query = (
        "mutation($l: [LeadInput!]!) { ingestLeads(leads: $l) { results { lead { "
        "%s } } } }"
    )
    for selection, what in [
        ("missingRep { suggestedMatches { user { email } } }", "MissingRep"),
        ("assignedUser { email }", "User.email"),
        ("assignedUser { phone }", "User.phone"),
        ("assignedUser { role }", "User.role"),
    ]:
        body = await api(query % selection, {"l": [lead_input("via-ingest", "Matrix Ghost")]}, token=tokens["INTEGRATION"])
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
        assert what in body["errors"][0]["message"]
    allowed = await api(query % "assignedUser { id name }", {"l": [lead_input("via-ingest", "Matrix Ghost")]}, token=tokens["INTEGRATION"])
    assert "errors" not in allowed
