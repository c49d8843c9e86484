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
import socket
import sys
import uuid

import asyncpg
import httpx
import pytest

from app import db
from tests.mass_end.support import END_ALL
from tests.support import Api, lead_input

LEADS = 3000
BATCH_SIZE = 10  # about 300 batches: the kill lands early in the job
WORKER_ENV = {"MASS_END_BATCH_SIZE": str(BATCH_SIZE), "JOB_HEARTBEAT_TIMEOUT": "2", "JOB_POLL_INTERVAL": "0.5"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
async def own_database(server_url_base):
    name = f"switchboard_crash_{uuid.uuid4().hex[:10]}"
    url = db.url_with_database(server_url_base, name)
    await db.apply_migrations(url)
    yield url
    credentials = {**db.credentials_from_url(server_url_base), "database": "postgres"}
    conn = await asyncpg.connect(**credentials)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
async def api_without_workers(own_database):
    port = _free_port()
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


async def test_a_worker_killed_mid_job_is_replaced_and_nothing_is_ended_twice(own_database, api_without_workers):
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
    workers = []
    try:
        conversations = await conn.fetchval("SELECT count(*) FROM conversation WHERE state = 'ACTIVE'")
        assert conversations == LEADS + 25  # seed-demo's own leads too

        first = await _start(own_database, "worker", **WORKER_ENV)
        workers.append(first)
        while (await _job(conn, job_id))["processed"] == 0:
            assert first.returncode is None, "the first worker exited"
            await asyncio.sleep(0.005)
        first.send_signal(signal.SIGKILL)
        await first.wait()

        killed = await _job(conn, job_id)
        assert killed["state"] == "RUNNING" and 0 < killed["processed"] < conversations, dict(killed)
        ended = await conn.fetchval("SELECT count(*) FROM conversation WHERE state = 'ENDED'")
        assert ended == killed["processed"]  # each committed batch counted with its rows

        second = await _start(own_database, "worker", **WORKER_ENV)
        workers.append(second)
        for _ in range(1200):
            if (await _job(conn, job_id))["state"] != "RUNNING":
                break
            assert second.returncode is None, "the second worker exited"
            await asyncio.sleep(0.05)
        done = await _job(conn, job_id)
        assert (done["state"], done["processed"], done["total"], done["runs"]) == ("COMPLETED", conversations, conversations, 2)

        rows = await conn.fetch("SELECT state, end_reason, assistant_may_reply, count(*) FROM conversation GROUP BY 1, 2, 3")
        assert [tuple(r) for r in rows] == [("ENDED", "MASS_END", False, conversations)]
        assert await conn.fetchval("SELECT count(*) FROM lead WHERE status <> 'UNQUALIFIED'") == 0

        second.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.wait(), 30) == 0  # a worker stops cleanly on SIGTERM
        assert await conn.fetchval("SELECT count(*) FROM pgqueuer") == 0  # and its finished job left the queue
    finally:
        await conn.close()
        for proc in workers:
            await _stop(proc)
