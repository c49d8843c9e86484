"""Ingestion rate: 20,000 leads in batches of 500 through ingestLeads, 10% naming 500 unknown reps.

Baseline: the same rows written by a bare INSERT ... SELECT FROM unnest per batch (no rep
matching, no missing reps, no conversations, no GraphQL), on the same server in the same run.

    .venv/bin/python -m bench.ingest [--leads 20000] [--batch 500]
(PostgreSQL from BENCH_DATABASE_URL or TEST_DATABASE_URL, else an embedded one.)
"""

from __future__ import annotations

import argparse
import asyncio
import time

import asyncpg
import httpx

from app import auth, db
from bench.common import scratch_app

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


async def main(total: int, batch: int) -> None:
    from app.leads.ingestion import clean_lead
    from app.leads.service import LeadData, ingest_leads
    from app.teams import service as teams
    from app.teams.models import Role

    async with scratch_app() as (base, url):
        team = await teams.create_team("Bench")
        users = [
            (await teams.create_user(team.id, name=f"Known User {i}", role=Role.REP, email=f"u{i}@x.example")).name
            for i in range(KNOWN_USERS)
        ]
        default = await teams.create_user(team.id, name="Default Rep", role=Role.REP)
        await teams.set_default_rep(team.id, default.id)
        token = await auth.create_token(team.id, user_id=None, name="bench")
        leads = make_leads(total, "api", users)

        async with httpx.AsyncClient(base_url=base, timeout=120) as http:
            started = time.perf_counter()
            for i in range(0, total, batch):
                response = await http.post(
                    "/graphql",
                    json={"query": INGEST, "variables": {"leads": leads[i : i + batch]}},
                    headers={"Authorization": f"Bearer {token}"},
                )
                body = response.json()
                assert not body.get("errors"), body["errors"]
                assert body["data"]["ingestLeads"]["createdCount"] == len(leads[i : i + batch])
            api_seconds = time.perf_counter() - started

        # The same work called in-process, without HTTP and GraphQL, on a second team.
        team2 = await teams.create_team("Bench service")
        for i in range(KNOWN_USERS):
            await teams.create_user(team2.id, name=f"Known User {i}", role=Role.REP)
        default2 = await teams.create_user(team2.id, name="Default Rep", role=Role.REP)
        await teams.set_default_rep(team2.id, default2.id)
        data = [
            LeadData(external_id=l["externalId"], name=l["name"], email=l["email"], phone=l["phone"], rep_name=l["rep"]["name"])
            for l in leads
        ]
        started = time.perf_counter()
        for i in range(0, total, batch):
            await ingest_leads(team2.id, data[i : i + batch])
        service_seconds = time.perf_counter() - started

        started = time.perf_counter()
        for n, lead in enumerate(leads):
            clean_lead(n, LeadData(external_id=lead["externalId"], name=lead["name"], email=lead["email"],
                               phone=lead["phone"], rep_name=lead["rep"]["name"]))
        validation_seconds = time.perf_counter() - started

        conn = await asyncpg.connect(**db.credentials_from_url(url))
        try:
            missing = await conn.fetchval("SELECT count(*) FROM missing_rep WHERE team_id = $1", team.id)
            counted = await conn.fetchval(
                "SELECT sum(leads_originally_assigned) FROM missing_rep WHERE team_id = $1", team.id
            )
            baseline_team = await conn.fetchval("INSERT INTO team (name, state, created_at) VALUES ('bare', 'ACTIVE', now()) RETURNING id")
            started = time.perf_counter()
            for i in range(0, total, batch):
                rows = leads[i : i + batch]
                await conn.execute(
                    """
                    INSERT INTO lead (team_id, external_id, name, email, phone, status, rep_name,
                                      assigned_user_id, created_at, updated_at)
                    SELECT $1, e, n, m, p, 'NEW_LEAD', r, NULL, now(), now()
                    FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS v(e, n, m, p, r)
                    """,
                    baseline_team,
                    [r["externalId"] for r in rows],
                    [r["name"] for r in rows],
                    [r["email"] for r in rows],
                    [r["phone"] for r in rows],
                    [r["rep"]["name"] for r in rows],
                )
            bare_seconds = time.perf_counter() - started
        finally:
            await conn.close()

    print(f"leads: {total} in batches of {batch}; {missing} missing reps detected, {counted} leads counted to them")
    print(f"ingestLeads over HTTP: {api_seconds:.2f} s = {total / api_seconds:,.0f} leads/s")
    print(f"baseline (bare INSERT ... unnest per batch): {bare_seconds:.2f} s = {total / bare_seconds:,.0f} leads/s")
    print(f"ratio to baseline: {api_seconds / bare_seconds:.2f}x")
    print(f"the service alone, in-process (no HTTP, no GraphQL): {service_seconds:.2f} s = {total / service_seconds:,.0f} leads/s")
    print(f"of which input validation alone (email-validator + phonenumbers, in Python): {validation_seconds:.2f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    asyncio.run(main(args.leads, args.batch))
