"""Auth: tokens over HTTP and websocket, the permission table, team isolation."""

import json

import pytest
import websockets

from app import auth
from app.teams import service as teams
from app.teams.models import Role
from tests.support import (
    LEGACY_WS_PROTOCOL,
    WS_PROTOCOL,
    Subscription,
    make_member,
    make_team,
)

VIEWER = "{ viewer { id name role team { id name } } }"


async def test_request_without_token_is_unauthenticated(api):
    assert await api.error_code(VIEWER) == "UNAUTHENTICATED"


async def test_unknown_token_is_unauthenticated(api, server):
    await make_team()
    assert await api.error_code(VIEWER, token="sb_not-a-real-token") == "UNAUTHENTICATED"


async def test_malformed_authorization_header_is_unauthenticated(api, server):
    body = await api(VIEWER, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "Bearer" in body["errors"][0]["message"]


async def test_revoked_token_is_unauthenticated(api, server):
    team = await make_team()
    token = team.token(Role.ADMIN)
    assert (await api.data(VIEWER, token=token))["viewer"]["id"] == str(team.member(Role.ADMIN).id)
    await auth.revoke_token(team.id, token)
    assert await api.error_code(VIEWER, token=token) == "UNAUTHENTICATED"


async def test_tokens_are_stored_hashed(api, server):
    team = await make_team()
    from app.teams.models import ApiToken

    stored = {t.token_hash for t in await ApiToken.filter(team_id=team.id)}
    assert team.token(Role.REP) not in stored
    assert all(len(h) == 64 for h in stored)


async def test_integration_token_is_forbidden_on_user_only_field(api, server):
    team = await make_team()
    assert await api.error_code(VIEWER, token=team.integration_token) == "FORBIDDEN"


@pytest.mark.parametrize("role", list(Role))
async def test_viewer_is_the_token_owner_in_their_own_team(api, server, role):
    team = await make_team()
    await make_team()  # another team, which must not show through
    viewer = (await api.data(VIEWER, token=team.token(role)))["viewer"]
    assert viewer == {
        "id": str(team.member(role).id),
        "name": team.member(role).name,
        "role": role.value,
        "team": {"id": str(team.id), "name": team.name},
    }


SET_DEFAULT_REP = "mutation($id: ID!) { setDefaultRep(userId: $id) { id defaultRep { id } } }"


@pytest.mark.parametrize("role", [Role.TEAM_LEADER, Role.MANAGER, Role.REP])
async def test_only_admins_set_the_default_rep(api, server, role):
    team = await make_team()
    rep = team.member(Role.REP)
    assert await api.error_code(SET_DEFAULT_REP, {"id": rep.id}, token=team.token(role)) == "FORBIDDEN"
    assert (await teams.get_team(team.id)).default_rep_id == team.default_rep.id


async def test_admin_sets_the_default_rep(api, server):
    team = await make_team()
    rep = team.member(Role.REP)
    data = await api.data(SET_DEFAULT_REP, {"id": rep.id}, token=team.token(Role.ADMIN))
    assert data["setDefaultRep"] == {"id": str(team.id), "defaultRep": {"id": str(rep.id)}}


async def test_another_teams_user_is_not_found_and_nothing_changes(api, server):
    team, other = await make_team(), await make_team()
    outsider = other.member(Role.REP)
    code = await api.error_code(SET_DEFAULT_REP, {"id": outsider.id}, token=team.token(Role.ADMIN))
    assert code == "NOT_FOUND"
    assert (await teams.get_team(team.id)).default_rep_id == team.default_rep.id


@pytest.mark.parametrize("bad_id", ["abc", "-1", "1.5", "99999999999999999999"])
async def test_malformed_ids_are_not_found(api, server, bad_id):
    team = await make_team()
    assert await api.error_code(SET_DEFAULT_REP, {"id": bad_id}, token=team.token(Role.ADMIN)) == "NOT_FOUND"


async def test_websocket_accepts_token_in_connection_init(api, server):
    team = await make_team()
    sub = await Subscription.connect(api, team.token(Role.REP))
    await sub.close()


@pytest.mark.parametrize("payload", [{}, {"Authorization": "Bearer sb_wrong"}])
async def test_websocket_with_bad_or_missing_token_closes_with_4403(api, server, payload):
    async with websockets.connect(api.ws_url(), subprotocols=[WS_PROTOCOL]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                message = json.loads(await ws.recv())
                assert message["type"] != "connection_ack"
        assert closed.value.rcvd.code == 4403


async def test_legacy_graphql_ws_rejects_bad_token_with_connection_error(api, server):
    """The legacy protocol has no 4403: it answers connection_error and closes."""
    async with websockets.connect(api.ws_url(), subprotocols=[LEGACY_WS_PROTOCOL]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": "Bearer sb_wrong"}}))
        message = json.loads(await ws.recv())
        assert message["type"] == "connection_error"
        with pytest.raises(websockets.ConnectionClosed):
            await ws.recv()


async def test_legacy_graphql_ws_protocol_is_served(api, server):
    team = await make_team()
    async with websockets.connect(api.ws_url(), subprotocols=[LEGACY_WS_PROTOCOL]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": team.token(Role.REP)}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"


async def test_emails_are_unique_per_team_case_insensitively(server):
    team = await make_team()
    await make_member(team.id, "Sam One", email="sam@example.com")
    with pytest.raises(Exception) as err:
        await make_member(team.id, "Sam Two", email="SAM@example.com")
    assert getattr(err.value, "code", None).value == "CONFLICT"
    other = await make_team()
    await make_member(other.id, "Sam Elsewhere", email="sam@example.com")
