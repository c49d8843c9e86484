"""Events between processes: channels, JSON payloads, and a supervised Redis listener.

broadcaster's own Redis backend delivers nothing with redis-py 8 (it marks itself ready before
SUBSCRIBE completes) and never reconnects. Ours pattern-subscribes once to every Switchboard
channel when it connects, so there is no per-channel subscribe race, and a supervisor
re-subscribes after Redis goes away. Events published while Redis is unreachable are lost, so
after a reconnect every subscriber of this process receives RESYNC: a stream of state (account
status, a job's progress) then reads and sends its current state, and no view stays stale.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlparse

from broadcaster import Broadcast, Event
from broadcaster._backends.base import BroadcastBackend
from redis import asyncio as aioredis

log = logging.getLogger(__name__)

DEFAULT_CHANNEL_PREFIX = "switchboard:"
# What a subscriber receives instead of a payload when events may have been lost.
RESYNC = object()
# Its form on the backend's queue: never a JSON payload (those are objects).
_RESYNC_MESSAGE = "resync"


def team_channel(team_id: int, topic: str) -> str:
    return f"team:{team_id}:{topic}"


class SupervisedRedisBackend(BroadcastBackend):
    def __init__(
        self, url: str, prefix: str, *, retry_delay: float = 0.5, max_retry_delay: float = 5.0
    ) -> None:
        self._url = url
        self._prefix = prefix
        self._publisher = aioredis.Redis.from_url(url)
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._subscribed = asyncio.Event()
        self._retry_delay = retry_delay
        self._max_retry_delay = max_retry_delay
        self._task: asyncio.Task[None] | None = None
        self._channels: set[str] = set()  # those with local subscribers: told to resync

    async def connect(self) -> None:
        self._task = asyncio.create_task(self._supervise(), name="redis-broadcast-listener")
        await asyncio.wait_for(self._subscribed.wait(), timeout=10)

    async def disconnect(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        await self._publisher.aclose()

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)  # the pattern subscription already covers every channel

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)

    async def publish(self, channel: str, message: Any) -> None:
        await self._publisher.publish(channel, message)

    async def next_published(self) -> Event:
        return await self._queue.get()

    async def _supervise(self) -> None:
        delay = self._retry_delay
        while True:
            client = aioredis.Redis.from_url(self._url)
            pubsub = client.pubsub()
            try:
                await pubsub.psubscribe(f"{self._prefix}*")
                async for message in pubsub.listen():
                    if message["type"] == "psubscribe":
                        if self._subscribed.is_set():  # a reconnect: events may have been lost
                            for channel in list(self._channels):
                                await self._queue.put(Event(channel=channel, message=_RESYNC_MESSAGE))
                        self._subscribed.set()
                        delay = self._retry_delay
                    elif message["type"] == "pmessage":
                        await self._queue.put(
                            Event(channel=message["channel"].decode(), message=message["data"].decode())
                        )
                # listen() only returns when nothing is subscribed: treat it like a drop.
                raise ConnectionError("Redis pub/sub subscription ended")
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - any failure means: reconnect
                log.warning("Redis broadcast listener lost; reconnecting in %.1fs", delay, exc_info=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_retry_delay)
            finally:
                try:
                    await pubsub.aclose()
                    await client.aclose()
                except Exception:  # noqa: BLE001
                    pass


class EventBus:
    """Publish JSON payloads on channels; subscribe to one channel as an async iterator.

    Every channel name is prefixed, so environments can share one Redis without hearing each other.
    """

    def __init__(self, url: str, prefix: str = DEFAULT_CHANNEL_PREFIX) -> None:
        self.prefix = prefix
        scheme = urlparse(url).scheme
        if scheme in ("redis", "rediss"):
            self._broadcast = Broadcast(backend=SupervisedRedisBackend(url, prefix))
        elif scheme == "memory":
            self._broadcast = Broadcast(url)
        else:
            raise ValueError(f"BROADCAST_URL must be memory:// or redis://, got {url!r}")
        self.url = url

    async def start(self) -> None:
        await self._broadcast.connect()

    async def stop(self) -> None:
        await self._broadcast.disconnect()

    def subscriber_count(self, channel: str) -> int:
        """Local subscribers of `channel` in this process."""
        return len(self._broadcast._subscribers.get(self.prefix + channel, ()))

    async def publish(self, channel: str, payload: dict[str, Any]) -> None:
        await self._broadcast.publish(self.prefix + channel, json.dumps(payload, default=str))

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[dict[str, Any] | object]]:
        """The channel's payloads, and RESYNC where events may have been lost."""
        async with self._broadcast.subscribe(self.prefix + channel) as subscriber:

            async def payloads() -> AsyncIterator[dict[str, Any] | object]:
                async for event in subscriber:
                    if event is not None:
                        yield RESYNC if event.message == _RESYNC_MESSAGE else json.loads(event.message)

            yield payloads()


_bus: EventBus | None = None


def set_bus(bus: EventBus | None) -> None:
    global _bus
    _bus = bus


def bus() -> EventBus:
    if _bus is None:
        raise RuntimeError("The event bus is not started (app lifespan or worker not running).")
    return _bus


async def publish(channel: str, payload: dict[str, Any]) -> None:
    """The one way to publish an event. Call it after the transaction that caused it committed."""
    try:
        await bus().publish(channel, payload)
    except Exception:  # noqa: BLE001 - a lost live event must not undo a committed change
        log.exception("could not publish on %s", channel)
