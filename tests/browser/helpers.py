"""Steps a person takes in the dashboard, and the API calls that make things happen elsewhere."""

from __future__ import annotations

import httpx
from playwright.async_api import Page, expect


async def sign_in(page: Page, base_url: str, token: str) -> None:
    await page.goto(base_url + "/")
    await page.get_by_label("API token").fill(token)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Account Status", level=1)).to_be_visible()


async def open_missing_reps(page: Page, base_url: str, token: str, count: int) -> None:
    await sign_in(page, base_url, token)
    await page.get_by_role("link", name=f"Missing Reps ({count})").click()
    await expect(page.get_by_role("heading", name=f"Missing Reps ({count})", level=1)).to_be_visible()


async def call_api(base_url: str, token: str, query: str, variables: dict | None = None) -> dict:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        response = await http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers={"Authorization": f"Bearer {token}"}
        )
    body = response.json()
    assert not body.get("errors"), body["errors"]
    return body["data"]


async def ingest_leads(base_url: str, integration_token: str, leads: list[dict]) -> list[str]:
    """As an integration would: batches of at most 1,000 leads. The leads' ids, in order."""
    ids = []
    for start in range(0, len(leads), 1000):
        data = await call_api(
            base_url,
            integration_token,
            "mutation($leads: [LeadInput!]!) { ingestLeads(leads: $leads) { rejectedCount results { lead { id } } } }",
            {"leads": leads[start : start + 1000]},
        )
        assert data["ingestLeads"]["rejectedCount"] == 0
        ids += [r["lead"]["id"] for r in data["ingestLeads"]["results"]]
    return ids


async def browser_local_time(page: Page, seconds_from_now: float) -> str:
    """A moment as an <input type="datetime-local"> value in the page's own time zone, to the minute."""
    return await page.evaluate(
        """(s) => {
          const d = new Date(Date.now() + s * 1000), p = (n) => String(n).padStart(2, "0");
          return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
        }""",
        seconds_from_now,
    )


async def axe_violations(page: Page, axe_script: str, impacts=("serious", "critical")) -> list[dict]:
    """axe-core's WCAG 2 A/AA violations of the page as it is now, of the given impacts."""
    # Evaluated through the DevTools protocol: the page's CSP (rightly) refuses an inline script tag.
    await page.evaluate(axe_script + "\n;undefined")
    result = await page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in impacts
    ]
