"""Returns on the request base (`orders.requests.Request`): the sync's bookkeeping under the
names every request shares (`attempts`, `failure_code`, `failure_detail`), the outbox's
`next_attempt_at`, `decided_at`, actors as values. The rows follow in 0006."""

import orders.actors
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("returns", "0004_return_number_per_order"),
    ]

    operations = [
        migrations.RenameField(
            model_name="returnrequest", old_name="sync_attempts", new_name="attempts"
        ),
        migrations.RenameField(
            model_name="returnrequest", old_name="sync_failure", new_name="failure_code"
        ),
        migrations.RenameField(
            model_name="returnrequest", old_name="sync_failure_text", new_name="failure_detail"
        ),
        migrations.AddField(
            model_name="returnrequest",
            name="decided_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="returnrequest",
            name="next_attempt_at",
            field=models.DateTimeField(blank=True, db_index=True, null=True),
        ),
        migrations.AlterField(
            model_name="returnrequest",
            name="decided_by",
            field=orders.actors.ActorField(blank=True),
        ),
        migrations.AlterField(
            model_name="returnrequest",
            name="requested_by",
            field=orders.actors.ActorField(default="shopper"),
        ),
    ]
