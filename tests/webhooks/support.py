"""GraphQL documents and helpers for the webhook tests."""

from __future__ import annotations

import asyncio
import time

from app import db
from tests.support import Api, TeamFixture
from app.teams.models import Role
from tests.webhooks.receiver import Receiver

ENDPOINT_FIELDS = "id url description events enabled disabledReason failingSince createdAt updatedAt"
DELIVERY_FIELDS = (
    "id eventType messageId state attempts lastStatusCode lastError lastResponseExcerpt nextAttemptAt deliveredAt createdAt"
)
CREATE = f"""
mutation($url: String!, $events: [WebhookEventType!]!, $description: String) {{
  createWebhookEndpoint(url: $url, events: $events, description: $description) {{ secret endpoint {{ {ENDPOINT_FIELDS} }} }}
}}"""
UPDATE = f"""
mutation($id: ID!, $url: String, $events: [WebhookEventType!], $enabled: Boolean, $description: String) {{
  updateWebhookEndpoint(id: $id, url: $url, events: $events, enabled: $enabled, description: $description) {{ {ENDPOINT_FIELDS} }}
}}"""
DELETE = "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }"
ROTATE = f"mutation($id: ID!) {{ rotateWebhookSecret(id: $id) {{ secret endpoint {{ {ENDPOINT_FIELDS} }} }} }}"
SEND_TEST = f"mutation($id: ID!) {{ sendTestWebhook(id: $id) {{ {DELIVERY_FIELDS} }} }}"
REDELIVER = f"mutation($id: ID!) {{ redeliverWebhook(deliveryId: $id) {{ {DELIVERY_FIELDS} }} }}"
LIST = f"query {{ webhookEndpoints {{ {ENDPOINT_FIELDS} }} }}"
GET = f"""
query($id: ID!, $first: Int, $after: String) {{
  webhookEndpoint(id: $id) {{
    {ENDPOINT_FIELDS}
    deliveries(first: $first, after: $after) {{ edges {{ cursor node {{ {DELIVERY_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }}
  }}
}}"""
END_CONVERSATION = "mutation($lead: ID!) { endConversation(leadId: $lead) { id state endReason endedAt assistantMayReply } }"
PAUSE = 'mutation { pauseAccount(confirmation: "CONFIRM", reason: "audit") { state } }'
UNPAUSE = 'mutation { unpauseAccount(confirmation: "CONFIRM") { state } }'

ALL_EVENTS = [
    "LEAD_CREATED",
    "LEAD_STATUS_CHANGED",
    "CONVERSATION_ENDED",
    "MISSING_REP_DETECTED",
    "ACCOUNT_PAUSED",
    "ACCOUNT_UNPAUSED",
    "MASS_END_COMPLETED",
    "MASS_END_REOPENED",
]


async def create_endpoint(
    api: Api, team: TeamFixture, receiver: Receiver, name: str, events: list[str] | None = None
) -> dict:
    """An endpoint of `team` at the receiver's path `name`; the receiver learns its secret."""
    created = (
        await api.data(CREATE, {"url": receiver.url(name), "events": events or ALL_EVENTS}, token=team.token(Role.ADMIN))
    )["createWebhookEndpoint"]
    receiver.secrets[name] = created["secret"]
    return created["endpoint"]


async def deliveries(api: Api, team: TeamFixture, endpoint_id: str, first: int = 100) -> list[dict]:
    data = await api.data(GET, {"id": endpoint_id, "first": first}, token=team.token(Role.ADMIN))
    return [edge["node"] for edge in data["webhookEndpoint"]["deliveries"]["edges"]]


async def wait_for_delivery_states(api: Api, team: TeamFixture, endpoint_id: str, states: list[str], timeout: float = 20) -> list[dict]:
    """The endpoint's deliveries (newest first) once their states are `states`."""
    deadline = time.monotonic() + timeout
    while True:
        found = await deliveries(api, team, endpoint_id)
        if [d["state"] for d in found] == states:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"deliveries are {[(d['state'], d['attempts'], d['lastError']) for d in found]}, expected {states}")
        await asyncio.sleep(0.05)


async def event_rows() -> int:
    rows = await db.connection().execute_query_dict("SELECT count(*) AS n FROM webhook_event")
    return rows[0]["n"]
