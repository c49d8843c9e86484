"""Account Status: a pause with a "resume at" time, in a real browser."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from playwright.async_api import expect

from tests.browser.helpers import axe_violations, browser_local_time, call_api, sign_in

STATUS = "{ accountStatus { state resumesAt pauseReason } }"


async def test_a_pause_with_a_resume_time_shows_when_it_resumes(page, web_server, demo, axe_script):
    base, leader = web_server["url"], demo["by_name"]["Theo Leader"]
    await sign_in(page, base, leader["token"])
    await page.get_by_role("button", name="Pause Account").click()
    dialog = page.get_by_role("dialog", name="Pause Account")
    resume = dialog.get_by_label("Resume automatically at (optional)")
    await expect(resume).to_have_value("")
    await expect(resume).to_have_accessible_description(
        "In your time zone, at most 90 days ahead. Empty: the account stays paused until someone unpauses it. "
        "While it stays paused, Admins and Team Leaders are reminded by email."
    )
    two_days = await browser_local_time(page, 2 * 86_400)
    await resume.fill(two_days)
    await dialog.get_by_label("Reason (optional)").fill("Holiday freeze")
    assert await axe_violations(page, axe_script) == []
    await dialog.get_by_label("Type CONFIRM to continue").fill("CONFIRM")
    await dialog.get_by_role("button", name="Pause Account").click()
    await expect(dialog).to_be_hidden()

    await expect(page.get_by_role("heading", name="Account Status: Paused")).to_be_visible()
    await expect(page.get_by_test_id("resumes-at")).to_contain_text("Resumes automatically on")
    await expect(page.get_by_role("status")).to_contain_text("The account is paused until")
    status = (await call_api(base, leader["token"], STATUS))["accountStatus"]
    assert status["state"] == "PAUSED" and status["pauseReason"] == "Holiday freeze"
    # The time picked in the page's time zone, to the minute, is the instant the API keeps.
    picked = await page.evaluate("(v) => new Date(v).toISOString()", two_days)
    assert datetime.fromisoformat(status["resumesAt"]) == datetime.fromisoformat(picked.replace("Z", "+00:00"))

    # The unpause dialog says the account would resume by itself anyway.
    await page.get_by_role("button", name="Unpause Account").click()
    await expect(page.get_by_role("dialog", name="Unpause Account")).to_contain_text("resumes by itself on")
    assert page.console_errors == []


async def test_a_resume_time_past_90_days_is_not_sent(page, web_server, demo):
    base, admin = web_server["url"], demo["by_name"]["Ada Admin"]
    await sign_in(page, base, admin["token"])
    await page.get_by_role("button", name="Pause Account").click()
    dialog = page.get_by_role("dialog", name="Pause Account")
    resume = dialog.get_by_label("Resume automatically at (optional)")
    # Past the 90 days: the picker's bounds say so, and the browser will not submit it.
    await resume.fill(await browser_local_time(page, 91 * 86_400))
    await dialog.get_by_label("Type CONFIRM to continue").fill("CONFIRM")
    await dialog.get_by_role("button", name="Pause Account").click()
    assert await resume.evaluate("(el) => el.validity.rangeOverflow")
    await expect(dialog).to_be_visible()
    assert (await call_api(base, admin["token"], STATUS))["accountStatus"]["state"] == "ACTIVE"


async def test_the_account_resumes_by_itself_and_the_page_follows_live(page, web_server, demo):
    base, admin = web_server["url"], demo["by_name"]["Ada Admin"]
    await sign_in(page, base, demo["by_name"]["Rex Rep"]["token"])
    await expect(page.get_by_role("heading", name="Account Status: Active")).to_be_visible()
    await page.wait_for_timeout(500)  # the subscription is open
    until = (datetime.now(timezone.utc) + timedelta(seconds=4)).isoformat()
    await call_api(base, admin["token"], 'mutation($u: DateTime) { pauseAccount(confirmation: "CONFIRM", until: $u) { state } }', {"u": until})
    await expect(page.get_by_role("heading", name="Account Status: Paused")).to_be_visible()
    await expect(page.get_by_test_id("resumes-at")).to_contain_text("Resumes automatically on")
    await expect(page.get_by_role("heading", name="Account Status: Active")).to_be_visible(timeout=30_000)
    await expect(page.get_by_test_id("resumes-at")).to_have_count(0)
    status = (await call_api(base, admin["token"], STATUS))["accountStatus"]
    assert status["state"] == "ACTIVE" and status["resumesAt"] is None
