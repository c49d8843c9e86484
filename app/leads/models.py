from enum import Enum

from tortoise import fields
from tortoise.indexes import PartialIndex
from tortoise.models import Model


class LeadStatus(str, Enum):
    NEW_LEAD = "NEW_LEAD"
    UNQUALIFIED = "UNQUALIFIED"
    QUALIFIED = "QUALIFIED"
    CONVERTED = "CONVERTED"


class ConversationState(str, Enum):
    ACTIVE = "ACTIVE"
    ENDED = "ENDED"


class EndReason(str, Enum):
    MASS_END = "MASS_END"
    COMPLETED = "COMPLETED"
    ENDED_BY_USER = "ENDED_BY_USER"  # endConversation


class MessageDirection(str, Enum):
    INBOUND = "INBOUND"
    OUTBOUND = "OUTBOUND"


class Lead(Model):
    id = fields.BigIntField(primary_key=True)
    team: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "switchboard.Team", related_name=False, on_delete=fields.CASCADE
    )
    external_id = fields.CharField(max_length=200)
    name = fields.CharField(max_length=200, null=True)
    email = fields.CharField(max_length=320, null=True)
    phone = fields.CharField(max_length=32, null=True)
    status = fields.CharEnumField(LeadStatus, max_length=16, default=LeadStatus.NEW_LEAD)
    # The rep as the integration sent it.
    rep_name = fields.CharField(max_length=200, null=True)
    rep_email = fields.CharField(max_length=320, null=True)
    rep_external_id = fields.CharField(max_length=200, null=True)
    assigned_user: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "switchboard.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    missing_rep: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "switchboard.MissingRep", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    # When the assigned user was last emailed that this lead wrote again after a mass end; a
    # conditional UPDATE of it lets through at most one such email per lead per hour.
    owner_notified_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "lead"
        unique_together = (("team", "external_id"),)
        # "Leads of a missing rep" (reassignment walks them by id).
        indexes = (("missing_rep_id", "id"),)


class Conversation(Model):
    id = fields.BigIntField(primary_key=True)
    # Denormalised from the lead so "active conversations of a team" is one index range.
    team: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "switchboard.Team", related_name=False, on_delete=fields.CASCADE
    )
    lead: fields.ForeignKeyRelation[Lead] = fields.ForeignKeyField(
        "switchboard.Lead", related_name="conversations", on_delete=fields.CASCADE
    )
    state = fields.CharEnumField(ConversationState, max_length=16, default=ConversationState.ACTIVE)
    ended_at = fields.DatetimeField(null=True)
    end_reason = fields.CharEnumField(EndReason, max_length=16, null=True)
    # False once mass end has run: the assistant never answers this conversation again.
    assistant_may_reply = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "conversation"
        indexes = (
            PartialIndex(
                fields=("team_id", "id"),
                name="conversation_active_by_team",
                condition={"state": "ACTIVE"},
            ),
            ("lead_id", "id"),
        )


class Message(Model):
    id = fields.BigIntField(primary_key=True)
    conversation: fields.ForeignKeyRelation[Conversation] = fields.ForeignKeyField(
        "switchboard.Conversation", related_name="messages", on_delete=fields.CASCADE
    )
    direction = fields.CharEnumField(MessageDirection, max_length=16)
    body = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "message"
        indexes = (("conversation_id", "id"),)
