"""missingRepDetected: each new missing rep is published once, to its team's Managers and Admins."""

import asyncio

import pytest

from app.broadcast import team_channel
from app.missing_reps.models import MissingRep, MissingRepStatus
from app.missing_reps.service import DETECTED_TOPIC
from app.teams.models import Role
from tests.support import start_server_process
from tests.support import Api, Subscription, ingest, lead_input, make_team, wait_for_subscribers

DETECTED = "subscription { missingRepDetected { id name email status leadsOriginallyAssigned dateFound } }"


async def _watch(api, token, team_id, already=0):
    sub = await Subscription.connect(api, token)
    await sub.subscribe(DETECTED)
    await wait_for_subscribers(team_channel(team_id, DETECTED_TOPIC), already + 1)
    return sub


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER])
async def test_each_new_rep_is_published_exactly_once(api, server, role):
    team = await make_team()
    async with await _watch(api, team.token(role), team.id) as sub:
        await ingest(api, team, [lead_input("L1", "Ghost One", "ghost1@crm.example"), lead_input("L2", "Ghost Two")])
        await ingest(api, team, [lead_input("L3", "ghost one"), lead_input("L4", "Ghost Two")])
        first = (await sub.next_payload())["data"]["missingRepDetected"]
        second = (await sub.next_payload())["data"]["missingRepDetected"]
        assert {first["name"], second["name"]} == {"Ghost One", "Ghost Two"}
        assert first["status"] == "MISSING"
        by_name = {first["name"]: first, second["name"]: second}
        assert by_name["Ghost One"]["email"] == "ghost1@crm.example"
        await sub.assert_silent(0.5)


async def test_an_ignored_rep_keeps_counting_but_is_not_published_again(api, server):
    team = await make_team()
    await ingest(api, team, [lead_input("L1", "Ignored Ghost")])
    await MissingRep.filter(team_id=team.id).update(status=MissingRepStatus.IGNORED)
    async with await _watch(api, team.token(Role.MANAGER), team.id) as sub:
        await ingest(api, team, [lead_input("L2", "Ignored Ghost")])
        await sub.assert_silent(0.5)
    rep = await MissingRep.get(team_id=team.id)
    assert rep.leads_originally_assigned == 2 and rep.status == MissingRepStatus.IGNORED


@pytest.mark.parametrize("role", [Role.REP, Role.TEAM_LEADER])
async def test_reps_and_team_leaders_may_not_watch(api, server, role):
    team = await make_team()
    async with await Subscription.connect(api, team.token(role)) as sub:
        await sub.subscribe(DETECTED)
        assert await sub.next_error_code() == "FORBIDDEN"


async def test_integration_tokens_may_not_watch(api, server):
    team = await make_team()
    async with await Subscription.connect(api, team.integration_token) as sub:
        await sub.subscribe(DETECTED)
        assert await sub.next_error_code() == "FORBIDDEN"


async def test_another_teams_manager_hears_nothing(api, server):
    team, other = await make_team(), await make_team()
    async with await _watch(api, other.token(Role.MANAGER), other.id) as outsider, await _watch(
        api, team.token(Role.MANAGER), team.id
    ) as insider:
        await ingest(api, team, [lead_input("L1", "Private Ghost")])
        assert (await insider.next_payload())["data"]["missingRepDetected"]["name"] == "Private Ghost"
        await outsider.assert_silent(0.5)


# --- across processes, through Redis -------------------------------------------------------


@pytest.fixture
def redis_pair(redis_url, database_url, server):
    procs = []
    try:
        bases = []
        for _ in range(2):
            proc, base = start_server_process(database_url, redis_url)
            procs.append(proc)
            bases.append(base)
        yield bases
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(10)


async def test_detection_on_one_process_reaches_a_manager_on_another_through_redis(redis_pair):
    team = await make_team()
    ingest_base, watch_base = redis_pair
    async with Api(ingest_base) as ingest_api, Api(watch_base) as watch_api:
        async with await Subscription.connect(watch_api, team.token(Role.MANAGER)) as sub:
            await sub.subscribe(DETECTED)
            # The other process's subscription has no observable "ready": warm up until heard.
            for attempt in range(50):
                await ingest(ingest_api, team, [lead_input(f"W{attempt}", f"Warmup Ghost {attempt}")])
                try:
                    heard = await sub.next_payload(timeout=0.3)
                    break
                except asyncio.TimeoutError:
                    continue
            else:
                pytest.fail("no event crossed processes through Redis")
            assert heard["data"]["missingRepDetected"]["name"].startswith("Warmup Ghost")
            await ingest(ingest_api, team, [lead_input("R1", "Redis Ghost"), lead_input("R2", "redis ghost")])
            names = []
            while True:
                try:
                    names.append((await sub.next_payload(timeout=1))["data"]["missingRepDetected"]["name"])
                except asyncio.TimeoutError:
                    break
            assert names[-1] == "Redis Ghost"
            assert names.count("Redis Ghost") == 1
