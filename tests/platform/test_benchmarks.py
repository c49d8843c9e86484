"""Small smoke runs of bench/reads.py and bench/ingest.py: they run end to end and print figures.
(Not timed tests: the figures are printed, never asserted.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, server_url: str) -> str:
    env = {**os.environ, "BENCH_DATABASE_URL": server_url}
    done = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_reads_benchmark_compares_the_three_servers(server_url_base):
    out = _run("bench.reads", "--reps", "300", "--events", "60", "--conversations", "50", "--seconds", "1",
               "--rounds", "1", "--connections", "4", "--ops", "missingReps,accountStatus", server_url=server_url_base)
    for server in ("switchboard", "bare", "postgraphile"):
        assert f"missingReps         {server}" in out, out
    assert "accountStatus" in out and "CPU ms/req" in out


def test_ingest_benchmark_reports_leads_per_second_and_the_ratio_to_copy(server_url_base):
    out = _run("bench.ingest", "--leads", "1000", "--batch", "250", "--clients", "2", server_url=server_url_base)
    assert "ingestLeads over HTTP" in out and "ratio HTTP / COPY" in out, out
