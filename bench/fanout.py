"""Live fan-out: N dashboards watch the account status while an admin pauses and unpauses.

    .venv/bin/python -m bench.fanout [--subscribers 500,2000,5000] [--seconds 20] [--rate 2]
        [--clients 4] [--modes shared,unshared]

For each N, and for shared execution on and off (the baseline) in the same run: a fresh
scratch database (bench/common.py) with one team whose N/4 Admins, Team Leaders, Managers and
Reps each open a graphql-transport-ws connection to one `switchboard serve` process from
`--clients` separate client processes, and subscribe to accountStatusChanged with the
dashboard's fields (counts included). Then real pauseAccount / unpauseAccount mutations over
HTTP, `--rate` per second for `--seconds`, each pause with its own reason. Printed per run:

- publish-to-receive latency (p50 / p99 / max) of pause events: from the mutation's request
  being sent to each subscriber receiving it (one machine, one wall clock);
- lost: pause events a subscriber never received (a state stream may coalesce a reader that is
  behind, so a lost intermediate state is allowed; the final state must arrive);
- final: subscribers whose last message is the final state (waiting up to 60 s for it);
- server RSS per connection (after connecting, minus before) and after all closed;
- server CPU per delivered message (user + system time of the server process from the first
  mutation until every subscriber has the final state, over the messages delivered);
- the mutation's p50 / p99 while the fan-out runs.

The machine is shared: compare the two modes of one run, not runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from app import auth, db
from app.teams import service as teams
from app.teams.models import Role
from bench import common
from tests.support import start_server_process

QUERY = (
    "subscription { accountStatusChanged { state pausedAt pauseReason pausedBy { name } "
    "activeConversationCount activeMemberCount } }"
)
PAUSE = 'mutation($r: String) { pauseAccount(confirmation: "CONFIRM", reason: $r) { state } }'
UNPAUSE = 'mutation { unpauseAccount(confirmation: "CONFIRM") { state } }'
ROLES = [Role.ADMIN, Role.TEAM_LEADER, Role.MANAGER, Role.REP]
FINAL_WAIT_SECONDS = 60


def _raise_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _proc_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- a client process: many connections, each recording what it receives ----------------------


async def _client(url: str, tokens: list[str], out_path: str) -> None:
    import websockets

    received: list[list[tuple[float, str, str | None]]] = [[] for _ in tokens]
    connections = []
    readers = []  # referenced: the loop keeps only weak references to tasks

    async def connect(index: int, token: str) -> None:
        ws = await websockets.connect(url, subprotocols=["graphql-transport-ws"], max_size=2**20, compression=None)
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
        await ws.recv()
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": QUERY}}))
        connections.append(ws)

        async def read() -> None:
            try:
                async for raw in ws:
                    message = json.loads(raw)
                    if message.get("type") == "next":
                        status = message["payload"]["data"]["accountStatusChanged"]
                        received[index].append((time.time(), status["state"], status["pauseReason"]))
            except websockets.ConnectionClosed:
                pass

        readers.append(asyncio.get_running_loop().create_task(read()))

    for start in range(0, len(tokens), 100):
        await asyncio.gather(*(connect(i, t) for i, t in enumerate(tokens[start : start + 100], start)))
    print("ready", flush=True)
    # The driver names the final state once its last mutation is done; wait (bounded) until every
    # connection has received it, or it never will: then report.
    final = (await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)).strip()
    deadline = time.monotonic() + FINAL_WAIT_SECONDS
    while time.monotonic() < deadline and not all(r and r[-1][1] == final for r in received):
        await asyncio.sleep(0.1)
    print("done", flush=True)
    for ws in connections:
        await ws.close()
    Path(out_path).write_text(json.dumps(received))


# --- the driver ---------------------------------------------------------------------------------


async def _seed(url: str, subscribers: int) -> tuple[int, str, list[str]]:
    await db.init_orm(url)
    try:
        team = await teams.create_team("Fan-out bench")
        admin = await teams.create_user(team.id, name="Bench Admin", role=Role.ADMIN, email="admin@bench.example")
        admin_token = await auth.create_token(team.id, user_id=admin.id, name="driver")
        tokens = []
        for index in range(subscribers):
            user = await teams.create_user(
                team.id, name=f"Watcher {index}", role=ROLES[index % 4], email=f"w{index}@bench.example"
            )
            tokens.append(await auth.create_token(team.id, user_id=user.id, name="watcher"))
        return team.id, admin_token, tokens
    finally:
        await db.close_orm()


async def run_once(url: str, subscribers: int, shared: bool, seconds: float, rate: float, clients: int) -> dict:
    _, admin_token, tokens = await _seed(url, subscribers)
    proc, base = start_server_process(
        url, "memory://", RUN_WORKERS="false", LIVE_SHARED_EXECUTION=str(shared).lower(), LOG_LEVEL="ERROR"
    )
    outputs = [tempfile.mktemp(prefix="fanout-", suffix=".json") for _ in range(clients)]
    client_procs = []
    try:
        await asyncio.sleep(0.5)
        rss_before = _proc_rss_kib(proc.pid)
        ws_url = base.replace("http://", "ws://") + "/graphql"
        for index in range(clients):
            share = tokens[index::clients]
            client_procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "bench.fanout", "--client", ws_url, outputs[index]],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                    cwd=Path(__file__).resolve().parents[1],
                    env={**os.environ, "FANOUT_TOKENS": json.dumps(share)},
                )
            )
        for client in client_procs:
            line = await asyncio.get_running_loop().run_in_executor(None, client.stdout.readline)
            assert line.strip() == "ready", line
        await asyncio.sleep(1.0)  # the last subscriptions are live
        rss_connected = _proc_rss_kib(proc.pid)

        sent: dict[str, float] = {}
        mutation_ms: list[float] = []
        headers = {"Authorization": f"Bearer {admin_token}"}
        cpu_before = _proc_cpu_seconds(proc.pid)
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            events = int(seconds * rate)
            for index in range(events):
                started = time.time()
                if index % 2 == 0:
                    reason = f"e{index}"
                    sent[reason] = started
                    response = await http.post("/graphql", json={"query": PAUSE, "variables": {"r": reason}}, headers=headers)
                else:
                    response = await http.post("/graphql", json={"query": UNPAUSE}, headers=headers)
                assert not response.json().get("errors"), response.text
                mutation_ms.append((time.time() - started) * 1000)
                await asyncio.sleep(max(0.0, started + 1 / rate - time.time()))
            final_state = "ACTIVE" if events % 2 == 0 else "PAUSED"
        for client in client_procs:
            client.stdin.write(final_state + "\n")
            client.stdin.flush()
        for client in client_procs:  # every delivery is in, or FINAL_WAIT_SECONDS passed
            await asyncio.get_running_loop().run_in_executor(None, client.stdout.readline)
        cpu_seconds = _proc_cpu_seconds(proc.pid) - cpu_before
        if os.environ.get("FANOUT_DEBUG"):
            print("mutation ms:", [round(m) for m in mutation_ms], flush=True)
        for client in client_procs:
            client.wait(120)
        await asyncio.sleep(7)  # the server gives memory back a few seconds after sockets close
        rss_after_close = _proc_rss_kib(proc.pid)
    finally:
        for client in client_procs:
            if client.poll() is None:
                client.kill()
        proc.terminate()
        proc.wait(10)

    latencies, lost, finals, delivered = [], 0, 0, 0
    pauses = len(sent)
    for path in outputs:
        for messages in json.loads(Path(path).read_text()):
            delivered += len(messages)
            seen = {reason: at for at, state, reason in messages if state == "PAUSED"}
            lost += pauses - len(seen.keys() & sent.keys())
            latencies += [(at - sent[reason]) * 1000 for reason, at in seen.items() if reason in sent]
            finals += bool(messages) and messages[-1][1] == final_state
        os.unlink(path)
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [latencies[0] if latencies else 0] * 99
    m = statistics.quantiles(mutation_ms, n=100) if len(mutation_ms) > 1 else mutation_ms * 99
    return {
        "subscribers": subscribers,
        "shared": shared,
        "p50_ms": q[49],
        "p99_ms": q[98],
        "max_ms": max(latencies, default=0),
        "lost": lost,
        "final": finals,
        "kib_per_connection": (rss_connected - rss_before) / subscribers,
        "rss_returned_kib": rss_after_close - rss_before,
        "cpu_us_per_message": cpu_seconds * 1e6 / max(delivered, 1),
        "delivered": delivered,
        "mutation_p50_ms": m[49],
        "mutation_p99_ms": m[98],
    }


def _print(result: dict) -> None:
    mode = "shared" if result["shared"] else "per subscriber"
    print(
        f"N={result['subscribers']:>6,} {mode:>14}: p50 {result['p50_ms']:7.1f} ms  p99 {result['p99_ms']:7.1f} ms  "
        f"max {result['max_ms']:7.1f} ms  lost {result['lost']:>5}  final {result['final']:>6,}/{result['subscribers']:,}  "
        f"{result['kib_per_connection']:5.1f} KiB/conn (after close: {result['rss_returned_kib']:+,} KiB)  "
        f"{result['cpu_us_per_message']:6.1f} µs CPU/message  mutation p50 {result['mutation_p50_ms']:6.1f} ms "
        f"p99 {result['mutation_p99_ms']:6.1f} ms",
        flush=True,
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", default="500,2000,5000")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=float, default=2, help="mutations per second")
    parser.add_argument("--clients", type=int, default=4, help="client processes")
    parser.add_argument("--modes", default="shared,unshared")
    args = parser.parse_args()
    _raise_file_limit()
    results = []
    for subscribers in [int(n) for n in args.subscribers.split(",")]:
        for mode in args.modes.split(","):
            async with common.scratch_database() as url:
                result = await run_once(url, subscribers, mode == "shared", args.seconds, args.rate, args.clients)
            _print(result)
            results.append(result)
    by_n = {}
    for result in results:
        by_n.setdefault(result["subscribers"], {})[result["shared"]] = result
    for n, pair in by_n.items():
        if True in pair and False in pair:
            on, off = pair[True], pair[False]
            print(
                f"N={n:,}: shared / per-subscriber: p99 {on['p99_ms'] / max(off['p99_ms'], 1e-9):.2f}x, "
                f"CPU per message {on['cpu_us_per_message'] / max(off['cpu_us_per_message'], 1e-9):.2f}x"
            )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        _raise_file_limit()
        asyncio.run(_client(sys.argv[2], json.loads(os.environ["FANOUT_TOKENS"]), sys.argv[3]))
    else:
        asyncio.run(main())
