"""Settings › Connections › Account Status in a real browser."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.browser.helpers import axe_violations, call_api, ingest_leads, sign_in

STATUS = "{ accountStatus { state pauseReason activeConversationCount pausedBy { name } } }"
MASS_END_SIZE = 5_000


async def test_pause_stays_disabled_until_exactly_confirm_is_typed(page, web_server, demo):
    admin = demo["by_name"]["Ada Admin"]
    await sign_in(page, web_server["url"], admin["token"])
    await page.get_by_role("button", name="Pause Account").click()
    dialog = page.get_by_role("dialog", name="Pause Account")
    await expect(dialog).to_be_visible()
    confirm = dialog.get_by_role("button", name="Pause Account")
    word = dialog.get_by_label("Type CONFIRM to continue")
    await expect(confirm).to_be_disabled()
    for mistyped in ("confirm", "Confirm", "CONFIRM ", "CONFIRMED", "CONFIR"):
        await word.fill(mistyped)
        await expect(confirm).to_be_disabled()
        await word.press("Enter")  # submitting the form does nothing either
    await expect(dialog).to_be_visible()
    assert (await call_api(web_server["url"], admin["token"], STATUS))["accountStatus"]["state"] == "ACTIVE"

    await dialog.get_by_label("Reason (optional)").fill("CRM sync is sending duplicates")
    await word.fill("CONFIRM")
    await expect(confirm).to_be_enabled()
    await confirm.click()
    await expect(dialog).to_be_hidden()
    await expect(page.get_by_role("heading", name="Account Status: Paused")).to_be_visible()
    await expect(page.get_by_text("Paused by Ada Admin")).to_be_visible()
    await expect(page.get_by_role("button", name="Unpause Account")).to_be_visible()
    await expect(page.get_by_role("cell", name=re.compile("Paused the account: reason: “CRM sync"))).to_be_visible()
    status = (await call_api(web_server["url"], admin["token"], STATUS))["accountStatus"]
    assert status["state"] == "PAUSED" and status["pauseReason"] == "CRM sync is sending duplicates"


async def test_confirm_dialog_works_from_the_keyboard(page, web_server, demo):
    await sign_in(page, web_server["url"], demo["by_name"]["Theo Leader"]["token"])
    pause = page.get_by_role("button", name="Pause Account")
    await pause.focus()
    await page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Pause Account")
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_label("Type CONFIRM to continue")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(pause).to_be_focused()  # focus goes back to what opened the dialog
    await page.keyboard.press("Enter")
    await page.keyboard.type("CONFIRM")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="Account Status: Paused")).to_be_visible()


async def test_a_mass_end_of_5000_conversations_is_watched_to_100_percent(page, web_server, demo):
    base, admin = web_server["url"], demo["by_name"]["Ada Admin"]
    existing = (await call_api(base, admin["token"], STATUS))["accountStatus"]["activeConversationCount"]
    await ingest_leads(
        base,
        demo["integration"]["token"],
        [{"externalId": f"bulk-{n}", "email": f"bulk{n}@lead.example", "rep": {"name": "Rex Rep"}} for n in range(MASS_END_SIZE - existing)],
    )
    await sign_in(page, base, admin["token"])
    await expect(page.get_by_text("5,000 active conversations across")).to_be_visible()
    # Every value the progress text takes, as the page renders it.
    await page.evaluate(
        """() => {
          window.progressSeen = [];
          new MutationObserver(() => {
            const el = document.querySelector('[data-testid="mass-end-processed"]');
            if (el && window.progressSeen.at(-1) !== el.textContent) window.progressSeen.push(el.textContent);
          }).observe(document.body, {subtree: true, childList: true, characterData: true});
        }"""
    )
    await page.get_by_role("button", name="End Conversations").click()
    dialog = page.get_by_role("dialog", name="End Conversations")
    await expect(dialog.get_by_text("all 5,000 active conversations")).to_be_visible()
    await dialog.get_by_label("Type CONFIRM to continue").fill("CONFIRM")
    await dialog.get_by_role("button", name="End Conversations").click()

    bar = page.get_by_role("progressbar", name="Conversations ended")
    await expect(bar).to_be_visible()
    await expect(page.get_by_test_id("mass-end-processed")).to_have_text("5,000 / 5,000", timeout=60_000)
    await expect(page.get_by_test_id("mass-end-percent")).to_have_text("100%")
    await expect(bar).to_have_attribute("aria-valuenow", "5000")
    await expect(page.get_by_role("heading", name="Conversations ended")).to_be_visible()
    await expect(page.get_by_text(re.compile(r"conversations/s"))).to_be_visible()
    await expect(page.get_by_text("Done: 5,000 conversations ended.")).to_be_visible()
    seen = await page.evaluate("window.progressSeen")
    processed = [int(s.split("/")[0].replace(",", "")) for s in seen]
    assert processed == sorted(processed), seen
    assert any(0 < p < MASS_END_SIZE for p in processed), f"no progress between 0 and the end was shown: {seen}"
    # The status below follows: nothing is active any more.
    await expect(page.get_by_text("0 active conversations across 0 members")).to_be_visible()
    assert (await call_api(base, admin["token"], STATUS))["accountStatus"]["activeConversationCount"] == 0


async def test_a_rep_sees_the_status_but_no_pause_button_and_no_missing_reps(page, web_server, demo):
    await sign_in(page, web_server["url"], demo["by_name"]["Rex Rep"]["token"])
    await expect(page.get_by_text("active conversations across")).to_be_visible()
    await expect(page.get_by_role("heading", name="Account Status: Active")).to_be_visible()
    for action in ("Pause Account", "Unpause Account", "End Conversations"):
        await expect(page.get_by_role("button", name=action)).to_have_count(0)
    await expect(page.get_by_role("link", name=re.compile("Missing Reps"))).to_have_count(0)
    await expect(page.get_by_role("heading", name="Audit log")).to_have_count(0)


async def test_a_manager_sees_missing_reps_but_no_pause_button(page, web_server, demo):
    await sign_in(page, web_server["url"], demo["by_name"]["Mia Manager"]["token"])
    await expect(page.get_by_role("link", name="Missing Reps (2)")).to_be_visible()
    await expect(page.get_by_role("button", name="Pause Account")).to_have_count(0)
    await expect(page.get_by_role("button", name="End Conversations")).to_have_count(0)


async def test_a_pause_made_elsewhere_appears_live(page, web_server, demo):
    await sign_in(page, web_server["url"], demo["by_name"]["Rex Rep"]["token"])
    await expect(page.get_by_role("heading", name="Account Status: Active")).to_be_visible()
    await page.wait_for_timeout(500)  # the subscription is open
    await call_api(
        web_server["url"],
        demo["by_name"]["Ada Admin"]["token"],
        'mutation { pauseAccount(confirmation: "CONFIRM", reason: "Compliance review") { state } }',
    )
    await expect(page.get_by_role("heading", name="Account Status: Paused")).to_be_visible()
    await expect(page.get_by_text("Compliance review")).to_be_visible()


async def test_a_wrong_token_is_refused_at_sign_in(page, web_server):
    await page.goto(web_server["url"] + "/")
    await page.get_by_label("API token").fill("sb_not-a-real-token")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("not accepted")


async def test_the_account_status_page_has_no_serious_accessibility_violations(page, web_server, demo, axe_script):
    await sign_in(page, web_server["url"], demo["by_name"]["Ada Admin"]["token"])
    await expect(page.get_by_text("active conversations across")).to_be_visible()
    assert await axe_violations(page, axe_script) == []
    await page.get_by_role("button", name="Pause Account").click()
    await expect(page.get_by_role("dialog", name="Pause Account")).to_be_visible()
    assert await axe_violations(page, axe_script) == []
    assert page.outside_requests == [] and page.console_errors == []


async def test_the_token_is_kept_for_the_browser_session_only(page, browser, web_server, demo):
    await sign_in(page, web_server["url"], demo["by_name"]["Rex Rep"]["token"])
    await page.reload()
    await expect(page.get_by_text("Rex Rep · Rep")).to_be_visible()  # still signed in after a reload
    other = await browser.new_context()
    try:
        fresh = await other.new_page()
        await fresh.goto(web_server["url"] + "/")
        await expect(fresh.get_by_label("API token")).to_be_visible()  # another session starts signed out
    finally:
        await other.close()
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_label("API token")).to_be_visible()
    await page.reload()
    await expect(page.get_by_label("API token")).to_be_visible()
