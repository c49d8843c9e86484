"""bench/abuse.py's smoke run: every hostile request gets its refusal, and the table prints."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_abuse_benchmark_smoke_run(server_url_base):
    result = subprocess.run(
        [sys.executable, "bench/abuse.py", "--smoke", "--server-url", server_url_base],
        cwd=ROOT,
        env={**os.environ, "LOG_LEVEL": "WARNING"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
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
