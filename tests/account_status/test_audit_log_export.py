"""GET /export/audit-log.csv: the team's audit log as CSV, newest first, streamed; the auditLog
query's permission (Admins, Team Leaders, Managers)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from app.audit import service as audit
from app.teams.models import Role
from tests.support import make_member, make_team

URL = "/export/audit-log.csv"


async def _get(api, token: str | None, params: dict | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await api.http.get(URL, params=params, headers=headers)


def _rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.text)))


@pytest.mark.parametrize("role", [Role.ADMIN, Role.TEAM_LEADER, Role.MANAGER])
async def test_the_log_is_exported_newest_first_with_its_actor(api, server, role):
    team, other = await make_team(), await make_team()
    admin = team.member(Role.ADMIN)
    for n in range(3):
        await audit.record(team.id, admin.id if n != 1 else None, "TEST_ACTION", {"n": n, "note": "a, \"b\""})
    await audit.record(other.id, None, "OTHER_TEAM", {})
    response = await _get(api, team.token(role))
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="audit-log.csv"' in response.headers["content-disposition"]
    rows = _rows(response)
    assert [json.loads(r["details"])["n"] for r in rows] == [2, 1, 0]
    assert [(r["action"], r["actor_id"], r["actor_name"]) for r in rows] == [
        ("TEST_ACTION", str(admin.id), admin.name),
        ("TEST_ACTION", "", ""),
        ("TEST_ACTION", str(admin.id), admin.name),
    ]
    assert json.loads(rows[0]["details"])["note"] == 'a, "b"' and rows[0]["created_at"]


async def test_a_long_log_is_complete_across_pages(api, server):
    """More events than a page (500): every one, once, in order."""
    team = await make_team()
    for n in range(1203):
        await audit.record(team.id, None, "TEST_ACTION", {"n": n})
    rows = _rows(await _get(api, team.token(Role.ADMIN)))
    assert [json.loads(r["details"])["n"] for r in rows] == list(range(1202, -1, -1))


async def test_an_actor_name_a_spreadsheet_would_run_is_prefixed(api, server):
    team = await make_team()
    sneaky = await make_member(team.id, "=HYPERLINK(\"http://evil.example\")", Role.MANAGER)
    await audit.record(team.id, sneaky.id, "TEST_ACTION", {})
    (row,) = _rows(await _get(api, team.token(Role.ADMIN)))
    assert row["actor_name"] == "'=HYPERLINK(\"http://evil.example\")"


async def test_refusals_are_json_with_the_api_codes(api, server):
    team = await make_team()
    assert (await _get(api, None)).status_code == 401
    assert (await _get(api, "sb_nope")).json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    for token in (team.token(Role.REP), team.integration_token):
        response = await _get(api, token)
        assert response.status_code == 403 and response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    response = await _get(api, team.token(Role.ADMIN), {"first": "10"})
    assert response.status_code == 400 and response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
