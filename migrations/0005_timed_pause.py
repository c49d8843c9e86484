from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

# Timed pauses: when a pause ends by itself, and when its next reminder email is due. Teams
# already paused get their first reminder a day after their pause (at once if that is past);
# a worker queues it when it starts (app.account_status.service.requeue_pause_timers).
class Migration(migrations.Migration):
    dependencies = [('switchboard', '0004_webhooks')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Team',
            name='pause_reminder_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Team',
            name='resumes_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.RunSQL(
            "UPDATE team SET pause_reminder_at = paused_at + interval '1 day' WHERE state = 'PAUSED';",
            reverse_sql=ops.RunSQL.noop,
        ),
    ]
