"""endAllConversations: one durable job per team ends every active conversation, in batches."""

from __future__ import annotations

import asyncio

import pytest

from app import db
from app.audit.models import AuditEvent
from app.leads.models import Conversation, ConversationState, EndReason, Lead, LeadStatus
from app.mass_end import service as mass_end
from app.mass_end.models import MassEndJob, MassEndState
from app.settings import Settings
from app.teams.models import Role
from tests.mass_end.support import (
    END_ALL,
    JOB,
    end_all,
    ingest_many,
    queued_jobs_by_task,
    retries_logged,
    team_lock_held,
    wait_until_finished,
)
from tests.support import make_team


@pytest.fixture
async def team(server):
    return await make_team()


@pytest.mark.parametrize("role", [Role.ADMIN, Role.TEAM_LEADER])
async def test_admins_and_team_leaders_end_every_active_conversation(api, team, role):
    """The job ends every ACTIVE conversation: ENDED, reason MASS_END, assistant blocked for good."""
    await ingest_many(api, team, 7)
    job = await end_all(api, team.token(role))
    assert job["state"] in ("QUEUED", "RUNNING") and job["total"] == 7
    assert job["requestedBy"] == {"id": str(team.member(role).id)}

    done = await wait_until_finished(api, team.token(role), job["id"])
    assert (done["state"], done["processed"], done["total"]) == ("COMPLETED", 7, 7)
    assert done["startedAt"] and done["finishedAt"] and done["estimatedSecondsLeft"] == 0
    conversations = await Conversation.filter(team_id=team.id)
    assert len(conversations) == 7
    for c in conversations:
        assert (c.state, c.end_reason, c.assistant_may_reply) == (ConversationState.ENDED, EndReason.MASS_END, False)
        assert c.ended_at is not None


@pytest.mark.parametrize("confirmation", ["confirm", "Confirm", " CONFIRM", "CONFIRM ", "", "CONFIRMED", "yes"])
async def test_anything_but_exactly_CONFIRM_changes_nothing(api, team, confirmation):
    await ingest_many(api, team, 2)
    code = await api.error_code(END_ALL, {"c": confirmation}, token=team.token(Role.ADMIN))
    assert code == "CONFIRMATION_REQUIRED"
    assert await MassEndJob.filter(team_id=team.id).count() == 0
    assert await AuditEvent.filter(team_id=team.id).count() == 0
    assert await queued_jobs_by_task() == {}
    assert await Conversation.filter(team_id=team.id, state=ConversationState.ACTIVE).count() == 2


@pytest.mark.parametrize("role", [Role.MANAGER, Role.REP])
async def test_managers_and_reps_may_not_end_conversations(api, team, role):
    await ingest_many(api, team, 1)
    assert await api.error_code(END_ALL, {"c": "CONFIRM"}, token=team.token(role)) == "FORBIDDEN"
    assert await MassEndJob.filter(team_id=team.id).count() == 0
    assert await Conversation.filter(team_id=team.id, state=ConversationState.ACTIVE).count() == 1


async def test_integration_tokens_may_not_end_conversations(api, team):
    assert await api.error_code(END_ALL, {"c": "CONFIRM"}, token=team.integration_token) == "FORBIDDEN"
    assert await MassEndJob.filter(team_id=team.id).count() == 0


async def test_without_a_token_it_is_unauthenticated(api, team):
    assert await api.error_code(END_ALL, {"c": "CONFIRM"}) == "UNAUTHENTICATED"


async def test_the_request_is_audited_with_its_job(api, team):
    """Starting a mass end writes one AuditEvent (actor, job, total, filter: none) in the same transaction."""
    await ingest_many(api, team, 3)
    job = await end_all(api, team.token(Role.TEAM_LEADER))
    await wait_until_finished(api, team.token(Role.TEAM_LEADER), job["id"])
    events = await AuditEvent.filter(team_id=team.id)
    assert [(e.action, e.actor_id, e.details) for e in events] == [
        ("MASS_END", team.member(Role.TEAM_LEADER).id, {"job_id": int(job["id"]), "total": 3, "filter": None})
    ]


async def test_new_leads_become_unqualified_and_other_statuses_are_kept(api, team):
    """NEW_LEAD -> UNQUALIFIED; QUALIFIED, CONVERTED and UNQUALIFIED leads keep their status;
    another team's conversations and leads are untouched."""
    other = await make_team()
    lead_ids = [int(i) for i in await ingest_many(api, team, 8)]
    other_ids = [int(i) for i in await ingest_many(api, other, 2)]
    kept = {lead_ids[0]: LeadStatus.QUALIFIED, lead_ids[1]: LeadStatus.CONVERTED, lead_ids[2]: LeadStatus.UNQUALIFIED}
    for lead_id, status in kept.items():
        await Lead.filter(id=lead_id).update(status=status)

    job = await end_all(api, team.token(Role.ADMIN))
    await wait_until_finished(api, team.token(Role.ADMIN), job["id"])

    statuses = dict(await Lead.filter(team_id=team.id).values_list("id", "status"))
    assert statuses == {i: kept.get(i, LeadStatus.UNQUALIFIED) for i in lead_ids}
    assert set(await Lead.filter(id__in=other_ids).values_list("status", flat=True)) == {LeadStatus.NEW_LEAD}
    assert set(await Conversation.filter(team_id=other.id).values_list("state", flat=True)) == {ConversationState.ACTIVE}


async def test_concurrent_requests_start_one_job_per_team(api, team, database_url):
    """While a job is queued or running, every request returns it and starts nothing (the
    database's partial unique index decides, not a Python check); afterwards a new one starts."""
    await ingest_many(api, team, 4)
    tokens = [team.token(Role.ADMIN), team.token(Role.TEAM_LEADER)] * 5
    async with team_lock_held(database_url, team.id):  # keeps the first job open meanwhile
        jobs = await asyncio.gather(*(end_all(api, token) for token in tokens))
        assert len({j["id"] for j in jobs}) == 1
        assert await MassEndJob.filter(team_id=team.id).count() == 1
        assert await AuditEvent.filter(team_id=team.id, action="MASS_END").count() == 1
        assert await queued_jobs_by_task() == {"mass_end": 1}
    first = await wait_until_finished(api, team.token(Role.ADMIN), jobs[0]["id"])
    assert first["processed"] == 4

    second = await end_all(api, team.token(Role.ADMIN))
    assert second["id"] != first["id"]
    assert (await wait_until_finished(api, team.token(Role.ADMIN), second["id"]))["processed"] == 0


async def test_conversations_started_after_the_request_are_ended_and_counted(api, team, database_url):
    """`total` starts as the active conversations at request time; conversations started while
    the job waits or runs are ended when it reaches them, and the final total is what was ended."""
    await ingest_many(api, team, 3)
    async with team_lock_held(database_url, team.id):
        job = await end_all(api, team.token(Role.ADMIN))
        assert job["total"] == 3
        await ingest_many(api, team, 4, prefix="late-")
    done = await wait_until_finished(api, team.token(Role.ADMIN), job["id"])
    assert (done["state"], done["processed"], done["total"]) == ("COMPLETED", 7, 7)
    assert await Conversation.filter(team_id=team.id, state=ConversationState.ACTIVE).count() == 0


async def test_a_team_without_active_conversations_completes_with_zero(api, team):
    job = await end_all(api, team.token(Role.ADMIN))
    done = await wait_until_finished(api, team.token(Role.ADMIN), job["id"])
    assert (done["state"], done["processed"], done["total"]) == ("COMPLETED", 0, 0)


async def test_it_queues_no_per_conversation_work(api, team):
    """The only background work a mass end queues is its own single job and one email per Admin
    when it finishes: nothing per conversation (its webhooks: tests/webhooks)."""
    await ingest_many(api, team, 20)
    job = await end_all(api, team.token(Role.ADMIN))
    await wait_until_finished(api, team.token(Role.ADMIN), job["id"])
    assert await queued_jobs_by_task() == {"mass_end": 1, "send_email": 1}


async def test_a_job_whose_team_lock_is_held_elsewhere_waits_and_then_ends_each_once(api, team, database_url):
    """A re-claimed job whose first worker still runs finds the team's advisory lock held: it ends
    nothing, counts no run, and retries later; then it ends every conversation exactly once."""
    await ingest_many(api, team, 5)
    async with team_lock_held(database_url, team.id):
        job = await end_all(api, team.token(Role.ADMIN))
        while await retries_logged(int(job["id"])) < 2:
            await asyncio.sleep(0.05)
        row = await MassEndJob.get(id=int(job["id"]))
        assert (row.state, row.runs, row.processed) == (MassEndState.QUEUED, 0, 0)
        assert await Conversation.filter(team_id=team.id, state=ConversationState.ACTIVE).count() == 5
    done = await wait_until_finished(api, team.token(Role.ADMIN), job["id"])
    assert (done["state"], done["processed"]) == ("COMPLETED", 5)
    assert (await MassEndJob.get(id=int(job["id"]))).runs == 1


async def test_a_job_started_too_many_times_fails_and_ends_nothing_more(api, team, database_url):
    """Runs are counted in the job row (a queue re-claim is not an attempt); past the bound the
    job is FAILED with a reason, and the stream of a watcher ends."""
    max_runs = Settings.model_fields["mass_end_max_runs"].default
    await ingest_many(api, team, 2)
    async with team_lock_held(database_url, team.id):
        job = await end_all(api, team.token(Role.ADMIN))
        await MassEndJob.filter(id=int(job["id"])).update(runs=max_runs)  # as after max_runs crashes
    done = await wait_until_finished(api, team.token(Role.ADMIN), job["id"])
    assert (done["state"], done["processed"]) == ("FAILED", 0)
    assert f"{max_runs} times" in done["failureReason"]
    assert await Conversation.filter(team_id=team.id, state=ConversationState.ACTIVE).count() == 2


@pytest.mark.parametrize("role", list(Role))
async def test_every_member_may_read_a_job(api, team, role):
    job = await end_all(api, team.token(Role.ADMIN))
    read = (await api.data(JOB, {"id": job["id"]}, token=team.token(role)))["massEndJob"]
    assert read["id"] == job["id"]


async def test_another_teams_job_and_a_bad_id_are_not_found(api, team):
    other = await make_team()
    job = await end_all(api, other.token(Role.ADMIN))
    for job_id in (job["id"], "999999999", "abc"):
        assert await api.error_code(JOB, {"id": job_id}, token=team.token(Role.ADMIN)) == "NOT_FOUND"


async def test_integration_tokens_may_not_read_a_job(api, team):
    job = await end_all(api, team.token(Role.ADMIN))
    assert await api.error_code(JOB, {"id": job["id"]}, token=team.integration_token) == "FORBIDDEN"


async def test_an_open_job_whose_queued_work_was_lost_is_queued_again_once(api, team, database_url):
    """If the queue lost an open job's work (a database failure under a worker can drop it), a
    worker (re)starting queues it again; a job whose work is still queued is not queued twice."""
    await ingest_many(api, team, 3)
    async with team_lock_held(database_url, team.id):
        job = await end_all(api, team.token(Role.ADMIN))
        assert await mass_end.requeue_open_jobs() == 0  # its work is still queued
        await db.connection().execute_query("DELETE FROM pgqueuer")
        assert await mass_end.requeue_open_jobs() == 1
        assert await mass_end.requeue_open_jobs() == 0
    done = await wait_until_finished(api, team.token(Role.ADMIN), job["id"])
    assert (done["state"], done["processed"]) == ("COMPLETED", 3)
