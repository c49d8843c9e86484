"""Team Settings › Users › Missing Reps in a real browser."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.browser.helpers import axe_violations, call_api, ingest_leads, open_missing_reps, sign_in

USERS = 'query($s: String) { users(search: $s) { edges { node { name aliases } } } }'


def rep_rows(page):
    return page.get_by_role("tabpanel").get_by_role("row")


async def test_stephen_smith_is_mapped_to_steve_from_his_suggested_match(page, web_server, demo):
    manager = demo["by_name"]["Mia Manager"]
    await open_missing_reps(page, web_server["url"], manager["token"], 2)
    await page.get_by_role("button", name="Stephen Smith").click()
    dialog = page.get_by_role("dialog", name="Stephen Smith")
    await dialog.get_by_role("tab", name="Map to Rep").click()
    suggestions = dialog.get_by_role("list", name="Suggested matches")
    await expect(suggestions.get_by_role("listitem")).to_have_count(1)
    await expect(suggestions).to_contain_text("Steve Smith")
    await expect(suggestions).to_contain_text(re.compile(r"\d+% match"))
    await suggestions.get_by_role("button", name="Map to Rep: Steve Smith").click()
    await expect(dialog).to_be_hidden()
    await expect(page.get_by_role("status")).to_contain_text("Stephen Smith was mapped to Steve Smith; 4 leads moved")
    await expect(page.get_by_role("link", name="Missing Reps (1)")).to_be_visible()
    await expect(page.get_by_role("button", name="Stephen Smith")).to_have_count(0)
    users = await call_api(web_server["url"], manager["token"], USERS, {"s": "steve"})
    assert users["users"]["edges"] == [{"node": {"name": "Steve Smith", "aliases": ["Stephen Smith"]}}]


async def test_map_to_rep_searches_the_teams_users(page, web_server, demo):
    await open_missing_reps(page, web_server["url"], demo["by_name"]["Ada Admin"]["token"], 2)
    await page.get_by_role("button", name="Jo Missing").click()
    dialog = page.get_by_role("dialog", name="Jo Missing")
    await dialog.get_by_role("tab", name="Map to Rep").click()
    await dialog.get_by_label("Search the team's users").fill("rex")
    found = dialog.get_by_role("list", name="Users found")
    await expect(found.get_by_role("listitem")).to_have_count(1)
    await found.get_by_role("button", name="Map to Rep: Rex Rep").click()
    await expect(page.get_by_role("status")).to_contain_text("Jo Missing was mapped to Rex Rep")


async def test_a_rep_is_ignored_and_restored(page, web_server, demo):
    await open_missing_reps(page, web_server["url"], demo["by_name"]["Mia Manager"]["token"], 2)
    await page.get_by_role("button", name="Jo Missing").click()
    dialog = page.get_by_role("dialog", name="Jo Missing")
    await dialog.get_by_role("tab", name="Ignore").click()
    await dialog.get_by_role("button", name="Ignore", exact=True).click()
    await expect(dialog).to_be_hidden()
    await expect(page.get_by_role("link", name="Missing Reps (1)")).to_be_visible()
    await expect(page.get_by_role("button", name="Jo Missing")).to_have_count(0)

    await page.get_by_role("tab", name="Ignored").click()
    await expect(page.get_by_role("cell", name="Jo Missing", exact=True)).to_be_visible()
    await page.get_by_role("button", name="Restore Jo Missing").click()
    await expect(page.get_by_role("status")).to_contain_text("Jo Missing is back in the Missing Reps list")
    await expect(page.get_by_role("link", name="Missing Reps (2)")).to_be_visible()
    await page.get_by_role("tab", name="Missing").click()
    await expect(page.get_by_role("button", name="Jo Missing")).to_be_visible()


async def test_add_as_user_shows_the_apis_field_errors_at_the_field(page, web_server, demo):
    await open_missing_reps(page, web_server["url"], demo["by_name"]["Mia Manager"]["token"], 2)
    await page.get_by_role("button", name="Jo Missing").click()
    dialog = page.get_by_role("dialog", name="Jo Missing")
    await dialog.get_by_role("tab", name="Add as User").click()
    await expect(dialog.get_by_label("Name")).to_have_value("Jo Missing")
    add = dialog.get_by_role("button", name="Add as User", exact=True)
    await add.click()  # neither email nor phone
    email = dialog.get_by_label("Email")
    await expect(email).to_have_attribute("aria-invalid", "true")
    await expect(email).to_have_accessible_description(re.compile("email or a phone"))
    await dialog.get_by_label("Phone").fill("not a phone")
    await add.click()
    await expect(dialog.get_by_label("Phone")).to_have_attribute("aria-invalid", "true")
    await expect(dialog.get_by_label("Phone")).to_have_accessible_description(re.compile("phone"))
    await dialog.get_by_label("Phone").fill("")
    await email.fill("mia.manager@" + demo["users"][2]["email"].split("@")[1])  # taken in the team
    await add.click()
    await expect(email).to_have_accessible_description(re.compile("already exists"))
    await email.fill("jo@crm.example")
    await add.click()
    await expect(dialog).to_be_hidden()
    await expect(page.get_by_role("status")).to_contain_text(
        "Jo Missing was added as a Rep; 4 leads moved to them. An invitation email is on its way to jo@crm.example."
    )


async def test_the_table_sorts_by_each_header_either_way(page, web_server, demo):
    base = web_server["url"]
    # Two more reps, the newest with the most leads.
    await ingest_leads(
        base,
        demo["integration"]["token"],
        [{"externalId": f"s-{n}", "email": f"s{n}@lead.example", "rep": {"name": "Al Newer"}} for n in range(9)],
    )
    await open_missing_reps(page, base, demo["by_name"]["Mia Manager"]["token"], 3)

    async def names() -> list[str]:
        return [n.strip() for n in await page.get_by_role("tabpanel").locator("tbody tr td:nth-child(2) button").all_inner_texts()]

    async def shows(expected: list[str]) -> None:
        """The rows in this order; None: any of the demo's two reps (same date, same count: a tie)."""

        def matches(found: list[str]) -> bool:
            return len(found) == len(expected) and all(e is None or e == f for e, f in zip(expected, found))

        for _ in range(100):
            if matches(await names()):
                return
            await page.wait_for_timeout(50)
        assert matches(await names()), (await names(), expected)

    await shows(["Al Newer", "Jo Missing", "Stephen Smith"])  # A to Z by default
    name_header = page.get_by_role("columnheader", name=re.compile("^Name"))
    await expect(name_header).to_have_attribute("aria-sort", "ascending")
    await name_header.get_by_role("button").click()
    await expect(name_header).to_have_attribute("aria-sort", "descending")
    await shows(["Stephen Smith", "Jo Missing", "Al Newer"])
    await page.get_by_role("button", name="Date Found").click()
    await expect(page.get_by_role("columnheader", name=re.compile("^Date Found"))).to_have_attribute("aria-sort", "descending")
    await shows(["Al Newer", None, None])  # newest first
    await page.get_by_role("button", name="Date Found").click()
    await shows([None, None, "Al Newer"])
    await page.get_by_role("button", name="Leads Originally Assigned").click()
    await expect(page.get_by_role("columnheader", name=re.compile("^Leads"))).to_have_attribute("aria-sort", "descending")
    await shows(["Al Newer", None, None])  # 9, then the two with 4
    await page.get_by_role("button", name="Leads Originally Assigned").click()
    await expect(page.get_by_role("columnheader", name=re.compile("^Leads"))).to_have_attribute("aria-sort", "ascending")
    await shows([None, None, "Al Newer"])


async def test_a_newly_detected_rep_appears_without_a_reload(page, web_server, demo):
    await open_missing_reps(page, web_server["url"], demo["by_name"]["Mia Manager"]["token"], 2)
    await page.wait_for_timeout(500)  # the subscription is open
    await ingest_leads(
        web_server["url"], demo["integration"]["token"], [{"externalId": "live-1", "email": "l1@lead.example", "rep": {"name": "Nina Newcomer"}}]
    )
    await expect(page.get_by_role("button", name="Nina Newcomer")).to_be_visible()
    await expect(page.get_by_role("link", name="Missing Reps (3)")).to_be_visible()
    await expect(page.get_by_role("status")).to_contain_text("New missing rep detected: Nina Newcomer")


async def test_the_menu_entry_appears_when_the_first_rep_goes_missing(page, web_server, demo):
    base, admin = web_server["url"], demo["by_name"]["Ada Admin"]
    for rep, user in (("Stephen Smith", "Steve Smith"), ("Jo Missing", "Rex Rep")):
        reps = await call_api(base, admin["token"], "{ missingReps { edges { node { id name } } } }")
        rep_id = next(e["node"]["id"] for e in reps["missingReps"]["edges"] if e["node"]["name"] == rep)
        user_id = str(demo["by_name"][user]["id"])
        await call_api(base, admin["token"], "mutation($id: ID!, $u: ID!) { mapMissingRepToUser(id: $id, userId: $u) { id } }", {"id": rep_id, "u": user_id})
    await sign_in(page, base, admin["token"])
    await expect(page.get_by_role("link", name=re.compile("Missing Reps"))).to_have_count(0)
    await page.wait_for_timeout(500)
    await ingest_leads(base, demo["integration"]["token"], [{"externalId": "first-1", "email": "f1@lead.example", "rep": {"name": "Olga First"}}])
    await expect(page.get_by_role("link", name="Missing Reps (1)")).to_be_visible()


async def test_the_missing_reps_page_has_no_serious_accessibility_violations(page, web_server, demo, axe_script):
    await open_missing_reps(page, web_server["url"], demo["by_name"]["Mia Manager"]["token"], 2)
    await expect(page.get_by_role("button", name="Stephen Smith")).to_be_visible()
    assert await axe_violations(page, axe_script) == []
    await page.get_by_role("button", name="Stephen Smith").click()
    dialog = page.get_by_role("dialog", name="Stephen Smith")
    await dialog.get_by_role("tab", name="Map to Rep").click()
    await expect(dialog.get_by_text("% match")).to_be_visible()
    assert await axe_violations(page, axe_script) == []
    await dialog.get_by_role("tab", name="Add as User").click()
    assert await axe_violations(page, axe_script) == []
    assert page.outside_requests == [] and page.console_errors == []
