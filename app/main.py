"""The Starlette application: routes, GraphQL over HTTP and websockets, lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route, WebSocketRoute

from app import db, exports, tasks, web
from app.live.server import LiveServer
from app.logs import RequestIdMiddleware
from app.pipeline.core import Pipeline
from app.pipeline.http import GraphQLHTTP
from app.runtime import orm_and_bus
from app.settings import Settings, get_settings

log = logging.getLogger(__name__)

# The collector's young pass runs when tracked objects allocated minus freed pass this threshold
# (CPython's default: 700). A request builds no cycles (tests/executor/test_request_lifetime.py):
# reference counting frees it once answered, but 32 pages in flight hold thousands of objects, so
# at 700 the pass ran about every other request to free nothing: 6% of a page's CPU (bench.reads).
YOUNG_GENERATION_THRESHOLD = 10_000


async def healthz(_: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


async def readyz(_: Request) -> JSONResponse:
    ready = await db.is_ready()
    return JSONResponse({"database": "ok" if ready else "unreachable"}, status_code=200 if ready else 503)


def create_app(settings: Settings | None = None, *, database_url: str | None = None) -> Starlette:
    """The app; `database_url` overrides settings (already resolved, migrations applied)."""
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        url = database_url or db.resolve_database_url(settings.database_url, settings.data_dir)
        if database_url is None:
            await db.apply_migrations(url)
        async with orm_and_bus(url, settings):
            await live.start()
            worker, worker_task = None, None
            if settings.run_workers:
                worker = tasks.new_worker(url, settings)
                worker_task = asyncio.create_task(worker.run(), name="job-worker")
            # Everything built so far (schema, ORM, settings) lives as long as the process: keep it
            # out of the collector's full passes, which otherwise pause a request for 70-100 ms
            # about once in a hundred (bench/missing_reps_page.py: p99 ~80 ms -> ~24 ms).
            gc.collect()
            gc.freeze()
            thresholds = gc.get_threshold()
            gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *thresholds[1:])
            try:
                yield
            finally:
                gc.set_threshold(*thresholds)
                await live.stop()
                if worker is not None:
                    worker.stop()
                    await worker_task

    pipeline = Pipeline(settings)
    # Subscriptions (and operations over websockets), through the same pipeline as HTTP; browsers
    # on other origins (the SPA, GraphiQL elsewhere) must be listed in ALLOWED_ORIGINS to open one.
    live = LiveServer(pipeline, settings)
    app = Starlette(
        routes=[
            Route("/graphql", GraphQLHTTP(pipeline, graphiql=settings.graphiql), methods=["GET", "POST"]),
            WebSocketRoute("/graphql", live),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            *exports.routes(),
            *web.routes(),
        ],
        middleware=[Middleware(RequestIdMiddleware), *web.cors_middleware(settings.allowed_origins)],
        lifespan=lifespan,
    )
    app.state.pipeline = pipeline
    app.state.settings = settings  # for resolvers that need a setting (e.g. which webhook targets are allowed)
    app.state.live = live
    return app
