"""Every benchmark still runs: each is run here at a tiny size against the test PostgreSQL server,
so a change that breaks one fails the suite (the figures themselves are read from full runs)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_benchmark(server_url: str, module: str, *args: str) -> str:
    env = {**os.environ, "BENCH_DATABASE_URL": server_url, "LOG_LEVEL": "WARNING"}
    result = subprocess.run(
        [sys.executable, "-m", module, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout


@pytest.mark.parametrize(
    ("module", "args", "expected"),
    [
        ("bench.ingest", ["--leads", "300", "--batch", "100", "--clients", "2"], "ratio HTTP / COPY"),
        (
            "bench.reads",
            ["--reps", "300", "--events", "60", "--conversations", "50", "--seconds", "1", "--rounds", "1",
             "--connections", "4", "--ops", "missingReps,accountStatus"],
            "missingReps         postgraphile",
        ),
        (
            "bench.instructions",
            ["--cpu", "--reps", "300", "--events", "60", "--conversations", "50", "--requests", "40", "--concurrency", "4",
             "--ops", "accountStatus,missingReps"],
            "CPU us/request",
        ),
        ("bench.mass_end", ["--conversations", "300", "--batch-size", "100", "--rounds", "1"], "median ratio"),
        ("bench.fanout", ["--subscribers", "8", "--seconds", "2", "--clients", "2"], "shared / per-subscriber"),
        (
            "bench.missing_reps_page",
            ["--reps", "120", "--users", "40", "--requests", "20", "--warmup", "2"],
            "missingReps first page",
        ),
        ("bench.webhooks", ["--leads", "40", "--endpoints", "2", "--latency-seconds", "0.5"], "0 bad"),
    ],
)
def test_benchmark_smoke_run(server_url_base, module, args, expected):
    """The benchmark runs end to end at a tiny size and prints its figures."""
    assert expected in run_benchmark(server_url_base, module, *args)


def test_abuse_benchmark_smoke_run(server_url_base):
    """bench/abuse.py at a tiny size: every hostile request gets its refusal, and the table prints."""
    out = run_benchmark(server_url_base, "bench.abuse", "--smoke")
    for answer in (
        "413 PAYLOAD_TOO_LARGE maxBodyBytes",
        "BAD_USER_INPUT maxListItems",
        "GRAPHQL_VALIDATION_FAILED maxDepth",
        "GRAPHQL_VALIDATION_FAILED maxAliases",
        "GRAPHQL_PARSE_FAILED maxTokens",
        "NOT_FOUND",
        "FORBIDDEN",
    ):
        assert answer in out, out
    assert "slowest refusal" in out
