"""The instructions one request costs, Switchboard against the bare endpoint, counted by valgrind.

bench/reads.py measures CPU time per request over sockets; on this shared machine that figure
moves by a fifth from one round to the next, so a change of a few percent does not show. An
instruction count does not move with the machine's load. Here each server's ASGI app (Switchboard
as `switchboard serve` builds it, the bare endpoint of bench/peers/bare.py) is called in-process by
--concurrency callers at once (the pool waits and the collector's passes of requests in flight
included; no sockets, no HTTP parsing: what both servers share), over the database bench/reads.py
seeds. valgrind counts the instructions of a run of --requests and of a run of 40% as many; their
difference over the difference in requests is one request, start-up and warm-up excluded.
PostgreSQL's work is in its own processes and not counted. Instructions are not time (a cache miss
costs more than an add), so the socket benchmark stays the measure of the target.

    .venv/bin/python -m bench.instructions [--ops accountStatus,...] [--requests 320] [--concurrency 32]
(PostgreSQL server from BENCH_DATABASE_URL or TEST_DATABASE_URL; valgrind from the system, e.g.
`apt-get install valgrind`. Without valgrind, or with --cpu, it reports CPU µs per request instead,
as noisy as any timing.)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SERVERS = ("switchboard", "bare")
WARM_UP_REQUESTS = 50


def _scope(token: str) -> dict:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/graphql", "raw_path": b"/graphql", "query_string": b"", "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"), (b"accept", b"application/json"),
                    (b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }


async def _call(app, scope: dict, body: bytes) -> list[dict]:
    """One request through the ASGI app: its messages sent."""
    given = False

    async def receive() -> dict:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client never leaves

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    await app(dict(scope), receive, send)
    return sent


async def _child(server: str, url: str, token: str, op: str, requests: int, concurrency: int) -> None:
    """The measured process: builds the app, warms it up, answers `requests` requests, prints its CPU."""
    import orjson

    from app.main import create_app
    from app.settings import Settings
    from bench.peers.bare import make_app
    from bench.reads import SWITCHBOARD

    scope = _scope(token)
    switchboard = create_app(Settings(broadcast_url="memory://", rate_limits=False, run_workers=False), database_url=url)
    async with switchboard.router.lifespan_context(switchboard):
        if server == "switchboard":
            app, body = switchboard, orjson.dumps({"query": SWITCHBOARD[op]})
        else:
            app, body = make_app(url), orjson.dumps({"op": op})
        for _ in range(WARM_UP_REQUESTS):
            sent = await _call(app, scope, body)
            if sent[0]["status"] != 200 or b'"errors"' in sent[1]["body"]:
                raise SystemExit(f"{server} {op}: {sent[0]['status']} {sent[1]['body'][:300]!r}")
        started = time.process_time()
        each, left = divmod(requests, concurrency)

        async def caller(count: int) -> None:
            for _ in range(count):
                await _call(app, scope, body)

        await asyncio.gather(*(caller(each + (i < left)) for i in range(concurrency)))
        print(f"cpu_us {(time.process_time() - started) / requests * 1e6:.1f}")


def _run_child(args: argparse.Namespace, server: str, op: str, requests: int, valgrind: bool) -> float:
    """Instructions (valgrind) or CPU µs per request of one child run of `requests` requests; with
    valgrind the run's total, else its CPU per request."""
    command = [sys.executable, "-m", "bench.instructions", "--child", server, "--url", args.url, "--token", args.token,
               "--ops", op, "--requests", str(requests), "--concurrency", str(args.concurrency)]
    env = {**os.environ, "LOG_LEVEL": "WARNING"}
    if not valgrind:
        out = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        if out.returncode:
            raise RuntimeError(out.stdout[-2000:] + out.stderr[-3000:])
        return float(re.search(r"cpu_us ([\d.]+)", out.stdout).group(1))
    with tempfile.TemporaryDirectory() as scratch:
        out = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={scratch}/out", *command],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600)
    if out.returncode:
        raise RuntimeError(out.stdout[-2000:] + out.stderr[-3000:])
    return float(re.search(r"Collected : (\d+)", out.stderr).group(1))


def measure(args: argparse.Namespace, valgrind: bool) -> dict[tuple[str, str], float]:
    """Per (op, server): instructions per request (valgrind), else CPU µs per request."""
    small = max(args.concurrency, args.requests * 2 // 5)
    runs = [(op, server, n) for op in args.ops.split(",") for server in SERVERS for n in (args.requests, small)]
    # Two at a time: valgrind runs one thread, and counts do not depend on what else runs.
    with ThreadPoolExecutor(max_workers=2 if valgrind else 1) as pool:
        counts = dict(zip(runs, pool.map(lambda run: _run_child(args, run[1], run[0], run[2], valgrind), runs)))
    if not valgrind:
        return {(op, server): counts[(op, server, args.requests)] for op, server, _ in runs}
    return {
        (op, server): (counts[(op, server, args.requests)] - counts[(op, server, small)]) / (args.requests - small)
        for op, server, _ in runs
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ops", default="accountStatus,auditLog,missingReps,missingRepsNoCount")
    parser.add_argument("--requests", type=int, default=320)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--reps", type=int, default=18_000)
    parser.add_argument("--events", type=int, default=2_000)
    parser.add_argument("--conversations", type=int, default=5_000)
    parser.add_argument("--cpu", action="store_true", help="CPU time instead of instructions (no valgrind)")
    parser.add_argument("--child", choices=SERVERS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        await _child(args.child, args.url, args.token, args.ops, args.requests, args.concurrency)
        return

    from app import db
    from bench.reads import prepare

    valgrind = not args.cpu and shutil.which("valgrind") is not None
    if not args.cpu and not valgrind:
        print("valgrind is not installed: CPU time per request instead (as noisy as any timing)")
    server_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    args.url, _, args.token = await prepare(server_url, args.reps, args.events, args.conversations)
    try:
        results = await asyncio.to_thread(measure, args, valgrind)
    finally:
        await db.drop_database(args.url)
    unit = "instructions/request" if valgrind else "CPU us/request"
    print(f"{args.reps:,} missing reps, {args.concurrency} concurrent callers in-process, {args.requests} requests a run")
    print(f"{'operation':<20}{'switchboard':>14}{'bare':>14}  {unit:<22}{'ratio':>7}")
    for op in args.ops.split(","):
        mine, bare = results[(op, "switchboard")], results[(op, "bare")]
        print(f"{op:<20}{mine:>14,.0f}{bare:>14,.0f}  {'':<22}{mine / bare:>6.2f}x")


if __name__ == "__main__":
    if "--child" in sys.argv:
        import uvloop  # the event loop uvicorn serves both servers on

        uvloop.run(main())
    else:
        asyncio.run(main())
