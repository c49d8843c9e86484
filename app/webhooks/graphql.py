"""GraphQL for partner webhooks: Admins manage endpoints and read their deliveries."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app.auth import Permission
from app.gql import AppInfo, from_record, parse_id
from app.settings import Settings
from app.webhooks import service
from app.webhooks.models import DeliveryState, EventType

WebhookEventTypeEnum = strawberry.enum(
    EventType,
    name="WebhookEventType",
    description="On the wire (the body's `type`): lead.created, lead.status_changed, conversation.ended, "
    "missing_rep.detected, account.paused, account.unpaused, mass_end.completed, mass_end.reopened.",
)
WebhookDeliveryStateEnum = strawberry.enum(DeliveryState, name="WebhookDeliveryState")


def _settings(info: AppInfo) -> Settings:
    return info.context.request.app.state.settings


@strawberry.type(name="WebhookDelivery", description="One event sent to one endpoint, with its attempts.")
class WebhookDeliveryType:
    id: strawberry.ID
    event_type: str = strawberry.field(description="The wire name, e.g. lead.created (webhook.test for tests).")
    message_id: str = strawberry.field(description="The `webhook-id` header: the same on every attempt and redelivery.")
    state: WebhookDeliveryStateEnum
    attempts: int
    last_status_code: int | None
    last_error: str | None
    last_response_excerpt: str | None = strawberry.field(description="The start of the receiver's last answer.")
    next_attempt_at: datetime | None = strawberry.field(description="PENDING only: when it is tried (again).")
    delivered_at: datetime | None
    created_at: datetime

    @classmethod
    def from_record(cls, delivery: service.DeliveryRecord) -> WebhookDeliveryType:
        return from_record(cls, delivery)


@strawberry.type
class WebhookDeliveryEdge:
    cursor: str
    node: WebhookDeliveryType


@strawberry.type
class WebhookDeliveryPageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class WebhookDeliveryConnection:
    edges: list[WebhookDeliveryEdge]
    page_info: WebhookDeliveryPageInfo


@strawberry.type(name="WebhookEndpoint")
class WebhookEndpointType:
    id: strawberry.ID
    url: str
    description: str | None
    events: list[WebhookEventTypeEnum]
    enabled: bool
    disabled_reason: str | None = strawberry.field(description="Why Switchboard disabled it, if it did.")
    failing_since: datetime | None = strawberry.field(description="Since when every attempt has failed.")
    created_at: datetime
    updated_at: datetime
    team_id: strawberry.Private[int]

    @classmethod
    def from_record(cls, endpoint: service.EndpointRecord) -> WebhookEndpointType:
        return from_record(cls, endpoint)

    @strawberry.field(description="Newest first.")
    async def deliveries(self, info: AppInfo, first: int | None = None, after: str | None = None) -> WebhookDeliveryConnection:
        page = await service.deliveries(self.team_id, int(self.id), first=first, after=after)
        edges = [WebhookDeliveryEdge(cursor=c, node=WebhookDeliveryType.from_record(d)) for c, d in page.edges]
        return WebhookDeliveryConnection(
            edges=edges,
            page_info=WebhookDeliveryPageInfo(has_next_page=page.has_next_page, end_cursor=edges[-1].cursor if edges else None),
        )


@strawberry.type
class CreatedWebhookEndpoint:
    endpoint: WebhookEndpointType
    secret: str = strawberry.field(description="whsec_...: verify signatures with it. Shown this once.")


@strawberry.type
class Query:
    @strawberry.field(description="Admins: the team's webhook endpoints.")
    async def webhook_endpoints(self, info: AppInfo) -> list[WebhookEndpointType]:
        caller = info.context.require(Permission.MANAGE_WEBHOOKS)
        return [WebhookEndpointType.from_record(e) for e in await service.list_endpoints(caller.team_id)]

    @strawberry.field(description="Admins: one webhook endpoint of the team.")
    async def webhook_endpoint(self, info: AppInfo, id: strawberry.ID) -> WebhookEndpointType:
        caller = info.context.require(Permission.MANAGE_WEBHOOKS)
        endpoint = await service.get_endpoint(caller.team_id, parse_id(id, "Webhook endpoint"))
        return WebhookEndpointType.from_record(endpoint)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Admins: a new endpoint (https only) and its signing secret, shown this once.")
    async def create_webhook_endpoint(
        self, info: AppInfo, url: str, events: list[WebhookEventTypeEnum], description: str | None = None
    ) -> CreatedWebhookEndpoint:
        caller = info.context.require(Permission.MANAGE_WEBHOOKS)
        endpoint, secret = await service.create_endpoint(
            caller.team_id, caller.user_id, url=url, events=events, description=description, settings=_settings(info)
        )
        return CreatedWebhookEndpoint(endpoint=WebhookEndpointType.from_record(endpoint), secret=secret)

    @strawberry.mutation(description="Admins: change what is given. enabled: true clears a disable and resumes deliveries.")
    async def update_webhook_endpoint(
        self,
        info: AppInfo,
        id: strawberry.ID,
        url: str | None = None,
        events: list[WebhookEventTypeEnum] | None = None,
        enabled: bool | None = None,
        description: str | None = None,
    ) -> WebhookEndpointType:
        caller = info.context.require(Permission.MANAGE_WEBHOOKS)
        endpoint = await service.update_endpoint(
            caller.team_id,
            caller.user_id,
            parse_id(id, "Webhook endpoint"),
            url=url,
            events=events,
            enabled=enabled,
            description=description,
            settings=_settings(info),
        )
        return WebhookEndpointType.from_record(endpoint)

    @strawberry.mutation(description="Admins: delete an endpoint and its deliveries; returns its id.")
    async def delete_webhook_endpoint(self, info: AppInfo, id: strawberry.ID) -> strawberry.ID:
        caller = info.context.require(Permission.MANAGE_WEBHOOKS)
        endpoint_id = parse_id(id, "Webhook endpoint")
        await service.delete_endpoint(caller.team_id, caller.user_id, endpoint_id)
        return strawberry.ID(str(endpoint_id))

    @strawberry.mutation(description="Admins: a new signing secret, shown this once; the old one stops at once.")
    async def rotate_webhook_secret(self, info: AppInfo, id: strawberry.ID) -> CreatedWebhookEndpoint:
        caller = info.context.require(Permission.MANAGE_WEBHOOKS)
        endpoint, secret = await service.rotate_secret(
            caller.team_id, caller.user_id, parse_id(id, "Webhook endpoint"), _settings(info)
        )
        return CreatedWebhookEndpoint(endpoint=WebhookEndpointType.from_record(endpoint), secret=secret)

    @strawberry.mutation(description="Admins: send a webhook.test event to this endpoint alone.")
    async def send_test_webhook(self, info: AppInfo, id: strawberry.ID) -> WebhookDeliveryType:
        caller = info.context.require(Permission.MANAGE_WEBHOOKS)
        return WebhookDeliveryType.from_record(await service.send_test(caller.team_id, parse_id(id, "Webhook endpoint")))

    @strawberry.mutation(description="Admins: send a delivered or failed event again (same webhook-id), as a new delivery.")
    async def redeliver_webhook(self, info: AppInfo, delivery_id: strawberry.ID) -> WebhookDeliveryType:
        caller = info.context.require(Permission.MANAGE_WEBHOOKS)
        delivery = await service.redeliver(caller.team_id, parse_id(delivery_id, "Webhook delivery"))
        return WebhookDeliveryType.from_record(delivery)
