"""GraphiQL at /graphql, served by the app itself: it works with no network at all."""

from __future__ import annotations

import json

from playwright.async_api import expect

from tests.browser.helpers import call_api, sign_in


async def replace_text(page, editor, text: str) -> None:
    """Types into a GraphiQL editor as a person would: click, select all, type."""
    await editor.click()
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Delete")
    await page.keyboard.type(text)


async def test_graphiql_runs_a_query_and_a_subscription_offline_with_the_headers_editor(page, web_server, demo):
    admin = demo["by_name"]["Ada Admin"]
    await page.goto(web_server["url"] + "/graphql")
    await expect(page.locator(".graphiql-container")).to_be_visible()

    # The headers editor is open for someone who has not signed in to the dashboard.
    headers = page.locator(".graphiql-editor-tool .CodeMirror").filter(has_text="Authorization")
    await expect(headers).to_be_visible()
    await replace_text(page, headers, json.dumps({"Authorization": f"Bearer {admin['token']}"}))
    run = page.get_by_role("button", name="Execute query (Ctrl-Enter)")
    await run.click()
    result = page.locator(".graphiql-response")
    await expect(result).to_contain_text('"name": "Ada Admin"')
    await expect(result).to_contain_text('"role": "ADMIN"')

    # A subscription runs over graphql-transport-ws, authorised by the same headers.
    query = page.locator(".graphiql-query-editor .CodeMirror")
    await replace_text(page, query, "subscription Watch { accountStatusChanged { state pauseReason")
    await page.wait_for_timeout(500)  # GraphiQL reads the operation's name from the editor after a pause
    await run.click()
    await page.wait_for_timeout(1000)  # subscribed
    await call_api(
        web_server["url"], admin["token"], 'mutation { pauseAccount(confirmation: "CONFIRM", reason: "from elsewhere") { state } }'
    )
    await expect(result).to_contain_text('"state": "PAUSED"')
    await expect(result).to_contain_text('"pauseReason": "from elsewhere"')

    # The explorer plugin lists the schema's fields.
    await page.get_by_role("button", name="Show GraphiQL Explorer").click()
    explorer = page.locator(".graphiql-explorer-root")
    await expect(explorer).to_contain_text("accountStatus")
    await expect(explorer).to_contain_text("massEndProgress")
    await expect(explorer).to_contain_text("missingRepDetected")
    assert page.outside_requests == [], page.outside_requests
    assert page.console_errors == []


async def test_graphiql_uses_the_dashboard_sign_in(page, web_server, demo):
    """Signed in to the dashboard in this tab, GraphiQL starts with the token in its headers."""
    await sign_in(page, web_server["url"], demo["by_name"]["Rex Rep"]["token"])
    await page.get_by_role("link", name="GraphiQL").click()
    await expect(page.locator(".graphiql-query-editor")).to_contain_text("viewer")
    await page.wait_for_timeout(500)  # GraphiQL settles its editors' state after a pause
    await page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()
    await expect(page.locator(".graphiql-response")).to_contain_text('"name": "Rex Rep"')
