from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import UniqueConstraint

# Rep identity (issue 15): users' CRM owner ids; missing reps keyed by external id when one is
# sent (one per team and id), by normalised name otherwise (the name key becomes partial); where
# an alias came from and who made it.
class Migration(migrations.Migration):
    dependencies = [('switchboard', '0007_mass_end_scope_and_reopen')]

    initial = False

    operations = [
        ops.CreateModel(
            name='UserCrmOwnerId',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('team', fields.ForeignKeyField('switchboard.Team', source_field='team_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('switchboard.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('external_id', fields.CharField(max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('created_by', fields.ForeignKeyField('switchboard.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('missing_rep', fields.ForeignKeyField('switchboard.MissingRep', source_field='missing_rep_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'user_crm_owner_id', 'app': 'switchboard', 'unique_together': (('team', 'external_id'),), 'indexes': [Index(fields=['user_id'])], 'pk_attr': 'id', 'table_description': "An id under which the team's CRM knows a user (the `rep.externalId` integrations send)."},
            bases=['Model'],
        ),
        ops.RemoveConstraint(
            model_name='MissingRep',
            name=None,
            fields=['team', 'normalized_name'],
        ),
        ops.AddField(
            model_name='MissingRep',
            name='external_id',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddConstraint(
            model_name='MissingRep',
            constraint=UniqueConstraint(fields=('team', 'external_id'), name=None),
        ),
        ops.AddConstraint(
            model_name='MissingRep',
            constraint=UniqueConstraint(fields=('team_id', 'normalized_name'), name='missing_rep_name_key', condition='external_id IS NULL'),
        ),
        ops.AddField(
            model_name='UserAlias',
            name='created_by',
            field=fields.ForeignKeyField('switchboard.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='UserAlias',
            name='missing_rep',
            field=fields.ForeignKeyField('switchboard.MissingRep', source_field='missing_rep_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
    ]
