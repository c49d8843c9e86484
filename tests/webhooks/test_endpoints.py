"""Managing webhook endpoints: Admins only; bad input is refused and changes nothing."""

from __future__ import annotations

import pytest

from app.audit.models import AuditEvent
from app.teams.models import Role
from app.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from app.webhooks.service import MAX_ENDPOINTS_PER_TEAM
from tests.support import make_team
from tests.webhooks.support import (
    CREATE,
    DELETE,
    GET,
    LIST,
    PAUSE,
    REDELIVER,
    ROTATE,
    SEND_TEST,
    UPDATE,
    create_endpoint,
    wait_for_delivery_states,
)

PUBLIC_URL = "https://93.184.215.14/hooks/switchboard"  # a public address: no DNS needed


@pytest.fixture
async def team(server):
    return await make_team()


async def _create(api, team, url=PUBLIC_URL, events=("LEAD_CREATED",), description=None) -> dict:
    variables = {"url": url, "events": list(events), "description": description}
    return (await api.data(CREATE, variables, token=team.token(Role.ADMIN)))["createWebhookEndpoint"]


async def test_an_admin_creates_an_endpoint_and_sees_its_secret_once(api, team):
    created = await _create(api, team, events=["LEAD_CREATED", "ACCOUNT_PAUSED", "LEAD_CREATED"], description="  CRM   sync ")
    endpoint = created["endpoint"]
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 40
    assert (endpoint["url"], endpoint["description"], endpoint["enabled"]) == (PUBLIC_URL, "CRM sync", True)
    assert endpoint["events"] == ["ACCOUNT_PAUSED", "LEAD_CREATED"]
    listed = (await api.data(LIST, token=team.token(Role.ADMIN)))["webhookEndpoints"]
    assert listed == [endpoint]
    one = (await api.data(GET, {"id": endpoint["id"]}, token=team.token(Role.ADMIN)))["webhookEndpoint"]
    assert one["id"] == endpoint["id"] and one["deliveries"]["edges"] == []
    assert [e.action for e in await AuditEvent.filter(team_id=team.id)] == ["WEBHOOK_ENDPOINT_CREATED"]


async def test_an_admin_updates_and_deletes_an_endpoint(api, team):
    endpoint = (await _create(api, team))["endpoint"]
    other_url = "https://93.184.215.15/other"
    updated = (
        await api.data(
            UPDATE, {"id": endpoint["id"], "url": other_url, "events": ["MASS_END_COMPLETED"], "enabled": False, "description": "x"},
            token=team.token(Role.ADMIN),
        )
    )["updateWebhookEndpoint"]
    assert (updated["url"], updated["events"], updated["enabled"], updated["description"]) == (
        other_url, ["MASS_END_COMPLETED"], False, "x"
    )
    unchanged = (await api.data(UPDATE, {"id": endpoint["id"]}, token=team.token(Role.ADMIN)))["updateWebhookEndpoint"]
    assert unchanged["url"] == other_url
    assert (await api.data(DELETE, {"id": endpoint["id"]}, token=team.token(Role.ADMIN)))["deleteWebhookEndpoint"] == endpoint["id"]
    assert await WebhookEndpoint.all().count() == 0
    assert await api.error_code(GET, {"id": endpoint["id"]}, token=team.token(Role.ADMIN)) == "NOT_FOUND"


def _calls(endpoint_id: str, delivery_id: str) -> dict[str, tuple[str, dict]]:
    return {
        "webhookEndpoints": (LIST, {}),
        "webhookEndpoint": (GET, {"id": endpoint_id}),
        "createWebhookEndpoint": (CREATE, {"url": PUBLIC_URL, "events": ["LEAD_CREATED"]}),
        "updateWebhookEndpoint": (UPDATE, {"id": endpoint_id, "enabled": False}),
        "deleteWebhookEndpoint": (DELETE, {"id": endpoint_id}),
        "rotateWebhookSecret": (ROTATE, {"id": endpoint_id}),
        "sendTestWebhook": (SEND_TEST, {"id": endpoint_id}),
        "redeliverWebhook": (REDELIVER, {"id": delivery_id}),
    }


async def _endpoint_with_a_failed_delivery(api, team, receiver) -> tuple[dict, str]:
    from tests.webhooks.receiver import Answer

    endpoint = await create_endpoint(api, team, receiver, "crm", ["ACCOUNT_PAUSED"])
    receiver.answer_always("crm", Answer(400))
    await api.data(PAUSE, token=team.token(Role.ADMIN))
    (delivery,) = await wait_for_delivery_states(api, team, endpoint["id"], ["FAILED"])
    return endpoint, delivery["id"]


@pytest.mark.parametrize("call", list(_calls("0", "0")))
@pytest.mark.parametrize("who", [Role.TEAM_LEADER, Role.MANAGER, Role.REP, "integration", None])
async def test_only_admins_manage_webhooks(api, team, receiver, call, who):
    endpoint, delivery_id = await _endpoint_with_a_failed_delivery(api, team, receiver)
    before = (await WebhookEndpoint.get(id=int(endpoint["id"])), await WebhookDelivery.all().count(), await WebhookEvent.all().count())
    query, variables = _calls(endpoint["id"], delivery_id)[call]
    token = None if who is None else team.integration_token if who == "integration" else team.token(who)
    code = await api.error_code(query, variables, token=token)
    assert code == ("UNAUTHENTICATED" if who is None else "FORBIDDEN")
    after = (await WebhookEndpoint.get(id=int(endpoint["id"])), await WebhookDelivery.all().count(), await WebhookEvent.all().count())
    assert [before[0].url, before[0].enabled, before[0].secret_encrypted, *before[1:]] == [
        after[0].url, after[0].enabled, after[0].secret_encrypted, *after[1:]
    ]
    assert await WebhookEndpoint.all().count() == 1


@pytest.mark.parametrize("call", [c for c in _calls("0", "0") if c not in ("webhookEndpoints", "createWebhookEndpoint")])
async def test_another_teams_endpoints_and_deliveries_are_not_found(api, team, receiver, call):
    other = await make_team()
    endpoint, delivery_id = await _endpoint_with_a_failed_delivery(api, other, receiver)
    query, variables = _calls(endpoint["id"], delivery_id)[call]
    assert await api.error_code(query, variables, token=team.token(Role.ADMIN)) == "NOT_FOUND"
    for bad in ("999999999", "abc", "-1", "1" * 30):
        bad_vars = {k: bad for k in variables if k == "id"} | {k: v for k, v in variables.items() if k != "id"}
        assert await api.error_code(query, bad_vars, token=team.token(Role.ADMIN)) == "NOT_FOUND"
    assert (await WebhookEndpoint.get(id=int(endpoint["id"]))).enabled


async def test_the_team_list_shows_only_its_own_endpoints(api, team):
    other = await make_team()
    await _create(api, other)
    assert (await api.data(LIST, token=team.token(Role.ADMIN)))["webhookEndpoints"] == []


BAD_URLS = {
    "": "must not be empty",
    "   ": "visible characters",  # the request pipeline refuses it first
    "not-a-url": "https://",
    "ftp://93.184.215.14/x": "https://",
    "http://93.184.215.14/x": "https://",
    "https://": "host",
    "https://user:pass@93.184.215.14/x": "user name or password",
    "https://93.184.215.14/x#frag": "fragment",
    "https://127.0.0.1/x": "private",
    "https://10.1.2.3/x": "private",
    "https://192.168.1.1/x": "private",
    "https://172.16.0.1/x": "private",
    "https://169.254.169.254/latest/meta-data": "private",
    "https://100.64.0.1/x": "private",
    "https://0.0.0.0/x": "private",
    "https://[::1]/x": "private",
    "https://[fe80::1]/x": "private",
    "https://[fd00::1]/x": "private",
    "https://[::ffff:127.0.0.1]/x": "private",
    "https://localhost/x": "private",
    "https://no-such-host.invalid/x": "does not resolve",
    "https://93.184.215.14/" + "x" * 2000: "at most 2000",
    "https://93.184.215.14/a b": "spaces",
    "https://93.184.215.14/a\x00b": "NUL",  # the request pipeline refuses it first
    "https://93.184.215.14/a\x01b": "control characters",
}


@pytest.mark.parametrize("url", list(BAD_URLS))
async def test_unsafe_or_malformed_urls_are_refused(api, team, url, strict_targets):
    body = await api(CREATE, {"url": url, "events": ["LEAD_CREATED"]}, token=team.token(Role.ADMIN))
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["field"] == "url"
    assert BAD_URLS[url] in error["message"]
    assert await WebhookEndpoint.all().count() == 0


async def test_a_url_becoming_unsafe_is_refused_on_update_and_changes_nothing(api, team, strict_targets):
    endpoint = (await _create(api, team))["endpoint"]
    code = await api.error_code(UPDATE, {"id": endpoint["id"], "url": "https://10.0.0.1/x", "enabled": False}, token=team.token(Role.ADMIN))
    assert code == "BAD_USER_INPUT"
    row = await WebhookEndpoint.get(id=int(endpoint["id"]))
    assert (row.url, row.enabled) == (PUBLIC_URL, True)


async def test_the_development_setting_allows_http_and_loopback(api, team, receiver):
    created = await _create(api, team, url=receiver.url("dev"))
    assert created["endpoint"]["url"].startswith("http://127.0.0.1:")


async def test_no_events_and_long_descriptions_are_refused(api, team):
    for variables in ({"url": PUBLIC_URL, "events": []}, {"url": PUBLIC_URL, "events": ["LEAD_CREATED"], "description": "d" * 501}):
        assert await api.error_code(CREATE, variables, token=team.token(Role.ADMIN)) == "BAD_USER_INPUT"
    endpoint = (await _create(api, team))["endpoint"]
    assert await api.error_code(UPDATE, {"id": endpoint["id"], "events": []}, token=team.token(Role.ADMIN)) == "BAD_USER_INPUT"
    assert await WebhookEndpoint.all().count() == 1
    assert (await WebhookEndpoint.get(id=int(endpoint["id"]))).events == ["lead.created"]


async def test_an_unknown_event_type_is_refused_before_anything_runs(api, team):
    body = await api(CREATE, {"url": PUBLIC_URL, "events": ["NOT_AN_EVENT"]}, token=team.token(Role.ADMIN))
    assert body["errors"] and body.get("data") is None
    assert await WebhookEndpoint.all().count() == 0


async def test_a_team_has_at_most_so_many_endpoints(api, team):
    for _ in range(MAX_ENDPOINTS_PER_TEAM):
        await _create(api, team)
    assert await api.error_code(CREATE, {"url": PUBLIC_URL, "events": ["LEAD_CREATED"]}, token=team.token(Role.ADMIN)) == "CONFLICT"
    assert await WebhookEndpoint.all().count() == MAX_ENDPOINTS_PER_TEAM


async def test_a_pending_delivery_cannot_be_redelivered_and_a_disabled_endpoint_gets_no_test(api, team, receiver):
    from tests.webhooks.receiver import Answer

    endpoint = await create_endpoint(api, team, receiver, "crm", ["ACCOUNT_PAUSED"])
    receiver.answer_always("crm", Answer(503, delay=0.5))
    await api.data(PAUSE, token=team.token(Role.ADMIN))
    (delivery,) = await wait_for_delivery_states(api, team, endpoint["id"], ["PENDING"])
    assert await api.error_code(REDELIVER, {"id": delivery["id"]}, token=team.token(Role.ADMIN)) == "CONFLICT"
    await api.data(UPDATE, {"id": endpoint["id"], "enabled": False}, token=team.token(Role.ADMIN))
    assert await api.error_code(SEND_TEST, {"id": endpoint["id"]}, token=team.token(Role.ADMIN)) == "CONFLICT"
    assert await WebhookDelivery.all().count() == 1


async def test_deliveries_are_paged_newest_first(api, team, receiver):
    endpoint = await create_endpoint(api, team, receiver, "crm", ["LEAD_CREATED"])
    tests = [(await api.data(SEND_TEST, {"id": endpoint["id"]}, token=team.token(Role.ADMIN)))["sendTestWebhook"]["id"] for _ in range(3)]
    await receiver.wait_for("crm", 3)
    seen, after = [], None
    while True:
        page = (await api.data(GET, {"id": endpoint["id"], "first": 2, "after": after}, token=team.token(Role.ADMIN)))["webhookEndpoint"]["deliveries"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == list(reversed(tests))


@pytest.mark.parametrize("after", ["garbage", "W10", "WyJ4Il0", "WzBd", "Wy0xXQ"])
async def test_a_malformed_cursor_is_refused(api, team, after):
    endpoint = (await _create(api, team))["endpoint"]
    body = await api(GET, {"id": endpoint["id"], "after": after}, token=team.token(Role.ADMIN))
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_negative_page_size_is_refused(api, team):
    endpoint = (await _create(api, team))["endpoint"]
    body = await api(GET, {"id": endpoint["id"], "first": -1}, token=team.token(Role.ADMIN))
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
