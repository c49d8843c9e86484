"""Bulk Missing Reps: ignore, restore and accept the top suggestion for many reps at once, each
rep through its single-rep action; the preview lists exactly what accepting maps."""

from __future__ import annotations

import pytest

from app.audit.models import AuditEvent
from app.missing_reps.models import MissingRep
from app.teams.models import Role, UserAlias
from tests.missing_reps.screen import IGNORE, MAP, audit_events, detect, leads_of
from tests.missing_reps.test_concurrency import race
from tests.support import make_member, make_team

RESULT = "changed { id status resolution resolvedUser { id } } skipped { id reason message }"
IGNORE_MANY = f"mutation($ids: [ID!]!) {{ ignoreMissingReps(ids: $ids) {{ {RESULT} }} }}"
RESTORE_MANY = f"mutation($ids: [ID!]!) {{ restoreMissingReps(ids: $ids) {{ {RESULT} }} }}"
PREVIEW = """
query($min: Float!, $ids: [ID!]) {
  suggestedMatchesPreview(minScore: $min, ids: $ids) { missingRep { id name } user { id name } score }
}
"""
ACCEPT = f"""
mutation($min: Float!, $ids: [ID!], $c: String!) {{
  acceptSuggestedMatches(minScore: $min, ids: $ids, confirmation: $c) {{ {RESULT} }}
}}
"""


@pytest.fixture
async def team(server):
    return await make_team()


def _skips(result: dict) -> dict[str, str]:
    return {s["id"]: s["reason"] for s in result["skipped"]}


async def _statuses(team) -> dict[str, str]:
    return {str(i): s for i, s in await MissingRep.filter(team_id=team.id).values_list("id", "status")}


# --- ignore and restore --------------------------------------------------------------------


async def test_ignore_many_ignores_the_missing_ones_and_says_why_it_skipped_each_other_id(api, team):
    """Each MISSING rep named becomes IGNORED with its own audit event; an ignored, resolved,
    unknown, malformed or other team's id is skipped with its reason; repeats count once."""
    manager = team.member(Role.MANAGER)
    steve = await make_member(team.id, "Steve Smith")
    a, b = await detect(api, team, "Ghost Alpha"), await detect(api, team, "Ghost Bravo")
    ignored, resolved = await detect(api, team, "Ghost Charlie"), await detect(api, team, "Stephen Smith")
    await api.data(IGNORE, {"id": ignored}, token=manager.token)
    await api.data(MAP, {"id": resolved, "userId": str(steve.id)}, token=manager.token)
    other = await make_team()
    foreign = await detect(api, other, "Ghost Delta")
    before = len(await audit_events(team))

    result = (
        await api.data(
            IGNORE_MANY, {"ids": [a, b, a, ignored, resolved, "99999999", "nope", foreign]}, token=manager.token
        )
    )["ignoreMissingReps"]

    assert [r["id"] for r in result["changed"]] == [a, b]
    assert {r["status"] for r in result["changed"]} == {"IGNORED"}
    assert _skips(result) == {
        ignored: "ALREADY_IGNORED",
        resolved: "RESOLVED",
        "99999999": "NOT_FOUND",
        "nope": "NOT_FOUND",
        foreign: "NOT_FOUND",
    }
    assert all(s["message"] for s in result["skipped"])
    events = (await audit_events(team))[before:]
    assert sorted((e.action, e.details["missing_rep_id"]) for e in events) == sorted(
        [("MISSING_REP_IGNORED", int(a)), ("MISSING_REP_IGNORED", int(b))]
    )
    assert (await _statuses(other))[foreign] == "MISSING"


async def test_restore_many_restores_the_ignored_ones_and_skips_the_rest(api, team):
    """IGNORED reps go back to MISSING; a rep already on the list is NOT_IGNORED."""
    admin = team.token(Role.ADMIN)
    a, b, listed = [await detect(api, team, name) for name in ("Ghost Alpha", "Ghost Bravo", "Ghost Charlie")]
    await api.data(IGNORE_MANY, {"ids": [a, b]}, token=admin)
    result = (await api.data(RESTORE_MANY, {"ids": [a, listed, b]}, token=admin))["restoreMissingReps"]
    assert [r["id"] for r in result["changed"]] == [a, b]
    assert _skips(result) == {listed: "NOT_IGNORED"}
    assert await _statuses(team) == {a: "MISSING", b: "MISSING", listed: "MISSING"}
    assert [e.action for e in await audit_events(team)].count("MISSING_REP_RESTORED") == 2


@pytest.mark.parametrize("mutation", [IGNORE_MANY, RESTORE_MANY])
async def test_bulk_ignore_and_restore_refuse_an_empty_list_and_more_than_1000_ids(api, team, mutation):
    """No ids, or more than 1,000 distinct ones: BAD_USER_INPUT, and nothing changed."""
    rep = await detect(api, team, "Ghost Alpha")
    token = team.token(Role.MANAGER)
    assert await api.error_code(mutation, {"ids": []}, token=token) == "BAD_USER_INPUT"
    too_many = [rep, *(str(n) for n in range(10**6, 10**6 + 1000))]
    assert await api.error_code(mutation, {"ids": too_many}, token=token) == "BAD_USER_INPUT"
    assert await _statuses(team) == {rep: "MISSING"}
    assert await audit_events(team) == []


@pytest.mark.parametrize("role", [Role.TEAM_LEADER, Role.REP])
async def test_roles_without_manage_missing_reps_may_not_act_in_bulk(api, team, role):
    rep = await detect(api, team, "Ghost Alpha")
    token = team.token(role)
    for query, variables in [
        (IGNORE_MANY, {"ids": [rep]}),
        (RESTORE_MANY, {"ids": [rep]}),
        (PREVIEW, {"min": 0.9}),
        (ACCEPT, {"min": 0.9, "c": "CONFIRM"}),
    ]:
        assert await api.error_code(query, variables, token=token) == "FORBIDDEN"
    assert await _statuses(team) == {rep: "MISSING"}


# --- accepting suggestions -----------------------------------------------------------------


@pytest.fixture
async def suggestions_world(api, team):
    """Reps with one clear best user, with two users tied at the top, with nobody alike."""
    steve = await make_member(team.id, "Steve Smith", email="steve@corp.example")
    await make_member(team.id, "Bill Gates", email="bill.one@corp.example")
    await make_member(team.id, "Bill Gates", email="bill.two@corp.example")
    clear = await detect(api, team, "Stephen Smith", 2)
    tied = await detect(api, team, "William Gates")
    nobody = await detect(api, team, "Zebulon Quackenbush")
    return steve, clear, tied, nobody


async def test_the_preview_lists_exactly_what_accepting_maps(api, team, suggestions_world):
    """Same data, same minScore: the accepted maps are the previewed ones, each rep mapped to
    its top user as Map to Rep does (alias, leads moved, one audit event)."""
    steve, clear, tied, nobody = suggestions_world
    token = team.token(Role.MANAGER)
    preview = (await api.data(PREVIEW, {"min": 0.85}, token=token))["suggestedMatchesPreview"]
    assert [(p["missingRep"]["id"], p["user"]["id"]) for p in preview] == [(clear, str(steve.id))]
    assert 0.85 <= preview[0]["score"] < 1

    result = (await api.data(ACCEPT, {"min": 0.85, "c": "CONFIRM"}, token=token))["acceptSuggestedMatches"]
    assert [(r["id"], r["resolvedUser"]["id"]) for r in result["changed"]] == [
        (p["missingRep"]["id"], p["user"]["id"]) for p in preview
    ]
    assert result["changed"][0]["resolution"] == "MAPPED_TO_USER"
    assert _skips(result) == {tied: "AMBIGUOUS", nobody: "NO_SUGGESTION"}
    assert await UserAlias.filter(team_id=team.id).values_list("user_id", "name") == [(steve.id, "Stephen Smith")]
    assert set((await leads_of(team, clear)).values()) == {steve.id}
    assert [e.action for e in await audit_events(team)] == ["MISSING_REP_MAPPED_TO_USER"]
    assert await api.data(PREVIEW, {"min": 0.85}, token=token) == {"suggestedMatchesPreview": []}


async def test_a_top_suggestion_below_min_score_is_not_accepted(api, team, suggestions_world):
    steve, clear, tied, nobody = suggestions_world
    token = team.token(Role.ADMIN)
    assert (await api.data(PREVIEW, {"min": 1.0}, token=token))["suggestedMatchesPreview"] == []
    result = (await api.data(ACCEPT, {"min": 1.0, "c": "CONFIRM"}, token=token))["acceptSuggestedMatches"]
    assert result["changed"] == []
    assert _skips(result)[clear] == "BELOW_MIN_SCORE"
    assert (await _statuses(team))[clear] == "MISSING"


async def test_accepting_named_reps_skips_those_that_are_not_missing(api, team, suggestions_world):
    """With ids, only those reps are considered; an ignored one is IGNORED, an unknown NOT_FOUND."""
    steve, clear, tied, nobody = suggestions_world
    token = team.token(Role.MANAGER)
    await api.data(IGNORE, {"id": nobody}, token=token)
    preview = (await api.data(PREVIEW, {"min": 0.9, "ids": [clear, nobody]}, token=token))["suggestedMatchesPreview"]
    assert [p["missingRep"]["id"] for p in preview] == [clear]
    result = (
        await api.data(ACCEPT, {"min": 0.9, "ids": [nobody, clear, "424242"], "c": "CONFIRM"}, token=token)
    )["acceptSuggestedMatches"]
    assert [r["id"] for r in result["changed"]] == [clear]
    assert _skips(result) == {nobody: "IGNORED", "424242": "NOT_FOUND"}
    assert (await _statuses(team))[tied] == "MISSING"


@pytest.mark.parametrize("min_score", [0, -0.5, 1.01, 2])
async def test_min_score_must_be_above_0_and_at_most_1(api, team, suggestions_world, min_score):
    token = team.token(Role.MANAGER)
    assert await api.error_code(PREVIEW, {"min": min_score}, token=token) == "BAD_USER_INPUT"
    assert await api.error_code(ACCEPT, {"min": min_score, "c": "CONFIRM"}, token=token) == "BAD_USER_INPUT"
    assert set((await _statuses(team)).values()) == {"MISSING"}


async def test_accepting_needs_confirm(api, team, suggestions_world):
    token = team.token(Role.MANAGER)
    for word in ("confirm", "", "CONFIRM "):
        assert await api.error_code(ACCEPT, {"min": 0.9, "c": word}, token=token) == "CONFIRMATION_REQUIRED"
    assert set((await _statuses(team)).values()) == {"MISSING"}
    assert await audit_events(team) == []


async def test_two_bulk_accepts_at_once_map_each_rep_once(api, database_url, team):
    """Both calls propose the same maps before either writes (the first rep's row is held until
    both wait on it): every rep is mapped once, by one of them, with one alias and one audit
    event; the other call reports it RESOLVED."""
    names = [("Steve Smith", "Stephen Smith"), ("Bill Gates", "William Gates"), ("Bob Jones", "Robert Jones")]
    users = {rep: await make_member(team.id, user) for user, rep in names}
    reps = {rep: await detect(api, team, rep, 2) for _, rep in names}
    first = min(reps.items(), key=lambda item: item[0].lower())[1]  # the list is in name order
    calls = [(ACCEPT, {"min": 0.85, "c": "CONFIRM"}, team.token(role)) for role in (Role.MANAGER, Role.ADMIN)]
    bodies = await race(api, database_url, first, calls)
    results = [body["data"]["acceptSuggestedMatches"] for body in bodies]

    changed = [r["id"] for result in results for r in result["changed"]]
    assert sorted(changed) == sorted(reps.values())
    for result, other in (results, results[::-1]):
        mine = {r["id"] for r in result["changed"]}
        assert _skips(other) == {rep_id: "RESOLVED" for rep_id in mine}
    mapped = await AuditEvent.filter(team_id=team.id, action="MISSING_REP_MAPPED_TO_USER").values_list(
        "details", flat=True
    )
    assert sorted(d["missing_rep_id"] for d in mapped) == sorted(int(r) for r in reps.values())
    assert sorted(await UserAlias.filter(team_id=team.id).values_list("name", flat=True)) == sorted(reps)
    for rep, rep_id in reps.items():
        assert set((await leads_of(team, rep_id)).values()) == {users[rep].id}
