"""Account Status shows the team's open mass end, and streams its start and its end."""

from app.account_status.service import CHANGED_TOPIC
from app.broadcast import team_channel
from app.teams.models import Role
from tests.mass_end.support import (
    SCOPED_JOB_FIELDS,
    end_all,
    end_scoped,
    ingest_many,
    scoped_job,
    team_lock_held,
    wait_until_finished,
)
from tests.support import Subscription, make_team, wait_for_subscribers

STATUS = "{ accountStatus { activeConversationCount activeMassEndJob { id state } } }"


async def test_status_shows_the_open_job_until_it_finishes(api, server, database_url):
    team = await make_team()
    await ingest_many(api, team, 5)
    async with team_lock_held(database_url, team.id):  # keeps the job from running
        job = await end_all(api, team.token(Role.ADMIN))
        status = (await api.data(STATUS, token=team.token(Role.REP)))["accountStatus"]
        assert status["activeMassEndJob"] == {"id": job["id"], "state": "QUEUED"}
    await wait_until_finished(api, team.token(Role.ADMIN), job["id"])
    status = (await api.data(STATUS, token=team.token(Role.REP)))["accountStatus"]
    assert status == {"activeConversationCount": 0, "activeMassEndJob": None}


async def test_the_open_job_read_with_the_status_is_the_job_read_on_its_own(api, server, database_url):
    """The status screen reads its open mass end in the status's own statement (with the counts
    or without them); the job it shows is the one massEndJob shows, field for field, and another
    team's open job is never it."""
    team, other = await make_team(), await make_team()
    await ingest_many(api, team, 3)
    await ingest_many(api, other, 2)
    admin = team.token(Role.ADMIN)
    async with team_lock_held(database_url, other.id):  # the other team's job stays QUEUED throughout
        other_job = await end_all(api, other.token(Role.ADMIN))
        async with team_lock_held(database_url, team.id):
            job = await end_scoped(api, admin, {"leadStatuses": ["NEW_LEAD"]})
            alone = await scoped_job(api, admin, job["id"])
            assert alone["filter"] == {"leadStatuses": ["NEW_LEAD"]} and alone["state"] == "QUEUED"
            for counts in ("", "activeConversationCount activeMemberCount"):
                status = (await api.data(
                    f"{{ accountStatus {{ state {counts} activeMassEndJob {{ {SCOPED_JOB_FIELDS} }} }} }}", token=admin
                ))["accountStatus"]
                assert status["activeMassEndJob"] == alone, counts
                if counts:
                    assert (status["activeConversationCount"], status["activeMemberCount"]) == (3, 1)
        await wait_until_finished(api, admin, job["id"])
        status = (await api.data("{ accountStatus { state activeMassEndJob { id } } }", token=admin))["accountStatus"]
        assert status == {"state": "ACTIVE", "activeMassEndJob": None}
        shown = (await api.data("{ accountStatus { activeMassEndJob { id } } }", token=other.token(Role.REP)))
        assert shown["accountStatus"]["activeMassEndJob"] == {"id": other_job["id"]}


async def test_members_see_a_mass_end_start_and_end_on_the_status_stream(api, server, database_url):
    team = await make_team()
    await ingest_many(api, team, 4)
    async with await Subscription.connect(api, team.token(Role.REP)) as sub:
        await sub.subscribe("subscription { accountStatusChanged { state activeMassEndJob { id state } } }")
        await wait_for_subscribers(team_channel(team.id, CHANGED_TOPIC))
        async with team_lock_held(database_url, team.id):  # the job waits until we have seen it start
            job = await end_all(api, team.token(Role.TEAM_LEADER))
            started = (await sub.next_payload())["data"]["accountStatusChanged"]
            assert started == {"state": "ACTIVE", "activeMassEndJob": {"id": job["id"], "state": "QUEUED"}}
        ended = (await sub.next_payload(timeout=30))["data"]["accountStatusChanged"]
        assert ended == {"state": "ACTIVE", "activeMassEndJob": None}
