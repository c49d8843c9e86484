"""Pool connections skip asyncpg's reset statement unless they took session state, and those that
did are reset: a mass end's session lock never outlives its use of the connection."""

import asyncpg

from app import db
from app.mass_end import sql


async def test_a_connection_that_took_a_session_lock_is_reset_on_release(server, database_url):
    team_id = 2_000_000_000  # no team: only the lock's key matters
    async with db.connection().acquire_connection() as conn:
        assert isinstance(conn, db.PooledConnection)
        assert conn.get_reset_query() == ""  # a plain connection: no extra round trip on release
        assert await sql.try_lock_team(conn, team_id)
        # Released without unlocking, as a job cancelled mid-way would.
    other = await asyncpg.connect(**db.credentials_from_url(database_url))
    try:
        assert await sql.try_lock_team(other, team_id), "the lock outlived the connection's release"
        await sql.unlock_team(other, team_id)
    finally:
        await other.close()


async def test_the_full_reset_runs_once_per_marking(server):
    async with db.connection().acquire_connection() as conn:
        db.took_session_state(conn)
        assert "pg_advisory_unlock_all" in conn.get_reset_query()
        assert conn.get_reset_query() == ""
