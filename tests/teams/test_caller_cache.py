"""A live token's lookup is reused for a second by the process; a revocation is never outlived
by more than that, and one made in this process applies at once."""

import asyncio

from app import auth
from app.teams.models import ApiToken, Role
from tests.support import make_team

VIEWER = "{ viewer { id } }"


async def test_a_revocation_elsewhere_is_honoured_within_the_cache_time(api, server):
    team = await make_team()
    token = team.token(Role.REP)
    assert (await api.data(VIEWER, token=token))["viewer"]["id"]
    # Revoked behind this process's back (another process, or SQL): no local invalidation.
    await ApiToken.filter(token_hash=auth.hash_token(token)).update(revoked_at=auth.datetime.now().astimezone())
    await asyncio.sleep(auth.CALLER_CACHE_SECONDS + 0.2)
    assert await api.error_code(VIEWER, token=token) == "UNAUTHENTICATED"


async def test_a_revocation_in_this_process_applies_to_the_next_request(api, server):
    team = await make_team()
    token = team.token(Role.ADMIN)
    assert (await api.data(VIEWER, token=token))["viewer"]["id"]
    await auth.revoke_token(team.id, token)
    assert await api.error_code(VIEWER, token=token) == "UNAUTHENTICATED"
