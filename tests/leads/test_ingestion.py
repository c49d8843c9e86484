"""ingestLeads: idempotent, set-based ingestion with rep resolution and missing-rep detection."""

import asyncio

import pytest

from app.leads.models import Conversation, Lead
from app.missing_reps.models import MissingRep
from app.teams.models import Role, UserAlias
from app.validation import normalize_name
from tests.support import INGEST, ingest, lead_input, make_member, make_team, missing_rep_of


@pytest.fixture
async def team(server):
    return await make_team()


@pytest.fixture
async def stephen(team):
    user = await make_member(team.id, "Stephen Smith", email="stephen.smith@corp.example")
    await UserAlias.create(team_id=team.id, user_id=user.id, name="Bobby Tables", normalized_name="bobby tables")
    return user


@pytest.mark.parametrize(
    "rep_name, rep_email",
    [
        ("STEPHEN  smith", None),
        ("Stephen Smith.", None),
        ("Stéphen Smith", None),
        ("  stephen   SMITH ", None),
        ("Somebody Else", "Stephen.Smith@CORP.example"),
        (None, "stephen.smith@corp.example"),
        ("bobby-tables", None),
        ("Bobby Tables", "unknown@corp.example"),
    ],
)
async def test_rep_matches_user_by_email_then_name_then_alias(api, team, stephen, rep_name, rep_email):
    result = await ingest(api, team, [lead_input("L1", rep_name, rep_email)])
    lead = result["results"][0]["lead"]
    assert lead["assignedUser"] == {"id": str(stephen.id), "name": "Stephen Smith"}
    assert await missing_rep_of(lead) is None
    assert await MissingRep.filter(team_id=team.id).count() == 0


@pytest.mark.parametrize("rep_name", ["Steve Smith", "Stephen Smithers", "Smith Stephen", "Stephan Smith"])
async def test_other_names_are_missing_reps_and_go_to_the_default_rep(api, team, stephen, rep_name):
    result = await ingest(api, team, [lead_input("L1", rep_name)])
    lead = result["results"][0]["lead"]
    assert lead["assignedUser"]["id"] == str(team.default_rep.id)
    rep = await missing_rep_of(lead)
    assert rep.name == rep_name
    assert rep.status == "MISSING"
    assert rep.leads_originally_assigned == 1


def test_normalisation_ignores_case_accents_spaces_and_punctuation():
    assert {normalize_name(n) for n in ["STEPHEN  smith", "Stephen Smith.", "Stéphen Smith", "stephen-smith"]} == {
        "stephen smith"
    }
    assert normalize_name("Zoë O'Brien") == "zoe o brien"


async def test_new_leads_get_an_active_conversation_and_new_lead_status(api, team):
    result = await ingest(api, team, [lead_input("L1"), lead_input("L2", phone="(415) 555-2671", email=None)])
    assert result["createdCount"] == 2
    assert [r["lead"]["status"] for r in result["results"]] == ["NEW_LEAD", "NEW_LEAD"]
    assert result["results"][1]["lead"]["phone"] == "+14155552671"
    conversations = await Conversation.filter(team_id=team.id).values_list("state", flat=True)
    assert sorted(conversations) == ["ACTIVE", "ACTIVE"]


async def test_resending_a_lead_updates_it_and_never_counts_twice(api, team):
    first = await ingest(api, team, [lead_input("L1", "Ghost Rep", name="Ann")])
    again = await ingest(api, team, [lead_input("L1", "Ghost Rep", name="Ann Updated")])
    assert first["results"][0]["created"] is True
    assert again["results"][0]["created"] is False
    assert again["createdCount"] == 0 and again["updatedCount"] == 1
    assert again["results"][0]["lead"]["id"] == first["results"][0]["lead"]["id"]
    assert again["results"][0]["lead"]["name"] == "Ann Updated"
    assert await Lead.filter(team_id=team.id).count() == 1
    assert await Conversation.filter(team_id=team.id).count() == 1
    rep = await MissingRep.get(team_id=team.id)
    assert rep.leads_originally_assigned == 1


async def test_one_missing_rep_per_name_counts_each_new_lead(api, team):
    result = await ingest(
        api, team, [lead_input("L1", "Ghost Rep"), lead_input("L2", "GHOST rep"), lead_input("L3", "Other Ghost")]
    )
    reps = {r.normalized_name: r.leads_originally_assigned for r in await MissingRep.filter(team_id=team.id)}
    assert reps == {"ghost rep": 2, "other ghost": 1}
    ids = {(await missing_rep_of(r["lead"])).id for r in result["results"][:2]}
    assert len(ids) == 1


async def test_concurrent_batches_naming_the_same_new_rep_create_one_row_and_count_every_lead(api, team):
    batches = [[lead_input(f"B{b}-L{n}", "Brand New Rep") for n in range(20)] for b in range(6)]
    results = await asyncio.gather(*(ingest(api, team, batch) for batch in batches))
    assert all(r["createdCount"] == 20 for r in results)
    reps = await MissingRep.filter(team_id=team.id)
    assert len(reps) == 1
    assert reps[0].leads_originally_assigned == 120
    assert await Lead.filter(team_id=team.id, missing_rep_id=reps[0].id).count() == 120


async def test_concurrent_resends_of_the_same_new_lead_create_it_once(api, team):
    results = await asyncio.gather(*(ingest(api, team, [lead_input("SAME", "Racing Rep")]) for _ in range(6)))
    assert sum(r["createdCount"] for r in results) == 1
    assert await Lead.filter(team_id=team.id).count() == 1
    assert (await MissingRep.get(team_id=team.id)).leads_originally_assigned == 1


@pytest.mark.parametrize(
    "bad, field",
    [
        (lead_input(""), "externalId"),
        (lead_input("x" * 201), "externalId"),
        (lead_input("L1", email="not-an-email"), "email"),
        (lead_input("L1", phone="12"), "phone"),
        (lead_input("L1", email=None), "email"),
        (lead_input("L1", "Rep", rep_email="nope@"), "rep.email"),
        # Too long is refused, never cut: what is stored is what the CRM sent.
        (lead_input("L1", name="n" * 201), "name"),
        (lead_input("L1", "R" * 201), "rep.name"),
        ({**lead_input("L1"), "rep": {"name": "Rep", "externalId": "x" * 201}}, "rep.externalId"),
    ],
)
async def test_each_bad_lead_is_rejected_alone_with_bad_user_input(api, team, bad, field):
    result = await ingest(api, team, [lead_input("GOOD-1", "Ghost"), bad, lead_input("GOOD-2")])
    assert [r["error"] is None for r in result["results"]] == [True, False, True]
    error = result["results"][1]["error"]
    assert error["code"] == "BAD_USER_INPUT" and error["field"] == field
    assert result["results"][1]["lead"] is None
    assert result["createdCount"] == 2 and result["rejectedCount"] == 1
    assert sorted(await Lead.filter(team_id=team.id).values_list("external_id", flat=True)) == ["GOOD-1", "GOOD-2"]


async def test_a_bad_lead_naming_a_new_rep_does_not_create_the_rep(api, team):
    result = await ingest(api, team, [lead_input("L1", "Only Bad Rep", email="broken")])
    assert result["rejectedCount"] == 1
    assert await MissingRep.filter(team_id=team.id).count() == 0


async def test_duplicate_external_id_in_one_batch_is_rejected(api, team):
    result = await ingest(api, team, [lead_input("L1"), lead_input("L1")])
    assert result["results"][1]["error"]["code"] == "BAD_USER_INPUT"
    assert "index 0" in result["results"][1]["error"]["message"]
    assert await Lead.filter(team_id=team.id).count() == 1


async def test_more_than_1000_leads_fails_the_whole_call(api, team):
    leads = [lead_input(f"L{n}") for n in range(1001)]
    assert await api.error_code(INGEST, {"leads": leads}, token=team.integration_token) == "BAD_USER_INPUT"
    assert await Lead.filter(team_id=team.id).count() == 0


async def test_exactly_1000_leads_are_accepted(api, team):
    result = await ingest(api, team, [lead_input(f"L{n}", f"Rep {n % 7}") for n in range(1000)])
    assert result["createdCount"] == 1000
    assert sum(r.leads_originally_assigned for r in await MissingRep.filter(team_id=team.id)) == 1000


async def test_without_a_default_rep_leads_of_missing_reps_fail_with_conflict(api, server):
    team = await make_team(default_rep=False)
    await make_member(team.id, "Known Rep")
    result = await ingest(api, team, [lead_input("L1", "Unknown Rep"), lead_input("L2", "Known Rep")])
    error = result["results"][0]["error"]
    assert error["code"] == "CONFLICT" and "Default Rep" in error["message"]
    assert result["results"][1]["lead"]["assignedUser"]["name"] == "Known Rep"
    assert await MissingRep.filter(team_id=team.id).count() == 0

    admin = team.token(Role.ADMIN)
    await api.data(
        "mutation($id: ID!) { setDefaultRep(userId: $id) { id } }", {"id": team.member(Role.REP).id}, token=admin
    )
    result = await ingest(api, team, [lead_input("L1", "Unknown Rep")])
    assert result["results"][0]["lead"]["assignedUser"]["id"] == str(team.member(Role.REP).id)


@pytest.mark.parametrize("role", list(Role))
async def test_user_tokens_cannot_ingest(api, team, role):
    code = await api.error_code(INGEST, {"leads": [lead_input("L1")]}, token=team.token(role))
    assert code == "FORBIDDEN"
    assert await Lead.filter(team_id=team.id).count() == 0


async def test_ingestion_without_a_token_is_unauthenticated(api, team):
    assert await api.error_code(INGEST, {"leads": [lead_input("L1")]}) == "UNAUTHENTICATED"


async def test_leads_land_in_the_tokens_team_only(api, team, server):
    other = await make_team()
    await make_member(other.id, "Other Teams Rep")
    result = await ingest(api, team, [lead_input("L1", "Other Teams Rep")])
    assert result["results"][0]["lead"]["assignedUser"]["id"] == str(team.default_rep.id)
    assert await Lead.filter(team_id=other.id).count() == 0
    assert await MissingRep.filter(team_id=other.id).count() == 0
