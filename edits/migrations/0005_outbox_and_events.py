"""Change requests on the request base (`orders.requests.Request`): the outbox's `next_attempt_at`
(what `queued_at` meant), Shopify's words in `failure_detail`, the fields Shopify refused as our
field names (`refused_fields`), what the shop did (`shopify_result`), actors as values; kinds
without choices (a kind is a module of `edits.kinds`). The rows follow in 0006."""

import orders.actors
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("edits", "0004_staff_permissions"),
    ]

    operations = [
        migrations.RenameField(
            model_name="changerequest", old_name="failure_message", new_name="failure_detail"
        ),
        migrations.RenameField(
            model_name="changerequest", old_name="queued_at", new_name="next_attempt_at"
        ),
        migrations.AddField(
            model_name="changerequest",
            name="refused_fields",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="changerequest",
            name="shopify_result",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AlterField(
            model_name="changerequest",
            name="decided_by",
            field=orders.actors.ActorField(blank=True),
        ),
        migrations.AlterField(
            model_name="changerequest",
            name="requested_by",
            field=orders.actors.ActorField(default="shopper"),
        ),
        migrations.AlterField(
            model_name="changerequest", name="kind", field=models.CharField(max_length=24)
        ),
        migrations.AlterField(
            model_name="changerequest",
            name="status",
            field=models.CharField(
                choices=[
                    ("awaiting_approval", "Waiting for approval"),
                    ("queued", "Being applied"),
                    ("applied", "Applied"),
                    ("failed", "Could not be applied"),
                    ("rejected", "Not approved"),
                    ("withdrawn", "Withdrawn"),
                    ("by_shop", "Done by the shop"),
                ],
                max_length=24,
            ),
        ),
    ]
