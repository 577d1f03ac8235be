"""Returns' rows on the request base: due now when Shopify has still something to hear about
them; their events move to "returns.<step>" with the return as subject."""

from django.db import migrations
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
        return (
            (status == "requested" and not has_exchange)
            or status in UNDER_WAY
            or (status in ("declined", "cancelled") and request.attempts > 0)
        )
    if seen == "REQUESTED":
        return status in (*UNDER_WAY, "declined", "cancelled")
    return seen == "OPEN" and status == "cancelled"


# The sync's failure codes, as `shopify.refusals` and the outbox name them now.
FAILURES = {
    "refused": "permanent",
    "exchange_out_of_stock": "conflict:exchange_out_of_stock",
    "invalid_state": "refused:invalid_state",
    "not_found": "refused:not_found",
}
KEPT = {"unavailable", "disconnected", "permanent"}


def forwards(apps, schema_editor):
    ReturnRequest = apps.get_model("returns", "ReturnRequest")
    ReturnLine = apps.get_model("returns", "ReturnLine")
    OrderEvent = apps.get_model("orders", "OrderEvent")
    ContentType = apps.get_model("contenttypes", "ContentType")
    exchanging = set(
        ReturnLine.objects.filter(resolution="exchange").values_list("request_id", flat=True)
    )
    now = timezone.now()
    changed = []
    for request in ReturnRequest.objects.iterator():
        if request.failure_code:
            code = request.failure_code
            # Other codes were Shopify's userError codes, lower-cased: a refusal of the data.
            request.failure_code = FAILURES.get(code) or (code if code in KEPT else "refused")
        elif has_step(request, request.pk in exchanging):
            request.next_attempt_at = now
        else:
            continue
        changed.append(request)
    ReturnRequest.objects.bulk_update(changed, ["failure_code", "next_attempt_at"], batch_size=500)

    subject, _created = ContentType.objects.get_or_create(app_label="returns", model="returnrequest")
    numbers = {
        (order, number): pk
        for pk, order, number in ReturnRequest.objects.values_list("pk", "order_id", "number")
    }
    moved = []
    for event in OrderEvent.objects.filter(kind__in=STEPS).iterator():
        data = event.data if isinstance(event.data, dict) else {}
        number = data.get("request")
        pk = numbers.get((event.order_id, number)) if isinstance(number, str) else None
        event.kind = STEPS[event.kind]
        if pk:  # a return since deleted keeps its number in the data
            event.subject_type, event.subject_id = subject, pk
            data.pop("request")
        event.data = data
        moved.append(event)
        if len(moved) == 500:
            OrderEvent.objects.bulk_update(moved, ["kind", "subject_type", "subject_id", "data"])
            moved = []
    OrderEvent.objects.bulk_update(moved, ["kind", "subject_type", "subject_id", "data"])


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("orders", "0011_event_kinds"),
        ("returns", "0005_outbox_and_events"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
