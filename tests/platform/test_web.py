"""What a browser gets over HTTP: GraphiQL and the dashboard served offline, and CORS for ALLOWED_ORIGINS.

(What they do in a real browser is in tests/browser/.)
"""

from __future__ import annotations

import asyncio
import json
import re

import httpx
import pytest

from app import web
from app.teams.models import Role
from tests.support import make_team, start_server_process

ALLOWED = "https://app.example.com"
REFUSED = "https://evil.example"
VIEWER = {"query": "{ viewer { name } }"}


def _asset_urls(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


@pytest.mark.parametrize("path", ["/graphql", "/"])
async def test_pages_load_every_asset_from_this_server(api, path):
    """GraphiQL and the dashboard work with no network: every script and style comes from /static."""
    page = await api.http.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == web.CONTENT_SECURITY_POLICY
    urls = [u for u in _asset_urls(page.text) if not u.startswith("data:")]
    assert urls and all(u.startswith("/static/assets/") for u in urls), urls
    for url in urls:
        asset = await api.http.get(url)
        assert asset.status_code == 200, url
        for cdn in ("https://unpkg.com/", "https://cdn.jsdelivr.net/", "https://fonts.googleapis.com/"):
            assert cdn not in asset.text, (url, cdn)


async def test_every_built_asset_is_package_data():
    """pyproject's package-data globs cover the whole build (pip install ships it)."""
    files = {p.relative_to(web.STATIC_DIR).as_posix() for p in web.STATIC_DIR.rglob("*") if p.is_file()}
    covered = {f for f in files if re.fullmatch(r"[^/]+\.html|assets/[^/]+", f)}
    assert files and files == covered


async def test_without_allowed_origins_no_cors_headers_are_sent(api):
    response = await api.http.options(
        "/graphql", headers={"Origin": ALLOWED, "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in response.headers


@pytest.fixture(scope="module")
async def cors_server(database_url):
    proc, base = await asyncio.to_thread(
        start_server_process, database_url, ALLOWED_ORIGINS=json.dumps([ALLOWED]), RUN_WORKERS="false"
    )
    yield base
    proc.terminate()
    await asyncio.to_thread(proc.wait, 10)


async def test_preflight_from_an_allowed_origin_allows_authorization_and_content_type(cors_server):
    async with httpx.AsyncClient(base_url=cors_server) as http:
        response = await http.options(
            "/graphql",
            headers={
                "Origin": ALLOWED,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED
    allowed_headers = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed_headers
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in response.headers


async def test_a_query_from_an_allowed_origin_is_readable_cross_origin(server, cors_server):
    team = await make_team()
    async with httpx.AsyncClient(base_url=cors_server) as http:
        response = await http.post(
            "/graphql",
            json=VIEWER,
            headers={"Origin": ALLOWED, "Authorization": f"Bearer {team.token(Role.ADMIN)}"},
        )
    assert response.json()["data"]["viewer"]["name"] == team.member(Role.ADMIN).name
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert "x-request-id" in response.headers["access-control-expose-headers"].lower()


async def test_preflight_from_a_refused_origin_is_rejected(cors_server):
    async with httpx.AsyncClient(base_url=cors_server) as http:
        response = await http.options(
            "/graphql",
            headers={
                "Origin": REFUSED,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_a_response_to_a_refused_origin_carries_no_cors_grant(server, cors_server):
    team = await make_team()
    async with httpx.AsyncClient(base_url=cors_server) as http:
        response = await http.post(
            "/graphql", json=VIEWER, headers={"Origin": REFUSED, "Authorization": f"Bearer {team.token(Role.ADMIN)}"}
        )
    # The browser withholds a response without the header from the refused page's script.
    assert "access-control-allow-origin" not in response.headers
