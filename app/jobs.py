"""Background work on PostgreSQL (pgqueuer): tasks, enqueueing inside a transaction, workers.

A feature declares a task with `@task("name")` on `async def handler(payload, ctx)` (and lists its
module in app/tasks.py, which every worker is built from) and queues it
with `await jobs.enqueue(conn, "name", payload)` inside its own transaction: a rollback drops the
job, a commit makes it visible to every worker at once (pgqueuer NOTIFYs on insert).

Workers run inside the API process (RUN_WORKERS=true) and in `switchboard worker` processes; any
of them claims any job. A worker that dies mid-job stops heart-beating and, after
JOB_HEARTBEAT_TIMEOUT, another worker claims the job again. A worker that only stalled can have
its job claimed while it still runs it, so a task must be safe to run again, and at the same time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from pgqueuer import AsyncpgDriver, Queries, QueueManager, RetryRequested, SchedulerManager
from pgqueuer.executors import (
    AbstractEntrypointExecutor,
    DatabaseRetryEntrypointExecutor,
    EntrypointExecutor,
    EntrypointExecutorParameters,
)
from pgqueuer.models import Job
from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient

from app import db
from app.settings import Settings

log = logging.getLogger(__name__)

# The tables pgqueuer's own SQL creates (migration 0003): no Tortoise model describes them.
QUEUE_TABLES = ("pgqueuer", "pgqueuer_log", "pgqueuer_schedules", "pgqueuer_statistics")
# Jobs one worker process runs at once: a long job holds a pooled connection while it runs.
MAX_CONCURRENT_JOBS = 4
_RESTART_DELAY = 2.0


@dataclass(frozen=True)
class JobContext:
    settings: Settings
    job_id: int
    # Set when the worker shuts down: a long task stops at a safe point (`retry_now`).
    stopping: asyncio.Event


Handler = Callable[[dict[str, Any], JobContext], Awaitable[None]]


@dataclass(frozen=True)
class Task:
    name: str
    handler: Handler
    # None: the task decides itself when to retry (raise `retry_later`) and when to give up.
    # A number: any exception retries with exponential backoff that many times, then the job is
    # held in the queue as failed (operators can re-queue it with `pgq`).
    retries: int | None


_tasks: dict[str, Task] = {}


def task(name: str, *, retries: int | None = None) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        if name in _tasks:
            raise RuntimeError(f"task {name!r} is declared twice")
        _tasks[name] = Task(name=name, handler=handler, retries=retries)
        return handler

    return register


def retry_later(seconds: float, reason: str) -> RetryRequested:
    """Raise this from a task to put its job back in the queue, to run again after `seconds`."""
    return RetryRequested(delay=timedelta(seconds=seconds), reason=reason)


def on_worker_start(hook: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
    """Runs `hook` whenever a worker (re)connects, e.g. to re-queue work a failure left unqueued."""
    _start_hooks.append(hook)
    return hook


_start_hooks: list[Callable[[], Awaitable[Any]]] = []


def periodic(every_seconds: float) -> Callable[[Callable[[], Awaitable[Any]]], Callable[[], Awaitable[Any]]]:
    """Runs the decorated coroutine in every worker at start and then every `every_seconds`.

    For idempotent sweeps (finishing work a dead process left half done): running in several
    workers at once must be safe.
    """

    def register(fn: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
        _periodic.append((every_seconds, fn))
        return fn

    return register


_periodic: list[tuple[float, Callable[[], Awaitable[Any]]]] = []


Scheduled = Callable[[Settings], Awaitable[Any]]


@dataclass(frozen=True)
class Schedule:
    name: str
    cron: Callable[[Settings], str]  # a cron expression (UTC), from the settings
    fn: Scheduled


_schedules: list[Schedule] = []


def schedule(name: str, cron: Callable[[Settings], str]) -> Callable[[Scheduled], Scheduled]:
    """Runs `fn(settings)` at the times of the cron expression `cron(settings)` (UTC, minute
    resolution), once per time across every worker: pgqueuer's scheduler claims each run in its
    `pgqueuer_schedules` row. A time missed while no worker ran is run when one starts.

    A run that dies mid-way may be run again (its row's heartbeat goes stale), and two
    expressions of one name can both be due after the cron setting changed: `fn` must make
    repeats harmless itself (e.g. with a conditional UPDATE).
    """

    def register(fn: Scheduled) -> Scheduled:
        if any(s.name == name for s in _schedules):
            raise RuntimeError(f"schedule {name!r} is declared twice")
        _schedules.append(Schedule(name=name, cron=cron, fn=fn))
        return fn

    return register


async def _run_schedules(database_url: str, settings: Settings, stopping: asyncio.Event) -> None:
    """pgqueuer's scheduler for every `@schedule`, on a dedicated connection (like the queue's:
    its heartbeats must never wait for the pool), until the worker stops."""
    connection = await asyncpg.connect(**db.credentials_from_url(database_url))
    try:
        manager = SchedulerManager(Queries(AsyncpgDriver(connection)))
        for scheduled in _schedules:

            async def run(_schedule: Any, fn: Scheduled = scheduled.fn) -> None:
                await fn(settings)

            manager.schedule(scheduled.name, scheduled.cron(settings), accepts_context=False)(run)

        async def stop_with_worker() -> None:
            await stopping.wait()
            manager.shutdown.set()

        stopper = asyncio.create_task(stop_with_worker())
        try:
            await manager.run()
        finally:
            stopper.cancel()
    finally:
        await connection.close(timeout=5)


Service = Callable[[str, Settings, asyncio.Event], Awaitable[None]]
_services: list[Service] = []


def service(fn: Service) -> Service:
    """Runs `fn(database_url, settings, stopping)` in every worker, beside the queue, until the
    worker stops (restarted if it fails): for work that schedules itself, such as the webhook
    dispatcher, whose slow receivers must never hold the queue's job slots."""
    _services.append(fn)
    return fn


async def _run_service(fn: Service, database_url: str, settings: Settings, stopping: asyncio.Event) -> None:
    while not stopping.is_set():
        try:
            await fn(database_url, settings, stopping)
        except Exception:  # noqa: BLE001 - e.g. the database is briefly away: start it again
            log.exception("%s stopped unexpectedly; restarting in %.0fs", fn.__qualname__, _RESTART_DELAY)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stopping.wait(), _RESTART_DELAY)


async def _run_periodically(every_seconds: float, fn: Callable[[], Awaitable[Any]], stopping: asyncio.Event) -> None:
    while not stopping.is_set():
        try:
            await fn()
        except Exception:  # noqa: BLE001 - e.g. the database is briefly away: try again later
            log.warning("periodic %s failed", fn.__qualname__, exc_info=True)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stopping.wait(), every_seconds)


async def enqueue(
    conn: BaseDBAsyncClient,
    name: str,
    payload: dict[str, Any],
    *,
    dedupe_key: str | None = None,
    skip_duplicate: bool = False,
    run_at: datetime | None = None,
) -> int | None:
    """Queues task `name` inside the caller's transaction: it exists only if `conn` commits.

    With `dedupe_key`, a second job with the same key cannot be queued while the first is queued
    or running: it raises, or with `skip_duplicate` queues nothing and returns None.

    With `run_at` (timezone-aware), no worker claims the job before that time on the database's
    clock; a worker that is up then runs it promptly, and if none is, the first one to start
    does. The job is a row like any other: it survives restarts, and one worker claims it.
    """
    if not isinstance(conn, TransactionalDBClient):
        raise RuntimeError("enqueue inside `async with in_transaction() as conn`, with that conn")
    if name not in _tasks:
        raise RuntimeError(f"no task is declared as {name!r}")
    if run_at is not None and run_at.utcoffset() is None:
        raise ValueError("run_at must be timezone-aware")
    # The transaction's own asyncpg connection: the job row commits or rolls back with it.
    queries = Queries(AsyncpgDriver(conn._connection))
    (job_id,) = await queries.enqueue(
        name,
        json.dumps(payload).encode(),
        dedupe_key=dedupe_key,
        on_conflict="skip" if skip_duplicate else "raise",
    )
    if run_at is not None and job_id is not None:
        # pgqueuer takes a delay added to the transaction's now(); setting the time itself keeps
        # it exact whatever the clocks and the session's time zone (an interval's days follow DST).
        await conn._connection.execute(
            "UPDATE pgqueuer SET execute_after = greatest($2::timestamptz, now()) WHERE id = $1", job_id, run_at
        )
    return job_id


class Worker:
    """Claims and runs jobs until `stop()`.

    It claims, heart-beats and LISTENs on one dedicated connection, not the shared pool: a busy
    pool must never delay heartbeats, or a live job would be claimed again elsewhere. Tasks run
    their SQL through the ORM's pool as usual. If the dedicated connection is lost, the worker
    reconnects; its running jobs are then re-claimed once their heartbeats are stale.
    """

    def __init__(self, database_url: str, settings: Settings) -> None:
        self.database_url = database_url
        self.settings = settings
        self.stopping = asyncio.Event()
        self._manager: QueueManager | None = None

    async def run(self) -> None:
        sweeps = [
            asyncio.create_task(_run_periodically(every, fn, self.stopping), name=fn.__qualname__)
            for every, fn in _periodic
        ]
        sweeps += [
            asyncio.create_task(_run_service(fn, self.database_url, self.settings, self.stopping), name=fn.__qualname__)
            for fn in _services
        ]
        if _schedules:
            sweeps.append(
                asyncio.create_task(
                    _run_service(_run_schedules, self.database_url, self.settings, self.stopping), name="schedules"
                )
            )
        try:
            while not self.stopping.is_set():
                try:
                    await self._run_manager()
                except Exception:  # noqa: BLE001 - a worker outlives database restarts
                    log.exception("job worker stopped unexpectedly; restarting in %.0fs", _RESTART_DELAY)
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self.stopping.wait(), _RESTART_DELAY)
        finally:
            await asyncio.gather(*sweeps)

    def stop(self) -> None:
        """Stops claiming; running jobs finish or reach a safe point, then `run()` returns."""
        self.stopping.set()
        if self._manager is not None:
            self._manager.shutdown.set()

    async def _run_manager(self) -> None:
        connection = await asyncpg.connect(**db.credentials_from_url(self.database_url))
        try:
            for hook in _start_hooks:
                await hook()
            manager = QueueManager(Queries(AsyncpgDriver(connection)))
            for task_ in _tasks.values():
                manager.register_executor(task_.name, self._executor(task_))
            self._manager = manager
            if self.stopping.is_set():
                return
            await manager.run(
                dequeue_timeout=timedelta(seconds=self.settings.job_poll_interval),
                batch_size=MAX_CONCURRENT_JOBS // 2,
                max_concurrent_tasks=MAX_CONCURRENT_JOBS,
                heartbeat_timeout=timedelta(seconds=self.settings.job_heartbeat_timeout),
            )
        finally:
            self._manager = None
            await connection.close(timeout=5)

    def _executor(self, task_: Task) -> AbstractEntrypointExecutor:
        async def run(job: Job) -> None:
            payload = json.loads(job.payload) if job.payload else {}
            await task_.handler(payload, JobContext(settings=self.settings, job_id=job.id, stopping=self.stopping))

        if task_.retries is None:
            return EntrypointExecutor(EntrypointExecutorParameters(concurrency_limit=0, func=run))
        return DatabaseRetryEntrypointExecutor(
            EntrypointExecutorParameters(concurrency_limit=0, func=run, on_failure="hold"),
            max_attempts=task_.retries,
        )
