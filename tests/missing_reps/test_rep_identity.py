"""CRM owner ids: a rep sent with an external id is matched by it first; a missing rep is keyed by
it (a rename in the CRM renames the rep); resolving such a rep gives its user the id."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from app.leads.models import Lead
from app.missing_reps.models import MissingRep
from app.teams.models import Role, UserCrmOwnerId
from tests.missing_reps.screen import ADD, MAP, ONE, REP_FIELDS
from tests.support import ingest, lead_input, make_member, make_team


def crm_lead(external_id: str, rep_id: str | None, rep_name: str | None = None, rep_email: str | None = None) -> dict:
    """A lead whose rep the CRM names by its owner id (and maybe a name and an email)."""
    return {
        "externalId": external_id,
        "email": f"{external_id}@lead.example",
        "rep": {"externalId": rep_id, "name": rep_name, "email": rep_email},
    }


async def reps_of(team) -> list[tuple[str | None, str, str]]:
    """(external id, name, status) of every missing rep of the team, by id."""
    return [
        (r.external_id, r.name, r.status.value)
        for r in await MissingRep.filter(team_id=team.id).order_by("id")
    ]


async def lead(team, external_id: str) -> Lead:
    return await Lead.get(team_id=team.id, external_id=external_id)


@pytest.fixture
async def team(server):
    return await make_team()


async def test_a_crm_owner_id_wins_over_email_name_and_alias(api, team):
    """Matching order: CRM owner id, then email, then name, then aliases."""
    owner = await make_member(team.id, "Olga Owner", email="olga@corp.example")
    namesake = await make_member(team.id, "Nate Namesake", email="nate@corp.example")
    await ingest(api, team, [crm_lead("seed", "005OLGA", "Someone Else")])
    rep = (await lead(team, "seed")).missing_rep_id
    await api.data(MAP, {"id": str(rep), "userId": str(owner.id)}, token=team.token(Role.MANAGER))
    # Same id, another user's email and name: the id decides.
    result = await ingest(api, team, [crm_lead("by-id", "005OLGA", "Nate Namesake", "nate@corp.example")])
    assert result["results"][0]["lead"]["assignedUser"]["id"] == str(owner.id)
    # An id nobody has: the email decides, then the name.
    result = await ingest(
        api, team, [crm_lead("by-email", "005NOBODY", "Olga Owner", "nate@corp.example"), crm_lead("by-name", "005NONE", "Nate Namesake")]
    )
    assigned = {r["externalId"]: r["lead"]["assignedUser"]["id"] for r in result["results"]}
    assert assigned == {"by-email": str(namesake.id), "by-name": str(namesake.id)}
    assert await MissingRep.filter(team_id=team.id).count() == 1


async def test_a_rep_with_an_external_id_is_keyed_by_it_and_a_rename_renames_it(api, team):
    """The CRM renames its owner: the same missing rep, renamed, counting both leads."""
    await ingest(api, team, [crm_lead("a", "005BOB", "Bob Brown")])
    await ingest(api, team, [crm_lead("b", "005BOB", "Robert Brown", "robert@crm.example")])
    [rep] = await MissingRep.filter(team_id=team.id)
    assert (rep.external_id, rep.name, rep.email, rep.leads_originally_assigned) == ("005BOB", "Robert Brown", "robert@crm.example", 2)
    assert {(await lead(team, x)).missing_rep_id for x in "ab"} == {rep.id}
    shown = (await api.data(ONE, {"id": str(rep.id)}, token=team.token(Role.MANAGER)))["missingRep"]
    assert shown["name"] == "Robert Brown"
    body = await api.data("query($id: ID!) { missingRep(id: $id) { externalId } }", {"id": str(rep.id)}, token=team.token(Role.ADMIN))
    assert body["missingRep"]["externalId"] == "005BOB"


async def test_two_crm_owners_with_one_name_are_two_missing_reps(api, team):
    """Keyed by id, two different people called John Smith stay two reps."""
    await ingest(api, team, [crm_lead("a", "005J1", "John Smith"), crm_lead("b", "005J2", "John Smith")])
    assert sorted(await reps_of(team)) == [("005J1", "John Smith", "MISSING"), ("005J2", "John Smith", "MISSING")]


async def test_without_an_external_id_reps_are_keyed_by_name_as_before(api, team):
    await ingest(api, team, [lead_input("a", "Nina New"), lead_input("b", "NINA  new.")])
    assert await reps_of(team) == [(None, "Nina New", "MISSING")]


async def test_a_rep_known_by_name_adopts_the_external_id_it_later_arrives_with(api, team):
    """Decision: the name-keyed rep takes the id (no second rep); from then on it is keyed by the
    id, so a rename keeps it, and leads still sent by name alone find it by its name."""
    await ingest(api, team, [lead_input("a", "Carla Cruz")])
    [before] = await MissingRep.filter(team_id=team.id)
    await ingest(api, team, [crm_lead("b", "005CARLA", "Carla Cruz")])
    await ingest(api, team, [crm_lead("c", "005CARLA", "Carla Cruz-Diaz")])
    await ingest(api, team, [lead_input("d", "carla cruz-diaz")])
    [rep] = await MissingRep.filter(team_id=team.id)
    assert (rep.id, rep.external_id, rep.name, rep.leads_originally_assigned) == (before.id, "005CARLA", "Carla Cruz-Diaz", 4)


async def test_a_rep_sent_with_only_an_external_id_is_known_by_it(api, team):
    await ingest(api, team, [crm_lead("a", "005ONLY")])
    assert await reps_of(team) == [("005ONLY", "005ONLY", "MISSING")]


@pytest.mark.parametrize("action", ["map", "add"])
async def test_resolving_a_rep_with_an_external_id_gives_the_user_that_crm_owner_id(api, team, action):
    """Add as User / Map to Rep attach the id: the next leads, under any name, match by it."""
    await ingest(api, team, [crm_lead("a", "005DAN", "Dan Doe")])
    rep = await MissingRep.get(team_id=team.id)
    token = team.token(Role.MANAGER)
    if action == "map":
        user = await make_member(team.id, "Daniel Doe", email="daniel@corp.example")
        user_id = user.id
        await api.data(MAP, {"id": str(rep.id), "userId": str(user.id)}, token=token)
    else:
        added = await api.data(ADD, {"id": str(rep.id), "input": {"email": "dan@corp.example"}}, token=token)
        user_id = int(added["addMissingRepAsUser"]["resolvedUser"]["id"])
    result = await ingest(api, team, [crm_lead("renamed", "005DAN", "Danny D")])
    assert result["results"][0]["lead"]["assignedUser"]["id"] == str(user_id)
    assert await MissingRep.filter(team_id=team.id).count() == 1
    query = "query { users { edges { node { id crmOwnerIds } } } }"
    users = {e["node"]["id"]: e["node"]["crmOwnerIds"] for e in (await api.data(query, token=token))["users"]["edges"]}
    assert users[str(user_id)] == ["005DAN"]
    [owner_id] = await UserCrmOwnerId.filter(team_id=team.id)
    assert (owner_id.user_id, owner_id.missing_rep_id, owner_id.created_by_id) == (user_id, rep.id, team.member(Role.MANAGER).id)


async def test_a_crm_owner_id_belongs_to_one_user_per_team(api, team):
    """The (team, id) unique index: mapping a second rep with the same id to another user is
    refused. (Two reps cannot have one id; this forces the case through the table.)"""
    first = await make_member(team.id, "First Owner")
    second = await make_member(team.id, "Second Owner")
    await UserCrmOwnerId.create(team_id=team.id, user_id=first.id, external_id="005DUP")
    other = await make_team()
    await UserCrmOwnerId.create(team_id=other.id, user_id=(await make_member(other.id, "Elsewhere")).id, external_id="005DUP")
    await ingest(api, team, [lead_input("a", "Dup Rep")])
    rep = await MissingRep.get(team_id=team.id)
    await MissingRep.filter(id=rep.id).update(external_id="005DUP")
    body = await api(MAP, {"id": str(rep.id), "userId": str(second.id)}, token=team.token(Role.MANAGER))
    assert body["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert (await MissingRep.get(id=rep.id)).status.value == "MISSING"


async def test_two_ingestions_of_the_same_renamed_external_id_at_once_make_one_rep(api, team):
    """Race: two batches send the renamed owner at once (and two more a new id under two names):
    one missing rep per id, every lead counted once."""
    await ingest(api, team, [crm_lead("seed", "005RACE", "Old Name")])
    await asyncio.gather(
        *(ingest(api, team, [crm_lead(f"r{i}-{j}", "005RACE", "New Name") for j in range(20)]) for i in range(4)),
        *(ingest(api, team, [crm_lead(f"n{i}-{j}", "005FRESH", f"Fresh {i}") for j in range(20)]) for i in range(2)),
    )
    reps = sorted(await reps_of(team))
    assert [r[0] for r in reps] == ["005FRESH", "005RACE"]
    assert reps[1][1] == "New Name"
    counts = dict(await MissingRep.filter(team_id=team.id).values_list("external_id", "leads_originally_assigned"))
    assert counts == {"005RACE": 81, "005FRESH": 40}


async def test_an_adoption_racing_a_new_rep_with_the_same_id_makes_one_rep(api, team):
    """Race: one batch brings a new id under a new name while another brings it under the name of
    a rep known by name (which it would adopt): one rep has the id, and no lead is lost."""
    for attempt in range(5):
        suffix = uuid.uuid4().hex[:4]
        await ingest(api, team, [lead_input(f"k-{suffix}", f"Known {suffix}")])
        await asyncio.gather(
            ingest(api, team, [crm_lead(f"x-{suffix}-{j}", f"005{suffix}", f"Other {suffix}") for j in range(10)]),
            ingest(api, team, [crm_lead(f"y-{suffix}-{j}", f"005{suffix}", f"Known {suffix}") for j in range(10)]),
        )
        assert await MissingRep.filter(team_id=team.id, external_id=f"005{suffix}").count() == 1
    total = sum(await MissingRep.filter(team_id=team.id).values_list("leads_originally_assigned", flat=True))
    assert total == await Lead.filter(team_id=team.id).count() == 5 * 21


async def test_an_over_long_external_id_is_refused_for_that_lead(api, team):
    result = await ingest(api, team, [crm_lead("long", "x" * 201, "Long Id"), crm_lead("ok", "005OK", "Fine")])
    assert result["results"][0]["error"]["code"] == "BAD_USER_INPUT"
    assert result["results"][0]["error"]["field"] == "rep.externalId"
    assert await reps_of(team) == [("005OK", "Fine", "MISSING")]


async def test_external_ids_are_per_team(api, team):
    """Another team's CRM owner id is not this team's."""
    other = await make_team()
    await ingest(api, other, [crm_lead("a", "005SAME", "Theirs")])
    rep = await MissingRep.get(team_id=other.id)
    await api.data(MAP, {"id": str(rep.id), "userId": str(other.member(Role.REP).id)}, token=other.token(Role.ADMIN))
    result = await ingest(api, team, [crm_lead("a", "005SAME", "Ours")])
    assert result["results"][0]["lead"]["assignedUser"]["id"] == str(team.default_rep.id)
    assert await reps_of(team) == [("005SAME", "Ours", "MISSING")]


async def test_the_missing_rep_type_shows_the_external_id(api, team):
    await ingest(api, team, [crm_lead("a", "005SHOW", "Shown Rep")])
    rep = await MissingRep.get(team_id=team.id)
    data = await api.data(f"query($id: ID!) {{ missingRep(id: $id) {{ {REP_FIELDS} externalId }} }}", {"id": str(rep.id)}, token=team.token(Role.MANAGER))
    assert data["missingRep"]["externalId"] == "005SHOW"


async def test_a_rep_with_an_external_id_maps_even_when_its_name_is_another_users(api, team):
    """Two CRM owners called John Smith: one became a user after the other was detected. The
    missing one still maps to someone else, by its id alone (no alias: the name is taken), and
    its next leads follow the id. Without an external id, a taken name stays CONFLICT."""
    await ingest(api, team, [crm_lead("a", "005J2", "John Smith"), lead_input("b", "Ann Other")])
    await make_member(team.id, "John Smith", email="john@corp.example")
    await make_member(team.id, "Ann Other", email="ann@corp.example")
    johnny = await make_member(team.id, "Johnny Smith", email="johnny@corp.example")
    by_id = await MissingRep.get(team_id=team.id, external_id="005J2")
    mapped = (await api.data(MAP, {"id": str(by_id.id), "userId": str(johnny.id)}, token=team.token(Role.MANAGER)))["mapMissingRepToUser"]
    assert mapped["status"] == "RESOLVED" and mapped["resolvedUser"]["aliases"] == []
    result = await ingest(api, team, [crm_lead("c", "005J2", "John Smith")])
    assert result["results"][0]["lead"]["assignedUser"]["id"] == str(johnny.id)
    by_name = await MissingRep.get(team_id=team.id, external_id=None)
    body = await api(MAP, {"id": str(by_name.id), "userId": str(johnny.id)}, token=team.token(Role.MANAGER))
    assert body["errors"][0]["extensions"]["code"] == "CONFLICT"
