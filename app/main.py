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
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL

from app import db, tasks, web
from app.auth import resolve_caller
from app.gql import Context
from app.logs import RequestIdMiddleware
from app.pipeline.core import Pipeline
from app.pipeline.http import GraphQLHTTP
from app.pipeline.websocket import LegacyWSHandler, TransportWSHandler
from app.runtime import orm_and_bus
from app.schema import schema
from app.settings import Settings, get_settings

log = logging.getLogger(__name__)


class SwitchboardGraphQL(GraphQL):
    """Serves websockets: strawberry's protocol handlers, running operations through the pipeline."""

    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

    def __init__(self, *args, pipeline: Pipeline, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.pipeline = pipeline

    async def get_context(self, request, response=None) -> Context:
        context = Context(request=request, response=response)
        if request.scope["type"] == "http":
            context.caller, context.auth_error = await resolve_caller(
                request.headers.get("authorization")
            )
        return context

    async def on_ws_connect(self, context: Context):
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        authorization = params.get("Authorization") or params.get("authorization")
        caller, error = await resolve_caller(authorization)
        if caller is None:
            # Closes the socket with 4403 Forbidden.
            raise ConnectionRejectionError({"message": error or "Send Authorization in connection_init."})
        context.caller = caller
        return None


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
            worker, worker_task = None, None
            if settings.run_workers:
                worker = tasks.new_worker(url, settings)
                worker_task = asyncio.create_task(worker.run(), name="job-worker")
            # Everything built so far (schema, ORM, settings) lives as long as the process: keep it
            # out of the collector's full passes, which otherwise pause a request for 70-100 ms
            # about once in a hundred (bench/missing_reps_page.py: p99 ~80 ms -> ~24 ms).
            gc.collect()
            gc.freeze()
            try:
                yield
            finally:
                if worker is not None:
                    worker.stop()
                    await worker_task

    pipeline = Pipeline(settings)
    websockets = SwitchboardGraphQL(
        schema,
        graphql_ide=None,
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL],
        # Browsers on other origins (the SPA, GraphiQL elsewhere) must be listed to open websockets.
        allowed_origins=settings.allowed_origins,
        max_subscriptions_per_connection=settings.max_operations_per_socket,
        pipeline=pipeline,
    )
    app = Starlette(
        routes=[
            Route("/graphql", GraphQLHTTP(pipeline, graphiql=settings.graphiql).handle, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", websockets),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            *web.routes(),
        ],
        middleware=[Middleware(RequestIdMiddleware), *web.cors_middleware(settings.allowed_origins)],
        lifespan=lifespan,
    )
    app.state.pipeline = pipeline
    return app
