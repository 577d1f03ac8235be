"""Returns on the request base (`orders.requests.Request`): the sync's bookkeeping under the
names every request shares (`attempts`, `failure_code`, `failure_detail`), the outbox's
`next_attempt_at` (due now for every return Shopify has still something to hear about),
`decided_at`, actors as values. Their events move to "returns.<step>" with the return as subject."""

import orders.actors
from django.db import migrations, models
from django.utils import timezone

STEPS = {
    "return.requested": "returns.requested",
    "return.approved": "returns.approved",
    "return.declined": "returns.declined",
    "return.cancelled": "returns.cancelled",
    "return.received": "returns.received",
    "return.resolved": "returns.resolved",
    "return.closed": "returns.closed",
    "return.sync_failed": "returns.sync_failed",
    "return.sync_retried": "returns.retried",
}
UNDER_WAY = ("approved", "in_transit", "received")


def has_step(request, has_exchange):
    """`ReturnRequest.shopify_step` is not None, as of this migration."""
    status, seen = request.status, request.shopify_status
    if not seen:
        return (status == "requested" and not has_exchange) or status in UNDER_WAY
    if seen == "REQUESTED":
        return status in (*UNDER_WAY, "declined", "cancelled")
    return seen == "OPEN" and status == "cancelled"


def forwards(apps, schema_editor):
    ReturnRequest = apps.get_model("returns", "ReturnRequest")
    ReturnLine = apps.get_model("returns", "ReturnLine")
    OrderEvent = apps.get_model("orders", "OrderEvent")
    ContentType = apps.get_model("contenttypes", "ContentType")
    exchanging = set(
        ReturnLine.objects.filter(resolution="exchange").values_list("request_id", flat=True)
    )
    now = timezone.now()
    for request in ReturnRequest.objects.filter(failure_code="").iterator():
        if has_step(request, request.pk in exchanging):
            request.next_attempt_at = now
            request.save(update_fields=["next_attempt_at"])
    subject, _created = ContentType.objects.get_or_create(app_label="returns", model="returnrequest")
    numbers = {
        (order, number): pk
        for pk, order, number in ReturnRequest.objects.values_list("pk", "order_id", "number")
    }
    for event in OrderEvent.objects.filter(kind__in=STEPS).iterator():
        pk = numbers.get((event.order_id, event.data.pop("request", None)))
        event.kind = STEPS[event.kind]
        if pk:
            event.subject_type, event.subject_id = subject, pk
        event.save(update_fields=["kind", "subject_type", "subject_id", "data"])


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("orders", "0010_event_stream"),
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
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
