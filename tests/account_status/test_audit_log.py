"""The audit log: the team's events, newest first, paged; Admins, Team Leaders and Managers only."""

import pytest

from app.audit import service as audit
from app.teams.models import Role
from tests.support import make_team

LOG = """query($first: Int, $after: String) {
  auditLog(first: $first, after: $after) {
    edges { cursor node { id action details actor { id } createdAt } }
    pageInfo { hasNextPage endCursor }
  }
}"""


@pytest.mark.parametrize("role", [Role.ADMIN, Role.TEAM_LEADER, Role.MANAGER])
async def test_log_is_newest_first_and_pages_without_gaps(api, server, role):
    team, other = await make_team(), await make_team()
    actor = team.member(Role.ADMIN).id
    for n in range(7):
        await audit.record(team.id, actor, "TEST_ACTION", {"n": n})
    await audit.record(other.id, None, "OTHER_TEAM", {})
    seen, after = [], None
    while True:
        page = (await api.data(LOG, {"first": 3, "after": after}, token=team.token(role)))["auditLog"]
        seen += [edge["node"]["details"]["n"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [6, 5, 4, 3, 2, 1, 0]


async def test_reps_and_integrations_may_not_read_the_log(api, server):
    team = await make_team()
    assert await api.error_code(LOG, token=team.token(Role.REP)) == "FORBIDDEN"
    assert await api.error_code(LOG, token=team.integration_token) == "FORBIDDEN"


@pytest.mark.parametrize("variables", [{"first": -5}, {"after": "garbage"}, {"after": "WyJvdGhlciIsIDFd"}, {"after": "WyJ4Il0"}])
async def test_bad_paging_arguments_are_bad_input(api, server, variables):
    team = await make_team()
    assert await api.error_code(LOG, variables, token=team.token(Role.ADMIN)) == "BAD_USER_INPUT"


async def test_first_is_capped_at_100(api, server):
    team = await make_team()
    for n in range(105):
        await audit.record(team.id, None, "BULK", {"n": n})
    page = (await api.data(LOG, {"first": 500}, token=team.token(Role.ADMIN)))["auditLog"]
    assert len(page["edges"]) == 100 and page["pageInfo"]["hasNextPage"]


async def test_each_event_names_its_actor_from_the_team(api, server):
    """The actors are read with the page: each event has its own actor (or none); a user of
    another team named as actor is never shown."""
    team, other = await make_team(), await make_team()
    admin, manager = team.member(Role.ADMIN), team.member(Role.MANAGER)
    outsider = other.member(Role.ADMIN)
    await audit.record(team.id, admin.id, "BY_ADMIN", {})
    await audit.record(team.id, None, "BY_NOBODY", {})
    await audit.record(team.id, manager.id, "BY_MANAGER", {})
    await audit.record(team.id, outsider.id, "BY_OUTSIDER", {})
    await audit.record(team.id, admin.id, "BY_ADMIN_AGAIN", {})
    query = "{ auditLog(first: 10) { edges { node { action actor { id name role } } } } }"
    edges = (await api.data(query, token=team.token(Role.MANAGER)))["auditLog"]["edges"]
    actors = {edge["node"]["action"]: edge["node"]["actor"] for edge in edges}
    assert actors == {
        "BY_ADMIN_AGAIN": {"id": str(admin.id), "name": admin.name, "role": "ADMIN"},
        "BY_OUTSIDER": None,
        "BY_MANAGER": {"id": str(manager.id), "name": manager.name, "role": "MANAGER"},
        "BY_NOBODY": None,
        "BY_ADMIN": {"id": str(admin.id), "name": admin.name, "role": "ADMIN"},
    }
    assert [edge["node"]["action"] for edge in edges] == ["BY_ADMIN_AGAIN", "BY_OUTSIDER", "BY_MANAGER", "BY_NOBODY", "BY_ADMIN"]
