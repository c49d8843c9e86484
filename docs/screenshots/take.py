"""Re-takes the README's screenshots of the two dashboard pages from a fresh demo team.

    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python docs/screenshots/take.py

Needs Chromium from Debian's packages. Uses a scratch database on TEST_DATABASE_URL's server
(dropped afterwards) and `switchboard serve` in its own process.
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

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from playwright.async_api import async_playwright  # noqa: E402

from app import db  # noqa: E402
from tests.support import start_server_process  # noqa: E402

OUT = Path(__file__).parent


async def main() -> None:
    url = db.url_with_database(os.environ["TEST_DATABASE_URL"], f"switchboard_shots_{uuid.uuid4().hex[:8]}")
    proc, base = start_server_process(url, MASS_END_BATCH_SIZE="500")
    try:
        seeded = subprocess.run(
            [sys.executable, "-m", "app", "seed-demo"],
            env={**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"},
            capture_output=True, text=True, check=True, cwd=ROOT,
        )
        users = {u["name"]: u for u in json.loads(seeded.stdout)["users"]}
        async with async_playwright() as p:
            chromium = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
            browser = await p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = await browser.new_page(viewport={"width": 1200, "height": 760})

            async def sign_in(name: str) -> None:
                await page.goto(base + "/")
                await page.evaluate("sessionStorage.clear()")
                await page.goto(base + "/")
                await page.get_by_label("API token").fill(users[name]["token"])
                await page.get_by_role("button", name="Sign in").click()
                await page.get_by_text("active conversations across").wait_for()

            # Account Status, paused by the Team Leader until tomorrow, after a mass end (which
            # can still be undone), as the Team Leader sees it; first the scoped End Conversations
            # dialog with its preview.
            await sign_in("Theo Leader")
            await page.get_by_role("button", name="Pause Account").click()
            await page.get_by_label("Reason (optional)").fill("CRM sync is sending duplicate leads")
            tomorrow = await page.evaluate(
                """() => { const d = new Date(Date.now() + 86400000), p = (n) => String(n).padStart(2, "0");
                   return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T09:00`; }"""
            )
            await page.get_by_label("Resume automatically at (optional)").fill(tomorrow)
            await page.get_by_label("Type CONFIRM to continue").fill("CONFIRM")
            await page.get_by_role("dialog").get_by_role("button", name="Pause Account").click()
            await page.get_by_role("button", name="End Conversations").click()
            dialog = page.get_by_role("dialog", name="End Conversations")
            await dialog.get_by_role("checkbox", name="Rex Rep (4)").check()
            await dialog.get_by_role("checkbox", name="Dana Default (8)").check()
            await dialog.get_by_role("checkbox", name="New Lead").check()
            await dialog.get_by_text("Will end 12 conversations across 2 members.").wait_for()
            await page.screenshot(path=str(OUT / "end-conversations.png"))
            for box in ("Rex Rep (4)", "Dana Default (8)", "New Lead"):
                await dialog.get_by_role("checkbox", name=box).uncheck()
            await dialog.get_by_label("Type CONFIRM to continue").fill("CONFIRM")
            await dialog.get_by_role("button", name="End Conversations").click()
            await page.get_by_text("Done:").wait_for()
            await page.get_by_role("button", name="Undo Mass End").wait_for()
            await page.wait_for_timeout(300)
            await page.screenshot(path=str(OUT / "account-status.png"), full_page=True)

            # Missing Reps with the Map to Rep dialog open on Stephen Smith, as the Manager sees it.
            await sign_in("Mia Manager")
            await page.get_by_role("link", name="Missing Reps (2)").click()
            await page.get_by_role("button", name="Stephen Smith").wait_for()
            await page.get_by_role("checkbox", name="Select Jo Missing").check()
            await page.screenshot(path=str(OUT / "missing-reps.png"))
            await page.get_by_role("checkbox", name="Select Jo Missing").uncheck()
            await page.get_by_role("button", name="Stephen Smith").click()
            await page.get_by_text("% match").wait_for()
            await page.get_by_label("Search the team's users").fill("re")
            await page.wait_for_timeout(800)
            await page.screenshot(path=str(OUT / "map-to-rep.png"))
            await browser.close()
    finally:
        proc.terminate()
        proc.wait(15)
        await db.drop_database(url)


if __name__ == "__main__":
    asyncio.run(main())
