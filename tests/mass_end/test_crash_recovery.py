"""A worker process killed (SIGKILL) in the middle of a mass end: another worker process takes
the job up and finishes it, every conversation ended exactly once and `processed` exact.

Runs on its own database with an API process that runs no workers, so that the only workers
are the `switchboard worker` processes this test starts and kills.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from dataclasses import dataclass, field

import asyncpg
import httpx
import pytest

from app import db
from tests.mass_end.support import END_ALL, REOPEN
from tests.support import Api, free_port, lead_input

LEADS = 3000
BATCH_SIZE = 10  # about 300 batches: the kill lands early in the job
WORKER_ENV = {"MASS_END_BATCH_SIZE": str(BATCH_SIZE), "JOB_HEARTBEAT_TIMEOUT": "2", "JOB_POLL_INTERVAL": "0.5"}


async def _start(database_url: str, *args: str, **env: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app", *args,
        env={**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING", **env},
        stdout=asyncio.subprocess.PIPE if args[0] == "seed-demo" else asyncio.subprocess.DEVNULL,
    )


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.kill()
        await proc.wait()


@pytest.fixture
async def own_database(scratch_url):
    await db.apply_migrations(scratch_url)
    return scratch_url


@pytest.fixture
async def api_without_workers(own_database):
    port = free_port()
    proc = await _start(own_database, "serve", "--port", str(port), RUN_WORKERS="false")
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(300):
                assert proc.returncode is None, "the API process exited"
                try:
                    if (await client.get(f"{base}/readyz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
            else:
                pytest.fail("the API process did not become ready")
        async with Api(base) as api:
            yield api
    finally:
        await _stop(proc)


async def _job(conn: asyncpg.Connection, job_id: int) -> asyncpg.Record:
    return await conn.fetchrow("SELECT state, total, processed, runs FROM mass_end_job WHERE id = $1", job_id)


@dataclass
class QueuedMassEnd:
    database_url: str
    conn: asyncpg.Connection
    job_id: int
    conversations: int
    api: Api
    admin_token: str
    workers: list[asyncio.subprocess.Process] = field(default_factory=list)

    async def start_worker(self) -> asyncio.subprocess.Process:
        proc = await _start(self.database_url, "worker", **WORKER_ENV)
        self.workers.append(proc)
        return proc

    async def job(self) -> asyncpg.Record:
        return await _job(self.conn, self.job_id)

    async def wait_for_first_batch(self, worker: asyncio.subprocess.Process) -> None:
        while (await self.job())["processed"] == 0:
            assert worker.returncode is None, "the worker exited"
            await asyncio.sleep(0.005)

    async def interrupt_mid_job(self, sig: int) -> tuple[int, asyncpg.Record]:
        """Starts a worker, sends it `sig` once its first batch has committed, and returns its exit
        code and the job then: still RUNNING, partly done."""
        worker = await self.start_worker()
        await self.wait_for_first_batch(worker)
        worker.send_signal(sig)
        code = await asyncio.wait_for(worker.wait(), 30)
        job = await self.job()
        assert job["state"] == "RUNNING" and 0 < job["processed"] < self.conversations, dict(job)
        return code, job

    async def wait_until_finished(self, worker: asyncio.subprocess.Process) -> asyncpg.Record:
        for _ in range(1200):
            if (job := await self.job())["state"] not in ("QUEUED", "RUNNING"):
                return job
            assert worker.returncode is None, "the worker exited"
            await asyncio.sleep(0.05)
        raise AssertionError(f"the job did not finish: {dict(await self.job())}")

    async def assert_each_conversation_ended_once(self) -> None:
        done = await self.job()
        assert (done["state"], done["processed"], done["total"]) == ("COMPLETED", self.conversations, self.conversations)
        rows = await self.conn.fetch("SELECT state, end_reason, assistant_may_reply, count(*) FROM conversation GROUP BY 1, 2, 3")
        assert [tuple(r) for r in rows] == [("ENDED", "MASS_END", False, self.conversations)]
        assert await self.conn.fetchval("SELECT count(*) FROM lead WHERE status <> 'UNQUALIFIED'") == 0


@pytest.fixture
async def queued_mass_end(own_database, api_without_workers):
    """A demo team with LEADS more leads, and its mass end requested: queued, with no worker yet."""
    api = api_without_workers
    seed = await _start(own_database, "seed-demo")
    demo = json.loads((await seed.communicate())[0])
    admin = next(u["token"] for u in demo["users"] if u["role"] == "ADMIN")
    for start in range(0, LEADS, 1000):
        leads = [lead_input(f"crash-{n}") for n in range(start, start + 1000)]
        await api.data(
            "mutation($l: [LeadInput!]!) { ingestLeads(leads: $l) { createdCount } }", {"l": leads},
            token=demo["integration"]["token"],
        )
    job_id = int((await api.data(END_ALL, {"c": "CONFIRM"}, token=admin))["endAllConversations"]["id"])
    conn = await asyncpg.connect(**db.credentials_from_url(own_database))
    conversations = await conn.fetchval("SELECT count(*) FROM conversation WHERE state = 'ACTIVE'")
    assert conversations == LEADS + 25  # seed-demo's own leads too
    queued = QueuedMassEnd(own_database, conn, job_id, conversations, api, admin)
    try:
        yield queued
    finally:
        await conn.close()
        for proc in queued.workers:
            await _stop(proc)


async def test_a_worker_killed_mid_job_is_replaced_and_nothing_is_ended_twice(queued_mass_end):
    """SIGKILL mid-job: the committed batches stay counted; after the heartbeat goes stale another
    worker process takes the job up, and it finishes with each conversation ended exactly once."""
    mass_end = queued_mass_end
    _, killed = await mass_end.interrupt_mid_job(signal.SIGKILL)
    ended = await mass_end.conn.fetchval("SELECT count(*) FROM conversation WHERE state = 'ENDED'")
    assert ended == killed["processed"]  # each committed batch was counted with its rows

    second = await mass_end.start_worker()
    await mass_end.wait_until_finished(second)
    await mass_end.assert_each_conversation_ended_once()
    assert (await mass_end.job())["runs"] == 2

    second.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(second.wait(), 30) == 0  # a worker stops cleanly on SIGTERM
    assert await mass_end.conn.fetchval("SELECT count(*) FROM pgqueuer") == 0  # and its finished job left the queue


async def test_a_worker_stopped_mid_job_hands_it_back_at_once(queued_mass_end):
    """SIGTERM mid-job: the worker stops after the batch in hand and puts the job back in the
    queue right away (no heartbeat timeout to wait for); the next worker finishes it."""
    mass_end = queued_mass_end
    code, _ = await mass_end.interrupt_mid_job(signal.SIGTERM)
    assert code == 0
    assert await mass_end.conn.fetchval("SELECT status::text FROM pgqueuer") == "queued"

    second = await mass_end.start_worker()
    await mass_end.wait_until_finished(second)
    await mass_end.assert_each_conversation_ended_once()


async def test_a_worker_killed_mid_reopen_is_replaced_and_nothing_is_reopened_twice(queued_mass_end):
    """The same for the undo: SIGKILL while a REOPEN job runs; the next worker finishes it, each
    conversation reopened exactly once, each lead's status back where it was, the counts exact."""
    mass_end = queued_mass_end
    worker = await mass_end.start_worker()
    await mass_end.wait_until_finished(worker)
    worker.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(worker.wait(), 30) == 0
    reopened = await mass_end.api.data(REOPEN, {"id": str(mass_end.job_id), "c": "CONFIRM"}, token=mass_end.admin_token)
    end_job_id, mass_end.job_id = mass_end.job_id, int(reopened["reopenMassEnd"]["id"])

    _, killed = await mass_end.interrupt_mid_job(signal.SIGKILL)
    active = await mass_end.conn.fetchval("SELECT count(*) FROM conversation WHERE state = 'ACTIVE'")
    assert active == killed["processed"]  # each committed batch was counted with its rows

    second = await mass_end.start_worker()
    done = await mass_end.wait_until_finished(second)
    assert (done["state"], done["processed"], done["total"], done["runs"]) == ("COMPLETED", mass_end.conversations, mass_end.conversations, 2)
    rows = await mass_end.conn.fetch("SELECT state, end_reason, assistant_may_reply, count(*) FROM conversation GROUP BY 1, 2, 3")
    assert [tuple(r) for r in rows] == [("ACTIVE", None, True, mass_end.conversations)]
    outcomes = await mass_end.conn.fetch(
        "SELECT reopen_outcome, count(*) FROM mass_ended_conversation WHERE job_id = $1 GROUP BY 1", end_job_id
    )
    assert [tuple(r) for r in outcomes] == [("REOPENED", mass_end.conversations)]
    moved = await mass_end.conn.fetchval(
        "SELECT count(*) FROM mass_ended_conversation r JOIN conversation c ON c.id = r.conversation_id "
        "JOIN lead l ON l.id = c.lead_id WHERE l.status <> r.lead_status_before"
    )
    assert moved == 0
