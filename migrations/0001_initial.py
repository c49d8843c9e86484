from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from enum import Enum
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index, PartialIndex
from tortoise.migrations.constraints import UniqueConstraint


# The enums as they were when this migration was written: a migration must not change when the
# application's enums do (a later migration records their changes).
class AccountState(str, Enum):
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"


class Role(str, Enum):
    ADMIN = "ADMIN"
    TEAM_LEADER = "TEAM_LEADER"
    MANAGER = "MANAGER"
    REP = "REP"


class MissingRepStatus(str, Enum):
    MISSING = "MISSING"
    IGNORED = "IGNORED"
    RESOLVED = "RESOLVED"


class MissingRepResolution(str, Enum):
    ADDED_AS_USER = "ADDED_AS_USER"
    MAPPED_TO_USER = "MAPPED_TO_USER"


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


class MessageDirection(str, Enum):
    INBOUND = "INBOUND"
    OUTBOUND = "OUTBOUND"


class MassEndState(str, Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"

class Migration(migrations.Migration):
    initial = True

    # Ordered by hand: the autodetector emits models alphabetically, and a foreign key to a
    # table created later is silently dropped. Team <-> User is a cycle, closed by AddField.
    operations = [
        ops.CreateModel(
            name='Team',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=200)),
                ('state', fields.CharEnumField(default=AccountState.ACTIVE, description='ACTIVE: ACTIVE\nPAUSED: PAUSED', enum_type=AccountState, max_length=16)),
                ('paused_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('pause_reason', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'team', 'app': 'switchboard', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='User',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('team', fields.ForeignKeyField('switchboard.Team', source_field='team_id', db_constraint=True, to_field='id', related_name='users', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('normalized_name', fields.CharField(max_length=200)),
                ('email', fields.CharField(null=True, max_length=320)),
                ('phone', fields.CharField(null=True, max_length=32)),
                ('role', fields.CharEnumField(description='ADMIN: ADMIN\nTEAM_LEADER: TEAM_LEADER\nMANAGER: MANAGER\nREP: REP', enum_type=Role, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'app_user', 'app': 'switchboard', 'unique_together': (('team', 'email'),), 'indexes': [Index(fields=['team_id', 'normalized_name'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='UserAlias',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('team', fields.ForeignKeyField('switchboard.Team', source_field='team_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('switchboard.User', source_field='user_id', db_constraint=True, to_field='id', related_name='aliases', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('normalized_name', fields.CharField(max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'user_alias', 'app': 'switchboard', 'unique_together': (('team', 'normalized_name'),), 'pk_attr': 'id', 'table_description': 'A name under which integrations know a user (Map to Rep adds one).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ApiToken',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('team', fields.ForeignKeyField('switchboard.Team', source_field='team_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('switchboard.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('scopes', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'api_token', 'app': 'switchboard', 'pk_attr': 'id', 'table_description': "A bearer token: a user's (acts as that user) or an integration's (user is NULL)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MissingRep',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('team', fields.ForeignKeyField('switchboard.Team', source_field='team_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('normalized_name', fields.CharField(max_length=200)),
                ('email', fields.CharField(null=True, max_length=320)),
                ('date_found', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('leads_originally_assigned', fields.IntField(default=0)),
                ('status', fields.CharEnumField(default=MissingRepStatus.MISSING, description='MISSING: MISSING\nIGNORED: IGNORED\nRESOLVED: RESOLVED', enum_type=MissingRepStatus, max_length=16)),
                ('resolution', fields.CharEnumField(null=True, description='ADDED_AS_USER: ADDED_AS_USER\nMAPPED_TO_USER: MAPPED_TO_USER', enum_type=MissingRepResolution, max_length=16)),
                ('resolved_user', fields.ForeignKeyField('switchboard.User', source_field='resolved_user_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('resolved_by', fields.ForeignKeyField('switchboard.User', source_field='resolved_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'missing_rep', 'app': 'switchboard', 'unique_together': (('team', 'normalized_name'),), 'indexes': [Index(fields=['team_id', 'status', 'normalized_name', 'id']), Index(fields=['team_id', 'status', 'date_found', 'id']), Index(fields=['team_id', 'status', 'leads_originally_assigned', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Lead',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('team', fields.ForeignKeyField('switchboard.Team', source_field='team_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('external_id', fields.CharField(max_length=200)),
                ('name', fields.CharField(null=True, max_length=200)),
                ('email', fields.CharField(null=True, max_length=320)),
                ('phone', fields.CharField(null=True, max_length=32)),
                ('status', fields.CharEnumField(default=LeadStatus.NEW_LEAD, description='NEW_LEAD: NEW_LEAD\nUNQUALIFIED: UNQUALIFIED\nQUALIFIED: QUALIFIED\nCONVERTED: CONVERTED', enum_type=LeadStatus, max_length=16)),
                ('rep_name', fields.CharField(null=True, max_length=200)),
                ('rep_email', fields.CharField(null=True, max_length=320)),
                ('rep_external_id', fields.CharField(null=True, max_length=200)),
                ('assigned_user', fields.ForeignKeyField('switchboard.User', source_field='assigned_user_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('missing_rep', fields.ForeignKeyField('switchboard.MissingRep', source_field='missing_rep_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'lead', 'app': 'switchboard', 'unique_together': (('team', 'external_id'),), 'indexes': [Index(fields=['missing_rep_id', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Conversation',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('team', fields.ForeignKeyField('switchboard.Team', source_field='team_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('lead', fields.ForeignKeyField('switchboard.Lead', source_field='lead_id', db_constraint=True, to_field='id', related_name='conversations', on_delete=OnDelete.CASCADE)),
                ('state', fields.CharEnumField(default=ConversationState.ACTIVE, description='ACTIVE: ACTIVE\nENDED: ENDED', enum_type=ConversationState, max_length=16)),
                ('ended_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('end_reason', fields.CharEnumField(null=True, description='MASS_END: MASS_END\nCOMPLETED: COMPLETED', enum_type=EndReason, max_length=16)),
                ('assistant_may_reply', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'conversation', 'app': 'switchboard', 'indexes': [PartialIndex(fields=['team_id', 'id'], name='conversation_active_by_team', condition={'state': 'ACTIVE'}), Index(fields=['lead_id', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Message',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('conversation', fields.ForeignKeyField('switchboard.Conversation', source_field='conversation_id', db_constraint=True, to_field='id', related_name='messages', on_delete=OnDelete.CASCADE)),
                ('direction', fields.CharEnumField(description='INBOUND: INBOUND\nOUTBOUND: OUTBOUND', enum_type=MessageDirection, max_length=16)),
                ('body', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'message', 'app': 'switchboard', 'indexes': [Index(fields=['conversation_id', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MassEndJob',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('team', fields.ForeignKeyField('switchboard.Team', source_field='team_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('requested_by', fields.ForeignKeyField('switchboard.User', source_field='requested_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('state', fields.CharEnumField(default=MassEndState.QUEUED, description='QUEUED: QUEUED\nRUNNING: RUNNING\nCOMPLETED: COMPLETED\nFAILED: FAILED', enum_type=MassEndState, max_length=16)),
                ('total', fields.IntField(default=0)),
                ('processed', fields.IntField(default=0)),
                ('runs', fields.IntField(default=0)),
                ('error', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'mass_end_job', 'app': 'switchboard', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('team', fields.ForeignKeyField('switchboard.Team', source_field='team_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('actor', fields.ForeignKeyField('switchboard.User', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('action', fields.CharField(max_length=64)),
                ('details', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'audit_event', 'app': 'switchboard', 'indexes': [Index(fields=['team_id', 'created_at', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Team',
            name='paused_by',
            field=fields.ForeignKeyField('switchboard.User', source_field='paused_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Team',
            name='default_rep',
            field=fields.ForeignKeyField('switchboard.User', source_field='default_rep_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        # CreateModel ignores Meta.constraints: the partial unique index is added explicitly.
        ops.AddConstraint(
            model_name='MassEndJob',
            constraint=UniqueConstraint(fields=('team_id',), name='mass_end_job_one_open_per_team', condition="state IN ('QUEUED', 'RUNNING')"),
        ),
    ]
