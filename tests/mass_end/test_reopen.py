"""reopenMassEnd: a REOPEN job undoes a completed mass end within its window, once; it reopens the
conversations that mass end ended and nothing touched since, puts back the lead statuses it
changed, and counts and lists what it had to leave ended."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta

import pytest

from app.audit.models import AuditEvent
from app.leads.models import Conversation, ConversationState, EndReason, Lead, LeadStatus, Message, MessageDirection
from app.mass_end.models import MassEndedConversation, MassEndJob, MassEndState
from app.mass_end.service import progress_channel
from app.teams.models import Role
from tests.mass_end.support import (
    END_ALL,
    PROGRESS,
    REOPEN,
    end_all,
    end_scoped,
    ingest_many,
    leads_of,
    queued_jobs_by_task,
    reopen,
    retries_logged,
    scoped_job,
    team_lock_held,
    wait_until_finished,
)
from tests.support import Subscription, make_member, make_team, wait_for_subscribers

RECEIVE = "mutation($lead: ID!, $body: String!) { receiveLeadMessage(leadId: $lead, body: $body) { assistantReplied } }"
END_ONE = "mutation($lead: ID!) { endConversation(leadId: $lead) { id } }"


@pytest.fixture
async def team(server):
    return await make_team()


async def ended_by_mass_end(api, team, count: int, prefix: str = "L") -> tuple[list[str], dict]:
    """`count` leads whose conversations a completed mass end ended; returns their ids and the job."""
    lead_ids = await ingest_many(api, team, count, prefix=prefix)
    job = await end_all(api, team.token(Role.ADMIN))
    return lead_ids, await wait_until_finished(api, team.token(Role.ADMIN), job["id"])


async def finished(api, team, job_id: str) -> dict:
    await wait_until_finished(api, team.token(Role.ADMIN), job_id)
    return await scoped_job(api, team.token(Role.ADMIN), job_id)


async def receive(api, team, lead_id: str, body: str = "still there?") -> dict:
    return (await api.data(RECEIVE, {"lead": lead_id, "body": body}, token=team.integration_token))["receiveLeadMessage"]


async def conversation_of(lead_id: str) -> Conversation:
    return await Conversation.get(lead_id=int(lead_id))


@pytest.mark.parametrize("role", [Role.ADMIN, Role.TEAM_LEADER])
async def test_it_reopens_what_the_mass_end_ended_and_puts_statuses_back(api, team, role):
    """Every conversation is active again, the assistant answers it, and each lead has the status
    it had before (a NEW_LEAD the end made UNQUALIFIED is NEW_LEAD again; others never moved)."""
    lead_ids = await ingest_many(api, team, 5)
    await Lead.filter(id=int(lead_ids[0])).update(status=LeadStatus.QUALIFIED)
    end = await end_all(api, team.token(Role.ADMIN))
    end = await finished(api, team, end["id"])
    assert end["reopenableUntil"] is not None and end["reopenedBy"] is None

    job = await reopen(api, team.token(role), end["id"])
    assert (job["kind"], job["reopens"], job["total"], job["filter"]) == ("REOPEN", {"id": end["id"]}, 5, None)
    assert job["requestedBy"] == {"id": str(team.member(role).id)}
    done = await finished(api, team, job["id"])
    assert (done["state"], done["processed"], done["total"], done["skippedCount"], done["skipped"]) == ("COMPLETED", 5, 5, 0, [])
    assert done["reopenableUntil"] is None

    for c in await Conversation.filter(team_id=team.id):
        assert (c.state, c.end_reason, c.ended_at, c.assistant_may_reply) == (ConversationState.ACTIVE, None, None, True)
    statuses = dict(await Lead.filter(team_id=team.id).values_list("id", "status"))
    assert statuses == {int(i): LeadStatus.QUALIFIED if i == lead_ids[0] else LeadStatus.NEW_LEAD for i in lead_ids}
    assert (await receive(api, team, lead_ids[1]))["assistantReplied"] is True

    undone = await scoped_job(api, team.token(Role.REP), end["id"])
    assert (undone["reopenedBy"], undone["reopenableUntil"]) == ({"id": job["id"]}, None)
    audit = [(e.action, e.actor_id, e.details) for e in await AuditEvent.filter(team_id=team.id).order_by("id")]
    assert audit[-1] == ("MASS_END_REOPEN", team.member(role).id, {"job_id": int(job["id"]), "reopens_job_id": int(end["id"]), "total": 5})
    assert await queued_jobs_by_task() == {"mass_end": 2, "send_email": 2}  # one job each, one email to the Admin each


async def test_what_was_touched_since_is_skipped_with_its_reason(api, team):
    """A lead that wrote, a lead whose status moved, a conversation ended otherwise since: each is
    left as it is, counted and listed with why; the rest is reopened."""
    lead_ids, end = await ended_by_mass_end(api, team, 6)
    wrote, status_moved, changed = lead_ids[1], lead_ids[3], lead_ids[4]
    assert (await receive(api, team, wrote))["assistantReplied"] is False
    await Lead.filter(id=int(status_moved)).update(status=LeadStatus.QUALIFIED)
    await Conversation.filter(lead_id=int(changed)).update(end_reason=EndReason.COMPLETED)

    done = await finished(api, team, (await reopen(api, team.token(Role.ADMIN), end["id"]))["id"])
    assert (done["processed"], done["skippedCount"]) == (6, 3)
    assert done["skipped"] == [
        {"reason": "LEAD_WROTE", "lead": {"id": wrote}},
        {"reason": "LEAD_STATUS_CHANGED", "lead": {"id": status_moved}},
        {"reason": "CONVERSATION_CHANGED", "lead": {"id": changed}},
    ]
    first_two = (await api.data(
        "query($id: ID!) { massEndJob(id: $id) { skipped(first: 2) { reason } } }", {"id": done["id"]}, token=team.token(Role.ADMIN)
    ))["massEndJob"]["skipped"]
    assert [s["reason"] for s in first_two] == ["LEAD_WROTE", "LEAD_STATUS_CHANGED"]

    states = {str(c.lead_id): (c.state, c.end_reason) for c in await Conversation.filter(team_id=team.id)}
    assert states[wrote] == states[status_moved] == (ConversationState.ENDED, EndReason.MASS_END)
    assert states[changed] == (ConversationState.ENDED, EndReason.COMPLETED)
    assert {i for i, s in states.items() if s[0] == ConversationState.ACTIVE} == {lead_ids[0], lead_ids[2], lead_ids[5]}
    statuses = dict(await Lead.filter(team_id=team.id).values_list("id", "status"))
    assert statuses[int(wrote)] == LeadStatus.UNQUALIFIED and statuses[int(status_moved)] == LeadStatus.QUALIFIED
    assert statuses[int(lead_ids[0])] == LeadStatus.NEW_LEAD


async def test_only_that_jobs_conversations_are_reopened(api, team):
    """A scoped end's undo reopens its own conversations only: not one endConversation ended
    before it, and another member's were never ended."""
    ann, bob = await make_member(team.id, "Ann Rep"), await make_member(team.id, "Bob Rep")
    ann_leads = [str(i) for i in await leads_of(api, team, ann, 3, "ann-")]
    bob_leads = [str(i) for i in await leads_of(api, team, bob, 2, "bob-")]
    await api.data(END_ONE, {"lead": ann_leads[0]}, token=team.token(Role.ADMIN))  # ended by hand first
    end = await end_scoped(api, team.token(Role.ADMIN), {"memberIds": [str(ann.id)]})
    end = await finished(api, team, end["id"])
    assert end["processed"] == 2
    done = await finished(api, team, (await reopen(api, team.token(Role.ADMIN), end["id"]))["id"])
    assert (done["total"], done["processed"], done["skippedCount"]) == (2, 2, 0)
    by_lead = {str(c.lead_id): c for c in await Conversation.filter(team_id=team.id)}
    assert by_lead[ann_leads[0]].end_reason == EndReason.ENDED_BY_USER
    assert all(by_lead[i].state == ConversationState.ACTIVE for i in ann_leads[1:] + bob_leads)


async def test_reopenable_until_follows_the_setting(api, team, server_settings):
    """The window is fixed when the mass end completes (MASS_END_REOPEN_HOURS); past it the undo
    is refused, and the job no longer offers it."""
    _, end = await ended_by_mass_end(api, team, 1)
    shown = await scoped_job(api, team.token(Role.ADMIN), end["id"])
    until = datetime.fromisoformat(shown["reopenableUntil"])
    assert until - datetime.fromisoformat(shown["finishedAt"]) == timedelta(hours=24)

    server_settings.mass_end_reopen_hours = 0.5 / 3600  # half a second
    try:
        _, short = await ended_by_mass_end(api, team, 1, prefix="short-")
    finally:
        server_settings.mass_end_reopen_hours = 24.0
    await asyncio.sleep(0.6)
    assert (await scoped_job(api, team.token(Role.ADMIN), short["id"]))["reopenableUntil"] is None
    body = await api(REOPEN, {"id": short["id"], "c": "CONFIRM"}, token=team.token(Role.ADMIN))
    assert body["errors"][0]["extensions"]["code"] == "CONFLICT" and "time to reopen" in body["errors"][0]["message"]
    assert await MassEndJob.filter(team_id=team.id, reopens_id__not_isnull=True).count() == 0


async def _refused(api, token, job_id, code: str, confirmation: str = "CONFIRM") -> None:
    body = await api(REOPEN, {"id": job_id, "c": confirmation}, token=token)
    assert body["errors"][0]["extensions"]["code"] == code, body


async def test_refusals_change_nothing(api, team, database_url):
    """Bad confirmation; roles without MANAGE_ACCOUNT_STATUS and integrations; another team's job
    or no job; a job not completed (queued, failed); a REOPEN job; a job reopened already."""
    lead_ids, end = await ended_by_mass_end(api, team, 2)
    other = await make_team()
    _, others = await ended_by_mass_end(api, other, 1, prefix="o-")
    admin = team.token(Role.ADMIN)

    for confirmation in ("confirm", "", "CONFIRM "):
        await _refused(api, admin, end["id"], "CONFIRMATION_REQUIRED", confirmation)
    for token in (team.token(Role.MANAGER), team.token(Role.REP), team.integration_token):
        await _refused(api, token, end["id"], "FORBIDDEN")
    await _refused(api, None, end["id"], "UNAUTHENTICATED")
    for job_id in (others["id"], "999999", "abc", "2147483648"):
        await _refused(api, admin, job_id, "NOT_FOUND")
    assert await MassEndJob.filter(reopens_id__not_isnull=True).count() == 0
    assert await AuditEvent.filter(action="MASS_END_REOPEN").count() == 0

    async with team_lock_held(database_url, team.id):  # a job still queued cannot be undone
        queued = await end_all(api, admin)
        await _refused(api, admin, queued["id"], "CONFLICT")
        await MassEndJob.filter(id=int(queued["id"])).update(runs=100)  # it will FAIL
    failed = await wait_until_finished(api, admin, queued["id"])
    assert failed["state"] == "FAILED"
    await _refused(api, admin, failed["id"], "CONFLICT")

    job = await reopen(api, admin, end["id"])
    await _refused(api, admin, end["id"], "CONFLICT")  # while it runs
    await finished(api, team, job["id"])
    await _refused(api, admin, end["id"], "CONFLICT")  # once done: once per job
    await _refused(api, admin, job["id"], "CONFLICT")  # a reopen is not undone
    assert await MassEndJob.filter(reopens_id=int(end["id"])).count() == 1
    assert await AuditEvent.filter(action="MASS_END_REOPEN").count() == 1


async def test_concurrent_reopens_start_one_job(api, team, database_url):
    """However many ask at once, the database lets one REOPEN in; the others are refused."""
    _, end = await ended_by_mass_end(api, team, 3)
    tokens = [team.token(Role.ADMIN), team.token(Role.TEAM_LEADER)] * 4
    async with team_lock_held(database_url, team.id):
        bodies = await asyncio.gather(*(api(REOPEN, {"id": end["id"], "c": "CONFIRM"}, token=t) for t in tokens))
        started = [b["data"]["reopenMassEnd"] for b in bodies if not b.get("errors")]
        assert len(started) == 1
        assert {b["errors"][0]["extensions"]["code"] for b in bodies if b.get("errors")} == {"CONFLICT"}
        assert await MassEndJob.filter(reopens_id=int(end["id"])).count() == 1
    assert (await finished(api, team, started[0]["id"]))["processed"] == 3


async def test_no_reopen_while_another_job_is_open_and_no_mass_end_while_a_reopen_is(api, team, database_url):
    _, end = await ended_by_mass_end(api, team, 2)
    admin = team.token(Role.ADMIN)
    async with team_lock_held(database_url, team.id):
        running = await end_scoped(api, admin, {"leadStatuses": ["QUALIFIED"]})
        body = await api(REOPEN, {"id": end["id"], "c": "CONFIRM"}, token=admin)
        assert body["errors"][0]["extensions"] == {"code": "CONFLICT", "openJobId": running["id"]}
    await wait_until_finished(api, admin, running["id"])

    async with team_lock_held(database_url, team.id):
        job = await reopen(api, admin, end["id"])
        assert await api.error_code(END_ALL, {"c": "CONFIRM"}, token=admin) == "CONFLICT"
        assert await MassEndJob.filter(team_id=team.id).count() == 3
    assert (await finished(api, team, job["id"]))["processed"] == 2


async def test_skipped_takes_a_bounded_first(api, team):
    _, end = await ended_by_mass_end(api, team, 1)
    job = await finished(api, team, (await reopen(api, team.token(Role.ADMIN), end["id"]))["id"])
    query = "query($id: ID!, $n: Int) { massEndJob(id: $id) { skipped(first: $n) { reason } } }"
    for n in (-1, 1001):
        assert await api.error_code(query, {"id": job["id"], "n": n}, token=team.token(Role.ADMIN)) == "BAD_USER_INPUT"
    for n in (None, 0, 1000):
        assert (await api.data(query, {"id": job["id"], "n": n}, token=team.token(Role.ADMIN)))["massEndJob"]["skipped"] == []


async def test_a_reopen_racing_the_leads_new_messages(api, team, database_url):
    """Leads write while the reopen runs. Each conversation ends up either reopened, with the
    message stored and answered, or left ended (LEAD_WROTE) with the message stored unanswered
    and its owner told: never reopened after a message it did not answer, never a message lost."""
    count = 60
    lead_ids, end = await ended_by_mass_end(api, team, count)
    early, racing = lead_ids[:10], lead_ids[10:]
    random.Random(15).shuffle(racing)
    replies: dict[str, bool] = {}

    async def write(lead_id: str) -> None:
        replies[lead_id] = (await receive(api, team, lead_id, f"hello from {lead_id}"))["assistantReplied"]

    async with team_lock_held(database_url, team.id):
        job = await reopen(api, team.token(Role.ADMIN), end["id"])
        for lead_id in early:  # before it runs: these must be skipped
            await write(lead_id)
    await asyncio.gather(*(write(lead_id) for lead_id in racing), wait_until_finished(api, team.token(Role.ADMIN), job["id"]))
    done = await finished(api, team, job["id"])

    lead_of = dict(await Conversation.filter(team_id=team.id).values_list("id", "lead_id"))
    outcomes = {
        str(lead_of[r.conversation_id]): r.reopen_outcome for r in await MassEndedConversation.filter(job_id=int(end["id"]))
    }
    assert set(outcomes) == set(lead_ids) and set(outcomes.values()) <= {"REOPENED", "LEAD_WROTE"}
    assert all(outcomes[i] == "LEAD_WROTE" for i in early)
    skipped = [i for i, o in outcomes.items() if o == "LEAD_WROTE"]
    assert (done["processed"], done["skippedCount"]) == (count, len(skipped))
    conversations = {str(c.lead_id): c for c in await Conversation.filter(team_id=team.id)}
    statuses = {str(i): s for i, s in await Lead.filter(team_id=team.id).values_list("id", "status")}
    for lead_id in lead_ids:
        c = conversations[lead_id]
        messages = await Message.filter(conversation_id=c.id).order_by("id").values_list("direction", flat=True)
        if outcomes[lead_id] == "REOPENED":
            assert replies[lead_id] is True, lead_id
            assert (c.state, c.assistant_may_reply, statuses[lead_id]) == (ConversationState.ACTIVE, True, LeadStatus.NEW_LEAD)
            assert messages == [MessageDirection.INBOUND, MessageDirection.OUTBOUND]
        else:
            assert replies[lead_id] is False, lead_id
            assert (c.state, c.end_reason, statuses[lead_id]) == (ConversationState.ENDED, EndReason.MASS_END, LeadStatus.UNQUALIFIED)
            assert messages == [MessageDirection.INBOUND]


async def test_a_reopen_streams_its_progress(api, team, database_url):
    """massEndProgress on a REOPEN job: the snapshot, one event per committed batch, the final
    state with its skipped count; the stream completes."""
    lead_ids, end = await ended_by_mass_end(api, team, 7)
    await receive(api, team, lead_ids[2])
    query = PROGRESS.replace("failureReason", "failureReason kind skippedCount")
    async with team_lock_held(database_url, team.id):
        job = await reopen(api, team.token(Role.ADMIN), end["id"])
        sub = await Subscription.connect(api, team.token(Role.REP))
        await sub.subscribe(query, {"id": job["id"]})
        await wait_for_subscribers(progress_channel(team.id, int(job["id"])))
    events = []
    async with sub:
        while (message := await sub.next_message(timeout=10))["type"] != "complete":
            events.append(message["payload"]["data"]["massEndProgress"])
    assert [(e["state"], e["processed"], e["total"], e["skippedCount"]) for e in events] == [
        ("QUEUED", 0, 7, 0), ("RUNNING", 3, 7, 1), ("RUNNING", 6, 7, 1), ("RUNNING", 7, 7, 1), ("COMPLETED", 7, 7, 1)
    ]
    assert {e["kind"] for e in events} == {"REOPEN"}


async def test_a_reopen_whose_team_lock_is_held_elsewhere_waits_then_judges_each_once(api, team, database_url):
    """As for a mass end: a re-claimed REOPEN whose first worker still runs changes nothing and
    counts no run; then it reopens each conversation once."""
    lead_ids, end = await ended_by_mass_end(api, team, 4)
    async with team_lock_held(database_url, team.id):
        job = await reopen(api, team.token(Role.ADMIN), end["id"])
        while await retries_logged(int(job["id"])) < 2:
            await asyncio.sleep(0.05)
        row = await MassEndJob.get(id=int(job["id"]))
        assert (row.state, row.runs, row.processed) == (MassEndState.QUEUED, 0, 0)
    done = await finished(api, team, job["id"])
    assert (done["processed"], done["skippedCount"]) == (4, 0)
    assert (await MassEndJob.get(id=int(job["id"]))).runs == 1
    assert await Conversation.filter(team_id=team.id, state=ConversationState.ACTIVE).count() == 4


async def test_a_rerun_after_a_partial_run_judges_nothing_twice(api, team, database_url):
    """Batches commit with what they judged: a run that stopped halfway (here: half the rows
    judged as a crashed run would have left them) is resumed, and nothing is counted twice."""
    lead_ids, end = await ended_by_mass_end(api, team, 6)
    async with team_lock_held(database_url, team.id):
        job = await reopen(api, team.token(Role.ADMIN), end["id"])
        # What a first run that committed one batch of three and died would have left behind.
        rows = await MassEndedConversation.filter(job_id=int(end["id"])).order_by("id").limit(3)
        for r in rows:
            await Conversation.filter(id=r.conversation_id).update(
                state=ConversationState.ACTIVE, end_reason=None, ended_at=None, assistant_may_reply=True
            )
            lead_id = (await Conversation.get(id=r.conversation_id)).lead_id
            await Lead.filter(id=lead_id).update(status=r.lead_status_before)
        await MassEndedConversation.filter(id__in=[r.id for r in rows]).update(reopen_outcome="REOPENED")
        await MassEndJob.filter(id=int(job["id"])).update(state=MassEndState.RUNNING, runs=1, processed=3)
    done = await finished(api, team, job["id"])
    assert (done["processed"], done["total"], done["skippedCount"]) == (6, 6, 0)
    assert await Conversation.filter(team_id=team.id, state=ConversationState.ACTIVE).count() == 6
    assert await MassEndedConversation.filter(job_id=int(end["id"]), reopen_outcome="REOPENED").count() == 6
