"""The event bus delivers across subscribers on memory and on Redis, and survives Redis drops."""

import asyncio
import uuid

import pytest
from redis import asyncio as aioredis

from app.broadcast import RESYNC, EventBus, team_channel
from tests.conftest import CHANNEL_PREFIX


@pytest.fixture
async def bus(broadcast_url):
    bus = EventBus(broadcast_url, CHANNEL_PREFIX)
    await bus.start()
    yield bus
    await bus.stop()


async def _next(stream, timeout=5):
    return await asyncio.wait_for(stream.__anext__(), timeout)


async def test_published_payload_reaches_every_subscriber_of_the_channel(bus):
    channel = team_channel(int(uuid.uuid4().int % 10**6), "test")
    async with bus.subscribe(channel) as first, bus.subscribe(channel) as second:
        await bus.publish(channel, {"n": 1})
        assert await _next(first) == {"n": 1}
        assert await _next(second) == {"n": 1}


async def test_other_channels_are_not_delivered(bus):
    mine, other = team_channel(1, f"a{uuid.uuid4().hex}"), team_channel(2, f"b{uuid.uuid4().hex}")
    async with bus.subscribe(mine) as stream:
        await bus.publish(other, {"n": "other"})
        await bus.publish(mine, {"n": "mine"})
        assert await _next(stream) == {"n": "mine"}


async def test_redis_delivers_between_two_processes_worth_of_buses(redis_url):
    """Two buses = two processes: what one publishes, the other's subscribers get."""
    publisher, listener = EventBus(redis_url, CHANNEL_PREFIX), EventBus(redis_url, CHANNEL_PREFIX)
    await publisher.start()
    await listener.start()
    try:
        channel = team_channel(7, uuid.uuid4().hex)
        async with listener.subscribe(channel) as stream:
            await publisher.publish(channel, {"from": "elsewhere"})
            assert await _next(stream) == {"from": "elsewhere"}
    finally:
        await publisher.stop()
        await listener.stop()


async def test_redis_listener_reconnects_after_its_connection_is_killed(redis_url):
    """The listener comes back, and tells its subscribers (RESYNC) that events may have been lost."""
    bus = EventBus(redis_url, CHANNEL_PREFIX)
    await bus.start()
    admin = aioredis.Redis.from_url(redis_url)
    try:
        channel = team_channel(8, uuid.uuid4().hex)
        async with bus.subscribe(channel) as stream:
            await admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
            received: asyncio.Queue = asyncio.Queue()

            async def consume():
                async for payload in stream:
                    await received.put(payload)

            consumer = asyncio.create_task(consume())
            # Publish until the re-subscribed listener hears one (events sent while down are lost).
            seen = []
            for attempt in range(50):
                await bus.publish(channel, {"attempt": attempt})
                try:
                    while True:
                        seen.append(await asyncio.wait_for(received.get(), 0.2))
                        if seen[-1] is not RESYNC:
                            break
                    break
                except asyncio.TimeoutError:
                    continue
            else:
                pytest.fail("the listener never came back after its connection was killed")
            consumer.cancel()
            assert seen[0] is RESYNC and "attempt" in seen[-1]
    finally:
        await admin.aclose()
        await bus.stop()
