"""Aliases as data: `User.aliasDetails` and `removeUserAlias`, which undoes a Map to Rep for future
leads (existing ones stay, and the result says how many) and reopens the rep it came from."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

import asyncpg
import pytest

from app import db
from app.leads.models import Lead
from app.missing_reps.models import MissingRep
from app.teams.models import Role, UserAlias, UserCrmOwnerId
from tests.missing_reps.screen import ADD, MAP, audit_events, detect
from tests.missing_reps.test_concurrency import _wait_for_lock_waiters
from tests.missing_reps.test_rep_identity import crm_lead
from tests.support import ingest, lead_input, make_member, make_team

REMOVE = """
mutation($userId: ID!, $alias: String!, $confirmation: String!) {
  removeUserAlias(userId: $userId, alias: $alias, confirmation: $confirmation) {
    user { id aliases } leadsStaying message reopenedMissingRep { id status resolvedUser { id } leadsMoved }
  }
}
"""

DETAILS = """
query { users { edges { node { id aliasDetails { alias createdAt createdBy { id } missingRep { id name status } } } } } }
"""


@pytest.fixture
async def team(server):
    return await make_team()


@pytest.fixture
async def steve(team):
    return await make_member(team.id, "Steve Smith", email="steve@corp.example")


async def _mapped(api, team, user, rep_name="Stephen Smith", leads=2) -> str:
    rep_id = await detect(api, team, rep_name, leads)
    await api.data(MAP, {"id": rep_id, "userId": str(user.id)}, token=team.token(Role.MANAGER))
    return rep_id


async def _snapshot(team):
    reps = await MissingRep.filter(team_id=team.id).order_by("id").values()
    aliases = await UserAlias.filter(team_id=team.id).order_by("id").values_list("user_id", "name")
    ids = await UserCrmOwnerId.filter(team_id=team.id).order_by("id").values_list("user_id", "external_id")
    leads = await Lead.filter(team_id=team.id).order_by("id").values_list("id", "assigned_user_id")
    return reps, aliases, ids, leads, len(await audit_events(team))


async def test_alias_details_say_who_added_each_alias_when_and_from_which_rep(api, team, steve):
    rep_id = await _mapped(api, team, steve)
    edges = (await api.data(DETAILS, token=team.token(Role.ADMIN)))["users"]["edges"]
    [details] = [e["node"]["aliasDetails"] for e in edges if e["node"]["id"] == str(steve.id)]
    assert len(details) == 1
    assert details[0]["alias"] == "Stephen Smith" and details[0]["createdAt"]
    assert details[0]["createdBy"] == {"id": str(team.member(Role.MANAGER).id)}
    assert details[0]["missingRep"] == {"id": rep_id, "name": "Stephen Smith", "status": "RESOLVED"}


async def test_add_as_user_under_another_name_records_the_alias_origin_too(api, team):
    rep_id = await detect(api, team, "Bobby Tables")
    added = await api.data(ADD, {"id": rep_id, "input": {"name": "Robert Tables", "email": "rt@corp.example"}}, token=team.token(Role.ADMIN))
    user_id = added["addMissingRepAsUser"]["resolvedUser"]["id"]
    [alias] = await UserAlias.filter(user_id=int(user_id))
    assert (alias.name, alias.missing_rep_id, alias.created_by_id) == ("Bobby Tables", int(rep_id), team.member(Role.ADMIN).id)


async def test_removing_an_alias_undoes_the_map_for_future_leads_only(api, team, steve):
    """The mapped rep's leads stay with the user (and are counted); the rep is back on the list;
    the next lead under that name goes to the Default Rep, under that rep."""
    rep_id = await _mapped(api, team, steve, leads=2)
    await ingest(api, team, [lead_input("after-map", "stephen SMITH")])  # matched by the alias
    result = (
        await api.data(REMOVE, {"userId": str(steve.id), "alias": "STEPHEN smith", "confirmation": "CONFIRM"}, token=team.token(Role.MANAGER))
    )["removeUserAlias"]
    assert result["user"] == {"id": str(steve.id), "aliases": []}
    assert result["leadsStaying"] == 3
    assert "3 existing leads stay with Steve Smith" in result["message"]
    assert result["reopenedMissingRep"] == {"id": rep_id, "status": "MISSING", "resolvedUser": None, "leadsMoved": 0}
    assert set(await Lead.filter(team_id=team.id).values_list("assigned_user_id", flat=True)) == {steve.id}
    after = (await ingest(api, team, [lead_input("after-removal", "Stephen Smith")]))["results"][0]["lead"]
    assert after["assignedUser"]["id"] == str(team.default_rep.id)
    assert (await Lead.get(id=int(after["id"]))).missing_rep_id == int(rep_id)
    rep = await MissingRep.get(id=int(rep_id))
    assert (rep.status.value, rep.leads_originally_assigned) == ("MISSING", 3)
    # It can be mapped again, to someone else: only the new lead moves.
    other = await make_member(team.id, "Stephanie Smith")
    again = (await api.data(MAP, {"id": rep_id, "userId": str(other.id)}, token=team.token(Role.ADMIN)))["mapMissingRepToUser"]
    assert again["leadsMoved"] == 1


async def test_removing_an_alias_detaches_the_crm_owner_id_that_came_with_it(api, team, steve):
    """A rep keyed by an external id gave the user its id: removing the alias takes the id too,
    so leads carrying it are no longer the user's either (the Map is undone)."""
    await ingest(api, team, [crm_lead("a", "005STEVE", "Stephen Smith")])
    rep = await MissingRep.get(team_id=team.id)
    await api.data(MAP, {"id": str(rep.id), "userId": str(steve.id)}, token=team.token(Role.MANAGER))
    await ingest(api, team, [crm_lead("b", "005STEVE", "S. Smith")])  # matched by the id
    result = (
        await api.data(REMOVE, {"userId": str(steve.id), "alias": "Stephen Smith", "confirmation": "CONFIRM"}, token=team.token(Role.ADMIN))
    )["removeUserAlias"]
    assert result["leadsStaying"] == 2 and "005STEVE" in result["message"]
    assert await UserCrmOwnerId.filter(team_id=team.id).count() == 0
    after = (await ingest(api, team, [crm_lead("c", "005STEVE", "S. Smith")]))["results"][0]["lead"]
    assert after["assignedUser"]["id"] == str(team.default_rep.id)
    assert (await Lead.get(id=int(after["id"]))).missing_rep_id == rep.id


async def test_removal_is_audited(api, team, steve):
    rep_id = await _mapped(api, team, steve, leads=1)
    manager = team.member(Role.MANAGER)
    await api.data(REMOVE, {"userId": str(steve.id), "alias": "Stephen Smith", "confirmation": "CONFIRM"}, token=manager.token)
    event = (await audit_events(team))[-1]
    assert event.actor_id == manager.id and event.action == "USER_ALIAS_REMOVED"
    assert event.details == {
        "user_id": steve.id,
        "user_name": "Steve Smith",
        "alias": "Stephen Smith",
        "missing_rep_id": int(rep_id),
        "reopened_missing_rep_id": int(rep_id),
        "crm_owner_ids_removed": [],
        "leads_staying": 1,
    }


async def test_an_alias_older_than_its_origin_reopens_the_rep_of_that_name(api, team, steve):
    """Aliases made before aliases recorded their rep: the rep of that name resolved to the user."""
    rep_id = await _mapped(api, team, steve, leads=1)
    await UserAlias.filter(team_id=team.id).update(missing_rep_id=None, created_by_id=None)
    result = (
        await api.data(REMOVE, {"userId": str(steve.id), "alias": "Stephen Smith", "confirmation": "CONFIRM"}, token=team.token(Role.ADMIN))
    )["removeUserAlias"]
    assert result["reopenedMissingRep"]["id"] == rep_id and result["leadsStaying"] == 1


@pytest.mark.parametrize("confirmation", ["confirm", "", "CONFIRM "])
async def test_removal_without_confirm_changes_nothing(api, team, steve, confirmation):
    await _mapped(api, team, steve)
    before = await _snapshot(team)
    code = await api.error_code(REMOVE, {"userId": str(steve.id), "alias": "Stephen Smith", "confirmation": confirmation}, token=team.token(Role.MANAGER))
    assert code == "CONFIRMATION_REQUIRED"
    assert await _snapshot(team) == before


@pytest.mark.parametrize(
    ("alias", "code"),
    [("Nobody Else", "NOT_FOUND"), ("Steve Smith", "NOT_FOUND"), ("", "BAD_USER_INPUT"), ("...", "BAD_USER_INPUT"), ("x" * 201, "BAD_USER_INPUT")],
)
async def test_removing_an_alias_the_user_does_not_have_is_refused(api, team, steve, alias, code):
    """Not an alias of theirs (their own name included) is NOT_FOUND; an empty, punctuation-only
    or over-long alias is BAD_USER_INPUT; nothing changes."""
    await _mapped(api, team, steve)
    before = await _snapshot(team)
    got = await api.error_code(REMOVE, {"userId": str(steve.id), "alias": alias, "confirmation": "CONFIRM"}, token=team.token(Role.MANAGER))
    assert got == code
    assert await _snapshot(team) == before


@pytest.mark.parametrize("user_id", ["999999", "abc", "99999999999"])
async def test_removing_from_an_unknown_user_is_not_found(api, team, steve, user_id):
    await _mapped(api, team, steve)
    before = await _snapshot(team)
    code = await api.error_code(REMOVE, {"userId": user_id, "alias": "Stephen Smith", "confirmation": "CONFIRM"}, token=team.token(Role.MANAGER))
    assert code == "NOT_FOUND"
    assert await _snapshot(team) == before


async def test_another_teams_user_is_not_found(api, team, steve):
    other = await make_team()
    theirs = await make_member(other.id, "Their Steve")
    await _mapped(api, other, theirs)
    before = await _snapshot(other)
    code = await api.error_code(REMOVE, {"userId": str(theirs.id), "alias": "Stephen Smith", "confirmation": "CONFIRM"}, token=team.token(Role.ADMIN))
    assert code == "NOT_FOUND"
    assert await _snapshot(other) == before


@pytest.mark.parametrize("role", [Role.TEAM_LEADER, Role.REP])
async def test_only_managers_and_admins_may_remove_aliases(api, team, steve, role):
    await _mapped(api, team, steve)
    before = await _snapshot(team)
    code = await api.error_code(REMOVE, {"userId": str(steve.id), "alias": "Stephen Smith", "confirmation": "CONFIRM"}, token=team.token(role))
    assert code == "FORBIDDEN"
    code = await api.error_code(REMOVE, {"userId": str(steve.id), "alias": "Stephen Smith", "confirmation": "CONFIRM"}, token=team.integration_token)
    assert code == "FORBIDDEN"
    assert await _snapshot(team) == before


# --- removing an alias while a lead under that name is being ingested -------------------------


@asynccontextmanager
async def row_held(database_url: str, sql: str, *args):
    """Holds a row lock (as a slow concurrent transaction would) until the block ends."""
    conn = await asyncpg.connect(**db.credentials_from_url(database_url))
    tx = conn.transaction()
    await tx.start()
    try:
        await conn.execute(sql, *args)
        yield conn
    finally:
        await tx.rollback()
        await conn.close()


async def test_a_lead_ingested_while_the_alias_is_removed_is_counted_as_staying(api, database_url, team, steve):
    """The batch matched the alias first: the removal waits for it, and its lead (with the user)
    is in `leadsStaying`."""
    await _mapped(api, team, steve, leads=1)
    await ingest(api, team, [lead_input("resent", "Someone Else")])
    # The batch re-sends that lead under the alias; the lead's row is held, so the batch stops
    # there, after matching (and share-locking) the alias.
    async with row_held(database_url, "SELECT 1 FROM lead WHERE team_id = $1 AND external_id = 'resent' FOR UPDATE", team.id) as holder:
        ingesting = asyncio.create_task(ingest(api, team, [lead_input("resent", "Stephen Smith")]))
        await _wait_for_lock_waiters(holder, 1)
        removing = asyncio.create_task(
            api(REMOVE, {"userId": str(steve.id), "alias": "Stephen Smith", "confirmation": "CONFIRM"}, token=team.token(Role.MANAGER))
        )
        await _wait_for_lock_waiters(holder, 2)
    result = await ingesting
    removal = await removing
    assert result["results"][0]["lead"]["assignedUser"]["id"] == str(steve.id)
    assert removal["data"]["removeUserAlias"]["leadsStaying"] == 2


async def test_a_lead_ingested_after_the_removal_began_goes_to_the_default_rep(api, database_url, team, steve):
    """The removal deleted the alias first: the batch waits for it to commit, then no longer
    matches the alias, and its lead goes to the Default Rep under the reopened rep."""
    rep_id = await _mapped(api, team, steve, leads=1)
    # The removal stops at reopening the rep (its row is held), after deleting the alias.
    async with row_held(database_url, "SELECT 1 FROM missing_rep WHERE id = $1 FOR UPDATE", int(rep_id)) as holder:
        removing = asyncio.create_task(
            api(REMOVE, {"userId": str(steve.id), "alias": "Stephen Smith", "confirmation": "CONFIRM"}, token=team.token(Role.MANAGER))
        )
        await _wait_for_lock_waiters(holder, 1)
        ingesting = asyncio.create_task(ingest(api, team, [lead_input("late", "Stephen Smith")]))
        await _wait_for_lock_waiters(holder, 2)
    removal = await removing
    result = await ingesting
    assert removal["data"]["removeUserAlias"]["leadsStaying"] == 1
    lead = result["results"][0]["lead"]
    assert lead["assignedUser"]["id"] == str(team.default_rep.id)
    assert (await Lead.get(id=int(lead["id"]))).missing_rep_id == int(rep_id)
    assert (await MissingRep.get(id=int(rep_id))).status.value == "MISSING"


async def test_two_removals_of_one_alias_at_once_remove_it_once(api, team, steve):
    await _mapped(api, team, steve)
    variables = {"userId": str(steve.id), "alias": "Stephen Smith", "confirmation": "CONFIRM"}
    bodies = await asyncio.gather(api(REMOVE, variables, token=team.token(Role.MANAGER)), api(REMOVE, variables, token=team.token(Role.ADMIN)))
    outcomes = sorted("ok" if not b.get("errors") else b["errors"][0]["extensions"]["code"] for b in bodies)
    assert outcomes == ["NOT_FOUND", "ok"]
    assert [e.action for e in await audit_events(team)].count("USER_ALIAS_REMOVED") == 1


async def test_a_rep_sees_their_aliases_but_not_the_missing_reps_behind_them(api, team, steve):
    """aliasDetails is part of any visible User; the MissingRep it links to stays Managers' and Admins'."""
    await _mapped(api, team, steve)
    token = steve.token
    mine = await api.data("{ viewer { aliasDetails { alias createdBy { id } } crmOwnerIds } }", token=token)
    assert mine["viewer"]["aliasDetails"][0]["alias"] == "Stephen Smith"
    code = await api.error_code("{ viewer { aliasDetails { missingRep { id } } } }", token=token)
    assert code == "FORBIDDEN"
