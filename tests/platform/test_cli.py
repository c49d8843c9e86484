"""The `switchboard` command line: seed-demo prints usable tokens; create-* build a team by hand."""

import asyncio
import json
import os
import subprocess
import sys

from app import auth
from app.teams.models import Role, Team


def _run(database_url: str, *args: str) -> dict:
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"}
    out = subprocess.run(
        [sys.executable, "-m", "app", *args], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(out.stdout)


async def test_seed_demo_prints_tokens_that_work_and_makes_a_new_team_each_run(api, database_url):
    first = _run(database_url, "seed-demo")
    second = _run(database_url, "seed-demo")
    assert first["team"]["id"] != second["team"]["id"]
    assert {u["role"] for u in first["users"]} == {r.value for r in Role}
    for user in first["users"]:
        viewer = (await api.data("{ viewer { id role team { id } } }", token=user["token"]))["viewer"]
        assert viewer == {"id": str(user["id"]), "role": user["role"], "team": {"id": str(first["team"]["id"])}}
    assert await api.error_code("{ viewer { id } }", token=first["integration"]["token"]) == "FORBIDDEN"
    assert await Team.filter(id__in=[first["team"]["id"], second["team"]["id"]]).count() == 2


async def test_create_team_user_and_token_by_hand(api, database_url):
    team = _run(database_url, "create-team", "Hand Made")
    user = _run(database_url, "create-user", str(team["id"]), "Hand Admin", "--role", "admin", "--email", "h@x.example")
    token = _run(database_url, "create-token", str(team["id"]), "--user-id", str(user["id"]))["token"]
    viewer = (await api.data("{ viewer { name role team { name } } }", token=token))["viewer"]
    assert viewer == {"name": "Hand Admin", "role": "ADMIN", "team": {"name": "Hand Made"}}


async def test_a_token_revoked_by_hand_stops_working(api, database_url):
    team = _run(database_url, "create-team", "Revoking")
    user = _run(database_url, "create-user", str(team["id"]), "Short Lived", "--role", "rep", "--email", "s@x.example")
    token = _run(database_url, "create-token", str(team["id"]), "--user-id", str(user["id"]))["token"]
    assert (await api.data("{ viewer { name } }", token=token))["viewer"] == {"name": "Short Lived"}
    _run(database_url, "revoke-token", str(team["id"]), token)
    # Revoked by another process: the server honours it within its caller cache's time.
    await asyncio.sleep(auth.CALLER_CACHE_SECONDS)
    assert await api.error_code("{ viewer { name } }", token=token) == "UNAUTHENTICATED"
