"""The `switchboard` command: serve, run workers, migrate, seed a demo, create teams/users/tokens,
revoke tokens.

Results go to stdout as JSON; logs go to stderr.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import typer

from app import db
from app.logs import configure_logging
from app.runtime import orm_and_bus
from app.settings import get_settings
from app.teams.models import Role

cli = typer.Typer(help="Switchboard: team-settings GraphQL API.", no_args_is_help=True)
log = logging.getLogger("switchboard")


def _database_url() -> str:
    settings = get_settings()
    return db.resolve_database_url(settings.database_url, settings.data_dir)


def _run_with_orm(work: Callable[[], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        url = _database_url()
        await db.apply_migrations(url)
        async with orm_and_bus(url, get_settings()):
            return await work()

    return asyncio.run(main())


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2))


@cli.callback()
def _setup() -> None:
    configure_logging(get_settings().log_level)


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default: HOST setting.")] = None,
    port: Annotated[int | None, typer.Option(help="Default: PORT setting.")] = None,
    demo: Annotated[bool, typer.Option(help="Seed a demo team first and print its tokens.")] = False,
) -> None:
    """Apply pending migrations, then serve the API (and background workers)."""
    import uvicorn

    from app.main import create_app

    settings = get_settings()
    if demo and "webhook_allow_private_targets" not in settings.model_fields_set:
        # The demo's webhook receiver is typically a local http server on this machine.
        settings = settings.model_copy(update={"webhook_allow_private_targets": True})
    url = _database_url()
    host, port = host or settings.host, port or settings.port
    address = f"http://{host}:{port}"

    async def prepare() -> None:
        await db.apply_migrations(url)
        if demo:
            from app.demo import seed_demo

            async with orm_and_bus(url, settings):
                # The addresses next to the tokens: paste one into the dashboard to sign in.
                _print_json({"dashboard": f"{address}/", "graphiql": f"{address}/graphql", **await seed_demo()})

    asyncio.run(prepare())
    log.info("Settings dashboard at %s/ and GraphiQL at %s/graphql", address, address)
    # log_config=None: uvicorn logs through our stderr handler (its default sends access logs to
    # stdout, which must carry only the demo JSON).
    uvicorn.run(
        create_app(settings, database_url=url),
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        log_config=None,
        # Access lines are INFO: below that level uvicorn would format each one only to drop it.
        access_log=settings.log_level.upper() in ("DEBUG", "INFO"),
        ws=settings.ws_implementation,
        ws_per_message_deflate=settings.ws_per_message_deflate,
    )


@cli.command()
def worker() -> None:
    """Apply pending migrations, then run background jobs until SIGTERM or Ctrl-C."""
    import signal

    from app import tasks

    settings = get_settings()
    url = _database_url()

    async def main() -> None:
        await db.apply_migrations(url)
        # Progress events reach the API processes' subscribers through BROADCAST_URL.
        async with orm_and_bus(url, settings):
            job_worker = tasks.new_worker(url, settings)
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, job_worker.stop)
            log.info("worker started")
            await job_worker.run()
        log.info("worker stopped")

    asyncio.run(main())


@cli.command()
def migrate() -> None:
    """Apply pending migrations."""
    asyncio.run(db.apply_migrations(_database_url()))
    log.info("migrations applied")


@cli.command("seed-demo")
def seed_demo_command() -> None:
    """Create a demo team (one user of each role, leads, tokens) and print it as JSON."""
    from app.demo import seed_demo

    _print_json(_run_with_orm(seed_demo))


@cli.command("create-team")
def create_team(name: str) -> None:
    """Create a team and print its id."""
    from app.teams import service

    team = _run_with_orm(lambda: service.create_team(name))
    _print_json({"id": team.id, "name": team.name})


@cli.command("create-user")
def create_user(
    team_id: int,
    name: str,
    role: Annotated[Role, typer.Option(case_sensitive=False)] = Role.REP,
    email: str | None = None,
    phone: str | None = None,
    default_rep: Annotated[bool, typer.Option(help="Make this user the team's Default Rep.")] = False,
) -> None:
    """Create a user in a team and print it."""
    from app.teams import service

    async def work():
        user = await service.create_user(team_id, name=name, role=role, email=email, phone=phone)
        if default_rep:
            await service.set_default_rep(team_id, user.id)
        return user

    user = _run_with_orm(work)
    _print_json({"id": user.id, "name": user.name, "email": user.email, "role": user.role.value})


@cli.command("create-token")
def create_token(
    team_id: int,
    user_id: Annotated[int | None, typer.Option(help="Omit for an integration token.")] = None,
    name: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
) -> None:
    """Create an API token (a user's, or an integration's) and print it once."""
    from app import auth

    secret = _run_with_orm(lambda: auth.create_token(team_id, user_id=user_id, name=name))
    _print_json({"token": secret, "team_id": team_id, "user_id": user_id})


@cli.command("revoke-token")
def revoke_token(team_id: int, token: str) -> None:
    """Revoke an API token: it stops working at once (only its hash is stored, so give the token)."""
    from app import auth

    _run_with_orm(lambda: auth.revoke_token(team_id, token))
    _print_json({"revoked": True, "team_id": team_id})


def main() -> None:
    cli()
