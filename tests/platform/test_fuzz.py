"""Schemathesis in GraphQL mode against the running app (its own process, its own database):
generated queries and mutations for every operation, as an Admin and as an integration. Whatever
is sent, the answer is never a 5xx and never an internal error. Bounded: FUZZ_EXAMPLES cases per
operation and caller (default 15; CI keeps the default)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from tests.support import start_server_process

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))


@pytest.fixture
def fuzz_server(scratch_url):
    proc, base = start_server_process(scratch_url, RATE_LIMITS="false")
    try:
        seeded = subprocess.run(
            [sys.executable, "-m", "app", "seed-demo"],
            env={**os.environ, "DATABASE_URL": scratch_url, "LOG_LEVEL": "WARNING"},
            cwd=Path(__file__).resolve().parents[2],
            capture_output=True,
            text=True,
            check=True,
        )
        demo = json.loads(seeded.stdout)
        tokens = {"admin": demo["users"][0]["token"], "integration": demo["integration"]["token"]}
        yield base, tokens
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_generated_operations_never_meet_an_internal_error(fuzz_server):
    base, tokens = fuzz_server
    for caller in ("admin", "integration"):
        _fuzz(base, {"Authorization": f"Bearer {tokens[caller]}"})


def _fuzz(base: str, headers: dict[str, str]) -> None:
    schema = schemathesis.graphql.from_url(f"{base}/graphql", headers=headers)
    seen: dict[str, int] = {}

    for result in schema.get_all_operations():
        operation = result.ok()

        @given(operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            response = case.call(headers=headers)
            assert response.status_code < 500, response.text
            for error in response.json().get("errors") or []:
                code = error.get("extensions", {}).get("code")
                seen[code] = seen.get(code, 0) + 1
                assert code != "INTERNAL_SERVER_ERROR", (case.body, response.text)

        check()
    assert seen  # the generated cases did reach the rules (bad input, not found, ...)
