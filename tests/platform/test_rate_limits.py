"""Rate limits: separate budgets per token for ingestion and the dashboard, per address without a
token; RATE_LIMITED with retryAfter (and 429 with Retry-After); counters in Redis when configured."""

from __future__ import annotations

import uuid

import pytest

from app.pipeline.ratelimit import RateLimits
from app.settings import Settings
from app.teams.models import Role
from tests.support import lead_input, make_team

INGEST = "mutation($l: [LeadInput!]!) { ingestLeads(leads: $l) { createdCount } }"


@pytest.fixture
def tight(server_app, monkeypatch):
    limits = RateLimits(
        Settings(rate_limit_ingestion="2/minute", rate_limit_dashboard="3/minute", rate_limit_anonymous="2/minute")
    )
    monkeypatch.setattr(server_app.state.pipeline, "rate_limits", limits)
    return limits


async def test_a_token_over_its_dashboard_budget_is_rate_limited_with_retry_after(api, tight):
    team = await make_team()
    token = team.token(Role.REP)
    for _ in range(3):
        await api.data("{ viewer { id } }", token=token)
    response = await api.http.post("/graphql", json={"query": "{ viewer { id } }"}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 429
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED" and error["extensions"]["budget"] == "dashboard"
    assert 1 <= error["extensions"]["retryAfter"] <= 60
    assert response.headers["retry-after"] == str(error["extensions"]["retryAfter"])
    # Another token of the same team has its own budget.
    await api.data("{ viewer { id } }", token=team.token(Role.ADMIN))


async def test_ingestion_has_its_own_budget(api, tight):
    team = await make_team()
    for i in range(2):
        await api.data(INGEST, {"l": [lead_input(f"L{i}")]}, token=team.integration_token)
    response = await api.http.post(
        "/graphql",
        json={"query": INGEST, "variables": {"l": [lead_input("L9")]}},
        headers={"Authorization": f"Bearer {team.integration_token}"},
    )
    assert response.status_code == 429 and response.json()["errors"][0]["extensions"]["budget"] == "ingestion"


async def test_callers_without_a_token_share_a_budget_per_address(api, tight):
    for _ in range(2):
        await api.data("{ __typename }")
    response = await api.http.post("/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 429 and response.json()["errors"][0]["extensions"]["budget"] == "anonymous"


async def test_counters_live_in_redis_when_redis_is_configured(redis_url):
    """Two processes' limiters over one Redis share the counter."""
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    settings = Settings(broadcast_url=redis_url, broadcast_channel_prefix=prefix, rate_limit_dashboard="2/minute")
    first, second = RateLimits(settings), RateLimits(settings)
    from app.auth import Caller

    caller = Caller(team_id=1, token_id=12345, user_id=1, role=Role.REP)
    await first.hit(caller, "127.0.0.1")
    await second.hit(caller, "127.0.0.1")
    with pytest.raises(Exception) as refused:
        await first.hit(caller, "127.0.0.1")
    assert refused.value.code.value == "RATE_LIMITED"
