"""Browser tests: Playwright driving Debian's Chromium against a real `switchboard serve`.

The server runs in its own process on its own database; each test seeds its own demo team with
`switchboard seed-demo` and signs in with a token from it, as a person would. Browsers are never
downloaded: Chromium comes from Debian's packages (`apt-get install chromium`; .ci/run does it).
Every request to anything but the server is aborted and recorded, so the pages are proven to work
with no network. A failing test leaves a screenshot in test-results/browser/.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from app import db
from tests.conftest import IN_CI
from tests.support import start_server_process

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-results" / "browser"
AXE_SCRIPT = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
# Batches small enough that a mass end of 5,000 shows its progress moving.
MASS_END_BATCH_SIZE = "100"


def _missing(what: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true needs {what}: the browser tests never silently skip.")
    pytest.skip(f"{what} is not available")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        _missing("Chromium (apt-get install chromium)")
    return path


@pytest.fixture(scope="session")
def axe_script() -> str:
    if not AXE_SCRIPT.is_file():
        _missing("axe-core (npm ci in web/)")
    return AXE_SCRIPT.read_text()


@pytest.fixture(scope="session")
async def web_server(server_url_base):
    """`switchboard serve` in its own process, on a database of its own."""
    url = db.url_with_database(server_url_base, f"switchboard_browser_{uuid.uuid4().hex[:10]}")
    proc, base = await asyncio.to_thread(start_server_process, url, MASS_END_BATCH_SIZE=MASS_END_BATCH_SIZE)
    yield {"url": base, "database_url": url}
    proc.terminate()
    await asyncio.to_thread(proc.wait, 15)
    await db.drop_database(url)


@pytest.fixture
async def demo(web_server) -> dict:
    """A new demo team on the browser tests' server (users of each role with tokens, missing reps)."""
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "app", "seed-demo"],
        env={**os.environ, "DATABASE_URL": web_server["database_url"], "LOG_LEVEL": "WARNING"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    team = json.loads(result.stdout)
    team["by_name"] = {u["name"]: u for u in team["users"]}
    return team


@pytest.fixture(scope="session")
async def browser(chromium_path):
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=chromium_path, args=["--no-sandbox"])
        yield chromium
        await chromium.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
async def page(request, browser, web_server):
    """A fresh browser context (its own session storage) whose only reachable host is the server."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(15_000)
    page.outside_requests = []
    page.console_errors = []

    async def only_the_server(route):
        if route.request.url.startswith(web_server["url"]) or route.request.url.startswith("data:"):
            await route.continue_()
        else:
            page.outside_requests.append(route.request.url)
            await route.abort()

    await context.route("**/*", only_the_server)
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    yield page
    failed = any(getattr(request.node, f"report_{when}", None) and getattr(request.node, f"report_{when}").failed for when in ("setup", "call"))
    if failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{request.node.name}.png"
        await page.screenshot(path=str(path), full_page=True)
        print(f"screenshot of the failure: {path}")
    await context.close()
