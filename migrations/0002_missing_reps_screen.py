from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.contrib.postgres.indexes import GinIndex
from tortoise.indexes import PartialIndex


# app.teams.models.TrigramIndex as it was when this migration was written: a migration must not
# change when the code does.
class TrigramIndex(GinIndex):
    OPCLASS = "gin_trgm_ops"

    @property
    def field_names(self) -> list[str]:
        return [f"{name} {self.OPCLASS}" for name in self.fields]

class Migration(migrations.Migration):
    dependencies = [('switchboard', '0001_initial')]

    initial = False

    operations = [
        # Trigram similarity for suggested matches. Left in place on downgrade: other databases
        # objects may use it, and an unused extension costs nothing.
        ops.RunSQL("CREATE EXTENSION IF NOT EXISTS pg_trgm;", reverse_sql=ops.RunSQL.noop),
        ops.AddField(
            model_name='MissingRep',
            name='leads_moved',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='MissingRep',
            name='reassignment_pending',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddIndex(
            model_name='MissingRep',
            index=PartialIndex(fields=['id'], name='missing_rep_reassignment_pending', condition={'reassignment_pending': True}),
        ),
        ops.AddIndex(
            model_name='User',
            index=TrigramIndex(fields=['normalized_name'], name='app_user_name_trgm'),
        ),
        ops.AddIndex(
            model_name='User',
            index=TrigramIndex(fields=['email'], name='app_user_email_trgm'),
        ),
    ]
