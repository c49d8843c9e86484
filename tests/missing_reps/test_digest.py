"""The daily digest: Managers and Admins get one email a day listing the reps detected since the
previous digest and still missing; none when there are none; once per team per day however
many workers run it; started by the pgqueuer schedule at MISSING_REP_DIGEST_HOUR."""

from __future__ import annotations

import asyncio

import croniter
import pytest

from app import db, tasks
from app.missing_reps import digest
from app.teams.models import Role
from tests.missing_reps.screen import IGNORE, detect
from tests.support import make_team

pytestmark = pytest.mark.usefixtures("server")


async def _quiet(mailbox, addresses: list[str], count: int, seconds: float = 1.0) -> None:
    """After `seconds`, each address still has exactly `count` messages."""
    await asyncio.sleep(seconds)
    for address in addresses:
        assert len(mailbox.messages_to(address)) == count, address


def _recipients(team) -> list[str]:
    return [team.member(Role.ADMIN).email, team.member(Role.MANAGER).email]


async def test_managers_and_admins_get_the_reps_detected_since_the_last_digest(api, mailbox):
    """One email each to the Admin and the Manager, listing the new MISSING reps (an ignored one
    is left out); Team Leaders and Reps get none; another team's reps are not in it."""
    team, other = await make_team("Acme"), await make_team()
    await detect(api, team, "Ghost Alpha", 2, rep_email="alpha@crm.example")
    await detect(api, team, "Ghost Bravo")
    ignored = await detect(api, team, "Ghost Ignored")
    await api.data(IGNORE, {"id": ignored}, token=team.token(Role.MANAGER))
    await detect(api, other, "Foreign Ghost")

    sent = {d.team_id: d for d in await digest.send_digests(settle_seconds=0)}
    assert sent[team.id].total == 2 and sorted(sent[team.id].recipients) == sorted(_recipients(team))

    for address in _recipients(team):
        (message,) = await mailbox.wait_for(address)
        assert message["Subject"] == "2 new missing reps in Acme"
        body = message.get_content()
        assert "Ghost Alpha <alpha@crm.example>: 2 lead(s)" in body and "Ghost Bravo" in body
        assert "Ghost Ignored" not in body and "Foreign Ghost" not in body
    await _quiet(mailbox, [team.member(Role.TEAM_LEADER).email, team.member(Role.REP).email], 0, 0.3)


async def test_no_digest_is_sent_when_nothing_new_is_missing(api, mailbox):
    """A team whose only new rep was ignored, and a team with no reps: no email."""
    team, empty = await make_team(), await make_team()
    ignored = await detect(api, team, "Ghost Ignored")
    await api.data(IGNORE, {"id": ignored}, token=team.token(Role.ADMIN))
    sent = await digest.send_digests(settle_seconds=0)
    assert [d.team_id for d in sent] == []
    assert (await digest.send_team_digest(empty.id, settle_seconds=0)).total == 0
    await _quiet(mailbox, _recipients(team) + _recipients(empty), 0)


async def test_each_team_gets_one_digest_a_day_even_when_several_workers_run_it(api, mailbox):
    """Three runs at once (as several workers would): one claims the day, the others find it
    claimed; a later run the same day sends nothing either."""
    team = await make_team()
    await detect(api, team, "Ghost Alpha")
    runs = await asyncio.gather(
        digest.send_digests(settle_seconds=0),
        digest.send_digests(settle_seconds=0),
        digest.send_team_digest(team.id, settle_seconds=0),
    )
    claimed = [d for d in (*runs[0], *runs[1], runs[2]) if d is not None and d.team_id == team.id]
    assert len(claimed) == 1
    await detect(api, team, "Ghost Bravo")
    assert await digest.send_team_digest(team.id, settle_seconds=0) is None
    for address in _recipients(team):
        await mailbox.wait_for(address)
    await _quiet(mailbox, _recipients(team), 1)


async def test_the_next_days_digest_starts_where_the_last_one_ended(api, mailbox):
    team = await make_team()
    await detect(api, team, "Ghost Alpha")
    await digest.send_digests(settle_seconds=0)
    await detect(api, team, "Ghost Bravo")
    # The next day.
    await db.connection().execute_query(
        "UPDATE missing_rep_digest SET digest_on = digest_on - 1 WHERE team_id = $1", [team.id]
    )
    (second,) = [d for d in await digest.send_digests(settle_seconds=0) if d.team_id == team.id]
    assert [r.name for r in second.reps] == ["Ghost Bravo"]
    manager = team.member(Role.MANAGER).email
    first_email, second_email = await mailbox.wait_for(manager, 2)
    assert "Ghost Alpha" in first_email.get_content()
    assert "Ghost Bravo" in second_email.get_content() and "Ghost Alpha" not in second_email.get_content()


async def test_a_rep_still_being_committed_waits_for_the_next_digest(api, mailbox):
    """The digest covers detections up to SETTLE_SECONDS ago: a rep detected just now is left
    for tomorrow's, never lost between two."""
    team = await make_team()
    await detect(api, team, "Ghost Alpha")
    assert [d.team_id for d in await digest.send_digests()] == []
    await db.connection().execute_query(
        "UPDATE missing_rep SET date_found = now() - interval '1 hour' WHERE team_id = $1", [team.id]
    )
    (sent,) = [d for d in await digest.send_digests() if d.team_id == team.id]
    assert [r.name for r in sent.reps] == ["Ghost Alpha"]


async def test_the_schedule_runs_the_digest_in_a_worker(api, mailbox, database_url, server_settings):
    """The digest's pgqueuer schedule, once due, is run by a worker: its emails arrive and the
    schedule's next run is the next MISSING_REP_DIGEST_HOUR."""
    team = await make_team()
    await detect(api, team, "Ghost Alpha")
    await db.connection().execute_query(
        "UPDATE missing_rep SET date_found = now() - interval '1 hour' WHERE team_id = $1", [team.id]
    )
    expression = f"0 {server_settings.missing_rep_digest_hour} * * *"
    assert " ".join(croniter.croniter(expression).expressions) == expression
    await db.connection().execute_query(
        "INSERT INTO pgqueuer_schedules (expression, entrypoint, next_run, status) "
        "VALUES ($1, $2, now() - interval '1 second', 'queued')",
        [expression, digest.DIGEST_SCHEDULE],
    )
    worker = tasks.new_worker(database_url, server_settings)
    running = asyncio.create_task(worker.run())
    try:
        for address in _recipients(team):
            (message,) = await mailbox.wait_for(address)
            assert "Ghost Alpha" in message.get_content()
    finally:
        worker.stop()
        await running
    rows = await db.connection().execute_query_dict(
        "SELECT next_run > now() AS later, status FROM pgqueuer_schedules WHERE entrypoint = $1", [digest.DIGEST_SCHEDULE]
    )
    assert rows == [{"later": True, "status": "queued"}]
