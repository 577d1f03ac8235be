"""Change requests on the request base (`orders.requests.Request`): the outbox's `next_attempt_at`
(what `queued_at` meant, for queued requests only), Shopify's words in `failure_detail`, the
fields Shopify refused as our field names (`refused_fields`), what the shop did
(`shopify_result`), actors as values; kinds without choices (a kind is a module of
`edits.kinds`). Their events move to "edits.<kind>.<step>" with the request as subject."""

import orders.actors
from django.db import migrations, models

STEPS = {
    "change.requested": "requested",
    "change.approved": "approved",
    "change.rejected": "rejected",
    "change.withdrawn": "withdrawn",
    "change.applied": "applied",
    "change.failed": "failed",
}


def forwards(apps, schema_editor):
    ChangeRequest = apps.get_model("edits", "ChangeRequest")
    OrderEvent = apps.get_model("orders", "OrderEvent")
    ContentType = apps.get_model("contenttypes", "ContentType")
    ChangeRequest.objects.exclude(status="queued").update(next_attempt_at=None)
    for request in ChangeRequest.objects.exclude(field_errors={}).iterator():
        request.refused_fields = [name for name in request.field_errors if name != "__all__"]
        request.save(update_fields=["refused_fields"])
    subject, _created = ContentType.objects.get_or_create(app_label="edits", model="changerequest")
    kinds = dict(ChangeRequest.objects.values_list("pk", "kind"))
    OrderEvent.objects.filter(kind="order.confirmed").update(kind="edits.confirmed")
    for event in OrderEvent.objects.filter(kind__in=STEPS).iterator():
        pk = event.data.pop("request", None)
        code = kinds.get(pk) or event.data.get("change") or "address"
        step = "retried" if event.data.pop("retry", False) else STEPS[event.kind]
        event.data.pop("change", None)
        event.kind = f"edits.{code}.{step}"
        if pk in kinds:
            event.subject_type, event.subject_id = subject, pk
        event.save(update_fields=["kind", "subject_type", "subject_id", "data"])


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("edits", "0004_staff_permissions"),
        ("orders", "0010_event_stream"),
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
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RemoveField(model_name="changerequest", name="field_errors"),
    ]
