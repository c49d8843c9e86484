"""What every process of Switchboard runs on: the ORM and the event bus, started and stopped together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from app import db
from app.broadcast import EventBus, set_bus
from app.settings import Settings


@asynccontextmanager
async def orm_and_bus(database_url: str, settings: Settings) -> AsyncIterator[None]:
    """The API, workers and CLI commands all publish their events (e.g. a seeded demo's missing
    reps reach live subscribers through a shared Redis)."""
    await db.init_orm(database_url)
    bus = EventBus(settings.broadcast_url, settings.broadcast_channel_prefix)
    try:
        await bus.start()
        set_bus(bus)
        yield
    finally:
        set_bus(None)
        await bus.stop()
        await db.close_orm()
