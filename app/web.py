"""What a browser gets: the Settings dashboard at /, GraphiQL at /graphql, their prebuilt assets
under /static, and CORS for the origins in ALLOWED_ORIGINS.

The assets are built from web/ (React, TypeScript, vite) into app/static/ and shipped inside the
Python package: serving them needs no Node and no network. A page loads nothing from elsewhere,
which its Content-Security-Policy states.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"

# Scripts and styles only from this server (no inline script, no CDN); the GraphQL endpoint and its
# websockets on this origin. Inline styles: React and CodeMirror set element styles.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
_PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Built file names change with their content; the pages themselves must always be fresh.
    "Cache-Control": "no-cache",
}


@cache
def _page(name: str) -> str:
    path = STATIC_DIR / name
    if not path.is_file():
        raise RuntimeError(f"{path} is missing: build the web assets with `npm ci && npm run build` in web/.")
    return path.read_text(encoding="utf-8")


def graphiql_html() -> str:
    """GraphiQL (with the explorer, the headers editor and graphql-ws subscriptions), served offline."""
    return _page("graphiql.html")


def page_response(html: str) -> HTMLResponse:
    return HTMLResponse(html, headers=_PAGE_HEADERS)


async def dashboard(_: Request) -> HTMLResponse:
    return page_response(_page("index.html"))


def routes() -> list[BaseRoute]:
    return [
        Route("/", dashboard, methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]


def cors_middleware(allowed_origins: list[str]) -> list[Middleware]:
    """CORS on HTTP for ALLOWED_ORIGINS (websockets check the same list in the GraphQL view).

    Tokens travel in the Authorization header, never in cookies, so credentials stay off.
    """
    if not allowed_origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=allowed_origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID"],
            allow_credentials=False,
            max_age=600,
        )
    ]
