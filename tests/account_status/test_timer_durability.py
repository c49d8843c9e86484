"""Timed pauses' timers live in PostgreSQL, not in a process: with no worker up at their time
nothing happens, and when workers come up (two at once) the resume happens once and the missed
reminders are covered by one email.

Runs on its own database with an API process that runs no workers, so that the only workers
are the `switchboard worker` processes this test starts.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from datetime import datetime, timedelta, timezone

import asyncpg
import pytest

from app import db
from tests.support import Api, start_server_process

REMIND_EVERY = 2.0
PAUSE = 'mutation($u: DateTime) { pauseAccount(confirmation: "CONFIRM", until: $u) { state pausedAt resumesAt } }'
STATUS = "{ accountStatus { state resumesAt } }"


def _env(database_url: str, mailbox) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
        "SMTP_HOST": mailbox.host,
        "SMTP_PORT": str(mailbox.port),
        "PAUSE_REMINDER_INTERVAL_SECONDS": str(REMIND_EVERY),
        "JOB_POLL_INTERVAL": "0.5",
    }


@pytest.fixture
async def api_without_workers(scratch_url, mailbox):
    await db.apply_migrations(scratch_url)
    env = _env(scratch_url, mailbox)
    env.pop("DATABASE_URL")
    proc, base = await asyncio.to_thread(start_server_process, scratch_url, RUN_WORKERS="false", **env)
    try:
        async with Api(base) as api:
            yield api
    finally:
        proc.kill()
        await asyncio.to_thread(proc.wait)


async def _run(database_url: str, mailbox, *args: str, stdout=asyncio.subprocess.DEVNULL) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app", *args, env={**os.environ, **_env(database_url, mailbox)}, stdout=stdout
    )


async def _seed(database_url: str, mailbox) -> dict:
    proc = await _run(database_url, mailbox, "seed-demo", stdout=asyncio.subprocess.PIPE)
    demo = json.loads((await proc.communicate())[0])
    demo["by_role"] = {user["role"]: user for user in demo["users"]}
    return demo


async def _sleep_until(moment: datetime) -> None:
    await asyncio.sleep(max((moment - datetime.now(timezone.utc)).total_seconds(), 0))


async def _wait_for_state(api: Api, token: str, state: str, timeout: float = 30) -> dict:
    for _ in range(int(timeout * 10)):
        status = (await api.data(STATUS, token=token))["accountStatus"]
        if status["state"] == state:
            return status
        await asyncio.sleep(0.1)
    raise AssertionError(f"still {status} after {timeout}s")


async def _stop(workers: list[asyncio.subprocess.Process]) -> None:
    for proc in workers:
        if proc.returncode is None:
            proc.send_signal(signal.SIGCONT)
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), 30)


async def test_a_resume_due_while_no_worker_runs_happens_once_when_workers_start(api_without_workers, scratch_url, mailbox):
    api = api_without_workers
    demo = await _seed(scratch_url, mailbox)
    until = datetime.now(timezone.utc) + timedelta(seconds=1)
    paused = (await api.data(PAUSE, {"u": until.isoformat()}, token=demo["by_role"]["ADMIN"]["token"]))["pauseAccount"]
    assert datetime.fromisoformat(paused["resumesAt"]) == until
    conn = await asyncpg.connect(**db.credentials_from_url(scratch_url))
    workers: list[asyncio.subprocess.Process] = []
    try:
        timer = await conn.fetchrow("SELECT execute_after, status::text AS status FROM pgqueuer WHERE entrypoint = 'account_resume'")
        assert (timer["execute_after"], timer["status"]) == (until, "queued")
        await _sleep_until(until + timedelta(seconds=1))
        rep = demo["by_role"]["REP"]["token"]
        assert (await api.data(STATUS, token=rep))["accountStatus"]["state"] == "PAUSED"  # nobody to run it yet

        workers = [await _run(scratch_url, mailbox, "worker") for _ in range(2)]
        assert await _wait_for_state(api, rep, "ACTIVE") == {"state": "ACTIVE", "resumesAt": None}
        await asyncio.sleep(1)  # both workers are up by now, and found nothing more to do
        unpauses = await conn.fetch(
            "SELECT actor_id, details FROM audit_event WHERE team_id = $1 AND action = 'ACCOUNT_UNPAUSED'", demo["team"]["id"]
        )
        assert [(row["actor_id"], json.loads(row["details"])["scheduled"]) for row in unpauses] == [(None, True)]
        assert await conn.fetchval("SELECT count(*) FROM pgqueuer WHERE entrypoint = 'account_resume'") == 0
    finally:
        await conn.close()
        await _stop(workers)


async def test_reminders_missed_while_the_worker_was_down_are_covered_by_one_email(api_without_workers, scratch_url, mailbox):
    """The worker is frozen (SIGSTOP) through two reminders and thawed after: one email to each
    Admin and Team Leader, and the next reminder is the next one of the pause's cadence."""
    api = api_without_workers
    probe, demo = await _seed(scratch_url, mailbox), await _seed(scratch_url, mailbox)
    worker = await _run(scratch_url, mailbox, "worker")
    try:
        # The worker is up once it has resumed a pause of a second.
        until = (datetime.now(timezone.utc) + timedelta(seconds=1)).isoformat()
        await api.data(PAUSE, {"u": until}, token=probe["by_role"]["ADMIN"]["token"])
        await _wait_for_state(api, probe["by_role"]["REP"]["token"], "ACTIVE")
        worker.send_signal(signal.SIGSTOP)

        paused_at = datetime.fromisoformat((await api.data(PAUSE, token=demo["by_role"]["ADMIN"]["token"]))["pauseAccount"]["pausedAt"])
        await _sleep_until(paused_at + timedelta(seconds=2 * REMIND_EVERY + 0.3))
        recipients = [demo["by_role"][role]["email"] for role in ("ADMIN", "TEAM_LEADER")]
        assert [mailbox.messages_to(address) for address in recipients] == [[], []]

        worker.send_signal(signal.SIGCONT)
        for address in recipients:
            await mailbox.wait_for(address, 1, timeout=REMIND_EVERY / 2)
        assert datetime.now(timezone.utc) < paused_at + timedelta(seconds=3 * REMIND_EVERY)
        assert [len(mailbox.messages_to(address)) for address in recipients] == [1, 1]
        conn = await asyncpg.connect(**db.credentials_from_url(scratch_url))
        try:
            next_due = await conn.fetchval("SELECT pause_reminder_at FROM team WHERE id = $1", demo["team"]["id"])
        finally:
            await conn.close()
        assert next_due == paused_at + timedelta(seconds=3 * REMIND_EVERY)
        others = [u["email"] for u in demo["users"] if u["role"] not in ("ADMIN", "TEAM_LEADER")]
        assert all(mailbox.messages_to(address) == [] for address in others)
    finally:
        await _stop([worker])
