"""Webhook delivery: events from 20,000 ingested leads to 10 endpoints on a loopback receiver.

Three runs, each with one `switchboard worker` process of its own and a receiver process on
loopback (the bench process only ingests and measures):
  1. throughput: the leads are ingested first (lead.created x endpoints deliveries waiting),
     then the worker starts; deliveries/s from its first receipt to its last;
  2. baseline, side by side: the same on a tenth of the leads with one request in flight per
     endpoint (WEBHOOK_ENDPOINT_CONCURRENCY=1, what sending one delivery after the other gives);
  3. latency: with the worker running, leads are ingested in small batches at half the measured
     throughput; p50/p99 from each batch's commit to each delivery's receipt.
The receiver verifies a sample of the signatures with standardwebhooks' own verifier.

    .venv/bin/python -m bench.webhooks [--leads 20000] [--endpoints 10] [--latency-seconds 10]
(PostgreSQL from BENCH_DATABASE_URL or TEST_DATABASE_URL, else an embedded one.)
Targets (issue 13): >= 500 deliveries/s from one worker, p99 <= 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from app import db
from app.runtime import orm_and_bus
from app.settings import Settings
from bench.common import server_url

ROOT = Path(__file__).resolve().parents[1]
VERIFY_ONE_IN = 100
BATCH = 1000


# --- the receiver (its own process) ------------------------------------------------------------


def serve_receiver(port: int) -> None:
    """A minimal ASGI receiver: notes (batch tag, arrival) of each webhook; GET /drain hands them over."""
    import uvicorn
    from standardwebhooks import Webhook

    arrivals: list[tuple[str, float]] = []
    state = {"secrets": {}, "verified": 0, "bad": 0, "seen": 0}

    async def app(scope, receive, send):
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path = scope["path"]
        if scope["method"] == "POST" and path.startswith("/hooks/"):
            now = time.time()
            start = body.find(b'"external_id":"') + 15
            tag = body[start : body.find(b"-", start)].decode()
            arrivals.append((tag, now))
            state["seen"] += 1
            if state["seen"] % VERIFY_ONE_IN == 1:
                headers = {k.decode(): v.decode() for k, v in scope["headers"]}
                try:
                    Webhook(state["secrets"][path]).verify(body, headers)
                    state["verified"] += 1
                except Exception:  # noqa: BLE001 - counted and reported
                    state["bad"] += 1
            payload = b"ok"
        elif path == "/secrets":
            state["secrets"].update(json.loads(body))
            payload = b"{}"
        else:  # /drain
            payload = json.dumps({"arrivals": arrivals, "verified": state["verified"], "bad": state["bad"]}).encode()
            arrivals.clear()
            state.update(verified=0, bad=0)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": payload})

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", access_log=False)


# --- the bench -------------------------------------------------------------------------------


@dataclass
class Drained:
    arrivals: list[tuple[str, float]]
    verified: int
    bad: int


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(url: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def start_worker(database_url: str, keys: str, **env: str) -> subprocess.Popen:
    environ = {
        **os.environ,
        "DATABASE_URL": database_url,
        "WEBHOOK_SECRET_KEYS": keys,
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "BROADCAST_URL": "memory://",
        "LOG_LEVEL": "WARNING",
        "JOB_POLL_INTERVAL": "1",
        **env,
    }
    return subprocess.Popen([sys.executable, "-m", "app", "worker"], env=environ, cwd=ROOT)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def drain(http: httpx.AsyncClient, receiver: str, expected: int, timeout: float) -> Drained:
    """Collects arrivals until `expected` have come (or `timeout` without progress)."""
    got, verified, bad = [], 0, 0
    last_progress = time.monotonic()
    while len(got) < expected:
        await asyncio.sleep(0.5)
        body = (await http.get(f"{receiver}/drain")).json()
        if body["arrivals"]:
            last_progress = time.monotonic()
        got += [tuple(a) for a in body["arrivals"]]
        verified, bad = verified + body["verified"], bad + body["bad"]
        if time.monotonic() - last_progress > timeout:
            raise AssertionError(f"{len(got)} of {expected} deliveries arrived; none for {timeout} s")
    return Drained(got, verified, bad)


async def _ingest(team_id: int, tag: str, count: int) -> None:
    from app.leads.service import LeadData, ingest_leads

    for start in range(0, count, BATCH):
        leads = [
            LeadData(external_id=f"{tag}-{n}", name=f"Lead {n}", email=f"lead{n}@customer.example")
            for n in range(start, min(count, start + BATCH))
        ]
        outcomes = await ingest_leads(team_id, leads)
        assert all(o.created for o in outcomes), [o.error for o in outcomes if o.error][:3]


async def _throughput(http, receiver, url, keys, team_id, tag, leads, endpoints, **env) -> tuple[float, Drained]:
    await _ingest(team_id, tag, leads)
    worker = start_worker(url, keys, **env)
    try:
        drained = await drain(http, receiver, leads * endpoints, timeout=60)
    finally:
        stop(worker)
    times = sorted(t for _, t in drained.arrivals)
    return len(times) / max(times[-1] - times[0], 1e-9), drained


async def run(
    leads: int = 20_000,
    endpoints: int = 10,
    latency_seconds: float = 10.0,
    baseline_share: float = 0.1,
    postgres_url: str | None = None,
) -> dict:
    from app.teams import service as teams
    from app.teams.models import Role
    from app.webhooks import service as webhooks
    from app.webhooks.models import EventType

    base = postgres_url or server_url()
    url = db.url_with_database(base, f"switchboard_bench_{uuid.uuid4().hex[:8]}")
    keys = Fernet.generate_key().decode()
    settings = Settings(broadcast_url="memory://", webhook_allow_private_targets=True, webhook_secret_keys=keys)
    port = _free_port()
    receiver = f"http://127.0.0.1:{port}"
    receiver_proc = subprocess.Popen([sys.executable, "-m", "bench.webhooks", "--serve-receiver", str(port)], cwd=ROOT)
    results: dict = {}
    try:
        _wait_ready(f"{receiver}/drain", receiver_proc)
        await db.apply_migrations(url)
        async with orm_and_bus(url, settings), httpx.AsyncClient(timeout=60) as http:
            team = await teams.create_team("Bench webhooks")
            await teams.set_default_rep(team.id, (await teams.create_user(team.id, name="Default Rep", role=Role.REP)).id)
            secrets = {}
            for n in range(endpoints):
                endpoint, secret = await webhooks.create_endpoint(
                    team.id, None, url=f"{receiver}/hooks/{n}", events=[EventType.LEAD_CREATED], description=None, settings=settings
                )
                secrets[f"/hooks/{n}"] = secret
            await http.post(f"{receiver}/secrets", json=secrets)

            rate, drained = await _throughput(http, receiver, url, keys, team.id, "t", leads, endpoints)
            results.update(deliveries=len(drained.arrivals), per_second=rate, verified=drained.verified, bad=drained.bad)

            baseline_leads = max(int(leads * baseline_share), 1)
            base_rate, base_drained = await _throughput(
                http, receiver, url, keys, team.id, "s", baseline_leads, endpoints, WEBHOOK_ENDPOINT_CONCURRENCY="1"
            )
            results.update(baseline_deliveries=len(base_drained.arrivals), baseline_per_second=base_rate)
            results["bad"] += base_drained.bad

            # Latency at half the measured capacity: small batches, each one's commit time noted.
            leads_per_second = max(rate / 2 / endpoints, 1.0)
            tick = 0.1
            per_batch = max(int(leads_per_second * tick), 1)
            batches = max(int(latency_seconds / tick), 1)
            worker = start_worker(url, keys)
            try:
                await asyncio.sleep(3)  # the worker is up and listening
                committed: dict[str, float] = {}
                started = time.monotonic()
                for b in range(batches):
                    await _ingest(team.id, f"p{b}", per_batch)
                    committed[f"p{b}"] = time.time()
                    await asyncio.sleep(max(started + (b + 1) * tick - time.monotonic(), 0))
                drained = await drain(http, receiver, batches * per_batch * endpoints, timeout=60)
            finally:
                stop(worker)
            lags = sorted(t - committed[tag] for tag, t in drained.arrivals)
            results.update(
                latency_deliveries=len(lags),
                offered_per_second=per_batch / tick * endpoints,
                p50=lags[len(lags) // 2],
                p99=lags[min(int(len(lags) * 0.99), len(lags) - 1)],
                max=lags[-1],
            )
            results["bad"] += drained.bad
            results["verified"] += drained.verified
    finally:
        stop(receiver_proc)
        await db.drop_database(url)
    return results


def report(r: dict, leads: int, endpoints: int) -> None:
    print(f"{leads} leads x {endpoints} endpoints = {r['deliveries']} lead.created deliveries, one worker process")
    print(f"throughput: {r['per_second']:,.0f} deliveries/s (target >= 500)")
    print(
        f"baseline (one request in flight per endpoint), same run: {r['baseline_per_second']:,.0f} deliveries/s "
        f"over {r['baseline_deliveries']} deliveries; ratio {r['per_second'] / r['baseline_per_second']:.1f}x"
    )
    print(
        f"commit -> receipt at {r['offered_per_second']:,.0f} deliveries/s offered ({r['latency_deliveries']} deliveries): "
        f"p50 {r['p50'] * 1000:,.0f} ms, p99 {r['p99'] * 1000:,.0f} ms (target <= 2000), max {r['max'] * 1000:,.0f} ms"
    )
    print(f"signatures verified by the receiver (1 in {VERIFY_ONE_IN}): {r['verified']} good, {r['bad']} bad")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--endpoints", type=int, default=10)
    parser.add_argument("--latency-seconds", type=float, default=10.0)
    parser.add_argument("--serve-receiver", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_receiver:
        serve_receiver(args.serve_receiver)
    else:
        results = asyncio.run(run(args.leads, args.endpoints, args.latency_seconds))
        report(results, args.leads, args.endpoints)
        if results["bad"] or not results["verified"]:
            sys.exit("some webhooks did not verify")
