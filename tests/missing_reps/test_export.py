"""GET /export/missing-reps.csv: the Missing Reps list as CSV, with the `missingReps` query's
filter, order and permission, streamed a page at a time; cells a spreadsheet would run are
neutralised."""

from __future__ import annotations

import csv
import io

import pytest

from app import db
from app.pipeline.ratelimit import RateLimits
from app.settings import Settings
from app.teams.models import Role
from tests.missing_reps.screen import IGNORE, LIST, MAP, detect
from tests.support import make_member, make_team

URL = "/export/missing-reps.csv"


@pytest.fixture
async def team(server):
    return await make_team()


async def _get(api, token: str | None, params: dict | None = None, headers: dict | None = None):
    headers = dict(headers or {})
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return await api.http.get(URL, params=params, headers=headers)


def _table(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def _list_ids(api, token, status="MISSING", field="NAME", direction="ASC") -> list[str]:
    ids, after = [], None
    while True:
        page = (
            await api.data(
                LIST,
                {"status": status, "orderBy": {"field": field, "direction": direction}, "first": 100, "after": after},
                token=token,
            )
        )["missingReps"]
        ids += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return ids
        after = page["pageInfo"]["endCursor"]


async def test_the_export_has_the_lists_rows_and_columns(api, team):
    """Default MISSING, by NAME ascending: every column of the screen, with the resolved user's name."""
    token = team.token(Role.MANAGER)
    bravo = await detect(api, team, "Bravo Ghost", 2, rep_email="bravo@crm.example")
    alpha = await detect(api, team, "alpha Ghost", 1)
    response = await _get(api, token)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="missing-reps.csv"' in response.headers["content-disposition"]
    rows = _table(response.text)
    assert [r["id"] for r in rows] == [alpha, bravo]
    assert rows[1]["name"] == "Bravo Ghost" and rows[1]["email"] == "bravo@crm.example"
    assert rows[1]["status"] == "MISSING" and rows[1]["leads_originally_assigned"] == "2"
    assert rows[1]["resolution"] == "" and rows[1]["date_found"]

    steve = await make_member(team.id, "Steve Smith")
    await api.data(MAP, {"id": bravo, "userId": str(steve.id)}, token=token)
    resolved = _table((await _get(api, token, {"status": "RESOLVED"})).text)
    assert [(r["id"], r["resolution"], r["resolved_user_id"], r["resolved_user_name"], r["leads_moved"]) for r in resolved] == [
        (bravo, "MAPPED_TO_USER", str(steve.id), "Steve Smith", "2")
    ]


@pytest.mark.parametrize(
    "field,direction", [("NAME", "DESC"), ("DATE_FOUND", "ASC"), ("DATE_FOUND", "DESC"), ("LEADS_ORIGINALLY_ASSIGNED", "DESC")]
)
async def test_filters_and_order_are_the_missing_reps_querys(api, team, field, direction):
    token = team.token(Role.ADMIN)
    reps = [await detect(api, team, f"Ghost {name}", n) for name, n in (("Kilo", 3), ("Alpha", 1), ("Mike", 2), ("Bravo", 2))]
    await api.data(IGNORE, {"id": reps[2]}, token=token)
    for status in ("MISSING", "IGNORED"):
        response = await _get(api, token, {"status": status, "orderBy": field, "direction": direction})
        assert [r["id"] for r in _table(response.text)] == await _list_ids(api, token, status, field, direction)
    assert [r["id"] for r in _table((await _get(api, token, {"status": "IGNORED"})).text)] == [reps[2]]


async def test_another_teams_reps_are_not_exported(api, team):
    other = await make_team()
    await detect(api, other, "Foreign Ghost")
    mine = await detect(api, team, "Home Ghost")
    assert [r["id"] for r in _table((await _get(api, team.token(Role.MANAGER))).text)] == [mine]


async def test_a_large_list_is_streamed_in_pages(api, team):
    """5,000 reps arrive complete and in order, in many chunks: the body is written page by page."""
    await db.connection().execute_query(
        """
        INSERT INTO missing_rep (team_id, name, normalized_name, email, date_found, leads_originally_assigned, status)
        SELECT $1, 'Ghost ' || lpad(n::text, 5, '0'), 'ghost ' || lpad(n::text, 5, '0'), NULL, now(), n % 7, 'MISSING'
          FROM generate_series(1, 5000) AS n
        """,
        [team.id],
    )
    chunks, body = 0, b""
    async with api.http.stream("GET", URL, headers={"Authorization": f"Bearer {team.token(Role.MANAGER)}"}) as response:
        assert response.status_code == 200
        async for chunk in response.aiter_raw():
            chunks += 1
            body += chunk
    rows = _table(body.decode())
    assert len(rows) == 5000
    assert [r["name"] for r in rows] == [f"Ghost {n:05d}" for n in range(1, 5001)]
    assert chunks >= 10


async def test_cells_a_spreadsheet_would_run_are_prefixed(api, team):
    """= + - @ tab and carriage return at the start of a cell: shown as text ('=...), never a formula."""
    names = ["=HYPERLINK(\"http://evil.example\")", "+1 555 0100", "-2+3", "@SUM(A1)", "\tTabbed", "\rReturned", "Plain, \"Quoted\""]
    await db.connection().execute_query(
        """
        INSERT INTO missing_rep (team_id, name, normalized_name, email, date_found, leads_originally_assigned, status)
        SELECT $1, name, 'n' || ord, '=cmd|calc@evil.example', now(), 0, 'MISSING'
          FROM unnest($2::text[]) WITH ORDINALITY AS v(name, ord)
        """,
        [team.id, names],
    )
    detected = await detect(api, team, "=2+5 Ghost")
    rows = _table((await _get(api, team.token(Role.MANAGER))).text)
    by_name = {r["name"] for r in rows}
    assert by_name >= {"'" + n for n in names[:6]} | {"Plain, \"Quoted\""}
    assert {r["email"] for r in rows if r["id"] != detected} == {"'=cmd|calc@evil.example"}
    assert [r["name"] for r in rows if r["id"] == detected] == ["'=2+5 Ghost"]
    assert all(not r["name"].startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows)


@pytest.mark.parametrize(
    "params,field",
    [
        ({"status": "missing"}, "status"),
        ({"orderBy": "EMAIL"}, "orderBy"),
        ({"direction": "UP"}, "direction"),
        ({"sort": "NAME"}, "sort"),
        ([("status", "MISSING"), ("status", "IGNORED")], "status"),
    ],
)
async def test_bad_parameters_are_400_with_a_json_error(api, team, params, field):
    response = await _get(api, team.token(Role.MANAGER), params)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["field"] == field


async def test_no_token_or_a_bad_one_is_401_and_a_role_without_the_permission_403(api, team):
    """The missingReps query's permission (Managers and Admins): others are refused, with JSON."""
    anonymous = await _get(api, None)
    assert anonymous.status_code == 401 and anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await _get(api, "sb_not-a-token")).status_code == 401
    assert (await _get(api, None, headers={"Authorization": "Basic abc"})).status_code == 401
    for token in (team.token(Role.TEAM_LEADER), team.token(Role.REP), team.integration_token):
        response = await _get(api, token)
        assert response.status_code == 403 and response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    for role in (Role.ADMIN, Role.MANAGER):
        assert (await _get(api, team.token(role))).status_code == 200


async def test_the_export_counts_against_the_callers_rate_limit(api, team, server_app, monkeypatch):
    """The same budget as the API: a token that spent it gets 429 with Retry-After here too."""
    limits = RateLimits(Settings(rate_limit_dashboard="2/minute"))
    monkeypatch.setattr(server_app.state.pipeline, "rate_limits", limits)
    token = team.token(Role.MANAGER)
    await api.data("{ viewer { id } }", token=token)
    assert (await _get(api, token)).status_code == 200
    response = await _get(api, token)
    assert response.status_code == 429 and response.headers["retry-after"]
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED" and error["extensions"]["budget"] == "dashboard"
