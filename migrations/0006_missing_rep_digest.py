from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

# The daily digest of new missing reps: per team, the day of its last digest and the stretch of
# detection times it covered (app/missing_reps/digest.py).
class Migration(migrations.Migration):
    dependencies = [('switchboard', '0005_timed_pause')]

    initial = False

    operations = [
        ops.CreateModel(
            name='MissingRepDigest',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('team', fields.ForeignKeyField('switchboard.Team', source_field='team_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('digest_on', fields.DateField(null=True)),
                ('covered_from', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('covered_until', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('reps_listed', fields.IntField(default=0)),
            ],
            options={'table': 'missing_rep_digest', 'app': 'switchboard', 'unique_together': (('team',),), 'pk_attr': 'id', 'table_description': "A team's daily digest of new missing reps: the day of the last one and what it covered."},
            bases=['Model'],
        ),
    ]
