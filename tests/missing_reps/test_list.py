"""missingReps / missingRep: the Missing Reps list, its sort orders, cursors and count."""

from __future__ import annotations

import base64
import json

import pytest

from app.teams.models import Role
from tests.missing_reps.screen import COUNT, IGNORE, LIST, ONE, detect
from tests.support import ingest, lead_input, make_team

# name, leads; detected in this order (one ingestion each, so each has its own date found).
# Names differ in their first letter (so any collation sorts them alike) and mix case and
# accents; two reps tie on leads to prove ties break by id.
REPS = [
    ("delta Rep", 3),
    ("Alpha Rep", 1),
    ("Écho Rep", 5),
    ("charlie rep", 3),
    ("BRAVO Rep", 2),
    ("foxtrot Rep", 4),
    ("Golf Rep", 3),
]
SORT_KEY = {
    "NAME": lambda r: r["name"].lower().replace("é", "e"),
    "DATE_FOUND": lambda r: r["dateFound"],
    "LEADS_ORIGINALLY_ASSIGNED": lambda r: r["leadsOriginallyAssigned"],
}


@pytest.fixture
async def team(server):
    return await make_team()


@pytest.fixture
async def reps(api, team):
    """The REPS, detected in order: name -> id."""
    return {name: await detect(api, team, name, leads) for name, leads in REPS}


async def _all_pages(api, token, page_size, **variables):
    names, cursors, pages = [], [], 0
    after = None
    while True:
        page = (await api.data(LIST, {**variables, "first": page_size, "after": after}, token=token))["missingReps"]
        pages += 1
        names += [e["node"]["name"] for e in page["edges"]]
        cursors += [e["cursor"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return names, pages
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        after = page["pageInfo"]["endCursor"]


def _expected(nodes, field, direction):
    """Sorted by the field, ties by id, both in the requested direction."""
    rows = sorted(nodes, key=lambda r: (SORT_KEY[field](r), int(r["id"])), reverse=direction == "DESC")
    return [r["name"] for r in rows]


async def test_the_default_order_is_by_name_a_to_z_ignoring_case_and_accents(api, team, reps):
    """No orderBy: alphabetical by name, case and accents ignored."""
    page = (await api.data(LIST, {}, token=team.token(Role.MANAGER)))["missingReps"]
    assert [e["node"]["name"] for e in page["edges"]] == [
        "Alpha Rep", "BRAVO Rep", "charlie rep", "delta Rep", "Écho Rep", "foxtrot Rep", "Golf Rep"
    ]
    assert page["totalCount"] == 7
    assert page["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": False,
        "startCursor": page["edges"][0]["cursor"],
        "endCursor": page["edges"][-1]["cursor"],
    }


@pytest.mark.parametrize("field", ["NAME", "DATE_FOUND", "LEADS_ORIGINALLY_ASSIGNED"])
@pytest.mark.parametrize("direction", ["ASC", "DESC"])
@pytest.mark.parametrize("page_size", [1, 2, 3])
async def test_paging_in_every_order_returns_each_rep_once_in_order(api, team, reps, field, direction, page_size):
    """Every sort field in both directions, ties broken by id: pages concatenate to the whole
    sorted list, with no row skipped or repeated."""
    token = team.token(Role.ADMIN)
    everything = (await api.data(LIST, {"first": 100}, token=token))["missingReps"]["edges"]
    expected = _expected([e["node"] for e in everything], field, direction)
    names, pages = await _all_pages(api, token, page_size, orderBy={"field": field, "direction": direction})
    assert names == expected
    assert pages == -(-len(REPS) // page_size)


async def test_date_found_sorts_newest_first_descending(api, team, reps):
    """DATE_FOUND DESC lists the most recently detected rep first."""
    page = (await api.data(LIST, {"orderBy": {"field": "DATE_FOUND", "direction": "DESC"}}, token=team.token(Role.MANAGER)))
    assert [e["node"]["name"] for e in page["missingReps"]["edges"]] == [name for name, _ in reversed(REPS)]


async def test_leads_descending_breaks_ties_by_id(api, team, reps):
    """LEADS_ORIGINALLY_ASSIGNED DESC: highest first; reps with equal counts by id, descending."""
    page = await api.data(
        LIST, {"orderBy": {"field": "LEADS_ORIGINALLY_ASSIGNED", "direction": "DESC"}}, token=team.token(Role.MANAGER)
    )
    assert [e["node"]["name"] for e in page["missingReps"]["edges"]] == [
        "Écho Rep", "foxtrot Rep", "Golf Rep", "charlie rep", "delta Rep", "BRAVO Rep", "Alpha Rep"
    ]


@pytest.mark.parametrize(
    "order",
    [
        {"field": "NAME", "direction": "ASC"},
        {"field": "NAME", "direction": "DESC"},
        {"field": "DATE_FOUND", "direction": "ASC"},
        {"field": "DATE_FOUND", "direction": "DESC"},
        {"field": "LEADS_ORIGINALLY_ASSIGNED", "direction": "DESC"},
    ],
)
async def test_paging_while_new_reps_are_detected_never_skips_or_repeats(api, team, reps, order):
    """Reps detected between two pages never make a page repeat a row or skip a row that was
    there when paging started; the new ones appear only if they sort after the cursor."""
    token = team.token(Role.MANAGER)
    first = (await api.data(LIST, {"orderBy": order, "first": 3}, token=token))["missingReps"]
    seen = [e["node"]["name"] for e in first["edges"]]
    # New reps that sort before and after the cursor in every order.
    await detect(api, team, "Aaron New", 9)
    await detect(api, team, "Zed New", 0 + 1)
    after = first["pageInfo"]["endCursor"]
    while after:
        page = (await api.data(LIST, {"orderBy": order, "first": 3, "after": after}, token=token))["missingReps"]
        seen += [e["node"]["name"] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"] if page["pageInfo"]["hasNextPage"] else None
    assert len(seen) == len(set(seen)), f"a row was repeated: {seen}"
    assert {name for name, _ in REPS} <= set(seen), f"a row was skipped: {seen}"
    final = (await api.data(LIST, {"orderBy": order, "first": 100}, token=token))["missingReps"]["edges"]
    order_now = [e["node"]["name"] for e in final]
    assert seen == [n for n in order_now if n in seen], "pages are not in list order"


async def test_first_defaults_to_50_and_is_capped_at_100(api, team):
    """No `first`: 50 rows; `first` above 100: 100 rows."""
    await ingest(api, team, [lead_input(f"L{i}", f"Bulk Rep {i:03d}") for i in range(120)])
    token = team.token(Role.MANAGER)
    default = (await api.data(LIST, {}, token=token))["missingReps"]
    assert len(default["edges"]) == 50 and default["pageInfo"]["hasNextPage"] is True
    capped = (await api.data(LIST, {"first": 500}, token=token))["missingReps"]
    assert len(capped["edges"]) == 100 and capped["totalCount"] == 120
    rest = (await api.data(LIST, {"first": 100, "after": capped["pageInfo"]["endCursor"]}, token=token))["missingReps"]
    assert len(rest["edges"]) == 20 and rest["pageInfo"]["hasNextPage"] is False
    assert rest["pageInfo"]["hasPreviousPage"] is True


async def test_first_zero_gives_only_the_count(api, team, reps):
    """first: 0 returns no rows: the cheap way to read the "Missing Reps (x)" count."""
    page = (await api.data(LIST, {"first": 0}, token=team.token(Role.MANAGER)))["missingReps"]
    assert page["edges"] == [] and page["totalCount"] == 7 and page["pageInfo"]["hasNextPage"] is True


async def test_negative_first_is_bad_input(api, team):
    """first below 0 is BAD_USER_INPUT."""
    assert await api.error_code(LIST, {"first": -1}, token=team.token(Role.MANAGER)) == "BAD_USER_INPUT"


@pytest.mark.parametrize("cursor", ["not-a-cursor", "WyJ4Il0", "", "%%%"])
async def test_a_malformed_cursor_is_bad_input(api, team, reps, cursor):
    """An `after` that no page ever returned is BAD_USER_INPUT, not an internal error."""
    assert await api.error_code(LIST, {"after": cursor}, token=team.token(Role.MANAGER)) == "BAD_USER_INPUT"


def _cursor(*parts) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "field, cursor",
    [
        ("NAME", _cursor("NAME", "ASC", "x", 2**40)),
        ("NAME", _cursor("NAME", "ASC", {"x": 1}, 1)),
        ("LEADS_ORIGINALLY_ASSIGNED", _cursor("LEADS_ORIGINALLY_ASSIGNED", "ASC", 2**40, 1)),
        ("LEADS_ORIGINALLY_ASSIGNED", _cursor("LEADS_ORIGINALLY_ASSIGNED", "ASC", "3", 1)),
        ("DATE_FOUND", _cursor("DATE_FOUND", "ASC", "garbage", 1)),
    ],
)
async def test_a_tampered_cursor_is_bad_input(api, team, reps, field, cursor):
    """A cursor edited by hand (wrong types, out-of-range numbers) is BAD_USER_INPUT."""
    variables = {"after": cursor, "orderBy": {"field": field}}
    assert await api.error_code(LIST, variables, token=team.token(Role.MANAGER)) == "BAD_USER_INPUT"


async def test_a_cursor_of_another_order_is_bad_input(api, team, reps):
    """A cursor only continues the ordering that produced it."""
    token = team.token(Role.MANAGER)
    page = (await api.data(LIST, {"first": 2}, token=token))["missingReps"]
    body = await api(
        LIST, {"first": 2, "after": page["pageInfo"]["endCursor"], "orderBy": {"field": "DATE_FOUND"}}, token=token
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "ordered by NAME ASC" in body["errors"][0]["message"]


async def test_the_count_is_zero_when_nothing_is_missing(api, team):
    """A team with no missing rep shows "Missing Reps (0)": totalCount 0, no rows."""
    page = (await api.data(LIST, {}, token=team.token(Role.ADMIN)))["missingReps"]
    assert page == {
        "totalCount": 0,
        "edges": [],
        "pageInfo": {"hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None},
    }


async def test_ignored_reps_are_listed_and_counted_apart(api, team, reps):
    """status: IGNORED lists the ignored reps; the MISSING list and count leave them out."""
    token = team.token(Role.MANAGER)
    await api.data(IGNORE, {"id": reps["Golf Rep"]}, token=token)
    await api.data(IGNORE, {"id": reps["Alpha Rep"]}, token=token)
    ignored = (await api.data(LIST, {"status": "IGNORED"}, token=token))["missingReps"]
    assert [e["node"]["name"] for e in ignored["edges"]] == ["Alpha Rep", "Golf Rep"]
    assert ignored["totalCount"] == 2
    assert all(e["node"]["status"] == "IGNORED" for e in ignored["edges"])
    assert (await api.data(COUNT, {}, token=token))["missingReps"]["totalCount"] == 5


async def test_each_node_has_the_screen_columns(api, team):
    """A node carries name, email, date found, leads originally assigned, status and the user
    it was resolved to (none while missing)."""
    await detect(api, team, "Column Rep", 2, rep_email="Column.Rep@CRM.example")
    node = (await api.data(LIST, {}, token=team.token(Role.MANAGER)))["missingReps"]["edges"][0]["node"]
    assert node["name"] == "Column Rep"
    assert node["email"] == "column.rep@crm.example"
    assert node["dateFound"]
    assert node["leadsOriginallyAssigned"] == 2
    assert node["status"] == "MISSING"
    assert node["resolvedUser"] is None


async def test_missing_rep_returns_one_rep(api, team, reps):
    """missingRep(id) returns that rep of the caller's team."""
    rep = (await api.data(ONE, {"id": reps["Écho Rep"]}, token=team.token(Role.ADMIN)))["missingRep"]
    assert rep["name"] == "Écho Rep" and rep["leadsOriginallyAssigned"] == 5


@pytest.mark.parametrize("rep_id", ["999999", "abc", "-1"])
async def test_an_unknown_missing_rep_is_not_found(api, team, rep_id):
    """An id that names no rep is NOT_FOUND."""
    assert await api.error_code(ONE, {"id": rep_id}, token=team.token(Role.MANAGER)) == "NOT_FOUND"


async def test_another_teams_reps_are_invisible(api, team, reps):
    """Another team's rep is NOT_FOUND by id and absent from the list and the count."""
    other = await make_team()
    token = other.token(Role.MANAGER)
    assert await api.error_code(ONE, {"id": reps["Alpha Rep"]}, token=token) == "NOT_FOUND"
    page = (await api.data(LIST, {}, token=token))["missingReps"]
    assert page["totalCount"] == 0 and page["edges"] == []


@pytest.mark.parametrize("role", [Role.REP, Role.TEAM_LEADER])
@pytest.mark.parametrize("query", [LIST, ONE])
async def test_reps_and_team_leaders_may_not_read_missing_reps(api, team, reps, role, query):
    """Only Managers and Admins see the Missing Reps screen."""
    assert await api.error_code(query, {"id": reps["Alpha Rep"]}, token=team.token(role)) == "FORBIDDEN"


@pytest.mark.parametrize("query", [LIST, ONE])
async def test_integrations_may_not_read_missing_reps(api, team, reps, query):
    """An integration token cannot read the Missing Reps screen."""
    assert await api.error_code(query, {"id": reps["Alpha Rep"]}, token=team.integration_token) == "FORBIDDEN"


@pytest.mark.parametrize("query", [LIST, ONE])
async def test_reading_missing_reps_needs_a_token(api, team, reps, query):
    """Without a token: UNAUTHENTICATED."""
    assert await api.error_code(query, {"id": reps["Alpha Rep"]}) == "UNAUTHENTICATED"


TOTAL_COUNT_ASKED = {
    "as a field": "totalCount",
    "in a fragment": "...Counted",
    "in an inline fragment": "... on MissingRepConnection { totalCount }",
}


@pytest.mark.parametrize("asked", list(TOTAL_COUNT_ASKED))
async def test_total_count_read_with_the_page_is_the_count(api, team, reps, asked):
    """Asked for with the rows, the count is read in the page's own statement: the same count on
    the first page, a page past the last row and a page of no rows, however the query asks."""
    token = team.token(Role.MANAGER)
    query = (
        "query($first: Int, $after: String) { missingReps(first: $first, after: $after) { "
        f"{TOTAL_COUNT_ASKED[asked]} edges {{ cursor }} pageInfo {{ endCursor }} }} }}"
        " fragment Counted on MissingRepConnection { totalCount }"
    )
    if asked != "in a fragment":
        query = query.rsplit(" fragment", 1)[0]
    page = (await api.data(query, {"first": 7}, token=token))["missingReps"]
    assert page["totalCount"] == 7 and len(page["edges"]) == 7
    past_the_end = (await api.data(query, {"first": 2, "after": page["pageInfo"]["endCursor"]}, token=token))["missingReps"]
    assert past_the_end["totalCount"] == 7 and past_the_end["edges"] == []
    assert (await api.data(query, {"first": 0}, token=token))["missingReps"]["totalCount"] == 7


async def test_a_skipped_total_count_is_not_in_the_response(api, team, reps):
    token = team.token(Role.MANAGER)
    query = "query($no: Boolean!) { missingReps(first: 2) { totalCount @skip(if: $no) edges { cursor } } }"
    assert "totalCount" not in (await api.data(query, {"no": True}, token=token))["missingReps"]
    assert (await api.data(query, {"no": False}, token=token))["missingReps"]["totalCount"] == 7
