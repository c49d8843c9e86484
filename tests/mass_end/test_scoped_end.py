"""endConversations(filter) and massEndPreview(filter): a mass end of the conversations a filter
chooses (members, lead statuses, last activity; every given part must hold), previewed with the
counts the job then ends; endAllConversations is the empty filter."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from app.audit.models import AuditEvent
from app.leads.models import Conversation, ConversationState, Lead, LeadStatus, Message
from app.mass_end.models import MassEndJob, MassEndKind
from app.teams.models import Role
from tests.mass_end.support import (
    END,
    END_ALL,
    PREVIEW,
    end_all,
    end_scoped,
    leads_of,
    preview,
    queued_jobs_by_task,
    team_lock_held,
    wait_until_finished,
)
from tests.support import Member, TeamFixture, make_member, make_team

NOW = datetime.now(timezone.utc)


@pytest.fixture
async def team(server):
    return await make_team()


async def active_lead_ids(team: TeamFixture) -> set[int]:
    return set(await Conversation.filter(team_id=team.id, state=ConversationState.ACTIVE).values_list("lead_id", flat=True))


async def run_scoped(api, team: TeamFixture, scope: dict) -> dict:
    job = await end_scoped(api, team.token(Role.ADMIN), scope)
    return await wait_until_finished(api, team.token(Role.ADMIN), job["id"])


@pytest.fixture
async def world(api, team):
    """Two reps with leads in every status, some quiet for days, and the Default Rep's leads."""
    ann, bob = await make_member(team.id, "Ann Rep"), await make_member(team.id, "Bob Rep")
    ids = {
        "ann": await leads_of(api, team, ann, 4, "ann-"),
        "bob": await leads_of(api, team, bob, 3, "bob-"),
        "default": await leads_of(api, team, None, 2, "def-"),
    }
    # Ann: NEW_LEAD, QUALIFIED, CONVERTED, UNQUALIFIED; Bob: NEW_LEAD, QUALIFIED, NEW_LEAD.
    for lead_id, status in [
        (ids["ann"][1], LeadStatus.QUALIFIED),
        (ids["ann"][2], LeadStatus.CONVERTED),
        (ids["ann"][3], LeadStatus.UNQUALIFIED),
        (ids["bob"][1], LeadStatus.QUALIFIED),
    ]:
        await Lead.filter(id=lead_id).update(status=status)
    # Quiet for three days: ann-0 and bob-0 (no message), ann-1 (its last message three days ago).
    # bob-1 started three days ago but its lead wrote an hour ago: it is not quiet.
    old = NOW - timedelta(days=3)
    for lead_id in (ids["ann"][0], ids["bob"][0], ids["ann"][1], ids["bob"][1]):
        await Conversation.filter(lead_id=lead_id).update(created_at=old)
    for lead_id, when in [(ids["ann"][1], old), (ids["bob"][1], old), (ids["bob"][1], NOW - timedelta(hours=1))]:
        conversation = await Conversation.get(lead_id=lead_id)
        message = await Message.create(conversation_id=conversation.id, direction="INBOUND", body="hi")
        await Message.filter(id=message.id).update(created_at=when)
    return ann, bob, ids


TWO_DAYS_AGO = (NOW - timedelta(days=2)).isoformat()

# filter -> which leads it chooses: (member, index) pairs of `world`.
CASES = {
    "one member": ({"memberIds": ["ann"]}, {("ann", 0), ("ann", 1), ("ann", 2), ("ann", 3)}),
    "two members": ({"memberIds": ["ann", "bob"]}, {("ann", i) for i in range(4)} | {("bob", i) for i in range(3)}),
    "one status": ({"leadStatuses": ["NEW_LEAD"]}, {("ann", 0), ("bob", 0), ("bob", 2), ("default", 0), ("default", 1)}),
    "two statuses": ({"leadStatuses": ["QUALIFIED", "CONVERTED"]}, {("ann", 1), ("ann", 2), ("bob", 1)}),
    "quiet": ({"lastActivityBefore": TWO_DAYS_AGO}, {("ann", 0), ("ann", 1), ("bob", 0)}),
    "member and status": ({"memberIds": ["bob"], "leadStatuses": ["NEW_LEAD"]}, {("bob", 0), ("bob", 2)}),
    "member and quiet": ({"memberIds": ["ann"], "lastActivityBefore": TWO_DAYS_AGO}, {("ann", 0), ("ann", 1)}),
    "all three": (
        {"memberIds": ["ann", "bob"], "leadStatuses": ["QUALIFIED"], "lastActivityBefore": TWO_DAYS_AGO},
        {("ann", 1)},
    ),
    "nothing matches": ({"memberIds": ["bob"], "leadStatuses": ["CONVERTED"]}, set()),
}


def _resolve(scope: dict, ann: Member, bob: Member) -> dict:
    members = {"ann": str(ann.id), "bob": str(bob.id)}
    return {**scope, **({"memberIds": [members[m] for m in scope["memberIds"]]} if "memberIds" in scope else {})}


@pytest.mark.parametrize("case", list(CASES))
async def test_each_filter_ends_exactly_what_it_chooses_and_what_its_preview_counted(api, team, world, case):
    """Every given part must hold. The preview's counts, the job's total and what it ends agree;
    everything else stays active; the job keeps its filter as given."""
    ann, bob, ids = world
    scope, chosen = CASES[case]
    scope = _resolve(scope, ann, bob)
    expected = {ids[member][index] for member, index in chosen}
    every = {i for group in ids.values() for i in group}

    seen = await preview(api, team.token(Role.TEAM_LEADER), scope)
    assert seen["conversationCount"] == len(expected)

    job = await end_scoped(api, team.token(Role.TEAM_LEADER), scope)
    assert (job["kind"], job["filter"], job["total"]) == ("END_CONVERSATIONS", scope, len(expected))
    done = await wait_until_finished(api, team.token(Role.ADMIN), job["id"])
    assert (done["state"], done["processed"], done["total"]) == ("COMPLETED", len(expected), len(expected))
    assert await active_lead_ids(team) == every - expected


async def test_the_preview_counts_members_and_says_so(api, team, world):
    """byMember lists the members with matching active conversations, most first; leads of
    nobody count only in the total; the summary is singular where it is one."""
    ann, bob, ids = world
    token = team.token(Role.ADMIN)
    everything = await preview(api, token, None)
    default_rep = team.default_rep
    assert everything == {
        "conversationCount": 9,
        "memberCount": 3,
        "summary": "9 conversations across 3 members",
        "byMember": [
            {"conversationCount": 4, "user": {"id": str(ann.id)}},
            {"conversationCount": 3, "user": {"id": str(bob.id)}},
            {"conversationCount": 2, "user": {"id": str(default_rep.id)}},
        ],
    }
    assert await preview(api, token, {}) == everything
    one = await preview(api, token, {"memberIds": [str(ann.id)], "leadStatuses": ["CONVERTED"]})
    assert (one["summary"], one["memberCount"]) == ("1 conversation across 1 member", 1)
    none = await preview(api, token, {"memberIds": [str(bob.id)], "leadStatuses": ["CONVERTED"]})
    assert none == {"conversationCount": 0, "memberCount": 0, "summary": "0 conversations across 0 members", "byMember": []}
    two = await preview(api, token, {"memberIds": [str(bob.id)], "leadStatuses": ["NEW_LEAD"]})
    assert two["summary"] == "2 conversations across 1 member"

    # A lead assigned to nobody (no rep and no Default Rep) counts in the total only.
    await Lead.filter(id=ids["default"][0]).update(assigned_user_id=None)
    unassigned = await preview(api, token, None)
    assert (unassigned["conversationCount"], unassigned["memberCount"]) == (9, 3)
    assert unassigned["byMember"][-1] == {"conversationCount": 1, "user": {"id": str(default_rep.id)}}


async def test_a_scoped_end_is_audited_with_its_filter_and_changes_statuses_like_a_mass_end(api, team, world):
    ann, bob, ids = world
    scope = {"memberIds": [str(bob.id)]}
    done = await run_scoped(api, team, scope)
    (event,) = await AuditEvent.filter(team_id=team.id)
    assert (event.action, event.actor_id, event.details) == (
        "MASS_END", team.member(Role.ADMIN).id, {"job_id": int(done["id"]), "total": 3, "filter": scope}
    )
    statuses = dict(await Lead.filter(id__in=ids["bob"]).values_list("id", "status"))
    assert statuses == {ids["bob"][0]: LeadStatus.UNQUALIFIED, ids["bob"][1]: LeadStatus.QUALIFIED, ids["bob"][2]: LeadStatus.UNQUALIFIED}
    assert set(await Lead.filter(id__in=ids["ann"]).values_list("status", flat=True)) == {
        LeadStatus.NEW_LEAD, LeadStatus.QUALIFIED, LeadStatus.CONVERTED, LeadStatus.UNQUALIFIED
    }


async def test_end_all_is_the_empty_filter(api, team, world, database_url):
    """endAllConversations and endConversations(filter: {}) are one job: no filter stored, and
    while it is open either request returns it."""
    async with team_lock_held(database_url, team.id):
        job = await end_all(api, team.token(Role.ADMIN))
        same = await end_scoped(api, team.token(Role.TEAM_LEADER), {})
        assert same["id"] == job["id"] and (same["kind"], same["filter"]) == ("END_CONVERSATIONS", None)
        assert await MassEndJob.filter(team_id=team.id).count() == 1
    done = await wait_until_finished(api, team.token(Role.ADMIN), job["id"])
    assert done["processed"] == 9 and await active_lead_ids(team) == set()


async def test_one_open_job_per_team_whatever_the_filter(api, team, world, database_url):
    """The same scoped request while its job is open returns that job; another filter, or an
    endAllConversations, while any job is open is a CONFLICT and starts nothing."""
    ann, bob, _ = world
    scope = {"memberIds": [str(ann.id)]}
    async with team_lock_held(database_url, team.id):
        results = await asyncio.gather(*(end_scoped(api, team.token(Role.ADMIN), scope) for _ in range(5)))
        assert len({r["id"] for r in results}) == 1
        other = await api(END, {"c": "CONFIRM", "f": {"memberIds": [str(bob.id)]}}, token=team.token(Role.ADMIN))
        assert other["errors"][0]["extensions"]["code"] == "CONFLICT"
        assert other["errors"][0]["extensions"]["openJobId"] == results[0]["id"]
        assert await api.error_code(END_ALL, {"c": "CONFIRM"}, token=team.token(Role.ADMIN)) == "CONFLICT"
        assert await MassEndJob.filter(team_id=team.id).count() == 1
        assert await AuditEvent.filter(team_id=team.id).count() == 1
    await wait_until_finished(api, team.token(Role.ADMIN), results[0]["id"])


async def test_the_filter_is_kept_as_given_and_members_in_order(api, team, world):
    """Duplicates are dropped; an offset-less time is UTC; the stored filter shows what ran."""
    ann, bob, _ = world
    job = await end_scoped(
        api,
        team.token(Role.ADMIN),
        {"memberIds": [str(bob.id), str(ann.id), str(bob.id)], "leadStatuses": ["QUALIFIED", "NEW_LEAD", "QUALIFIED"],
         "lastActivityBefore": "2026-01-02T03:04:05"},
    )
    assert job["filter"] == {
        "memberIds": sorted([str(ann.id), str(bob.id)], key=int),
        "leadStatuses": ["NEW_LEAD", "QUALIFIED"],
        "lastActivityBefore": "2026-01-02T03:04:05+00:00",
    }
    await wait_until_finished(api, team.token(Role.ADMIN), job["id"])


async def _bad_filters(team: TeamFixture) -> dict[str, dict]:
    other = await make_team()
    return {
        "no member ids": {"memberIds": []},
        "no statuses": {"leadStatuses": []},
        "unknown member": {"memberIds": ["999999"]},
        "another team's member": {"memberIds": [str(other.member(Role.REP).id)]},
        "one good, one unknown": {"memberIds": [str(team.member(Role.REP).id), "2147483647"]},
        "not an id": {"memberIds": ["abc"]},
        "past int4": {"memberIds": ["2147483648"]},
        "negative": {"memberIds": ["-1"]},
        "too many ids": {"memberIds": [str(team.member(Role.REP).id)] * 1001},
    }


async def test_bad_filters_are_refused_and_change_nothing(api, team, world):
    for name, scope in (await _bad_filters(team)).items():
        for query, variables in [(END, {"c": "CONFIRM", "f": scope}), (PREVIEW, {"f": scope})]:
            body = await api(query, variables, token=team.token(Role.ADMIN))
            assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", (name, body)
            assert body.get("data") is None, name
    assert await MassEndJob.filter(team_id=team.id).count() == 0
    assert await AuditEvent.filter(team_id=team.id).count() == 0
    assert await queued_jobs_by_task() == {}
    assert len(await active_lead_ids(team)) == 9


async def test_a_status_that_is_not_one_and_a_time_that_is_not_one_are_refused(api, team, world):
    for scope in ({"leadStatuses": ["ACTIVE"]}, {"lastActivityBefore": "yesterday"}, {"memberIds": "1"}):
        code = await api.error_code(END, {"c": "CONFIRM", "f": scope}, token=team.token(Role.ADMIN))
        assert code in ("BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"), scope
    assert await MassEndJob.filter(team_id=team.id).count() == 0


@pytest.mark.parametrize("confirmation", ["confirm", "", "CONFIRM "])
async def test_anything_but_CONFIRM_changes_nothing(api, team, world, confirmation):
    ann, _, _ = world
    code = await api.error_code(END, {"c": confirmation, "f": {"memberIds": [str(ann.id)]}}, token=team.token(Role.ADMIN))
    assert code == "CONFIRMATION_REQUIRED"
    assert await MassEndJob.filter(team_id=team.id).count() == 0
    assert await queued_jobs_by_task() == {}


async def test_managers_reps_and_integrations_may_neither_end_nor_preview(api, team, world):
    ann, _, _ = world
    scope = {"memberIds": [str(ann.id)]}
    for token in (team.token(Role.MANAGER), team.token(Role.REP), team.integration_token):
        assert await api.error_code(END, {"c": "CONFIRM", "f": scope}, token=token) == "FORBIDDEN"
        assert await api.error_code(PREVIEW, {"f": scope}, token=token) == "FORBIDDEN"
    assert await api.error_code(PREVIEW, {"f": scope}) == "UNAUTHENTICATED"
    assert await MassEndJob.filter(team_id=team.id).count() == 0


async def test_a_scoped_job_reaches_conversations_started_while_it_waits(api, team, world, database_url):
    """As for an end of everything: a conversation started after the request that matches is
    ended too, and counted; one that does not match is left alone."""
    ann, bob, _ = world
    async with team_lock_held(database_url, team.id):
        job = await end_scoped(api, team.token(Role.ADMIN), {"memberIds": [str(ann.id)]})
        late_ann = await leads_of(api, team, ann, 2, "late-ann-")
        late_bob = await leads_of(api, team, bob, 1, "late-bob-")
    done = await wait_until_finished(api, team.token(Role.ADMIN), job["id"])
    assert (done["processed"], done["total"]) == (6, 6)
    active = await active_lead_ids(team)
    assert not active & set(late_ann) and set(late_bob) <= active


async def test_the_account_status_shows_the_last_job(api, team, world):
    query = "{ accountStatus { lastMassEndJob { id kind filter } } }"
    assert (await api.data(query, token=team.token(Role.REP)))["accountStatus"]["lastMassEndJob"] is None
    first = await run_scoped(api, team, {"leadStatuses": ["CONVERTED"]})
    second = await run_scoped(api, team, {"leadStatuses": ["QUALIFIED"]})
    shown = (await api.data(query, token=team.token(Role.REP)))["accountStatus"]["lastMassEndJob"]
    assert shown == {"id": second["id"], "kind": MassEndKind.END_CONVERSATIONS.value, "filter": {"leadStatuses": ["QUALIFIED"]}}
    assert first["id"] != second["id"]
