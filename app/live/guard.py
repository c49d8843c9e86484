"""Open connections answer to their token now, not to the token they opened with: every
WS_AUTH_CHECK_INTERVAL (1 s) one statement re-reads which of their tokens are still live and
their users' roles, and the sockets of a revoked token or a changed role are closed with 4403.
Reading the database (not an event) makes it hold in every process, whoever changed what."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from app import auth

if TYPE_CHECKING:
    from app.live.protocol import LiveConnection

log = logging.getLogger(__name__)

REVOKED_REASON = "The API token was revoked or its role changed"


class Guard:
    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._by_token: dict[int, set[LiveConnection]] = {}

    def watch(self, connection: LiveConnection) -> None:
        self._by_token.setdefault(connection.caller.token_id, set()).add(connection)

    def forget(self, connection: LiveConnection) -> None:
        if connection.caller is None:
            return
        connections = self._by_token.get(connection.caller.token_id)
        if connections is not None:
            connections.discard(connection)
            if not connections:
                del self._by_token[connection.caller.token_id]

    async def check(self) -> int:
        """Closes the connections whose token is no longer what it was; returns how many."""
        if not self._by_token:
            return 0
        asked = list(self._by_token)
        live = await auth.live_roles(asked)
        closed = 0
        # Only the tokens asked about: a connection that opened while the query ran is judged next time.
        for token_id in asked:
            for connection in list(self._by_token.get(token_id, ())):
                if token_id not in live or live[token_id] != connection.caller.role:
                    connection.close_soon(4403, REVOKED_REASON)
                    self.forget(connection)
                    closed += 1
        return closed

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                await self.check()
            except Exception:  # noqa: BLE001 - e.g. the database is briefly away: next round
                log.warning("could not re-check the tokens of open websockets", exc_info=True)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stopping.wait(), self.interval)
