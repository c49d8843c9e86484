from enum import Enum

from tortoise import fields
from tortoise.migrations.constraints import UniqueConstraint
from tortoise.models import Model


class MassEndState(str, Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class MassEndJob(Model):
    id = fields.IntField(primary_key=True)
    team: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "switchboard.Team", related_name=False, on_delete=fields.CASCADE
    )
    requested_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "switchboard.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    state = fields.CharEnumField(MassEndState, max_length=16, default=MassEndState.QUEUED)
    total = fields.IntField(default=0)
    processed = fields.IntField(default=0)
    # Counted by the job itself: a queue re-claim does not count as an attempt.
    runs = fields.IntField(default=0)
    error = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "mass_end_job"
        constraints = (
            # At most one queued or running job per team, whoever asks and however fast.
            UniqueConstraint(
                fields=("team_id",),
                name="mass_end_job_one_open_per_team",
                condition="state IN ('QUEUED', 'RUNNING')",
            ),
        )
