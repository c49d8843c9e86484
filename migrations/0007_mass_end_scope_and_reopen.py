from tortoise import migrations
from tortoise.migrations import operations as ops
from app.leads.models import LeadStatus
from app.mass_end.models import MassEndKind
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import UniqueConstraint

# Scoped mass ends (the filter a job ran with) and their undo: REOPEN jobs, and per ended
# conversation what its END job changed (mass_ended_conversation).
class Migration(migrations.Migration):
    dependencies = [('switchboard', '0006_missing_rep_digest')]

    initial = False

    operations = [
        ops.CreateModel(
            name='MassEndedConversation',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('job', fields.ForeignKeyField('switchboard.MassEndJob', source_field='job_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('conversation', fields.ForeignKeyField('switchboard.Conversation', source_field='conversation_id', db_constraint=False, to_field='id', related_name=False, on_delete=OnDelete.NO_ACTION)),
                ('ended_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_message_id', fields.BigIntField(null=True)),
                ('lead_status_before', fields.CharEnumField(description='NEW_LEAD: NEW_LEAD\nUNQUALIFIED: UNQUALIFIED\nQUALIFIED: QUALIFIED\nCONVERTED: CONVERTED', enum_type=LeadStatus, max_length=16)),
                ('lead_status_after', fields.CharEnumField(description='NEW_LEAD: NEW_LEAD\nUNQUALIFIED: UNQUALIFIED\nQUALIFIED: QUALIFIED\nCONVERTED: CONVERTED', enum_type=LeadStatus, max_length=16)),
                ('reopen_outcome', fields.CharField(null=True, max_length=24)),
            ],
            options={'table': 'mass_ended_conversation', 'app': 'switchboard', 'indexes': [Index(fields=['job_id', 'id'])], 'pk_attr': 'id', 'table_description': 'What an END job did to one conversation, for its undo.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='MassEndJob',
            name='conversation_filter',
            field=fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.AddField(
            model_name='MassEndJob',
            name='kind',
            field=fields.CharEnumField(default=MassEndKind.END_CONVERSATIONS, description='END_CONVERSATIONS: END_CONVERSATIONS\nREOPEN: REOPEN', enum_type=MassEndKind, max_length=24, db_default=MassEndKind.END_CONVERSATIONS.value),
        ),
        ops.AddField(
            model_name='MassEndJob',
            name='reopens',
            field=fields.ForeignKeyField('switchboard.MassEndJob', source_field='reopens_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='MassEndJob',
            name='reopenable_until',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='MassEndJob',
            name='skipped_count',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddConstraint(
            model_name='MassEndJob',
            constraint=UniqueConstraint(fields=('reopens_id',), name='mass_end_job_reopened_once'),
        ),
    ]
