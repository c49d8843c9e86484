from enum import Enum

from tortoise import fields
from tortoise.contrib.postgres.indexes import GinIndex
from tortoise.models import Model

from app.account_status.models import AccountState


class TrigramIndex(GinIndex):
    """A pg_trgm GIN index on one text column: serves `%` (similarity) and `<%` (word similarity).

    `fields` stays the plain column name (what the catalog reports); only the SQL gets the
    operator class. The pg_trgm extension is created by the migration that adds the first one.
    """

    OPCLASS = "gin_trgm_ops"

    @property
    def field_names(self) -> list[str]:
        return [f"{name} {self.OPCLASS}" for name in self.fields]


class Role(str, Enum):
    ADMIN = "ADMIN"
    TEAM_LEADER = "TEAM_LEADER"
    MANAGER = "MANAGER"
    REP = "REP"


class Team(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    state = fields.CharEnumField(AccountState, max_length=16, default=AccountState.ACTIVE)
    paused_at = fields.DatetimeField(null=True)
    paused_by: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "switchboard.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    pause_reason = fields.TextField(null=True)
    # A timed pause: when it ends by itself (app.account_status.service, the resume timer).
    resumes_at = fields.DatetimeField(null=True)
    # When the current pause's next reminder email is due; the reminder job that moves it on
    # sends that reminder, so each is sent once (app.account_status.service).
    pause_reminder_at = fields.DatetimeField(null=True)
    default_rep: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "switchboard.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "team"


class User(Model):
    id = fields.IntField(primary_key=True)
    team: fields.ForeignKeyRelation[Team] = fields.ForeignKeyField(
        "switchboard.Team", related_name="users", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    # app.validation.normalize_name(name): what rep resolution compares.
    normalized_name = fields.CharField(max_length=200)
    # Stored lower-cased, so the unique constraint is case-insensitive.
    email = fields.CharField(max_length=320, null=True)
    phone = fields.CharField(max_length=32, null=True)
    role = fields.CharEnumField(Role, max_length=16)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "app_user"
        unique_together = (("team", "email"),)
        indexes = (
            ("team_id", "normalized_name"),
            # Candidates for a missing rep's suggested matches, found in PostgreSQL.
            TrigramIndex(fields=("normalized_name",), name="app_user_name_trgm"),
            TrigramIndex(fields=("email",), name="app_user_email_trgm"),
        )


class UserAlias(Model):
    """A name under which integrations know a user (Map to Rep adds one)."""

    id = fields.IntField(primary_key=True)
    team: fields.ForeignKeyRelation[Team] = fields.ForeignKeyField(
        "switchboard.Team", related_name=False, on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "switchboard.User", related_name="aliases", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    normalized_name = fields.CharField(max_length=200)
    created_at = fields.DatetimeField(auto_now_add=True)
    # Who made it and the missing rep it came from (NULL for aliases older than these columns).
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "switchboard.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    missing_rep: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "switchboard.MissingRep", related_name=False, null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "user_alias"
        unique_together = (("team", "normalized_name"),)


class UserCrmOwnerId(Model):
    """An id under which the team's CRM knows a user (the `rep.externalId` integrations send).

    Rep resolution tries it before anything else; resolving a missing rep that has one attaches
    it to the user. Unique per team: one CRM owner is one user.
    """

    id = fields.IntField(primary_key=True)
    team: fields.ForeignKeyRelation[Team] = fields.ForeignKeyField(
        "switchboard.Team", related_name=False, on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "switchboard.User", related_name=False, on_delete=fields.CASCADE
    )
    external_id = fields.CharField(max_length=200)
    created_at = fields.DatetimeField(auto_now_add=True)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "switchboard.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    missing_rep: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "switchboard.MissingRep", related_name=False, null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "user_crm_owner_id"
        unique_together = (("team", "external_id"),)
        indexes = (("user_id",),)


class ApiToken(Model):
    """A bearer token: a user's (acts as that user) or an integration's (user is NULL)."""

    id = fields.IntField(primary_key=True)
    team: fields.ForeignKeyRelation[Team] = fields.ForeignKeyField(
        "switchboard.Team", related_name=False, on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "switchboard.User", related_name=False, null=True, on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    # sha256 of the secret: tokens are 256 random bits, so a slow hash adds nothing.
    token_hash = fields.CharField(max_length=64, unique=True)
    scopes = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_token"
