"""massEndProgress: the job's snapshot at once, one event per committed batch, then it completes."""

from __future__ import annotations

import pytest

from app.mass_end.service import progress_channel
from app.teams.models import Role
from tests.mass_end.support import PROGRESS, end_all, ingest_many, team_lock_held, wait_until_finished
from tests.support import Subscription, make_team, wait_for_subscribers

BATCH_SIZE = 3  # the test server's MASS_END_BATCH_SIZE (tests/conftest.py)


@pytest.fixture
async def team(server):
    return await make_team()


async def _events_until_complete(sub: Subscription) -> list[dict]:
    events = []
    while True:
        message = await sub.next_message(timeout=10)
        if message["type"] == "complete":
            return events
        assert message["type"] == "next" and "errors" not in message["payload"], message
        events.append(message["payload"]["data"]["massEndProgress"])


@pytest.mark.parametrize("role", list(Role))
async def test_snapshot_first_then_each_batch_in_order_then_completed(api, team, database_url, role):
    """Any member of the team may watch: first the job as it is, then processed/total after each
    committed batch, then the final COMPLETED snapshot, and the stream completes."""
    await ingest_many(api, team, 10)
    async with team_lock_held(database_url, team.id):  # the job waits until we are watching
        job = await end_all(api, team.token(Role.ADMIN))
        sub = await Subscription.connect(api, team.token(role))
        await sub.subscribe(PROGRESS, {"id": job["id"]})
        await wait_for_subscribers(progress_channel(team.id, int(job["id"])))
    async with sub:
        events = await _events_until_complete(sub)

    assert (events[0]["state"], events[0]["processed"], events[0]["total"]) == ("QUEUED", 0, 10)
    assert events[0]["estimatedSecondsLeft"] is None
    batches = events[1:-1]
    assert [(e["state"], e["processed"], e["total"]) for e in batches] == [
        ("RUNNING", min(n, 10), 10) for n in range(BATCH_SIZE, 10 + BATCH_SIZE, BATCH_SIZE)  # 3, 6, 9, 10
    ]
    assert all(e["estimatedSecondsLeft"] is not None and e["startedAt"] for e in batches)
    final = events[-1]
    assert (final["state"], final["processed"], final["total"], final["estimatedSecondsLeft"]) == ("COMPLETED", 10, 10, 0)
    assert final["finishedAt"]


async def test_watching_a_finished_job_gives_its_final_state_and_completes(api, team):
    await ingest_many(api, team, 4)
    job = await end_all(api, team.token(Role.ADMIN))
    await wait_until_finished(api, team.token(Role.ADMIN), job["id"])
    async with await Subscription.connect(api, team.token(Role.REP)) as sub:
        await sub.subscribe(PROGRESS, {"id": job["id"]})
        events = await _events_until_complete(sub)
    assert [(e["state"], e["processed"]) for e in events] == [("COMPLETED", 4)]


async def test_a_failed_job_ends_the_stream_with_its_reason(api, team, database_url):
    from app.mass_end.models import MassEndJob
    from app.settings import Settings

    async with team_lock_held(database_url, team.id):
        job = await end_all(api, team.token(Role.ADMIN))
        await MassEndJob.filter(id=int(job["id"])).update(runs=Settings.model_fields["mass_end_max_runs"].default)
        sub = await Subscription.connect(api, team.token(Role.MANAGER))
        await sub.subscribe(PROGRESS, {"id": job["id"]})
        await wait_for_subscribers(progress_channel(team.id, int(job["id"])))
    async with sub:
        events = await _events_until_complete(sub)
    assert [e["state"] for e in events] == ["QUEUED", "FAILED"]
    assert events[-1]["failureReason"]


async def test_another_teams_job_cannot_be_watched(api, team):
    other = await make_team()
    job = await end_all(api, other.token(Role.ADMIN))
    async with await Subscription.connect(api, team.token(Role.ADMIN)) as sub:
        await sub.subscribe(PROGRESS, {"id": job["id"]})
        assert await sub.next_error_code() == "NOT_FOUND"


async def test_integration_tokens_may_not_watch(api, team):
    job = await end_all(api, team.token(Role.ADMIN))
    async with await Subscription.connect(api, team.integration_token) as sub:
        await sub.subscribe(PROGRESS, {"id": job["id"]})
        assert await sub.next_error_code() == "FORBIDDEN"
