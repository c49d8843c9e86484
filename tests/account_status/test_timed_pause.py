"""Timed pause: `pauseAccount(until:)`, `resumesAt`, the resume timer and the reminder emails."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta, timezone

import pytest

from app import db, tasks
from app.account_status import service
from app.account_status.service import CHANGED_TOPIC, REMINDER_TASK, RESUME_TASK
from app.audit.models import AuditEvent
from app.broadcast import team_channel
from app.teams.models import Role, Team
from tests.support import Subscription, make_team, wait_for_subscribers

FIELDS = "state pausedAt pauseReason resumesAt pausedBy { id }"
PAUSE = f"""mutation($c: String!, $r: String, $u: DateTime) {{
  pauseAccount(confirmation: $c, reason: $r, until: $u) {{ {FIELDS} }} }}"""
UNPAUSE = f"mutation {{ unpauseAccount(confirmation: \"CONFIRM\") {{ {FIELDS} }} }}"
STATUS = f"{{ accountStatus {{ {FIELDS} }} }}"
MAY_PAUSE = [Role.ADMIN, Role.TEAM_LEADER]


@pytest.fixture
async def team(server):
    return await make_team()


def ahead(seconds: float) -> datetime:
    return datetime.now(timezone.utc) + timedelta(seconds=seconds)


def instant(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


async def pause(api, team, until: datetime | str | None = None, *, role: Role = Role.ADMIN, reason: str | None = None) -> dict:
    until = until.isoformat() if isinstance(until, datetime) else until
    return (await api.data(PAUSE, {"c": "CONFIRM", "r": reason, "u": until}, token=team.token(role)))["pauseAccount"]


async def status(api, team) -> dict:
    return (await api.data(STATUS, token=team.token(Role.REP)))["accountStatus"]


async def actions(team) -> list[str]:
    return await AuditEvent.filter(team_id=team.id).order_by("id").values_list("action", flat=True)


async def wait_for_state(api, team, state: str, timeout: float = 10) -> dict:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (current := await status(api, team))["state"] != state:
        if loop.time() > deadline:
            raise AssertionError(f"still {current} after {timeout}s")
        await asyncio.sleep(0.05)
    return current


async def sleep_until(moment: datetime) -> None:
    await asyncio.sleep(max((moment - datetime.now(timezone.utc)).total_seconds(), 0))


async def queued_timers(team, task: str) -> list[dict]:
    return await db.connection().execute_query_dict(
        "SELECT execute_after, status::text FROM pgqueuer WHERE entrypoint = $1 AND dedupe_key LIKE $2",
        [task, f"{task}:{team.id}:%"],
    )


@contextlib.asynccontextmanager
async def more_workers(database_url, settings, count: int = 2):
    """Worker instances besides the server's own, on the same database (as other processes would be)."""
    workers = [tasks.new_worker(database_url, settings) for _ in range(count)]
    runs = [asyncio.create_task(worker.run()) for worker in workers]
    try:
        yield workers
    finally:
        for worker in workers:
            worker.stop()
        await asyncio.gather(*runs)


@pytest.fixture
def fast_reminders(server_settings):
    """Reminders every 2 s instead of every day (the server's own settings, read by its API and worker)."""
    before = server_settings.pause_reminder_interval_seconds
    server_settings.pause_reminder_interval_seconds = 2.0
    yield 2.0
    server_settings.pause_reminder_interval_seconds = before


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "until",
    [
        pytest.param(lambda: ahead(-60), id="past"),
        pytest.param(lambda: ahead(0), id="now"),
        pytest.param(lambda: ahead(90 * 86_400 + 60), id="more-than-90-days"),
        pytest.param(lambda: datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-12))), id="year-9999"),
        pytest.param(lambda: datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))), id="year-1"),
    ],
)
async def test_until_not_ahead_or_more_than_90_days_ahead_is_bad_input_and_changes_nothing(api, team, until):
    body = await api(PAUSE, {"c": "CONFIRM", "u": until().isoformat()}, token=team.token(Role.ADMIN))
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
    assert body["errors"][0]["extensions"]["field"] == "until"
    assert (await status(api, team))["state"] == "ACTIVE"
    assert await actions(team) == []
    assert await queued_timers(team, RESUME_TASK) == [] and await queued_timers(team, REMINDER_TASK) == []


@pytest.mark.parametrize("until", ["tomorrow", "2026-13-01T00:00:00Z", "", 1767225600])
async def test_until_that_is_not_a_date_time_is_refused_and_changes_nothing(api, team, until):
    code = await api.error_code(PAUSE, {"c": "CONFIRM", "u": until}, token=team.token(Role.ADMIN))
    assert code == "BAD_USER_INPUT"
    assert (await status(api, team))["state"] == "ACTIVE" and await actions(team) == []


async def test_a_bad_until_on_a_paused_team_keeps_its_schedule(api, team):
    first = await pause(api, team, ahead(3600))
    assert await api.error_code(PAUSE, {"c": "CONFIRM", "u": ahead(-1).isoformat()}, token=team.token(Role.ADMIN)) == "BAD_USER_INPUT"
    assert await status(api, team) == first
    assert await actions(team) == ["ACCOUNT_PAUSED"]


async def test_the_confirmation_is_checked_before_until(api, team):
    code = await api.error_code(PAUSE, {"c": "confirm", "u": ahead(-60).isoformat()}, token=team.token(Role.ADMIN))
    assert code == "CONFIRMATION_REQUIRED"


@pytest.mark.parametrize("role", [Role.MANAGER, Role.REP])
async def test_managers_and_reps_may_not_pause_with_a_schedule(api, team, role):
    assert await api.error_code(PAUSE, {"c": "CONFIRM", "u": ahead(60).isoformat()}, token=team.token(role)) == "FORBIDDEN"
    assert await api.error_code(PAUSE, {"c": "CONFIRM", "u": ahead(60).isoformat()}, token=team.integration_token) == "FORBIDDEN"
    assert (await status(api, team))["state"] == "ACTIVE" and await queued_timers(team, RESUME_TASK) == []


# --- the schedule -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", MAY_PAUSE)
async def test_resumes_at_is_shown_to_every_member_and_cleared_by_unpause(api, team, role):
    until = ahead(3600)
    paused = await pause(api, team, until, role=role, reason="Audit")
    assert instant(paused["resumesAt"]) == until and paused["state"] == "PAUSED"
    for member_role in Role:
        shown = (await api.data(STATUS, token=team.token(member_role)))["accountStatus"]
        assert instant(shown["resumesAt"]) == until
    event = await AuditEvent.get(team_id=team.id)
    assert event.details == {"reason": "Audit", "resumes_at": until.isoformat()}
    unpaused = (await api.data(UNPAUSE, token=team.token(role)))["unpauseAccount"]
    assert unpaused["state"] == "ACTIVE" and unpaused["resumesAt"] is None
    assert (await Team.get(id=team.id)).pause_reminder_at is None


async def test_until_with_an_offset_is_that_instant_and_without_one_is_utc(api, team):
    local = ahead(7200).astimezone(timezone(timedelta(hours=5, minutes=30)))
    assert instant((await pause(api, team, local))["resumesAt"]) == local
    naive = ahead(3600).replace(tzinfo=None, microsecond=0)
    assert instant((await pause(api, team, naive.isoformat()))["resumesAt"]) == naive.replace(tzinfo=timezone.utc)


async def test_up_to_90_days_ahead_is_accepted(api, team):
    until = ahead(90 * 86_400 - 60)
    assert instant((await pause(api, team, until))["resumesAt"]) == until


async def test_the_timer_is_a_job_in_postgresql_due_exactly_at_resumes_at(api, team):
    paused = await pause(api, team, ahead(3600))
    (timer,) = await queued_timers(team, RESUME_TASK)
    assert timer["execute_after"] == instant(paused["resumesAt"]) and timer["status"] == "queued"
    (reminder,) = await queued_timers(team, REMINDER_TASK)
    assert reminder["execute_after"] == instant(paused["pausedAt"]) + timedelta(days=1)


async def test_the_team_resumes_by_itself_at_resumes_at_as_an_unpause_does(api, team):
    channel = team_channel(team.id, CHANGED_TOPIC)
    async with await Subscription.connect(api, team.token(Role.REP)) as sub:
        await sub.subscribe("subscription { accountStatusChanged { state resumesAt pausedBy { id } } }")
        await wait_for_subscribers(channel)
        until = ahead(1.0)
        await pause(api, team, until, reason="Maintenance window")
        paused = (await sub.next_payload())["data"]["accountStatusChanged"]
        assert paused["state"] == "PAUSED" and instant(paused["resumesAt"]) == until
        resumed = (await sub.next_payload(timeout=10))["data"]["accountStatusChanged"]
        assert resumed == {"state": "ACTIVE", "resumesAt": None, "pausedBy": None}
        assert datetime.now(timezone.utc) >= until  # never early
        await sub.assert_silent(0.5)
    event = await AuditEvent.filter(team_id=team.id, action="ACCOUNT_UNPAUSED").get()
    assert event.actor_id is None and event.details == {"scheduled": True, "resumes_at": until.isoformat()}
    assert (await status(api, team))["resumesAt"] is None
    assert await queued_timers(team, RESUME_TASK) == []  # the job ran and left the queue


async def test_pausing_again_with_the_same_until_changes_nothing(api, team):
    until = ahead(3600)
    first = await pause(api, team, until, reason="first")
    again = await pause(api, team, until, role=Role.TEAM_LEADER, reason="second")
    assert again == first
    assert await actions(team) == ["ACCOUNT_PAUSED"]
    assert len(await queued_timers(team, RESUME_TASK)) == 1


async def test_pausing_again_with_a_new_until_moves_the_resume_and_the_old_timer_does_nothing(api, team):
    first = await pause(api, team, ahead(1.0), reason="first")
    later = ahead(2.5)
    moved = await pause(api, team, later, role=Role.TEAM_LEADER, reason="ignored")
    assert instant(moved["resumesAt"]) == later
    assert {k: moved[k] for k in ("pausedAt", "pauseReason", "pausedBy")} == {k: first[k] for k in ("pausedAt", "pauseReason", "pausedBy")}
    await sleep_until(instant(first["resumesAt"]) + timedelta(seconds=0.6))
    assert (await status(api, team))["state"] == "PAUSED"  # the first timer fired and did nothing
    await wait_for_state(api, team, "ACTIVE")
    assert datetime.now(timezone.utc) >= later
    assert await actions(team) == ["ACCOUNT_PAUSED", "ACCOUNT_PAUSE_RESCHEDULED", "ACCOUNT_UNPAUSED"]
    moved_event = await AuditEvent.get(team_id=team.id, action="ACCOUNT_PAUSE_RESCHEDULED")
    assert moved_event.actor_id == team.member(Role.TEAM_LEADER).id
    assert moved_event.details == {"resumes_at": later.isoformat(), "previous_resumes_at": instant(first["resumesAt"]).isoformat()}


async def test_pausing_again_without_until_keeps_the_team_paused_until_someone_unpauses(api, team):
    first = await pause(api, team, ahead(1.0))
    open_ended = await pause(api, team)
    assert open_ended["resumesAt"] is None and open_ended["state"] == "PAUSED"
    await sleep_until(instant(first["resumesAt"]) + timedelta(seconds=1))
    assert (await status(api, team))["state"] == "PAUSED"
    assert await actions(team) == ["ACCOUNT_PAUSED", "ACCOUNT_PAUSE_RESCHEDULED"]


async def test_a_new_pause_after_an_unpause_is_not_ended_by_the_old_timer(api, team):
    first = await pause(api, team, ahead(1.0))
    await api.data(UNPAUSE, token=team.token(Role.ADMIN))
    second = await pause(api, team, role=Role.TEAM_LEADER)
    await sleep_until(instant(first["resumesAt"]) + timedelta(seconds=1))
    assert await status(api, team) == second
    assert await actions(team) == ["ACCOUNT_PAUSED", "ACCOUNT_UNPAUSED", "ACCOUNT_PAUSED"]


async def test_a_new_pause_to_the_same_time_is_ended_once_by_its_own_timer(api, team):
    until = ahead(1.5)
    await pause(api, team, until)
    await api.data(UNPAUSE, token=team.token(Role.ADMIN))
    await pause(api, team, until)
    assert len(await queued_timers(team, RESUME_TASK)) == 2  # one per pause
    await wait_for_state(api, team, "ACTIVE")
    await asyncio.sleep(0.5)
    assert await actions(team) == ["ACCOUNT_PAUSED", "ACCOUNT_UNPAUSED", "ACCOUNT_PAUSED", "ACCOUNT_UNPAUSED"]


# --- races, several workers, lost jobs ----------------------------------------------------------


async def test_a_timed_resume_racing_a_manual_unpause_unpauses_once(api, team, database_url, server_settings):
    """At the due time the timer (its job, claimed by one of three workers, and the same timer
    called directly) and a manual unpause run at once: the team ends ACTIVE with one unpause per
    pause, audited and published once, whoever won."""
    channel = team_channel(team.id, CHANGED_TOPIC)
    winners = []
    async with more_workers(database_url, server_settings), await Subscription.connect(api, team.token(Role.REP)) as sub:
        await sub.subscribe("subscription { accountStatusChanged { state } }")
        await wait_for_subscribers(channel)
        # The manual unpause is sent a little before, or right at, the due time.
        for head_start in (0.1, 0.03, 0.01, 0.0):
            paused = await pause(api, team, ahead(0.8))
            assert (await sub.next_payload())["data"]["accountStatusChanged"]["state"] == "PAUSED"
            due = instant(paused["resumesAt"])
            await sleep_until(due - timedelta(seconds=head_start))
            manual = asyncio.create_task(api.data(UNPAUSE, token=team.token(Role.ADMIN)))
            await sleep_until(due)
            await service.resume_when_due(team.id, instant(paused["pausedAt"]), due)
            assert (await manual)["unpauseAccount"]["state"] == "ACTIVE"
            await asyncio.sleep(0.5)  # every worker's timer has run by now
            assert (await sub.next_payload())["data"]["accountStatusChanged"]["state"] == "ACTIVE"
            await sub.assert_silent(0.3)  # no second unpause event
            latest = await AuditEvent.filter(team_id=team.id, action="ACCOUNT_UNPAUSED").order_by("-id").first()
            winners.append("timer" if latest.actor_id is None else "manual")
    print(f"\nwinners: {winners}")
    assert await actions(team) == ["ACCOUNT_PAUSED", "ACCOUNT_UNPAUSED"] * 4
    row = await Team.get(id=team.id)
    assert (row.state.value, row.paused_at, row.resumes_at, row.pause_reminder_at) == ("ACTIVE", None, None, None)


async def test_the_timer_never_resumes_early_even_when_its_job_is_claimed_early(api, team):
    paused = await pause(api, team, ahead(2.0))
    assert await service.resume_when_due(team.id, instant(paused["pausedAt"]), instant(paused["resumesAt"])) is None
    await db.connection().execute_query("UPDATE pgqueuer SET execute_after = now() WHERE entrypoint = $1", [RESUME_TASK])
    await asyncio.sleep(1.0)  # the worker claimed it, found it early and put it back for the time left
    assert (await status(api, team))["state"] == "PAUSED"
    (timer,) = await queued_timers(team, RESUME_TASK)
    assert timer["status"] == "queued" and abs((timer["execute_after"] - instant(paused["resumesAt"])).total_seconds()) < 0.1
    await wait_for_state(api, team, "ACTIVE")
    assert datetime.now(timezone.utc) >= instant(paused["resumesAt"])


async def test_a_lost_timer_is_queued_again_when_a_worker_starts(api, team, database_url, server_settings):
    paused = await pause(api, team, ahead(1.5))
    await db.connection().execute_query("DELETE FROM pgqueuer WHERE entrypoint IN ($1, $2)", [RESUME_TASK, REMINDER_TASK])
    async with more_workers(database_url, server_settings, 1):
        await wait_for_state(api, team, "ACTIVE")
        await asyncio.sleep(0.3)
    assert datetime.now(timezone.utc) >= instant(paused["resumesAt"])
    assert await actions(team) == ["ACCOUNT_PAUSED", "ACCOUNT_UNPAUSED"]


# --- reminders --------------------------------------------------------------------------------


async def test_admins_and_team_leaders_are_reminded_once_per_interval_while_paused_and_never_after(
    api, team, mailbox, fast_reminders, database_url, server_settings
):
    reminded = [team.member(role) for role in MAY_PAUSE]
    others = [team.member(Role.MANAGER), team.member(Role.REP), team.default_rep]
    async with more_workers(database_url, server_settings):  # three workers race for each reminder
        paused = await pause(api, team, reason="Vendor outage")
        for member in reminded:
            await mailbox.wait_for(member.email, 2, timeout=10)
        await api.data(UNPAUSE, token=team.token(Role.ADMIN))
        elapsed = (datetime.now(timezone.utc) - instant(paused["pausedAt"])).total_seconds()
        assert elapsed < 3 * fast_reminders, "too slow to tell one reminder per interval apart"
        await asyncio.sleep(2.5 * fast_reminders)
    for member in reminded:
        messages = mailbox.messages_to(member.email)
        assert len(messages) == 2, [m["Subject"] for m in messages]  # one per interval, none after the unpause
        assert messages[0]["Subject"] == "Reminder: your team's account is still paused"
        body = messages[0].get_content()
        assert "Vendor outage" in body and "until an Admin or Team Leader unpauses it" in body
        assert f"by {team.member(Role.ADMIN).name}" in body
    for member in others:
        assert mailbox.messages_to(member.email) == []


async def test_a_timed_pause_reminder_says_when_it_resumes(api, team, mailbox, fast_reminders):
    until = ahead(60)
    await pause(api, team, until)
    (message,) = await mailbox.wait_for(team.member(Role.TEAM_LEADER).email, 1, timeout=10)
    assert f"It resumes by itself at {until:%Y-%m-%d %H:%M} UTC" in message.get_content()
    await api.data(UNPAUSE, token=team.token(Role.ADMIN))


async def test_a_new_pause_restarts_the_reminders_from_its_own_time(api, team, mailbox, fast_reminders):
    """The first pause's reminder chain stops at its unpause; the second pause's first reminder
    comes a whole interval after the second pause."""
    admin = team.member(Role.ADMIN)
    await pause(api, team)
    await asyncio.sleep(fast_reminders * 0.75)
    await api.data(UNPAUSE, token=team.token(Role.ADMIN))
    second = await pause(api, team)
    (message,) = await mailbox.wait_for(admin.email, 1, timeout=10)
    arrived = datetime.now(timezone.utc)
    assert arrived >= instant(second["pausedAt"]) + timedelta(seconds=fast_reminders)
    await api.data(UNPAUSE, token=team.token(Role.ADMIN))
    await asyncio.sleep(fast_reminders * 1.5)
    assert len(mailbox.messages_to(admin.email)) == 1
