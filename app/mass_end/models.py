from enum import Enum

from tortoise import fields
from tortoise.migrations.constraints import UniqueConstraint
from tortoise.models import Model

from app.leads.models import LeadStatus


class MassEndState(str, Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class MassEndKind(str, Enum):
    END_CONVERSATIONS = "END_CONVERSATIONS"
    REOPEN = "REOPEN"  # undoes one END_CONVERSATIONS job


class ReopenSkipReason(str, Enum):
    """Why a reopen left a conversation its END job ended as it is."""

    LEAD_WROTE = "LEAD_WROTE"  # a message arrived after the end
    CONVERSATION_CHANGED = "CONVERSATION_CHANGED"  # ended, reopened or replaced by something else since
    LEAD_STATUS_CHANGED = "LEAD_STATUS_CHANGED"  # the lead's status is no longer what the end left


class MassEndJob(Model):
    id = fields.IntField(primary_key=True)
    team: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "switchboard.Team", related_name=False, on_delete=fields.CASCADE
    )
    requested_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "switchboard.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    # db_default: the jobs before scoped ends were all END jobs.
    kind = fields.CharEnumField(
        MassEndKind, max_length=24, default=MassEndKind.END_CONVERSATIONS, db_default=MassEndKind.END_CONVERSATIONS.value
    )
    # END jobs: the ConversationFilter it ran with, as given (camelCase); NULL: every conversation.
    conversation_filter = fields.JSONField(null=True)
    # REOPEN jobs: the END job undone (at most once: mass_end_job_reopened_once).
    reopens: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "switchboard.MassEndJob", related_name=False, null=True, on_delete=fields.CASCADE
    )
    state = fields.CharEnumField(MassEndState, max_length=16, default=MassEndState.QUEUED)
    total = fields.IntField(default=0)
    processed = fields.IntField(default=0)
    # REOPEN jobs: conversations looked at and left ended (processed counts them too).
    skipped_count = fields.IntField(default=0, db_default=0)
    # Counted by the job itself: a queue re-claim does not count as an attempt.
    runs = fields.IntField(default=0)
    error = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    # END jobs: set when it completes (MASS_END_REOPEN_HOURS on), cleared when a reopen starts.
    reopenable_until = fields.DatetimeField(null=True)

    class Meta:
        table = "mass_end_job"
        constraints = (
            # At most one queued or running job (of either kind) per team, whoever asks and however fast.
            UniqueConstraint(
                fields=("team_id",),
                name="mass_end_job_one_open_per_team",
                condition="state IN ('QUEUED', 'RUNNING')",
            ),
            # A job is undone at most once, however fast the requests come.
            UniqueConstraint(fields=("reopens_id",), name="mass_end_job_reopened_once"),
        )


class MassEndedConversation(Model):
    """What an END job did to one conversation, for its undo.

    Written in the batch that ended it; a reopen puts back exactly this, and only where the rows
    are still as the job left them."""

    id = fields.BigIntField(primary_key=True)
    job: fields.ForeignKeyRelation[MassEndJob] = fields.ForeignKeyField(
        "switchboard.MassEndJob", related_name=False, on_delete=fields.CASCADE
    )
    # No foreign key constraint: checking one per row (a lookup and a row lock on the
    # conversation) was a large part of a batch's added cost, and conversations are never deleted
    # but with their team, whose jobs take these rows with them. A row whose conversation is gone
    # is never met by the reopen (it joins the conversation).
    conversation: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "switchboard.Conversation", related_name=False, on_delete=fields.NO_ACTION, db_constraint=False
    )
    # The conversation's ended_at as the job set it: a later end sets another.
    ended_at = fields.DatetimeField()
    # The conversation's newest message when it was ended (NULL: none): a newer one means the
    # lead wrote since.
    last_message_id = fields.BigIntField(null=True)
    lead_status_before = fields.CharEnumField(LeadStatus, max_length=16)
    lead_status_after = fields.CharEnumField(LeadStatus, max_length=16)
    # Set by the REOPEN job: REOPENED, or a ReopenSkipReason.
    reopen_outcome = fields.CharField(max_length=24, null=True)

    class Meta:
        table = "mass_ended_conversation"
        # Written in every mass-end batch, so indexed only as the reopen needs: a job's rows in id order.
        indexes = (("job_id", "id"),)
