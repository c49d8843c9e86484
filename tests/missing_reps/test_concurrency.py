"""Two managers acting on the same rep at once: one success, one CONFLICT, never two users or
two aliases. Each race is forced: the rep's row is held locked until both requests are
waiting on it in PostgreSQL, then released."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

import asyncpg
import pytest

from app import db
from app.teams.models import Role, User, UserAlias
from tests.missing_reps.screen import ADD, IGNORE, MAP, ONE, audit_events, detect, leads_of
from tests.support import make_member, make_team


@asynccontextmanager
async def rep_row_held(database_url: str, rep_id: str):
    """Holds the rep's row locked (as a slow concurrent action would) until the block ends."""
    conn = await asyncpg.connect(**db.credentials_from_url(database_url))
    tx = conn.transaction()
    await tx.start()
    try:
        await conn.execute("SELECT 1 FROM missing_rep WHERE id = $1 FOR UPDATE", int(rep_id))
        yield conn
    finally:
        await tx.rollback()
        await conn.close()


async def _wait_for_lock_waiters(conn, count: int, timeout: float = 10) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        waiting = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        if waiting >= count:
            return
        assert loop.time() < deadline, f"only {waiting} of {count} requests reached the lock"
        await asyncio.sleep(0.02)


async def race(api, database_url, rep_id, calls):
    """Runs the calls at once against the held rep row; their response bodies, in order."""
    async with rep_row_held(database_url, rep_id) as holder:
        tasks = [asyncio.create_task(api(query, variables, token=token)) for query, variables, token in calls]
        await _wait_for_lock_waiters(holder, len(calls))
    return await asyncio.gather(*tasks)


def _outcomes(bodies):
    return sorted("ok" if not body.get("errors") else body["errors"][0]["extensions"]["code"] for body in bodies)


@pytest.fixture
async def team(server):
    return await make_team()


@pytest.fixture
def managers(team):
    """Two people allowed to act: the Manager and the Admin."""
    return team.token(Role.MANAGER), team.token(Role.ADMIN)


async def test_two_maps_to_the_same_user_make_one_alias(api, database_url, team, managers):
    """Both map the rep to the same user: one succeeds, one gets CONFLICT, one alias exists."""
    steve = await make_member(team.id, "Steve Smith")
    rep_id = await detect(api, team, "Stephen Smith", 3)
    bodies = await race(
        api, database_url, rep_id, [(MAP, {"id": rep_id, "userId": str(steve.id)}, token) for token in managers]
    )
    assert _outcomes(bodies) == ["CONFLICT", "ok"]
    assert await UserAlias.filter(team_id=team.id).values_list("name", flat=True) == ["Stephen Smith"]
    assert [e.action for e in await audit_events(team)] == ["MISSING_REP_MAPPED_TO_USER"]
    assert set((await leads_of(team, rep_id)).values()) == {steve.id}


async def test_two_maps_to_different_users_resolve_once(api, database_url, team, managers):
    """One maps to Steve, the other to Stephanie: exactly one wins, with one alias, and the
    leads all go to the winner."""
    steve = await make_member(team.id, "Steve Smith")
    steph = await make_member(team.id, "Stephanie Smith")
    rep_id = await detect(api, team, "Stephen Smith", 3)
    bodies = await race(
        api,
        database_url,
        rep_id,
        [(MAP, {"id": rep_id, "userId": str(user.id)}, token) for user, token in zip((steve, steph), managers)],
    )
    assert _outcomes(bodies) == ["CONFLICT", "ok"]
    winner = next(b for b in bodies if not b.get("errors"))["data"]["mapMissingRepToUser"]["resolvedUser"]
    aliases = await UserAlias.filter(team_id=team.id).values_list("user_id", flat=True)
    assert aliases == [int(winner["id"])]
    assert set((await leads_of(team, rep_id)).values()) == {int(winner["id"])}


@pytest.mark.parametrize("emails", [("new@corp.example", "new@corp.example"), ("one@corp.example", "two@corp.example")])
async def test_two_adds_create_one_user(api, database_url, team, managers, emails):
    """Both add the rep as a user (same email or not): one user is created, the other call
    gets CONFLICT."""
    rep_id = await detect(api, team, "Nina New", 2)
    users_before = await User.filter(team_id=team.id).count()
    bodies = await race(
        api,
        database_url,
        rep_id,
        [(ADD, {"id": rep_id, "input": {"email": email}}, token) for email, token in zip(emails, managers)],
    )
    assert _outcomes(bodies) == ["CONFLICT", "ok"]
    assert await User.filter(team_id=team.id).count() == users_before + 1
    assert await User.filter(team_id=team.id, name="Nina New").count() == 1
    assert len(await audit_events(team)) == 1


async def test_add_against_map_resolves_once(api, database_url, team, managers):
    """One adds the rep as a user while the other maps it: one wins; never both a user and an alias."""
    steve = await make_member(team.id, "Steve Smith")
    rep_id = await detect(api, team, "Stephen Smith", 2)
    bodies = await race(
        api,
        database_url,
        rep_id,
        [
            (ADD, {"id": rep_id, "input": {"email": "stephen@corp.example"}}, managers[0]),
            (MAP, {"id": rep_id, "userId": str(steve.id)}, managers[1]),
        ],
    )
    assert _outcomes(bodies) == ["CONFLICT", "ok"]
    created = await User.filter(team_id=team.id, email="stephen@corp.example").count()
    aliases = await UserAlias.filter(team_id=team.id).count()
    assert created + aliases == 1
    rep = (await api.data(ONE, {"id": rep_id}, token=managers[0]))["missingRep"]
    assert set((await leads_of(team, rep_id)).values()) == {int(rep["resolvedUser"]["id"])}


async def test_two_ignores_give_one_success(api, database_url, team, managers):
    """Both ignore the rep: one succeeds, the other gets CONFLICT; one audit event."""
    rep_id = await detect(api, team, "Ian Ignored")
    bodies = await race(api, database_url, rep_id, [(IGNORE, {"id": rep_id}, token) for token in managers])
    assert _outcomes(bodies) == ["CONFLICT", "ok"]
    assert [e.action for e in await audit_events(team)] == ["MISSING_REP_IGNORED"]


async def test_ignore_against_map_gives_one_success(api, database_url, team, managers):
    """One ignores while the other maps: whichever runs first wins, the other gets CONFLICT."""
    steve = await make_member(team.id, "Steve Smith")
    rep_id = await detect(api, team, "Stephen Smith")
    bodies = await race(
        api,
        database_url,
        rep_id,
        [(IGNORE, {"id": rep_id}, managers[0]), (MAP, {"id": rep_id, "userId": str(steve.id)}, managers[1])],
    )
    assert _outcomes(bodies) == ["CONFLICT", "ok"]
    assert len(await audit_events(team)) == 1
