from enum import Enum

from tortoise import fields
from tortoise.indexes import PartialIndex
from tortoise.migrations.constraints import UniqueConstraint
from tortoise.models import Model


class MissingRepStatus(str, Enum):
    MISSING = "MISSING"
    IGNORED = "IGNORED"
    RESOLVED = "RESOLVED"


class MissingRepResolution(str, Enum):
    ADDED_AS_USER = "ADDED_AS_USER"
    MAPPED_TO_USER = "MAPPED_TO_USER"


class MissingRep(Model):
    id = fields.IntField(primary_key=True)
    team: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "switchboard.Team", related_name=False, on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    normalized_name = fields.CharField(max_length=200)
    email = fields.CharField(max_length=320, null=True)
    # The CRM owner id the integration sent (`rep.externalId`): when set, the rep is keyed by it
    # (a rename in the CRM renames the rep); when NULL, by its normalised name.
    external_id = fields.CharField(max_length=200, null=True)
    date_found = fields.DatetimeField(auto_now_add=True)
    leads_originally_assigned = fields.IntField(default=0)
    status = fields.CharEnumField(MissingRepStatus, max_length=16, default=MissingRepStatus.MISSING)
    resolution = fields.CharEnumField(MissingRepResolution, max_length=16, null=True)
    resolved_user: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "switchboard.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    resolved_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "switchboard.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    resolved_at = fields.DatetimeField(null=True)
    # Moving the rep's leads off the Default Rep happens in batches after the resolve commits:
    # pending until the last batch ran (a restart finishes what a dead process left).
    reassignment_pending = fields.BooleanField(default=False, db_default=False)
    leads_moved = fields.IntField(default=0, db_default=0)

    class Meta:
        table = "missing_rep"
        unique_together = (("team", "external_id"),)
        constraints = (
            # One rep per name among those without an external id; reps keyed by an external id
            # may share a name (two CRM owners called John Smith are two people).
            UniqueConstraint(
                fields=("team_id", "normalized_name"), name="missing_rep_name_key", condition="external_id IS NULL"
            ),
        )
        # One per sort order of the Missing Reps screen; id breaks ties for keyset paging.
        indexes = (
            ("team_id", "status", "normalized_name", "id"),
            ("team_id", "status", "date_found", "id"),
            ("team_id", "status", "leads_originally_assigned", "id"),
            PartialIndex(
                fields=("id",), name="missing_rep_reassignment_pending", condition={"reassignment_pending": True}
            ),
        )


class MissingRepDigest(Model):
    """A team's daily digest of new missing reps: the day of the last one and what it covered.

    The next digest starts where the last one's stretch of detection times ended. A digest is
    claimed by a conditional UPDATE on `digest_on`, so each team gets at most one a day, however
    many workers run it."""

    id = fields.IntField(primary_key=True)
    team: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "switchboard.Team", related_name=False, on_delete=fields.CASCADE
    )
    digest_on = fields.DateField(null=True)  # UTC day of the last digest; null: none yet
    covered_from = fields.DatetimeField(null=True)
    covered_until = fields.DatetimeField()
    reps_listed = fields.IntField(default=0)

    class Meta:
        table = "missing_rep_digest"
        unique_together = (("team",),)  # one row per team: what the claim's ON CONFLICT relies on
