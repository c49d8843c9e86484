"""Helpers for the mass end tests: the GraphQL documents, waiting for a job, holding a team's lock."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg

from app import db
from app.db import LockSpace
from tests.support import Api, Member, TeamFixture, ingest, lead_input

JOB_FIELDS = "id state total processed createdAt startedAt finishedAt estimatedSecondsLeft failureReason requestedBy { id }"
END_ALL = f"mutation($c: String!) {{ endAllConversations(confirmation: $c) {{ {JOB_FIELDS} }} }}"
JOB = f"query($id: ID!) {{ massEndJob(id: $id) {{ {JOB_FIELDS} }} }}"
PROGRESS = f"subscription($id: ID!) {{ massEndProgress(jobId: $id) {{ {JOB_FIELDS} }} }}"

# Scoped ends and their undo.
SCOPED_JOB_FIELDS = (
    f"{JOB_FIELDS} kind filter skippedCount reopenableUntil reopenedBy {{ id }} reopens {{ id }} "
    "skipped { reason lead { id } }"
)
END = (
    "mutation($c: String!, $f: ConversationFilter!) "
    f"{{ endConversations(confirmation: $c, filter: $f) {{ {SCOPED_JOB_FIELDS} }} }}"
)
PREVIEW = (
    "query($f: ConversationFilter) { massEndPreview(filter: $f) { "
    "conversationCount memberCount summary byMember { conversationCount user { id } } } }"
)
REOPEN = f"mutation($id: ID!, $c: String!) {{ reopenMassEnd(jobId: $id, confirmation: $c) {{ {SCOPED_JOB_FIELDS} }} }}"
SCOPED_JOB = f"query($id: ID!) {{ massEndJob(id: $id) {{ {SCOPED_JOB_FIELDS} }} }}"


async def end_all(api: Api, token: str) -> dict:
    return (await api.data(END_ALL, {"c": "CONFIRM"}, token=token))["endAllConversations"]


async def wait_until_finished(api: Api, token: str, job_id: str, timeout: float = 30) -> dict:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        job = (await api.data(JOB, {"id": job_id}, token=token))["massEndJob"]
        if job["state"] in ("COMPLETED", "FAILED"):
            return job
        if loop.time() > deadline:
            raise AssertionError(f"job {job_id} still {job['state']} after {timeout}s: {job}")
        await asyncio.sleep(0.05)


async def leads_of(api: Api, team: TeamFixture, member: Member | None, count: int, prefix: str) -> list[int]:
    """`count` new leads assigned to `member` (None: to the Default Rep), each with an active conversation."""
    rep_email = member.email if member else None
    result = await ingest(api, team, [lead_input(f"{prefix}{n}", rep_email=rep_email) for n in range(count)])
    return [int(r["lead"]["id"]) for r in result["results"]]


async def end_scoped(api: Api, token: str, scope: dict) -> dict:
    return (await api.data(END, {"c": "CONFIRM", "f": scope}, token=token))["endConversations"]


async def preview(api: Api, token: str, scope: dict | None) -> dict:
    return (await api.data(PREVIEW, {"f": scope}, token=token))["massEndPreview"]


async def reopen(api: Api, token: str, job_id: str) -> dict:
    return (await api.data(REOPEN, {"id": job_id, "c": "CONFIRM"}, token=token))["reopenMassEnd"]


async def scoped_job(api: Api, token: str, job_id: str) -> dict:
    return (await api.data(SCOPED_JOB, {"id": job_id}, token=token))["massEndJob"]


async def ingest_many(api: Api, team, count: int, prefix: str = "L") -> list[str]:
    """`count` new leads (each with an active conversation); returns their lead ids."""
    ids = []
    for start in range(0, count, 1000):
        leads = [lead_input(f"{prefix}{n}") for n in range(start, min(count, start + 1000))]
        result = await ingest(api, team, leads)
        ids += [r["lead"]["id"] for r in result["results"]]
    return ids


@contextlib.asynccontextmanager
async def team_lock_held(database_url: str, team_id: int):
    """Holds the team's mass end lock, as a worker still running the job elsewhere would."""
    conn = await asyncpg.connect(**db.credentials_from_url(database_url))
    try:
        await conn.execute("SELECT pg_advisory_lock($1, $2)", LockSpace.MASS_END, team_id)
        yield
    finally:
        await conn.close()


async def queued_jobs_by_task() -> dict[str, int]:
    """How many background jobs were ever queued, per task (pgqueuer logs each one as 'queued')."""
    rows = await db.connection().execute_query_dict(
        "SELECT entrypoint, count(DISTINCT job_id) AS n FROM pgqueuer_log WHERE status = 'queued' GROUP BY entrypoint"
    )
    return {r["entrypoint"]: r["n"] for r in rows}


async def retries_logged(job_id: int) -> int:
    """How often the queue job running mass end `job_id` was put back for a retry."""
    rows = await db.connection().execute_query_dict(
        """
        SELECT count(*) AS n FROM pgqueuer_log l JOIN pgqueuer q ON q.id = l.job_id
        WHERE l.status = 'queued' AND l.traceback IS NOT NULL AND q.payload = convert_to($1, 'UTF8')
        """,
        [f'{{"job_id": {job_id}}}'],
    )
    return rows[0]["n"]
