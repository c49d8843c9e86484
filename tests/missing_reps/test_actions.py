"""Add as User, Map to Rep, Ignore, Restore: each action's effect on the rep, its leads and the
audit log; bad inputs; forbidden callers."""

from __future__ import annotations

import pytest

from app.leads.models import Lead
from app.missing_reps import reassignment
from app.missing_reps.models import MissingRep
from app.teams.models import Role, User, UserAlias
from tests.missing_reps.screen import ADD, COUNT, IGNORE, LIST, MAP, ONE, RESTORE, audit_events, detect, leads_of
from tests.support import ingest, lead_input, make_member, make_team, missing_rep_of


@pytest.fixture
async def team(server):
    return await make_team()


@pytest.fixture
async def steve(team):
    return await make_member(team.id, "Steve Smith", email="steve@corp.example")


async def _snapshot(team):
    """Everything an action may change, to prove a refused one changed nothing."""
    reps = await MissingRep.filter(team_id=team.id).order_by("id").values()
    users = await User.filter(team_id=team.id).order_by("id").values_list("id", "name", "email")
    aliases = await UserAlias.filter(team_id=team.id).order_by("id").values_list("user_id", "name")
    leads = await Lead.filter(team_id=team.id).order_by("id").values_list("id", "assigned_user_id")
    return reps, users, aliases, leads, len(await audit_events(team))


# --- Map to Rep ----------------------------------------------------------------------------


async def test_map_resolves_the_rep_adds_the_alias_and_moves_its_leads(api, team, steve):
    """Map to Rep: the rep's name becomes an alias of the user, the rep is RESOLVED to that
    user, and its leads go from the Default Rep to the user."""
    rep_id = await detect(api, team, "Stephen Smith", 3)
    manager = team.member(Role.MANAGER)
    rep = (await api.data(MAP, {"id": rep_id, "userId": str(steve.id)}, token=manager.token))["mapMissingRepToUser"]
    assert rep["status"] == "RESOLVED" and rep["resolution"] == "MAPPED_TO_USER"
    assert rep["resolvedUser"]["id"] == str(steve.id)
    assert rep["resolvedUser"]["aliases"] == ["Stephen Smith"]
    assert rep["resolvedBy"] == {"id": str(manager.id)}
    assert rep["resolvedAt"] and rep["leadsMoved"] == 3 and rep["reassignmentPending"] is False
    assert set((await leads_of(team, rep_id)).values()) == {steve.id}


async def test_after_a_map_new_leads_under_that_name_go_straight_to_the_user(api, team, steve):
    """Once mapped, ingestion matches the name as the user's alias: no Default Rep, no missing rep."""
    rep_id = await detect(api, team, "Stephen Smith")
    await api.data(MAP, {"id": rep_id, "userId": str(steve.id)}, token=team.token(Role.ADMIN))
    lead = (await ingest(api, team, [lead_input("after-map", "STEPHEN  smith")]))["results"][0]["lead"]
    assert lead["assignedUser"]["id"] == str(steve.id)
    assert await missing_rep_of(lead) is None
    rep = (await api.data(ONE, {"id": rep_id}, token=team.token(Role.ADMIN)))["missingRep"]
    assert rep["leadsOriginallyAssigned"] == 1


async def test_only_leads_still_with_the_default_rep_move(api, team, steve):
    """A lead of the rep that an integration has since given to a real user stays with that user."""
    other = await make_member(team.id, "Olivia Other", email="olivia@corp.example")
    rep_id = await detect(api, team, "Stephen Smith", 3, prefix="keep-")
    # Re-sent naming Olivia: it is hers now, though it was first detected under the rep.
    await ingest(api, team, [lead_input("keep-0", "Olivia Other")])
    rep = (await api.data(MAP, {"id": rep_id, "userId": str(steve.id)}, token=team.token(Role.MANAGER)))[
        "mapMissingRepToUser"
    ]
    assert rep["leadsMoved"] == 2
    assert await leads_of(team, rep_id) == {"keep-0": other.id, "keep-1": steve.id, "keep-2": steve.id}


async def test_map_is_audited_with_actor_rep_user_and_leads_moved(api, team, steve):
    """The audit log records who mapped which rep to whom, and how many leads moved."""
    rep_id = await detect(api, team, "Stephen Smith", 2)
    manager = team.member(Role.MANAGER)
    await api.data(MAP, {"id": rep_id, "userId": str(steve.id)}, token=manager.token)
    [event] = await audit_events(team)
    assert event.actor_id == manager.id
    assert event.action == "MISSING_REP_MAPPED_TO_USER"
    assert event.details == {
        "missing_rep_id": int(rep_id),
        "missing_rep_name": "Stephen Smith",
        "user_id": steve.id,
        "user_name": "Steve Smith",
        "alias_added": True,
        "leads_moved": 2,
    }


async def test_leads_move_in_batches(api, team, steve, monkeypatch):
    """A rep with more leads than a batch holds has all of them moved, batch after batch."""
    monkeypatch.setattr(reassignment, "REASSIGN_BATCH_SIZE", 3)
    rep_id = await detect(api, team, "Stephen Smith", 10)
    rep = (await api.data(MAP, {"id": rep_id, "userId": str(steve.id)}, token=team.token(Role.MANAGER)))[
        "mapMissingRepToUser"
    ]
    assert rep["leadsMoved"] == 10 and rep["reassignmentPending"] is False
    assert set((await leads_of(team, rep_id)).values()) == {steve.id}


async def test_mapping_to_the_default_rep_moves_nothing(api, team):
    """Mapping a rep to the Default Rep themself leaves the leads where they are."""
    rep_id = await detect(api, team, "Dee Fault", 2)
    rep = (await api.data(MAP, {"id": rep_id, "userId": str(team.default_rep.id)}, token=team.token(Role.MANAGER)))[
        "mapMissingRepToUser"
    ]
    assert rep["status"] == "RESOLVED" and rep["leadsMoved"] == 0
    assert set((await leads_of(team, rep_id)).values()) == {team.default_rep.id}


@pytest.mark.parametrize("user_id", ["999999", "x1", ""])
async def test_map_to_an_unknown_user_is_not_found_and_changes_nothing(api, team, user_id):
    """A userId that names no user of the team is NOT_FOUND; the rep stays MISSING."""
    rep_id = await detect(api, team, "Stephen Smith")
    before = await _snapshot(team)
    assert await api.error_code(MAP, {"id": rep_id, "userId": user_id}, token=team.token(Role.MANAGER)) == "NOT_FOUND"
    assert await _snapshot(team) == before


async def test_map_to_another_teams_user_is_not_found_and_changes_nothing(api, team):
    """Another team's user is NOT_FOUND, never a leak, and nothing changes."""
    other = await make_team()
    stranger = await make_member(other.id, "Steve Smith")
    rep_id = await detect(api, team, "Stephen Smith")
    before = await _snapshot(team)
    code = await api.error_code(MAP, {"id": rep_id, "userId": str(stranger.id)}, token=team.token(Role.MANAGER))
    assert code == "NOT_FOUND"
    assert await _snapshot(team) == before
    assert await UserAlias.filter(user_id=stranger.id).count() == 0


# --- Add as User ---------------------------------------------------------------------------


async def test_add_creates_a_rep_user_with_the_reps_name_and_moves_its_leads(api, team):
    """Add as User: a REP user named like the rep (name left out), with the given email, and
    the rep's leads go from the Default Rep to them."""
    rep_id = await detect(api, team, "Nina New", 2)
    rep = (await api.data(ADD, {"id": rep_id, "input": {"email": " Nina.New@Corp.Example "}}, token=team.token(Role.ADMIN)))[
        "addMissingRepAsUser"
    ]
    user = rep["resolvedUser"]
    assert user["name"] == "Nina New" and user["email"] == "nina.new@corp.example" and user["role"] == "REP"
    assert user["aliases"] == []  # the user's own name already matches the rep
    assert rep["status"] == "RESOLVED" and rep["resolution"] == "ADDED_AS_USER" and rep["leadsMoved"] == 2
    assert set((await leads_of(team, rep_id)).values()) == {int(user["id"])}
    lead = (await ingest(api, team, [lead_input("after-add", "nina new")]))["results"][0]["lead"]
    assert lead["assignedUser"]["id"] == user["id"] and await missing_rep_of(lead) is None


async def test_add_with_a_phone_only_stores_it_in_e164(api, team):
    """A phone alone is enough; it is stored in E.164."""
    rep_id = await detect(api, team, "Paula Phone")
    rep = (await api.data(ADD, {"id": rep_id, "input": {"phone": "(415) 555-2671"}}, token=team.token(Role.MANAGER)))[
        "addMissingRepAsUser"
    ]
    assert rep["resolvedUser"]["phone"] == "+14155552671" and rep["resolvedUser"]["email"] is None


async def test_add_under_another_name_keeps_the_reps_name_as_an_alias(api, team):
    """A user added under a corrected name still receives leads sent under the rep's name."""
    rep_id = await detect(api, team, "Jon Smiht")
    rep = (await api.data(ADD, {"id": rep_id, "input": {"name": "Jon Smith", "email": "jon@corp.example"}}, token=team.token(Role.MANAGER)))[
        "addMissingRepAsUser"
    ]
    assert rep["resolvedUser"]["name"] == "Jon Smith"
    assert rep["resolvedUser"]["aliases"] == ["Jon Smiht"]
    lead = (await ingest(api, team, [lead_input("after-rename", "Jon Smiht")]))["results"][0]["lead"]
    assert lead["assignedUser"]["id"] == rep["resolvedUser"]["id"]


async def test_add_is_audited(api, team):
    """The audit log records who added which rep as which user, and how many leads moved."""
    rep_id = await detect(api, team, "Audit Able", 3)
    admin = team.member(Role.ADMIN)
    rep = (await api.data(ADD, {"id": rep_id, "input": {"email": "audit@corp.example"}}, token=admin.token))[
        "addMissingRepAsUser"
    ]
    [event] = await audit_events(team)
    assert event.actor_id == admin.id and event.action == "MISSING_REP_ADDED_AS_USER"
    assert event.details == {
        "missing_rep_id": int(rep_id),
        "missing_rep_name": "Audit Able",
        "user_id": int(rep["resolvedUser"]["id"]),
        "user_name": "Audit Able",
        "alias_added": False,
        "leads_moved": 3,
        "role": "REP",
    }


async def test_add_with_an_email_taken_in_the_team_is_a_conflict_and_changes_nothing(api, team, steve):
    """An email already used by a user of the team is CONFLICT; no user, no resolve, no move."""
    rep_id = await detect(api, team, "Stephen Smith", 2)
    before = await _snapshot(team)
    code = await api.error_code(ADD, {"id": rep_id, "input": {"email": "STEVE@corp.example"}}, token=team.token(Role.MANAGER))
    assert code == "CONFLICT"
    assert await _snapshot(team) == before


async def test_an_email_of_another_team_is_free(api, team):
    """Emails are unique per team: another team's user does not block this one."""
    other = await make_team()
    await make_member(other.id, "Somebody", email="shared@corp.example")
    rep_id = await detect(api, team, "Sharon Shared")
    rep = (await api.data(ADD, {"id": rep_id, "input": {"email": "shared@corp.example"}}, token=team.token(Role.MANAGER)))[
        "addMissingRepAsUser"
    ]
    assert rep["resolvedUser"]["email"] == "shared@corp.example"


@pytest.mark.parametrize(
    "user_input, field",
    [
        ({}, "email"),
        ({"email": "", "phone": "  "}, "phone"),  # invisible only: refused before the service
        ({"email": "not-an-email"}, "email"),
        ({"email": "two@@corp.example"}, "email"),
        ({"phone": "12"}, "phone"),
        ({"phone": "call me"}, "phone"),
        ({"email": "ok@corp.example", "phone": "+1 555"}, "phone"),
        ({"name": "x" * 201, "email": "ok@corp.example"}, "name"),
        ({"name": "!!!", "email": "ok@corp.example"}, "name"),
    ],
)
async def test_add_with_bad_input_is_refused_and_changes_nothing(api, team, user_input, field):
    """An email or a phone is required, each must be valid, the name must be a name: anything
    else is BAD_USER_INPUT naming the field, and nothing changes."""
    rep_id = await detect(api, team, "Bad Input")
    before = await _snapshot(team)
    body = await api(ADD, {"id": rep_id, "input": user_input}, token=team.token(Role.MANAGER))
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == field
    assert await _snapshot(team) == before


# --- Ignore and Restore --------------------------------------------------------------------


async def test_ignore_moves_the_rep_to_the_ignored_list_and_leaves_its_leads(api, team):
    """Ignore: IGNORED, out of the missing list and count, leads still with the Default Rep."""
    rep_id = await detect(api, team, "Ian Ignored", 2)
    token = team.token(Role.MANAGER)
    rep = (await api.data(IGNORE, {"id": rep_id}, token=token))["ignoreMissingRep"]
    assert rep["status"] == "IGNORED" and rep["resolvedUser"] is None
    assert (await api.data(COUNT, {}, token=token))["missingReps"]["totalCount"] == 0
    assert (await api.data(COUNT, {"status": "IGNORED"}, token=token))["missingReps"]["totalCount"] == 1
    assert set((await leads_of(team, rep_id)).values()) == {team.default_rep.id}
    # Still ignored, it keeps counting leads, which keep going to the Default Rep.
    lead = (await ingest(api, team, [lead_input("while-ignored", "Ian Ignored")]))["results"][0]["lead"]
    assert lead["assignedUser"]["id"] == str(team.default_rep.id)
    assert (await missing_rep_of(lead)).leads_originally_assigned == 3


async def test_restore_puts_an_ignored_rep_back_on_the_missing_list(api, team, steve):
    """Restore: back to MISSING, where it can be mapped."""
    rep_id = await detect(api, team, "Stephen Smith")
    token = team.token(Role.ADMIN)
    await api.data(IGNORE, {"id": rep_id}, token=token)
    rep = (await api.data(RESTORE, {"id": rep_id}, token=token))["restoreMissingRep"]
    assert rep["status"] == "MISSING"
    page = (await api.data(LIST, {}, token=token))["missingReps"]
    assert [e["node"]["id"] for e in page["edges"]] == [rep_id]
    assert (await api.data(MAP, {"id": rep_id, "userId": str(steve.id)}, token=token))["mapMissingRepToUser"]["status"] == "RESOLVED"


async def test_ignore_and_restore_are_audited(api, team):
    """Each Ignore and Restore is one audit event with its actor and rep."""
    rep_id = await detect(api, team, "Ian Ignored")
    manager, admin = team.member(Role.MANAGER), team.member(Role.ADMIN)
    await api.data(IGNORE, {"id": rep_id}, token=manager.token)
    await api.data(RESTORE, {"id": rep_id}, token=admin.token)
    events = await audit_events(team)
    assert [(e.actor_id, e.action, e.details) for e in events] == [
        (manager.id, "MISSING_REP_IGNORED", {"missing_rep_id": int(rep_id), "missing_rep_name": "Ian Ignored"}),
        (admin.id, "MISSING_REP_RESTORED", {"missing_rep_id": int(rep_id), "missing_rep_name": "Ian Ignored"}),
    ]


# --- refused transitions -------------------------------------------------------------------


async def _resolved_rep(api, team, steve) -> str:
    rep_id = await detect(api, team, "Stephen Smith")
    await api.data(MAP, {"id": rep_id, "userId": str(steve.id)}, token=team.token(Role.MANAGER))
    return rep_id


def _calls(rep_id, user_id):
    return {
        "add": (ADD, {"id": rep_id, "input": {"email": "fresh@corp.example"}}),
        "map": (MAP, {"id": rep_id, "userId": str(user_id)}),
        "ignore": (IGNORE, {"id": rep_id}),
        "restore": (RESTORE, {"id": rep_id}),
    }


@pytest.mark.parametrize("action", ["add", "map", "ignore", "restore"])
async def test_acting_on_a_resolved_rep_is_a_conflict(api, team, steve, action):
    """A resolved rep is final: every action on it is CONFLICT and changes nothing."""
    rep_id = await _resolved_rep(api, team, steve)
    before = await _snapshot(team)
    query, variables = _calls(rep_id, steve.id)[action]
    assert await api.error_code(query, variables, token=team.token(Role.MANAGER)) == "CONFLICT"
    assert await _snapshot(team) == before


@pytest.mark.parametrize("action", ["add", "map", "ignore"])
async def test_an_ignored_rep_must_be_restored_before_anything_else(api, team, steve, action):
    """Ignoring an ignored rep is CONFLICT; so are Add and Map (Restore it first)."""
    rep_id = await detect(api, team, "Stephen Smith")
    await api.data(IGNORE, {"id": rep_id}, token=team.token(Role.MANAGER))
    before = await _snapshot(team)
    query, variables = _calls(rep_id, steve.id)[action]
    body = await api(query, variables, token=team.token(Role.MANAGER))
    assert body["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert await _snapshot(team) == before


async def test_restoring_a_missing_rep_is_a_conflict(api, team):
    """Only an ignored rep can be restored."""
    rep_id = await detect(api, team, "Mister Missing")
    assert await api.error_code(RESTORE, {"id": rep_id}, token=team.token(Role.MANAGER)) == "CONFLICT"


# --- who may act ---------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["add", "map", "ignore", "restore"])
@pytest.mark.parametrize("role", [Role.REP, Role.TEAM_LEADER])
async def test_reps_and_team_leaders_may_not_act(api, team, steve, action, role):
    """Only Managers and Admins act on missing reps: others get FORBIDDEN, nothing changes."""
    rep_id = await detect(api, team, "Stephen Smith")
    before = await _snapshot(team)
    query, variables = _calls(rep_id, steve.id)[action]
    assert await api.error_code(query, variables, token=team.token(role)) == "FORBIDDEN"
    assert await _snapshot(team) == before


@pytest.mark.parametrize("action", ["add", "map", "ignore", "restore"])
async def test_integrations_may_not_act(api, team, steve, action):
    """An integration token gets FORBIDDEN."""
    rep_id = await detect(api, team, "Stephen Smith")
    query, variables = _calls(rep_id, steve.id)[action]
    assert await api.error_code(query, variables, token=team.integration_token) == "FORBIDDEN"


@pytest.mark.parametrize("action", ["add", "map", "ignore", "restore"])
async def test_acting_needs_a_token(api, team, steve, action):
    """Without a token: UNAUTHENTICATED."""
    rep_id = await detect(api, team, "Stephen Smith")
    query, variables = _calls(rep_id, steve.id)[action]
    assert await api.error_code(query, variables) == "UNAUTHENTICATED"


@pytest.mark.parametrize("action", ["add", "map", "ignore", "restore"])
async def test_another_teams_rep_is_not_found(api, team, steve, action):
    """A manager of another team acting on this team's rep gets NOT_FOUND, and nothing changes."""
    rep_id = await detect(api, team, "Stephen Smith")
    if action == "restore":
        await api.data(IGNORE, {"id": rep_id}, token=team.token(Role.MANAGER))
    other = await make_team()
    other_user = await make_member(other.id, "Steve Smith")
    before = await _snapshot(team)
    query, variables = _calls(rep_id, other_user.id)[action]
    assert await api.error_code(query, variables, token=other.token(Role.MANAGER)) == "NOT_FOUND"
    assert await _snapshot(team) == before


@pytest.mark.parametrize("action", ["add", "map", "ignore", "restore"])
@pytest.mark.parametrize("rep_id", ["999999", "not-an-id"])
async def test_an_unknown_rep_is_not_found(api, team, steve, action, rep_id):
    """An id that names no missing rep is NOT_FOUND."""
    query, variables = _calls(rep_id, steve.id)[action]
    assert await api.error_code(query, variables, token=team.token(Role.ADMIN)) == "NOT_FOUND"
