from __future__ import annotations

import pytest

from tests.webhooks.receiver import Receiver


@pytest.fixture
async def receiver(server):
    """A receiver on loopback; the test fails if any request it got did not verify."""
    r = Receiver()
    await r.start()
    yield r
    await r.stop()
    assert r.unverified == [], f"webhooks that did not verify: {r.unverified}"


@pytest.fixture
def strict_targets(server_settings):
    """The production rule for this test: https only, no private addresses (the server's own
    settings object, which the API and its worker read at each use)."""
    server_settings.webhook_allow_private_targets = False
    yield server_settings
    server_settings.webhook_allow_private_targets = True
