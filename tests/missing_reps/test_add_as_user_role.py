"""Add as User, complete: the role chosen (never above the caller's), and an invitation email."""

from __future__ import annotations

import uuid

import pytest

from app.missing_reps.models import MissingRep
from app.teams.models import Role, User
from tests.mass_end.support import queued_jobs_by_task
from tests.missing_reps.screen import ADD, audit_events, detect
from tests.support import make_member, make_team

RANK = {Role.REP: 0, Role.MANAGER: 1, Role.TEAM_LEADER: 2, Role.ADMIN: 3}


@pytest.fixture
async def team(server):
    return await make_team()


async def _snapshot(team):
    reps = await MissingRep.filter(team_id=team.id).order_by("id").values()
    users = await User.filter(team_id=team.id).order_by("id").values_list("id", "role")
    return reps, users, len(await audit_events(team)), (await queued_jobs_by_task()).get("send_email", 0)


async def test_the_role_defaults_to_rep(api, team):
    rep_id = await detect(api, team, "Rita Rep")
    added = await api.data(ADD, {"id": rep_id, "input": {"phone": "+14155550100"}}, token=team.token(Role.MANAGER))
    assert added["addMissingRepAsUser"]["resolvedUser"]["role"] == "REP"
    explicit_null = await api.data(ADD, {"id": await detect(api, team, "Nell Null"), "input": {"phone": "+14155550101", "role": None}}, token=team.token(Role.MANAGER))
    assert explicit_null["addMissingRepAsUser"]["resolvedUser"]["role"] == "REP"


@pytest.mark.parametrize("caller", [Role.ADMIN, Role.MANAGER])
@pytest.mark.parametrize("role", list(Role))
async def test_a_caller_may_give_their_own_role_or_a_lower_one_never_a_higher_one(api, team, caller, role):
    """Role order ADMIN > TEAM_LEADER > MANAGER > REP: an Admin may add any role, a Manager a REP
    or a MANAGER; above the caller's own is FORBIDDEN (field role), and nothing changes: no user,
    the rep still missing, no audit event, no email."""
    rep_id = await detect(api, team, f"Role {role.value.title()} {uuid.uuid4().hex[:4]}")
    variables = {"id": rep_id, "input": {"email": f"{uuid.uuid4().hex[:8]}@corp.example", "role": role.value}}
    if RANK[role] <= RANK[caller]:
        added = await api.data(ADD, variables, token=team.token(caller))
        user = added["addMissingRepAsUser"]["resolvedUser"]
        assert user["role"] == role.value
        assert (await User.get(id=int(user["id"]))).role is role
        assert (await audit_events(team))[-1].details["role"] == role.value
        return
    before = await _snapshot(team)
    body = await api(ADD, variables, token=team.token(caller))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["errors"][0]["extensions"]["field"] == "role"
    assert "above your own" in body["errors"][0]["message"]
    assert await _snapshot(team) == before


@pytest.mark.parametrize("role", ["OWNER", "admin", 3])
async def test_a_role_that_does_not_exist_is_refused(api, team, role):
    rep_id = await detect(api, team, "Nora Norole")
    before = await _snapshot(team)
    body = await api(ADD, {"id": rep_id, "input": {"email": "nora@corp.example", "role": role}}, token=team.token(Role.ADMIN))
    assert body["errors"][0]["extensions"]["code"] in ("BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED", "BAD_REQUEST")
    assert await _snapshot(team) == before


async def test_the_new_user_is_emailed_an_invitation(api, team, mailbox):
    """Who added them, the team, the role, and how signing in truly works: the dashboard's address
    and an API token from an Admin (created with `switchboard create-token`)."""
    manager = await make_member(team.id, "Maria Manager", Role.MANAGER)
    rep_id = await detect(api, team, "Ivy Invite")
    address = f"ivy-{uuid.uuid4().hex[:6]}@corp.example"
    added = await api.data(ADD, {"id": rep_id, "input": {"email": address, "role": "MANAGER"}}, token=manager.token)
    user_id = added["addMissingRepAsUser"]["resolvedUser"]["id"]
    (email,) = await mailbox.wait_for(address)
    assert email["Subject"] == f"You were added to {team.name} on Switchboard"
    body = email.get_content()
    assert "Hello Ivy Invite" in body
    assert f"Maria Manager added you to the team {team.name} on Switchboard as a Manager." in body
    assert f"dashboard at {api.base_url}/" in body
    assert f"switchboard create-token {team.id} --user-id {user_id}" in body
    assert "password" not in body.lower()


async def test_no_invitation_without_an_email(api, team):
    rep_id = await detect(api, team, "Phoebe Phone")
    await api.data(ADD, {"id": rep_id, "input": {"phone": "+14155550123"}}, token=team.token(Role.ADMIN))
    assert (await queued_jobs_by_task()).get("send_email", 0) == 0


async def test_a_refused_add_sends_no_invitation(api, team):
    """An email taken in the team (CONFLICT) rolls everything back, the invitation with it."""
    taken = await make_member(team.id, "Taken Person", email="taken@corp.example")
    rep_id = await detect(api, team, "Tina Taken")
    before = await _snapshot(team)
    code = await api.error_code(ADD, {"id": rep_id, "input": {"email": taken.email}}, token=team.token(Role.ADMIN))
    assert code == "CONFLICT"
    assert await _snapshot(team) == before


async def test_the_invitation_uses_public_url_when_set(server_app, api, team, mailbox, monkeypatch):
    monkeypatch.setattr(server_app.state.settings, "public_url", "https://switchboard.example.com/")
    rep_id = await detect(api, team, "Paula Public")
    address = f"paula-{uuid.uuid4().hex[:6]}@corp.example"
    await api.data(ADD, {"id": rep_id, "input": {"email": address}}, token=team.token(Role.ADMIN))
    (email,) = await mailbox.wait_for(address)
    assert "the Switchboard dashboard at https://switchboard.example.com/" in email.get_content()
    assert "as a Rep." in email.get_content()
