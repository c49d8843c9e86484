"""Missing Reps: bulk Ignore / Restore, Accept suggested matches, CSV exports and the role picker.

The demo team has two missing reps: Stephen Smith (suggested match: Steve Smith) and Jo Missing
(no suggestion), four leads each.
"""

from __future__ import annotations

import csv
import io
import re

from playwright.async_api import expect

from tests.browser.helpers import axe_violations, call_api, open_missing_reps, sign_in

REPS = "query($s: MissingRepStatus) { missingReps(status: $s) { totalCount edges { node { id name } } } }"
USERS = 'query($s: String) { users(search: $s) { edges { node { name role aliases } } } }'


def bulk(page):
    return page.get_by_role("group", name="Bulk actions")


async def test_reps_are_ignored_and_restored_in_bulk(page, web_server, demo, axe_script):
    base, manager = web_server["url"], demo["by_name"]["Mia Manager"]
    await open_missing_reps(page, base, manager["token"], 2)
    ignore = bulk(page).get_by_role("button", name="Ignore selected")
    await expect(ignore).to_be_disabled()
    await page.get_by_role("checkbox", name="Select every rep on this page").check()
    await expect(page.get_by_role("checkbox", name="Select Jo Missing")).to_be_checked()
    await expect(page.get_by_role("checkbox", name="Select Stephen Smith")).to_be_checked()
    await expect(bulk(page).get_by_test_id("ticked-count")).to_have_text("2 selected")
    assert await axe_violations(page, axe_script) == []
    await ignore.click()
    await expect(page.get_by_role("status")).to_contain_text("2 reps moved to the Ignored list.")
    await expect(page.get_by_role("heading", name="Missing Reps (0)", level=1)).to_be_visible()
    await expect(page.get_by_role("link", name=re.compile("Missing Reps"))).to_have_count(0)  # hidden at 0
    await expect(bulk(page).get_by_test_id("ticked-count")).to_have_text("None selected")

    await page.get_by_role("tab", name="Ignored").click()
    await expect(page.get_by_role("cell", name="Jo Missing", exact=True)).to_be_visible()
    await page.get_by_role("checkbox", name="Select Jo Missing").check()
    await page.get_by_role("checkbox", name="Select Stephen Smith").check()
    await bulk(page).get_by_role("button", name="Restore selected").click()
    await expect(page.get_by_role("status")).to_contain_text("2 reps back in the Missing Reps list.")
    await expect(page.get_by_role("link", name="Missing Reps (2)")).to_be_visible()
    assert (await call_api(base, manager["token"], REPS, {"s": "IGNORED"}))["missingReps"]["totalCount"] == 0


async def test_a_rep_resolved_meanwhile_is_reported_as_skipped(page, web_server, demo):
    base, admin = web_server["url"], demo["by_name"]["Ada Admin"]
    await open_missing_reps(page, base, admin["token"], 2)
    await page.get_by_role("checkbox", name="Select Jo Missing").check()
    await page.get_by_role("checkbox", name="Select Stephen Smith").check()
    # Someone else maps Jo Missing while the boxes are ticked here.
    reps = (await call_api(base, admin["token"], REPS, {"s": "MISSING"}))["missingReps"]["edges"]
    jo = next(e["node"]["id"] for e in reps if e["node"]["name"] == "Jo Missing")
    await call_api(
        base,
        admin["token"],
        "mutation($id: ID!, $u: ID!) { mapMissingRepToUser(id: $id, userId: $u) { id } }",
        {"id": jo, "u": str(demo["by_name"]["Rex Rep"]["id"])},
    )
    await bulk(page).get_by_role("button", name="Ignore selected").click()
    status = page.get_by_role("status")
    await expect(status).to_contain_text("1 rep moved to the Ignored list. 1 rep skipped: Jo Missing (")
    await expect(page.get_by_role("heading", name="Missing Reps (0)", level=1)).to_be_visible()
    ignored = (await call_api(base, admin["token"], REPS, {"s": "IGNORED"}))["missingReps"]["edges"]
    assert [e["node"]["name"] for e in ignored] == ["Stephen Smith"]


async def test_suggested_matches_are_previewed_then_accepted(page, web_server, demo, axe_script):
    base, manager = web_server["url"], demo["by_name"]["Mia Manager"]
    await open_missing_reps(page, base, manager["token"], 2)
    await bulk(page).get_by_role("button", name="Accept suggested matches…").click()
    dialog = page.get_by_role("dialog", name="Accept Suggested Matches")
    await expect(dialog).to_contain_text("For every missing rep")
    score = dialog.get_by_label("Minimum score (%)")
    await expect(score).to_have_value("90")
    count = dialog.get_by_test_id("accept-preview-count")
    await expect(count).to_have_text("1 rep would be mapped.")
    proposals = dialog.get_by_role("table", name="What would be mapped")
    await expect(proposals.get_by_role("row")).to_have_count(2)  # the header and Stephen Smith
    await expect(proposals).to_contain_text("Stephen Smith")
    await expect(proposals).to_contain_text("Steve Smith")
    assert await axe_violations(page, axe_script) == []

    confirm = dialog.get_by_role("button", name="Accept Matches")
    await dialog.get_by_label("Type CONFIRM to continue").fill("CONFIRM")
    await score.fill("100")
    await expect(count).to_have_text("0 reps would be mapped.")
    await expect(dialog.get_by_text("nothing would be mapped")).to_be_visible()
    await expect(confirm).to_be_disabled()
    await score.fill("50")
    await expect(dialog.get_by_text("from 85 to 100")).to_have_count(2)  # the hint, and why the button is off
    await expect(confirm).to_be_disabled()
    await score.fill("90")
    await expect(count).to_have_text("1 rep would be mapped.")
    await expect(confirm).to_be_enabled()
    await confirm.click()
    await expect(dialog).to_be_hidden()
    await expect(page.get_by_role("status")).to_contain_text("1 rep mapped (Stephen Smith → Steve Smith); 4 leads moved.")
    await expect(page.get_by_role("link", name="Missing Reps (1)")).to_be_visible()
    users = await call_api(base, manager["token"], USERS, {"s": "steve"})
    assert users["users"]["edges"] == [{"node": {"name": "Steve Smith", "role": "REP", "aliases": ["Stephen Smith"]}}]


async def test_accept_suggested_matches_for_the_selected_reps_only(page, web_server, demo):
    await open_missing_reps(page, web_server["url"], demo["by_name"]["Ada Admin"]["token"], 2)
    await page.get_by_role("checkbox", name="Select Jo Missing").check()
    await bulk(page).get_by_role("button", name="Accept suggested matches…").click()
    dialog = page.get_by_role("dialog", name="Accept Suggested Matches")
    await expect(dialog).to_contain_text("For the 1 selected rep")
    await expect(dialog.get_by_test_id("accept-preview-count")).to_have_text("0 reps would be mapped.")  # Jo has no match
    await expect(dialog.get_by_role("table", name="What would be mapped")).to_have_count(0)


async def test_the_missing_reps_list_is_exported_as_csv(page, web_server, demo):
    await open_missing_reps(page, web_server["url"], demo["by_name"]["Mia Manager"]["token"], 2)
    await page.get_by_role("button", name="Stephen Smith").wait_for()
    async with page.expect_download() as info:
        await bulk(page).get_by_role("button", name="Export CSV").click()
    download = await info.value
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(open(await download.path(), encoding="utf-8-sig").read())))
    assert [row["name"] for row in rows] == ["Jo Missing", "Stephen Smith"], rows  # the page's order: Name, A to Z
    assert {row["leads_originally_assigned"] for row in rows} == {"4"}
    assert page.outside_requests == [] and page.console_errors == []


async def test_the_audit_log_is_exported_as_csv(page, web_server, demo):
    base, admin = web_server["url"], demo["by_name"]["Ada Admin"]
    await call_api(base, admin["token"], 'mutation { pauseAccount(confirmation: "CONFIRM", reason: "Exported pause") { state } }')
    await sign_in(page, base, admin["token"])
    audit = page.get_by_role("region", name="Audit log")
    await expect(audit.get_by_role("cell", name=re.compile("Exported pause"))).to_be_visible()
    async with page.expect_download() as info:
        await audit.get_by_role("button", name="Export CSV").click()
    download = await info.value
    text = open(await download.path(), encoding="utf-8-sig").read()
    assert "ACCOUNT_PAUSED" in text and "Exported pause" in text, text


async def test_add_as_user_offers_only_roles_up_to_the_viewers(page, web_server, demo):
    base, manager = web_server["url"], demo["by_name"]["Mia Manager"]
    await open_missing_reps(page, base, manager["token"], 2)
    await page.get_by_role("button", name="Jo Missing").click()
    dialog = page.get_by_role("dialog", name="Jo Missing")
    await dialog.get_by_role("tab", name="Add as User").click()
    role = dialog.get_by_label("Role")
    await expect(role).to_have_value("REP")
    assert await role.locator("option").all_inner_texts() == ["Rep", "Manager"]
    await expect(role).to_have_accessible_description("Up to your own role (Manager).")
    await role.select_option("MANAGER")
    await dialog.get_by_label("Email").fill("jo@crm.example")
    await dialog.get_by_role("button", name="Add as User", exact=True).click()
    await expect(dialog).to_be_hidden()
    await expect(page.get_by_role("status")).to_contain_text("Jo Missing was added as a Manager; 4 leads moved to them.")
    users = await call_api(base, manager["token"], USERS, {"s": "jo@crm"})
    assert [e["node"]["role"] for e in users["users"]["edges"]] == ["MANAGER"]


async def test_an_admin_may_give_every_role(page, web_server, demo):
    await open_missing_reps(page, web_server["url"], demo["by_name"]["Ada Admin"]["token"], 2)
    await page.get_by_role("button", name="Jo Missing").click()
    dialog = page.get_by_role("dialog", name="Jo Missing")
    await dialog.get_by_role("tab", name="Add as User").click()
    assert await dialog.get_by_label("Role").locator("option").all_inner_texts() == ["Rep", "Manager", "Team Leader", "Admin"]
