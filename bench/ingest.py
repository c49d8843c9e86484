"""Ingestion rate over HTTP: 4 concurrent clients send 100,000 leads in batches of 500 through
ingestLeads (10% naming 500 unknown reps) to `switchboard serve` in its own process.

Baseline: the same rows written by asyncpg's copy_records_to_table (COPY, no validation, no rep
matching, no missing reps, no conversations, no GraphQL), on the same server in the same run.

    .venv/bin/python -m bench.ingest [--leads 100000] [--batch 500] [--clients 4]
(PostgreSQL server from BENCH_DATABASE_URL or TEST_DATABASE_URL.)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from datetime import datetime, timezone

import asyncpg
import httpx
import orjson

from app import auth, db
from tests.support import start_server_process

# What an integration asks back: one outcome per lead, the id or the error.
INGEST = """
mutation($leads: [LeadInput!]!) {
  ingestLeads(leads: $leads) {
    createdCount updatedCount rejectedCount
    results { index externalId created lead { id } error { code message field } }
  }
}
"""

KNOWN_USERS = 50
UNKNOWN_REPS = 500


def make_leads(total: int, team_tag: str, users: list[str]) -> list[dict]:
    leads = []
    for n in range(total):
        rep = f"Unknown Rep {(n // 10) % UNKNOWN_REPS}" if n % 10 == 0 else users[n % len(users)]
        leads.append(
            {
                "externalId": f"{team_tag}-{n}",
                "name": f"Lead Number {n}",
                "email": f"lead{n}@customer.example",
                "phone": f"+1415555{n % 10000:04d}",
                "rep": {"name": rep},
            }
        )
    return leads


async def main(total: int, batch: int, clients: int) -> None:
    from app.teams import service as teams
    from app.teams.models import Role

    server_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    url = db.url_with_database(server_url, f"switchboard_bench_{uuid.uuid4().hex[:8]}")
    await db.apply_migrations(url)
    await db.init_orm(url)
    server = None
    try:
        team = await teams.create_team("Bench")
        users = [
            (await teams.create_user(team.id, name=f"Known User {i}", role=Role.REP, email=f"u{i}@x.example")).name
            for i in range(KNOWN_USERS)
        ]
        default = await teams.create_user(team.id, name="Default Rep", role=Role.REP)
        await teams.set_default_rep(team.id, default.id)
        token = await auth.create_token(team.id, user_id=None, name="bench")
        await db.close_orm()
        leads = make_leads(total, "api", users)
        batches = [leads[i : i + batch] for i in range(0, total, batch)]
        server, base = await asyncio.to_thread(start_server_process, url, "memory://", RUN_WORKERS="false", RATE_LIMITS="false")
        queue: asyncio.Queue = asyncio.Queue()
        for b in batches:
            queue.put_nowait(b)

        async def client() -> None:
            async with httpx.AsyncClient(base_url=base, timeout=120, headers={"Authorization": f"Bearer {token}"}) as http:
                while not queue.empty():
                    rows = queue.get_nowait()
                    response = await http.post("/graphql", content=orjson.dumps({"query": INGEST, "variables": {"leads": rows}}),
                                               headers={"content-type": "application/json"})
                    body = response.json()
                    assert not body.get("errors"), body["errors"]
                    assert body["data"]["ingestLeads"]["createdCount"] == len(rows), body["data"]["ingestLeads"]["rejectedCount"]

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        api_seconds = time.perf_counter() - started

        conn = await asyncpg.connect(**db.credentials_from_url(url))
        try:
            missing = await conn.fetchval("SELECT count(*) FROM missing_rep WHERE team_id = $1", team.id)
            bare_team = await conn.fetchval("INSERT INTO team (name, state, created_at) VALUES ('bare', 'ACTIVE', now()) RETURNING id")
            now = datetime.now(timezone.utc)
            records = [(bare_team, r["externalId"], r["name"], r["email"], r["phone"], "NEW_LEAD", r["rep"]["name"], now, now) for r in leads]
            started = time.perf_counter()
            for i in range(0, total, batch):
                await conn.copy_records_to_table(
                    "lead", records=records[i : i + batch],
                    columns=["team_id", "external_id", "name", "email", "phone", "status", "rep_name", "created_at", "updated_at"],
                )
            copy_seconds = time.perf_counter() - started
        finally:
            await conn.close()
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        await db.close_orm()
        await db.drop_database(url)

    print(f"leads: {total:,} in batches of {batch} from {clients} clients; {missing} missing reps detected")
    print(f"ingestLeads over HTTP: {api_seconds:.2f} s = {total / api_seconds:,.0f} leads/s")
    print(f"baseline, copy_records_to_table per batch: {copy_seconds:.2f} s = {total / copy_seconds:,.0f} leads/s")
    print(f"ratio HTTP / COPY: {total / api_seconds / (total / copy_seconds):.3f} (COPY is {api_seconds / copy_seconds:.1f}x faster)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    asyncio.run(main(args.leads, args.batch, args.clients))
