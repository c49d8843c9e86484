"""Hostile requests against the running app, while a probe measures whether it stays responsive.

Starts `switchboard serve` in its own process on a scratch database (rate limits off: the probe
alone sends 50 requests a second), then sends each hostile request below several times while a
probe sends `{ __typename }` every 20 ms. For each hostile request it prints how long the refusal
took (client side, upload included) and the probe's p50 / p99 / max while it was in flight (from
its sending to 200 ms after its answer). The baseline is the same probe with nothing else going
on, measured in the same run; the ratio column is p99 over the baseline's p99.

    .venv/bin/python bench/abuse.py [--server-url postgresql://postgres@127.0.0.1:5432/postgres]
        [--repeat 5] [--smoke]

Target (issue 10): every hostile request refused within 50 ms, the probe's p99 <= 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from app import auth, db  # noqa: E402
from app.teams import service as teams  # noqa: E402
from app.teams.models import Role  # noqa: E402
from bench.common import server_url  # noqa: E402
from tests.support import start_server_process  # noqa: E402

PROBE = {"query": "{ __typename }"}
PROBE_EVERY = 0.02


@dataclass
class Hostile:
    name: str
    body: bytes
    token: str | None  # "admin" / "integration" / None


def hostile_requests(smoke: bool) -> list[Hostile]:
    scale = 10 if smoke else 1
    typename_doc = "{" + " __typename" * (1_900_000 // 11 // scale) + " }"
    leads = [{"externalId": f"L{i}", "email": f"l{i}@x.example"} for i in range(100_000 // scale)]
    ingest = "mutation($l: [LeadInput!]!) { ingestLeads(leads: $l) { createdCount } }"
    aliases = "{ " + " ".join(f"a{i}: missingReps(first: 100) {{ edges {{ node {{ id }} }} }}" for i in range(1_000)) + " }"
    few_aliases = "{ " + " ".join(f"a{i}: missingReps {{ totalCount }}" for i in range(150)) + " }"
    nested = "id"
    for _ in range(25):
        nested = f"team {{ defaultRep {{ {nested} }} }}"
    leak = (
        "mutation($l: [LeadInput!]!) { ingestLeads(leads: $l) { results { lead { missingRep { "
        "suggestedMatches { user { email role } } } } } } }"
    )
    small_tokens = "{" + " a" * 2_500 + " }"

    def body(query: str, variables: dict | None = None) -> bytes:
        return json.dumps({"query": query, "variables": variables or {}}).encode()

    return [
        Hostile(f"{len(typename_doc) / 1e6:.1f} MB {{__typename ...}}, no token", body(typename_doc), None),
        Hostile(f"{len(typename_doc) / 1e6:.1f} MB {{__typename ...}}, valid token", body(typename_doc), "admin"),
        Hostile(f"ingestLeads with {len(leads):,} leads", body(ingest, {"l": leads}), "integration"),
        Hostile("ingestLeads with 1,001 small leads", body(ingest, {"l": leads[:1_001]}), "integration"),
        Hostile("1,000 aliases of a list field", body(aliases), "admin"),
        Hostile("150 aliases of a list field (under the token cap)", body(few_aliases), "admin"),
        Hostile("depth-51 query", body(f"{{ viewer {{ {nested} }} }}"), "admin"),
        Hostile("2,500 tokens in 5 kB", body(small_tokens), "admin"),
        Hostile(f"{10 // scale} MB body", b'{"query": "' + b" " * (10_000_000 // scale) + b'{ __typename }"}', "admin"),
        Hostile("id 2147483648 (past int4)", body('mutation { setDefaultRep(userId: "2147483648") { id } }'), "admin"),
        Hostile("NUL in a string", body('mutation($r: String) { pauseAccount(confirmation: "CONFIRM", reason: $r) { state } }', {"r": "a\x00"}), "admin"),
        Hostile("integration reading suggested users", body(leak, {"l": leads[:1]}), "integration"),
    ]


async def seed(url: str) -> dict[str, str]:
    await db.init_orm(url)
    try:
        team = await teams.create_team(f"Abuse {uuid.uuid4().hex[:6]}")
        admin = await teams.create_user(team.id, name="Ada Admin", role=Role.ADMIN, email="ada@abuse.example")
        await teams.set_default_rep(team.id, admin.id)
        return {
            "admin": await auth.create_token(team.id, user_id=admin.id, name="bench"),
            "integration": await auth.create_token(team.id, user_id=None, name="bench"),
        }
    finally:
        await db.close_orm()


def _probe_process(base_url: str, token: str, stop, samples) -> None:
    """The probe, in a process of its own: what the attacker's client does (encoding, sending
    10 MB) cannot delay it; only the server can. Clock: time.monotonic, shared by processes."""

    async def run() -> None:
        found = []
        async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
            headers = {"Authorization": f"Bearer {token}"}
            while not stop.is_set():
                sent = time.monotonic()
                response = await client.post("/graphql", json=PROBE, headers=headers)
                assert response.json() == {"data": {"__typename": "Query"}}, response.text
                found.append((sent, (time.monotonic() - sent) * 1000))
                await asyncio.sleep(max(0.0, PROBE_EVERY - (time.monotonic() - sent)))
        samples.put(found)

    asyncio.run(run())


class Probe:
    def __init__(self, base_url: str, token: str) -> None:
        context = multiprocessing.get_context("spawn")
        self.stop_event = context.Event()
        self.queue = context.Queue()
        self.process = context.Process(target=_probe_process, args=(base_url, token, self.stop_event, self.queue))
        self.samples: list[tuple[float, float]] = []

    def start(self) -> None:
        self.process.start()

    async def stop(self) -> None:
        self.stop_event.set()
        self.samples = await asyncio.to_thread(self.queue.get, True, 60)
        await asyncio.to_thread(self.process.join, 30)

    def between(self, start: float, end: float) -> list[float]:
        return [ms for sent, ms in self.samples if start <= sent <= end]


def stats(samples: list[float]) -> tuple[float, float, float]:
    samples = sorted(samples)
    if len(samples) < 2:
        value = samples[0] if samples else float("nan")
        return value, value, value
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return q[49], q[98], samples[-1]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server-url", default=None, help="a PostgreSQL server; default: bench/common.py's")
    parser.add_argument("--repeat", type=int, default=5, help="times each hostile request is sent")
    parser.add_argument("--smoke", action="store_true", help="a small, quick run (the test suite's)")
    args = parser.parse_args()
    repeat = 2 if args.smoke else args.repeat

    base = args.server_url or server_url()
    url = db.url_with_database(base, f"switchboard_bench_{uuid.uuid4().hex[:8]}")
    await db.apply_migrations(url)
    proc = None
    try:
        tokens = await seed(url)
        proc, base_url = await asyncio.to_thread(start_server_process, url, "memory://", RUN_WORKERS="false", RATE_LIMITS="false")
        requests = hostile_requests(args.smoke)
        probe = Probe(base_url, tokens["admin"])
        probe.start()
        rows = []  # (name, answer, refusal times, windows)
        async with httpx.AsyncClient(base_url=base_url, timeout=120) as attacker:
            await asyncio.sleep(2.0)  # the probe's process starts and warms up
            idle = (time.monotonic(), None)
            await asyncio.sleep(1.0 if args.smoke else 3.0)
            idle = (idle[0], time.monotonic())
            for hostile in requests:
                refusal_ms, windows = [], []
                answer = ""
                headers = {"Content-Type": "application/json"}
                if hostile.token:
                    headers["Authorization"] = f"Bearer {tokens[hostile.token]}"
                for _ in range(repeat):
                    start = time.monotonic()
                    response = await attacker.post("/graphql", content=hostile.body, headers=headers)
                    done = time.monotonic()
                    refusal_ms.append((done - start) * 1000)
                    error = (response.json().get("errors") or [{}])[0].get("extensions", {})
                    answer = f"{response.status_code} {error.get('code', 'no error')}" + (
                        f" {error['limit']}" if "limit" in error else ""
                    )
                    windows.append((start, done + 0.2))
                    await asyncio.sleep(0.2)
                rows.append((hostile.name, answer, refusal_ms, windows))
        await probe.stop()
        baseline = stats(probe.between(*idle))
        print(f"probe {{ __typename }} every {PROBE_EVERY * 1000:.0f} ms from its own process; "
              f"each hostile request sent {repeat} times\n")
        header = f"{'hostile request':50} {'answer':40} {'refused in':>10} {'probe p50':>9} {'p99':>7} {'max':>7} {'p99/base':>8}"
        print(header)
        print("-" * len(header))
        print(f"{'(baseline: nothing else)':50} {'':40} {'':>10} {baseline[0]:>7.1f}ms {baseline[1]:>5.1f}ms {baseline[2]:>5.1f}ms {1.0:>8.2f}")
        worst_refusal = worst_p99 = 0.0
        for name, answer, refusal_ms, windows in rows:
            p50, p99, worst = stats([ms for window in windows for ms in probe.between(*window)])
            refused = statistics.median(refusal_ms)
            worst_refusal, worst_p99 = max(worst_refusal, refused), max(worst_p99, p99)
            print(f"{name:50} {answer:40} {refused:>8.1f}ms {p50:>7.1f}ms {p99:>5.1f}ms {worst:>5.1f}ms {p99 / baseline[1]:>8.2f}")
        print(f"\nslowest refusal (median of {repeat}): {worst_refusal:.1f} ms; worst probe p99: {worst_p99:.1f} ms "
              f"(target: both <= 50 ms)")
    finally:
        if proc is not None:
            proc.terminate()
            await asyncio.to_thread(proc.wait, 30)
        await db.drop_database(url)


if __name__ == "__main__":
    asyncio.run(main())
