from enum import Enum

from tortoise import fields
from tortoise.indexes import PartialIndex
from tortoise.models import Model


class EventType(str, Enum):
    """What a partner may subscribe to; `wire` is the `type` its webhooks carry."""

    LEAD_CREATED = "LEAD_CREATED"
    LEAD_STATUS_CHANGED = "LEAD_STATUS_CHANGED"
    CONVERSATION_ENDED = "CONVERSATION_ENDED"
    MISSING_REP_DETECTED = "MISSING_REP_DETECTED"
    ACCOUNT_PAUSED = "ACCOUNT_PAUSED"
    ACCOUNT_UNPAUSED = "ACCOUNT_UNPAUSED"
    MASS_END_COMPLETED = "MASS_END_COMPLETED"
    MASS_END_REOPENED = "MASS_END_REOPENED"

    @property
    def wire(self) -> str:
        return _WIRE[self]


_WIRE = {
    EventType.LEAD_CREATED: "lead.created",
    EventType.LEAD_STATUS_CHANGED: "lead.status_changed",
    EventType.CONVERSATION_ENDED: "conversation.ended",
    EventType.MISSING_REP_DETECTED: "missing_rep.detected",
    EventType.ACCOUNT_PAUSED: "account.paused",
    EventType.ACCOUNT_UNPAUSED: "account.unpaused",
    EventType.MASS_END_COMPLETED: "mass_end.completed",
    EventType.MASS_END_REOPENED: "mass_end.reopened",
}
# Sent by sendTestWebhook to one endpoint only; nobody subscribes to it.
TEST_EVENT = "webhook.test"


class DeliveryState(str, Enum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


class WebhookEndpoint(Model):
    id = fields.IntField(primary_key=True)
    team: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "switchboard.Team", related_name=False, on_delete=fields.CASCADE
    )
    url = fields.CharField(max_length=2000)
    description = fields.CharField(max_length=500, null=True)
    # Wire names ("lead.created"): the outbox matches them with jsonb `?`.
    events = fields.JSONField(default=list)
    # Fernet token of the `whsec_...` secret (app.webhooks.secrets).
    secret_encrypted = fields.TextField()
    enabled = fields.BooleanField(default=True)
    disabled_reason = fields.TextField(null=True)
    # Since when every attempt has failed (NULL after any success): a day of it disables the endpoint.
    failing_since = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "webhook_endpoint"
        indexes = (("team_id", "id"),)


class WebhookEvent(Model):
    """The outbox: written in the transaction of the change it reports."""

    id = fields.BigIntField(primary_key=True)
    team: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "switchboard.Team", related_name=False, on_delete=fields.CASCADE
    )
    # `webhook-id`: the receiver's idempotency key, the same on every attempt and redelivery.
    message_id = fields.CharField(max_length=64, unique=True)
    type = fields.CharField(max_length=64)
    # The exact body sent, {"type", "timestamp", "data"}, serialised once: what is signed.
    body = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "webhook_event"


class WebhookDelivery(Model):
    id = fields.BigIntField(primary_key=True)
    endpoint: fields.ForeignKeyRelation[WebhookEndpoint] = fields.ForeignKeyField(
        "switchboard.WebhookEndpoint", related_name=False, on_delete=fields.CASCADE
    )
    event: fields.ForeignKeyRelation[WebhookEvent] = fields.ForeignKeyField(
        "switchboard.WebhookEvent", related_name=False, on_delete=fields.CASCADE
    )
    state = fields.CharEnumField(DeliveryState, max_length=16, default=DeliveryState.PENDING)
    attempts = fields.IntField(default=0)
    # PENDING: when it may be tried next. While an attempt runs it is pushed past the attempt's
    # lease, so a worker that dies mid-attempt leaves it to be claimed again later.
    next_attempt_at = fields.DatetimeField(null=True)
    last_status_code = fields.IntField(null=True)
    last_error = fields.TextField(null=True)
    last_response_excerpt = fields.CharField(max_length=500, null=True)
    delivered_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "webhook_delivery"
        indexes = (
            ("endpoint_id", "id"),
            ("event_id",),
            PartialIndex(
                fields=("endpoint_id", "next_attempt_at", "id"),
                name="webhook_delivery_due",
                condition={"state": "PENDING"},
            ),
        )
