"""Mass end at scale: the batched job against one bare UPDATE of the same rows, in the same run.

    .venv/bin/python bench/mass_end.py [--conversations 200000] [--batch-size 5000] [--rounds 5]

On the PostgreSQL server bench/common.py names (BENCH_DATABASE_URL or TEST_DATABASE_URL) it seeds one scratch database: a team with N leads (~250-byte rows, status NEW_LEAD) and N
active conversations, interleaved with a bystander team holding N/10 more. Each round copies it
twice (CREATE DATABASE ... TEMPLATE: same data, statistics and visibility map) and, after
CHECKPOINT, in alternating order, times in one copy a single transaction of the two bare UPDATEs (conversations ended,
leads NEW_LEAD -> UNQUALIFIED), and in the other the real mass end: `end_all_conversations`
queues the job, a real Worker (pgqueuer) runs it, and the clock stops when a subscriber of its
progress sees COMPLETED. Meanwhile a probe ingests one lead for the bystander team every 50 ms
through the real ingestion service and records how long each call took. Every scratch database
is dropped at the end. The machine is shared, so it reports each round and the median ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import broadcast, db, tasks  # noqa: E402
from app.leads.service import LeadData, ingest_leads  # noqa: E402
from app.mass_end import service as mass_end  # noqa: E402
from app.settings import Settings  # noqa: E402
from bench import common  # noqa: E402

SEED = """
WITH teams AS (
    INSERT INTO team (name, state, created_at) VALUES ('Bench', 'ACTIVE', now()), ('Bystander', 'ACTIVE', now())
    RETURNING id
)
SELECT array_agg(id ORDER BY id) FROM teams
"""
SEED_USERS = """
INSERT INTO app_user (team_id, name, normalized_name, email, role, created_at)
SELECT t, 'Bench Admin', 'bench admin', 'admin-' || t || '@bench.example', 'ADMIN', now() FROM unnest($1::int[]) t
RETURNING id, team_id
"""
# Every 11th row belongs to the bystander team, so the two teams' rows share pages.
SEED_LEADS = """
INSERT INTO lead (team_id, external_id, name, email, phone, status, rep_name, rep_email,
                  rep_external_id, assigned_user_id, created_at, updated_at)
SELECT CASE WHEN g % 11 = 0 THEN $2::int ELSE $1::int END,
       'crm-lead-' || lpad(g::text, 10, '0'),
       'Firstname Lastname ' || g,
       'firstname.lastname.' || g || '@customer.example',
       '+1415555' || lpad((g % 10000)::text, 4, '0'),
       'NEW_LEAD',
       'Representative Name ' || (g % 50),
       'representative' || (g % 50) || '@company-domain.example',
       'crm-rep-' || lpad((g % 50)::text, 6, '0'),
       CASE WHEN g % 11 = 0 THEN $4::int ELSE $3::int END,
       now(), now()
FROM generate_series(1, $5::int) g
"""
SEED_CONVERSATIONS = """
INSERT INTO conversation (team_id, lead_id, state, assistant_may_reply, created_at)
SELECT team_id, id, 'ACTIVE', true, now() FROM lead ORDER BY id
"""
BARE_CONVERSATIONS = """
UPDATE conversation SET state = 'ENDED', end_reason = 'MASS_END', ended_at = now(), assistant_may_reply = false
WHERE team_id = $1 AND state = 'ACTIVE'
"""
BARE_LEADS = "UPDATE lead SET status = 'UNQUALIFIED', updated_at = now() WHERE team_id = $1 AND status = 'NEW_LEAD'"


async def _admin(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(**db.credentials_from_url(url))


async def build_database(server_url: str, conversations: int) -> tuple[str, dict]:
    url = common.scratch_url(server_url)
    try:
        await db.apply_migrations(url)
        return url, await _seed(url, conversations)
    except BaseException:
        await db.drop_database(url)
        raise


async def copy_database(server_url: str, template_url: str) -> str:
    """An identical copy (data, statistics, visibility map) of the seeded template."""
    url = common.scratch_url(server_url)
    conn = await _admin(server_url)
    try:
        template = db.credentials_from_url(template_url)["database"]
        await conn.execute(f'CREATE DATABASE "{db.credentials_from_url(url)["database"]}" TEMPLATE "{template}"')
    finally:
        await conn.close()
    return url


async def _seed(url: str, conversations: int) -> dict:
    conn = await _admin(url)
    try:
        team_ids = await conn.fetchval(SEED)
        users = {r["team_id"]: r["id"] for r in await conn.fetch(SEED_USERS, team_ids)}
        team, bystander = team_ids
        rows = conversations * 11 // 10  # N for the team, N/10 for the bystander
        await conn.execute(SEED_LEADS, team, bystander, users[team], users[bystander], rows)
        await conn.execute(SEED_CONVERSATIONS)
        await conn.execute("VACUUM ANALYZE")
        info = {
            "team": team,
            "bystander": bystander,
            "admin": users[team],
            "active": await conn.fetchval("SELECT count(*) FROM conversation WHERE team_id = $1", team),
            "bystander_active": await conn.fetchval("SELECT count(*) FROM conversation WHERE team_id = $1", bystander),
            "lead_row_bytes": round(await conn.fetchval("SELECT avg(pg_column_size(lead.*)) FROM lead")),
        }
    finally:
        await conn.close()
    return info


class IngestProbe:
    """Ingests one lead for the bystander team every 50 ms and records each call's latency."""

    def __init__(self, team_id: int) -> None:
        self.team_id = team_id
        self.latencies: list[float] = []
        self._stop = asyncio.Event()

    async def run(self) -> None:
        n = 0
        while not self._stop.is_set():
            n += 1
            started = time.perf_counter()
            await ingest_leads(self.team_id, [LeadData(external_id=f"probe-{uuid.uuid4().hex}", email=f"p{n}@probe.example")])
            self.latencies.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.05)

    def stop(self) -> None:
        self._stop.set()

    def summary(self) -> str:
        if not self.latencies:
            return "no probe"
        ordered = sorted(self.latencies)
        return f"{len(ordered)} inserts, median {statistics.median(ordered):.1f} ms, max {ordered[-1]:.1f} ms"


async def checkpoint(url: str) -> None:
    conn = await _admin(url)
    try:
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()


async def time_bare_update(url: str, info: dict) -> tuple[float, str]:
    await checkpoint(url)
    probe = IngestProbe(info["bystander"])
    probe_task = asyncio.create_task(probe.run())
    await asyncio.sleep(0.2)
    conn = await _admin(url)
    try:
        started = time.perf_counter()
        async with conn.transaction():
            ended = await conn.execute(BARE_CONVERSATIONS, info["team"])
            await conn.execute(BARE_LEADS, info["team"])
        elapsed = time.perf_counter() - started
    finally:
        await conn.close()
    probe.stop()
    await probe_task
    assert ended == f"UPDATE {info['active']}", ended
    return elapsed, probe.summary()


async def time_job(url: str, info: dict, batch_size: int) -> tuple[float, mass_end.MassEndJobRecord, list, str]:
    settings = Settings(mass_end_batch_size=batch_size, run_workers=True)
    worker = tasks.new_worker(url, settings)
    worker_task = asyncio.create_task(worker.run())
    await asyncio.sleep(1.0)  # the worker is listening
    await checkpoint(url)
    probe = IngestProbe(info["bystander"])
    probe_task = asyncio.create_task(probe.run())
    await asyncio.sleep(0.2)
    seen = []
    try:
        started = time.perf_counter()
        job = await mass_end.end_all_conversations(info["team"], info["admin"])
        # As a client does after the mutation: the snapshot, then the events after it.
        async for snapshot in mass_end.watch_progress(info["team"], job.id):
            seen.append(snapshot)
        elapsed = time.perf_counter() - started
    finally:
        probe.stop()
        await probe_task
        worker.stop()
        await worker_task
    final = await mass_end.get_job(info["team"], job.id)
    return elapsed, final, seen, probe.summary()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=200_000)
    parser.add_argument("--batch-size", type=int, default=Settings.model_fields["mass_end_batch_size"].default)
    parser.add_argument("--rounds", type=int, default=5, help="bare/job pairs, each on fresh copies of the data")
    args = parser.parse_args()
    server_url = common.server_url()

    template_url, info = await build_database(server_url, args.conversations)
    bus = broadcast.EventBus("memory://")
    await bus.start()
    broadcast.set_bus(bus)
    print(
        f"{info['active']:,} active conversations for the team ({info['bystander_active']:,} for a bystander team), "
        f"lead rows ~{info['lead_row_bytes']} bytes, batch size {args.batch_size:,}",
        flush=True,
    )
    ratios = []
    try:
        for round_ in range(1, args.rounds + 1):
            bare_url = await copy_database(server_url, template_url)
            job_url = await copy_database(server_url, template_url)
            try:
                # Which one runs first alternates, so neither always meets the other's leftovers.
                for which in ("bare", "job") if round_ % 2 else ("job", "bare"):
                    await db.init_orm(bare_url if which == "bare" else job_url)
                    try:
                        if which == "bare":
                            bare, bare_probe = await time_bare_update(bare_url, info)
                        else:
                            elapsed, final, seen, job_probe = await time_job(job_url, info, args.batch_size)
                    finally:
                        await db.close_orm()
            finally:
                await db.drop_database(bare_url)
                await db.drop_database(job_url)
            assert (final.state.value, final.processed, final.total) == ("COMPLETED", info["active"], info["active"]), final
            ratios.append(elapsed / bare)
            in_job = (final.finished_at - final.started_at).total_seconds()
            print(f"round {round_}:", flush=True)
            print(f"  bare UPDATEs, one transaction:      {bare:5.2f} s   bystander ingestion meanwhile: {bare_probe}")
            print(
                f"  mass end, request to COMPLETED:     {elapsed:5.2f} s   (in the job: {in_job:.2f} s)   "
                f"bystander ingestion meanwhile: {job_probe}"
            )
            print(
                f"  progress a subscriber saw: the snapshot (processed {seen[0].processed:,}) and {len(seen) - 1} "
                f"events ({len(seen) - 2} batches + the final COMPLETED)"
            )
            print(f"  ratio job / bare: {ratios[-1]:.2f}x", flush=True)
        print(f"median ratio over {len(ratios)} rounds: {statistics.median(ratios):.2f}x "
              f"(each: {', '.join(f'{r:.2f}x' for r in ratios)})")
    finally:
        broadcast.set_bus(None)
        await bus.stop()
        await db.drop_database(template_url)


if __name__ == "__main__":
    asyncio.run(main())
