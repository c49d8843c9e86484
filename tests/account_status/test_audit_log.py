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
