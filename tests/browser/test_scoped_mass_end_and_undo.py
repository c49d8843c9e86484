"""Account Status: the scoped mass end with its live preview, and its undo, in a real browser.

The demo team's 25 leads each have an active conversation: Theo Leader 5, Dana Default 8 (the
leads of the two missing reps), Ada Admin, Mia Manager and Rex Rep 4 each; all are New Leads.
"""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.browser.helpers import axe_violations, browser_local_time, call_api, ingest_leads, sign_in

STATUS = "{ accountStatus { activeConversationCount activeMemberCount } }"


async def open_end_dialog(page):
    await page.get_by_role("button", name="End Conversations").click()
    dialog = page.get_by_role("dialog", name="End Conversations")
    await expect(dialog).to_be_visible()
    return dialog


async def test_the_preview_follows_the_filter_and_only_matching_conversations_end(page, web_server, demo, axe_script):
    base, admin = web_server["url"], demo["by_name"]["Ada Admin"]
    await sign_in(page, base, admin["token"])
    dialog = await open_end_dialog(page)
    preview = dialog.get_by_test_id("mass-end-preview")
    await expect(preview).to_have_text("Will end 25 conversations across 5 members (every active conversation).")
    await expect(dialog.get_by_text("all 25 active conversations")).to_be_visible()
    members = dialog.get_by_role("list", name="Members with active conversations")
    await expect(members.get_by_role("listitem")).to_have_count(5)
    await expect(members).to_contain_text("Dana Default (8)")

    await dialog.get_by_role("checkbox", name=re.compile("^Rex Rep")).check()
    await expect(preview).to_have_text("Will end 4 conversations across 1 member.")
    await dialog.get_by_role("checkbox", name=re.compile("^Theo Leader")).check()
    await expect(preview).to_have_text("Will end 9 conversations across 2 members.")

    confirm = dialog.get_by_role("button", name="End Conversations")
    await dialog.get_by_label("Type CONFIRM to continue").fill("CONFIRM")
    await dialog.get_by_role("checkbox", name="Qualified", exact=True).check()
    await expect(preview).to_have_text("Will end 0 conversations across 0 members.")
    await expect(dialog.get_by_text("there is nothing to end")).to_be_visible()
    await expect(confirm).to_be_disabled()  # CONFIRM typed, but nothing matches
    await dialog.get_by_role("checkbox", name="Qualified", exact=True).uncheck()
    await dialog.get_by_role("checkbox", name="New Lead").check()
    await expect(preview).to_have_text("Will end 9 conversations across 2 members.")

    before = dialog.get_by_label("Last activity before (optional)")
    await before.fill(await browser_local_time(page, -86_400))  # everything here is newer than a day ago
    await expect(preview).to_have_text("Will end 0 conversations across 0 members.")
    await before.fill(await browser_local_time(page, 3_600))
    await expect(preview).to_have_text("Will end 9 conversations across 2 members.")
    assert await axe_violations(page, axe_script) == []

    await expect(confirm).to_be_enabled()
    await confirm.click()
    await expect(dialog).to_be_hidden()
    await expect(page.get_by_test_id("mass-end-processed")).to_have_text("9 / 9", timeout=30_000)
    await expect(page.get_by_text("Done: 9 conversations ended.")).to_be_visible()
    await expect(page.get_by_text("16 active conversations across 3 members")).to_be_visible()
    status = (await call_api(base, admin["token"], STATUS))["accountStatus"]
    assert status == {"activeConversationCount": 16, "activeMemberCount": 3}
    assert page.outside_requests == [] and page.console_errors == []


async def test_a_team_leader_picks_members_from_the_preview(page, web_server, demo):
    """Team Leaders may not list users: the picker is the preview's own list of members."""
    await sign_in(page, web_server["url"], demo["by_name"]["Theo Leader"]["token"])
    dialog = await open_end_dialog(page)
    members = dialog.get_by_role("list", name="Members with active conversations")
    await expect(members.get_by_role("listitem")).to_have_count(5)
    await dialog.get_by_role("checkbox", name=re.compile("^Dana Default")).check()
    await expect(dialog.get_by_test_id("mass-end-preview")).to_have_text("Will end 8 conversations across 1 member.")
    assert page.console_errors == []


async def test_a_mass_end_is_undone_and_what_the_lead_touched_stays_ended(page, web_server, demo, axe_script):
    base, admin = web_server["url"], demo["by_name"]["Ada Admin"]
    ids = await ingest_leads(
        base,
        demo["integration"]["token"],
        [{"externalId": f"undo-{n}", "name": f"Undo Lead {n}", "email": f"undo{n}@lead.example", "rep": {"name": "Rex Rep"}} for n in range(3)],
    )
    await sign_in(page, base, admin["token"])
    await expect(page.get_by_test_id("undo-offer")).to_have_count(0)  # nothing to undo yet
    dialog = await open_end_dialog(page)
    await dialog.get_by_role("checkbox", name=re.compile("^Rex Rep")).check()
    await expect(dialog.get_by_test_id("mass-end-preview")).to_have_text("Will end 7 conversations across 1 member.")
    await dialog.get_by_label("Type CONFIRM to continue").fill("CONFIRM")
    await dialog.get_by_role("button", name="End Conversations").click()
    await expect(page.get_by_text("Done: 7 conversations ended.")).to_be_visible(timeout=30_000)

    # One lead writes after the mass end: its conversation must stay ended.
    await call_api(
        base,
        demo["integration"]["token"],
        "mutation($id: ID!) { receiveLeadMessage(leadId: $id, body: \"Still interested!\") { assistantReplied } }",
        {"id": ids[0]},
    )
    offer = page.get_by_test_id("undo-offer")
    await expect(offer).to_contain_text("The last mass end (7 conversations, scoped, by Ada Admin")
    await offer.get_by_role("button", name="Undo Mass End").click()
    undo = page.get_by_role("dialog", name="Undo Mass End")
    await expect(undo).to_contain_text("reopens the 7 conversations")
    assert await axe_violations(page, axe_script) == []
    confirm = undo.get_by_role("button", name="Undo Mass End")
    await undo.get_by_label("Type CONFIRM to continue").fill("confirm")
    await expect(confirm).to_be_disabled()
    await undo.get_by_label("Type CONFIRM to continue").fill("CONFIRM")
    await confirm.click()
    await expect(undo).to_be_hidden()

    await expect(page.get_by_role("heading", name="Mass end undone")).to_be_visible(timeout=30_000)
    await expect(page.get_by_role("progressbar", name="Conversations checked for reopening")).to_be_visible()
    await expect(page.get_by_text("Done: 6 conversations reopened; 1 conversation left ended.")).to_be_visible()
    await expect(page.get_by_test_id("reopen-skipped-count")).to_have_text("1 conversation")
    skipped = page.get_by_role("list", name="Left ended")
    await expect(skipped.get_by_role("listitem")).to_have_count(1)
    await expect(skipped).to_contain_text("Undo Lead 0 (Rex Rep): the lead wrote since")
    await expect(page.get_by_test_id("undo-offer")).to_have_count(0)  # undone: no second undo
    await expect(page.get_by_text("27 active conversations across 5 members")).to_be_visible()
    assert (await call_api(base, admin["token"], STATUS))["accountStatus"]["activeConversationCount"] == 27
    assert await axe_violations(page, axe_script) == []
    assert page.console_errors == []


async def test_the_undo_is_offered_to_others_live_and_not_to_a_rep(page, browser, web_server, demo):
    base = web_server["url"]
    await sign_in(page, base, demo["by_name"]["Theo Leader"]["token"])
    await page.wait_for_timeout(500)  # the subscription is open
    await call_api(
        base,
        demo["by_name"]["Ada Admin"]["token"],
        'mutation { endConversations(confirmation: "CONFIRM", filter: {memberIds: ["%s"]}) { id } }' % demo["by_name"]["Mia Manager"]["id"],
    )
    await expect(page.get_by_text("Done: 4 conversations ended.")).to_be_visible(timeout=30_000)
    await expect(page.get_by_test_id("undo-offer")).to_contain_text("can be undone until")

    rep_context = await browser.new_context()
    try:
        rep_page = await rep_context.new_page()
        await sign_in(rep_page, base, demo["by_name"]["Rex Rep"]["token"])
        await expect(rep_page.get_by_text("21 active conversations across 4 members")).to_be_visible()
        await expect(rep_page.get_by_role("button", name="Undo Mass End")).to_have_count(0)
    finally:
        await rep_context.close()
