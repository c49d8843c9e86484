"""Rate limits per token (per client address without one), with the `limits` library.

Three budgets: ingestion (integration tokens, which may only push leads and messages), dashboard
(user tokens) and anonymous (no valid token: introspection and GraphiQL, by address). The budget
follows the caller alone, so it is checked before the request body is even read.
Counters live in Redis when Redis is configured, so every API process shares them; in memory
otherwise.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from limits import parse
from limits.aio.storage import MemoryStorage, Storage
from limits.storage import storage_from_string
from limits.aio.strategies import FixedWindowRateLimiter

from app.errors import ErrorCode
from app.pipeline.errors import RequestRefused
from app.settings import Settings

log = logging.getLogger(__name__)

def _storage(settings: Settings) -> Storage:
    url = settings.rate_limit_storage_url
    if url is None and settings.broadcast_url.startswith(("redis://", "rediss://")):
        url = settings.broadcast_url
    if url is None or url.startswith("memory://"):
        return MemoryStorage()
    if url.startswith(("redis://", "rediss://")):
        url = "async+" + url
    return storage_from_string(url, implementation="redispy", key_prefix=f"{settings.broadcast_channel_prefix}limits")


class RateLimits:
    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limits
        self.budgets = {
            "ingestion": parse(settings.rate_limit_ingestion),
            "dashboard": parse(settings.rate_limit_dashboard),
            "anonymous": parse(settings.rate_limit_anonymous),
        }
        self.limiter = FixedWindowRateLimiter(_storage(settings)) if self.enabled else None

    @staticmethod
    def budget_of(caller: Any, client: str) -> tuple[str, str]:
        """(budget, whose): integration tokens ingest (the only thing they may do), user tokens
        use the dashboard, callers without a valid token count by address."""
        if caller is None:
            return "anonymous", f"address:{client}"
        if caller.is_integration:
            return "ingestion", f"token:{caller.token_id}"
        return "dashboard", f"token:{caller.token_id}"

    async def hit(self, caller: Any, client: str) -> None:
        if self.limiter is None:
            return
        budget, whose = self.budget_of(caller, client)
        item = self.budgets[budget]
        try:
            if await self.limiter.hit(item, budget, whose):
                return
            stats = await self.limiter.get_window_stats(item, budget, whose)
        except Exception:  # a rate-limit store that is down must not take the API down with it
            log.warning("rate-limit storage unavailable; request let through", exc_info=True)
            return
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise RequestRefused(
            ErrorCode.RATE_LIMITED,
            f"Too many requests for the {budget} budget ({item}): retry in {retry_after} s.",
            status=429,
            json_status=429,
            headers={"Retry-After": str(retry_after)},
            retryAfter=retry_after,
            budget=budget,
        )
