"""users(search, first, after): the team's users for the Map to Rep picker (Managers and Admins)."""

from __future__ import annotations

import pytest

from app.teams.models import Role
from app.paging import encode_cursor
from tests.support import make_member, make_team

USERS = """
query($search: String, $first: Int, $after: String) {
  users(search: $search, first: $first, after: $after) {
    edges { cursor node { id name email role aliases } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""
MAP = "mutation($id: ID!, $userId: ID!) { mapMissingRepToUser(id: $id, userId: $userId) { id } }"


@pytest.fixture
async def team(server):
    return await make_team()


async def names(api, token, **variables) -> list[str]:
    data = await api.data(USERS, variables, token=token)
    return [e["node"]["name"] for e in data["users"]["edges"]]


async def test_users_lists_the_callers_team_a_to_z_ignoring_case_and_accents(api, team):
    await make_member(team.id, "zoe Zed")
    await make_member(team.id, "Élodie Ames")
    other = await make_team()
    await make_member(other.id, "Aaron Outsider")
    listed = await names(api, team.token(Role.MANAGER))
    expected = sorted([m.name for m in team.members.values()] + [team.default_rep.name, "zoe Zed", "Élodie Ames"],
                      key=lambda n: n.lower().replace("é", "e"))
    assert listed == expected
    assert "Aaron Outsider" not in listed


async def test_users_shows_name_email_role_and_aliases(api, team):
    steve = await make_member(team.id, "Steve Smith", email="steve@acme.example")
    from app.teams import service as teams
    from app import db

    await teams.add_alias(db.connection(), team.id, steve.id, "Stephen Smith")
    data = await api.data(USERS, {"search": "steve"}, token=team.token(Role.ADMIN))
    assert [e["node"] for e in data["users"]["edges"]] == [
        {"id": str(steve.id), "name": "Steve Smith", "email": "steve@acme.example", "role": "REP", "aliases": ["Stephen Smith"]}
    ]


async def test_search_matches_part_of_the_normalised_name(api, team):
    await make_member(team.id, "Stéphen  O'Smith")
    await make_member(team.id, "Stephanie Jones")
    await make_member(team.id, "Bob Stone")
    token = team.token(Role.MANAGER)
    assert await names(api, token, search="STEPH") == ["Stephanie Jones", "Stéphen O'Smith"]
    assert await names(api, token, search="stephen o smith") == ["Stéphen O'Smith"]
    assert await names(api, token, search="  o'SMITH ") == ["Stéphen O'Smith"]


async def test_search_matches_part_of_the_email(api, team):
    await make_member(team.id, "Kim Park", email="kim.park@north.example")
    await make_member(team.id, "Lee Chan", email="lee@south.example")
    token = team.token(Role.MANAGER)
    assert await names(api, token, search="NORTH.example") == ["Kim Park"]
    assert await names(api, token, search="@south") == ["Lee Chan"]


async def test_search_treats_like_wildcards_as_plain_characters(api, team):
    await make_member(team.id, "Pat Under", email="pat_under@x.example")
    await make_member(team.id, "Pat Other", email="patxunder@x.example")
    token = team.token(Role.MANAGER)
    assert await names(api, token, search="pat_under@") == ["Pat Under"]
    assert await names(api, token, search="100%") == []


async def test_search_finds_nothing_in_another_team(api, team):
    other = await make_team()
    await make_member(other.id, "Hidden Person", email="hidden@other.example")
    token = team.token(Role.ADMIN)
    assert await names(api, token, search="hidden") == []


async def test_pages_follow_each_other_without_gaps_or_repeats(api, team):
    for n in range(7):
        await make_member(team.id, f"Paged Person {n}")
    token = team.token(Role.MANAGER)
    seen, after = [], None
    while True:
        data = (await api.data(USERS, {"search": "paged", "first": 3, "after": after}, token=token))["users"]
        seen += [e["node"]["name"] for e in data["edges"]]
        assert data["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
        # A user added between pages, before the cursor, never shifts what comes next.
        await make_member(team.id, "Paged Person 0a")
    assert seen == [f"Paged Person {n}" for n in range(7)]


async def test_users_first_zero_returns_no_edges_and_first_is_capped(api, team):
    for n in range(3):
        await make_member(team.id, f"Cap {n}")
    token = team.token(Role.MANAGER)
    data = (await api.data(USERS, {"first": 0}, token=token))["users"]
    assert data["edges"] == [] and data["pageInfo"]["hasNextPage"] is True
    assert len((await api.data(USERS, {"first": 1000}, token=token))["users"]["edges"]) == len(team.members) + 4


@pytest.mark.parametrize(
    "variables, field",
    [
        ({"first": -1}, "first"),
        ({"search": "x" * 201}, "search"),
        ({"search": "bad\x00byte"}, "search"),
        ({"search": "bell\x07"}, "search"),
        ({"after": "not a cursor"}, "after"),
        ({"after": encode_cursor("", "x", "1")}, "after"),
        ({"after": encode_cursor("", "x", 2**40)}, "after"),
        ({"after": encode_cursor("", "x\x00", 1)}, "after"),
    ],
)
async def test_bad_input_is_refused_with_the_field(api, team, variables, field):
    body = await api(USERS, variables, token=team.token(Role.MANAGER))
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == field


async def test_a_cursor_of_another_search_is_refused(api, team):
    for n in range(3):
        await make_member(team.id, f"Cursor {n}")
    token = team.token(Role.MANAGER)
    page = (await api.data(USERS, {"first": 1}, token=token))["users"]
    body = await api(USERS, {"first": 1, "search": "cursor", "after": page["pageInfo"]["endCursor"]}, token=token)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "another search" in body["errors"][0]["message"]


@pytest.mark.parametrize("role", [Role.REP, Role.TEAM_LEADER])
async def test_users_is_forbidden_to_reps_and_team_leaders(api, team, role):
    assert await api.error_code(USERS, token=team.token(role)) == "FORBIDDEN"


async def test_users_is_forbidden_to_integration_tokens(api, team):
    assert await api.error_code(USERS, token=team.integration_token) == "FORBIDDEN"


async def test_users_needs_a_token(api, team):
    assert await api.error_code(USERS) == "UNAUTHENTICATED"
