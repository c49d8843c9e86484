"""Latency of the first page of `missingReps` ordered by LEADS_ORIGINALLY_ASSIGNED DESC.

Builds a scratch database with the migrations, one team with 20,000 missing reps (and a second
team as large, so the indexes hold other teams' rows too), starts `switchboard serve` in its own
process on loopback (as in production: the client's objects stay out of the server's heap), and
sends the Missing Reps screen's first-page query over HTTP, one request at a time. Prints p50 /
p99 (and more) in milliseconds, end to end (HTTP, GraphQL, SQL), and the plan PostgreSQL uses
for the page.

    .venv/bin/python bench/missing_reps_page.py [--server-url postgresql://postgres@127.0.0.1:5432/postgres]
        [--reps 20000] [--requests 1000] [--with-suggestions]

The scratch database is dropped at the end. Bounded: sequential requests, one client.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from app import auth, db  # noqa: E402
from app.teams import service as teams  # noqa: E402
from app.teams.models import Role  # noqa: E402
from app.validation import normalize_name  # noqa: E402
from bench import common  # noqa: E402
from tests.support import start_server_process  # noqa: E402

FIRST_NAMES = """James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara
Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty
Anthony Margaret Mark Sandra Donald Ashley Steven Kimberly Paul Emily Andrew Donna Joshua Michelle
Kenneth Carol Kevin Amanda Brian Dorothy George Melissa Timothy Deborah Stephen Rebecca""".split()
LAST_NAMES = """Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez
Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez
Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green
Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts""".split()

PAGE_QUERY = """
query($orderBy: MissingRepOrder) {
  missingReps(orderBy: $orderBy) {
    totalCount
    edges { cursor node { id name email dateFound leadsOriginallyAssigned status resolvedUser { id name } %s } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
ORDER = {"field": "LEADS_ORIGINALLY_ASSIGNED", "direction": "DESC"}


def _names(count: int, rng: random.Random) -> list[str]:
    combos = [
        f"{first} {initial}. {last}"
        for first in FIRST_NAMES
        for initial in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        for last in LAST_NAMES
    ]
    return rng.sample(combos, count)


async def _seed(url: str, reps: int, users: int) -> tuple[int, str]:
    """Two teams with `reps` missing reps each; the first also gets `users` users. Returns the
    first team's id and a Manager's token."""
    rng = random.Random(4)
    team_id, token = 0, ""
    conn = await asyncpg.connect(**db.credentials_from_url(url))
    try:
        for index in range(2):
            team = await teams.create_team(f"Bench team {index}")
            if index == 0:
                manager = await teams.create_user(team.id, name="Bench Manager", role=Role.MANAGER, email="m@bench.example")
                token = await auth.create_token(team.id, user_id=manager.id, name="bench")
                team_id = team.id
                user_names = _names(users, rng)
                await conn.execute(
                    """
                    INSERT INTO app_user (team_id, name, normalized_name, email, role, created_at)
                    SELECT $1, n, ($3::text[])[i], 'user' || i || '@bench.example', 'REP', now()
                    FROM unnest($2::text[]) WITH ORDINALITY AS t(n, i)
                    """,
                    team.id,
                    user_names,
                    [normalize_name(n) for n in user_names],
                )
            names = _names(reps, rng)
            await conn.execute(
                """
                INSERT INTO missing_rep (team_id, name, normalized_name, email, date_found,
                                         leads_originally_assigned, status)
                SELECT $1, n, ($3::text[])[i], CASE WHEN i % 3 = 0 THEN 'rep' || i || '@crm.example' END,
                       now() - (random() * interval '365 days'), 1 + (random() * 500)::int,
                       CASE WHEN i % 10 = 0 THEN 'IGNORED' ELSE 'MISSING' END
                FROM unnest($2::text[]) WITH ORDINALITY AS t(n, i)
                """,
                team.id,
                names,
                [normalize_name(n) for n in names],
            )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return team_id, token


async def _explain(url: str, team_id: int) -> str:
    conn = await asyncpg.connect(**db.credentials_from_url(url))
    try:
        rows = await conn.fetch(
            """
            EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
            SELECT * FROM missing_rep WHERE team_id = $1 AND status = 'MISSING'
            ORDER BY leads_originally_assigned DESC, id DESC LIMIT 51
            """,
            team_id,
        )
        return "\n".join(r[0] for r in rows)
    finally:
        await conn.close()


def _serve(url: str) -> tuple[subprocess.Popen, str]:
    """`switchboard serve` on a free loopback port, without background workers; once ready."""
    return start_server_process(url, "memory://", RUN_WORKERS="false")


def _report(label: str, samples: list[float]) -> None:
    samples = sorted(samples)
    q = statistics.quantiles(samples, n=100, method="inclusive")
    print(
        f"{label}: n={len(samples)}  p50={q[49]:.2f} ms  p90={q[89]:.2f} ms  p99={q[98]:.2f} ms  "
        f"mean={statistics.fmean(samples):.2f} ms  max={samples[-1]:.2f} ms"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--server-url",
        default=None,
        help="a PostgreSQL server (any database on it; default: bench/common.py server_url); a scratch database is created there",
    )
    parser.add_argument("--reps", type=int, default=20_000, help="missing reps per team")
    parser.add_argument("--users", type=int, default=2_000, help="users of the measured team")
    parser.add_argument("--requests", type=int, default=1_000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--with-suggestions", action="store_true", help="also time the page with suggestedMatches")
    args = parser.parse_args()

    async with common.scratch_database(args.server_url) as url:
        await _measure(url, args)


async def _measure(url: str, args: argparse.Namespace) -> None:
    await db.init_orm(url)
    server = None
    try:
        t0 = time.perf_counter()
        team_id, token = await _seed(url, args.reps, args.users)
        print(f"seeded 2 teams x {args.reps} missing reps (+{args.users} users) in {time.perf_counter() - t0:.1f} s")

        await db.close_orm()
        server, base_url = await asyncio.to_thread(_serve, url)

        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            headers = {"Authorization": f"Bearer {token}"}

            async def timed(query: str, count: int) -> list[float]:
                samples = []
                for _ in range(count):
                    start = time.perf_counter()
                    response = await client.post("/graphql", json={"query": query, "variables": {"orderBy": ORDER}}, headers=headers)
                    samples.append((time.perf_counter() - start) * 1000)
                    body = response.json()
                    assert not body.get("errors"), body
                return samples

            page = PAGE_QUERY % ""
            await timed(page, args.warmup)
            first = (await client.post("/graphql", json={"query": page, "variables": {"orderBy": ORDER}}, headers=headers)).json()
            edges = first["data"]["missingReps"]["edges"]
            counts = [e["node"]["leadsOriginallyAssigned"] for e in edges]
            assert counts == sorted(counts, reverse=True) and len(edges) == 50
            print(f"first page: {len(edges)} reps of totalCount={first['data']['missingReps']['totalCount']}, "
                  f"leads {counts[0]}..{counts[-1]}")
            _report("missingReps first page, LEADS_ORIGINALLY_ASSIGNED DESC (HTTP end to end)", await timed(page, args.requests))
            if args.with_suggestions:
                with_suggestions = PAGE_QUERY % "suggestedMatches { score user { id } }"
                await timed(with_suggestions, 5)
                _report("same page with suggestedMatches for its 50 reps", await timed(with_suggestions, max(args.requests // 10, 20)))
        print("\nplan of the page query:\n" + await _explain(url, team_id))
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        await db.close_orm()


if __name__ == "__main__":
    asyncio.run(main())
