"""Strict inputs, one rule each: ids, NUL, lone surrogates, invisible-only strings, over-long lead
fields, wrong-typed variables. Bad input is refused with a code, never an internal error, and
changes nothing."""

from __future__ import annotations

import json

import pytest

from app.leads.models import Lead
from app.teams.models import Role, Team
from tests.support import Subscription, lead_input, make_team

BAD_IDS = ["2147483648", "99999999999999999999", "²", "١", "0", "-1", " 1", "1.5", "0x10", "abc"]

# Every operation that looks a row up by id, with the variables that name it.
ID_OPERATIONS = {
    "massEndJob": ("query($id: ID!) { massEndJob(id: $id) { id } }", Role.ADMIN, lambda i: {"id": i}),
    "missingRep": ("query($id: ID!) { missingRep(id: $id) { id } }", Role.ADMIN, lambda i: {"id": i}),
    "setDefaultRep": ("mutation($id: ID!) { setDefaultRep(userId: $id) { id } }", Role.ADMIN, lambda i: {"id": i}),
    "receiveLeadMessage": (
        "mutation($id: ID!) { receiveLeadMessage(leadId: $id, body: \"hi\") { assistantReplied } }",
        None,
        lambda i: {"id": i},
    ),
    "addMissingRepAsUser": (
        "mutation($id: ID!) { addMissingRepAsUser(id: $id, input: {email: \"a@corp.example\"}) { id } }",
        Role.ADMIN,
        lambda i: {"id": i},
    ),
    "mapMissingRepToUser.id": (
        "mutation($id: ID!, $u: ID!) { mapMissingRepToUser(id: $id, userId: $u) { id } }",
        Role.ADMIN,
        lambda i: {"id": i, "u": "1"},
    ),
    "mapMissingRepToUser.userId": (
        "mutation($id: ID!, $u: ID!) { mapMissingRepToUser(id: $id, userId: $u) { id } }",
        Role.ADMIN,
        lambda i: {"id": "1", "u": i},
    ),
    "ignoreMissingRep": ("mutation($id: ID!) { ignoreMissingRep(id: $id) { id } }", Role.ADMIN, lambda i: {"id": i}),
    "restoreMissingRep": ("mutation($id: ID!) { restoreMissingRep(id: $id) { id } }", Role.ADMIN, lambda i: {"id": i}),
    "endConversation": ("mutation($id: ID!) { endConversation(leadId: $id) { id } }", Role.ADMIN, lambda i: {"id": i}),
    "webhookEndpoint": ("query($id: ID!) { webhookEndpoint(id: $id) { id } }", Role.ADMIN, lambda i: {"id": i}),
    "updateWebhookEndpoint": (
        "mutation($id: ID!) { updateWebhookEndpoint(id: $id, enabled: false) { id } }",
        Role.ADMIN,
        lambda i: {"id": i},
    ),
    "deleteWebhookEndpoint": ("mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }", Role.ADMIN, lambda i: {"id": i}),
    "rotateWebhookSecret": ("mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }", Role.ADMIN, lambda i: {"id": i}),
    "sendTestWebhook": ("mutation($id: ID!) { sendTestWebhook(id: $id) { id } }", Role.ADMIN, lambda i: {"id": i}),
    "redeliverWebhook": ("mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { id } }", Role.ADMIN, lambda i: {"id": i}),
}


@pytest.mark.parametrize("bad_id", BAD_IDS)
@pytest.mark.parametrize("operation", list(ID_OPERATIONS))
async def test_an_id_that_is_not_ascii_digits_in_the_int4_range_is_not_found(api, server, operation, bad_id):
    team = await make_team()
    query, role, variables = ID_OPERATIONS[operation]
    token = team.token(role) if role else team.integration_token
    body = await api(query, variables(bad_id), token=token)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"], body


async def test_an_arabic_indic_digit_does_not_change_the_default_rep(api, server):
    team = await make_team()
    body = await api("mutation { setDefaultRep(userId: \"١\") { id } }", token=team.token(Role.ADMIN))
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (await Team.get(id=team.id)).default_rep_id == team.default_rep.id


@pytest.mark.parametrize("bad_id", ["2147483648", "١"])
async def test_a_subscription_with_a_bad_id_is_not_found(api, server, bad_id):
    team = await make_team()
    async with await Subscription.connect(api, team.token(Role.ADMIN)) as sub:
        await sub.subscribe("subscription($id: ID!) { massEndProgress(jobId: $id) { id } }", {"id": bad_id})
        assert await sub.next_error_code() == "NOT_FOUND"


PAUSE = "mutation($reason: String) { pauseAccount(confirmation: \"CONFIRM\", reason: $reason) { state } }"


@pytest.mark.parametrize(
    "reason",
    ["before\x00after", "\x00", "\u200b\u200b", "   ", "\u2060\ufeff\u00ad"],
    ids=["nul-inside", "nul-only", "zero-width", "spaces", "word-joiner-bom-soft-hyphen"],
)
async def test_nul_and_invisible_only_strings_in_variables_are_bad_user_input(api, server, reason):
    team = await make_team()
    body = await api(PAUSE, {"reason": reason}, token=team.token(Role.ADMIN))
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["variable"] == "$reason"
    assert (await Team.get(id=team.id)).state == "ACTIVE"


async def test_a_nul_in_a_string_literal_is_bad_user_input(api, server):
    team = await make_team()
    body = await api('mutation { pauseAccount(confirmation: "CONFIRM", reason: "a\\u0000b") { state } }', token=team.token(Role.ADMIN))
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert (await Team.get(id=team.id)).state == "ACTIVE"


async def test_a_lone_surrogate_is_bad_user_input(api, server):
    team = await make_team()
    raw = json.dumps({"query": PAUSE, "variables": {"reason": "x"}}).replace('"x"', '"\\ud800"').encode()
    response = await api.http.post(
        "/graphql",
        content=raw,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {team.token(Role.ADMIN)}"},
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert (await Team.get(id=team.id)).state == "ACTIVE"


async def test_a_nul_inside_a_lead_refuses_the_batch_naming_the_lead(api, server):
    team = await make_team()
    leads = [lead_input("ok"), lead_input("bad", name="Ann\x00")]
    body = await api("mutation($l: [LeadInput!]!) { ingestLeads(leads: $l) { createdCount } }", {"l": leads}, token=team.integration_token)
    assert body["errors"][0]["extensions"]["variable"] == "$l[1].name"
    assert await Lead.filter(team_id=team.id).count() == 0


@pytest.mark.parametrize("field", ["name", "rep.name", "rep.externalId"])
async def test_an_over_long_lead_field_is_that_leads_own_error_never_cut(api, server, field):
    team = await make_team()
    long = "x" * 201
    bad = lead_input("too-long")
    if field == "name":
        bad["name"] = long
    else:
        bad["rep"] = {"name": "Rep", field.split(".")[1]: long}
    body = await api(
        "mutation($l: [LeadInput!]!) { ingestLeads(leads: $l) { createdCount results { error { code field } } } }",
        {"l": [lead_input("fine"), bad]},
        token=team.integration_token,
    )
    result = body["data"]["ingestLeads"]
    assert result["createdCount"] == 1
    assert result["results"][1]["error"] == {"code": "BAD_USER_INPUT", "field": field}
    assert await Lead.filter(team_id=team.id, external_id="too-long").count() == 0


async def test_a_variable_of_the_wrong_type_is_refused_before_execution(api, server):
    team = await make_team()
    token = team.token(Role.ADMIN)
    wrong_value = await api("query($first: Int) { missingReps(first: $first) { totalCount } }", {"first": "ten"}, token=token)
    assert wrong_value["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT" and wrong_value.get("data") is None
    wrong_declaration = await api("query($id: Int!) { missingRep(id: $id) { id } }", {"id": 1}, token=token)
    assert wrong_declaration["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
