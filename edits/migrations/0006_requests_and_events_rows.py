"""Change requests' rows on the request base: due only while queued, the refused fields as our
field names; their events move to "edits.<kind>.<step>" with the request as subject."""

from django.db import migrations


STEPS = {
    "change.requested": "requested",
    "change.approved": "approved",
    "change.rejected": "rejected",
    "change.withdrawn": "withdrawn",
    "change.applied": "applied",
    "change.failed": "failed",
}


ADDRESS_FIELDS = {
    "first_name", "last_name", "company", "address1", "address2", "city", "province", "zip",
}


def failure_code(code, refused_fields):
    """The failure codes of `shopify.refusals` and the outbox: Shopify's userErrors were
    "rejected" (its words shown to the shopper), a permanent error "refused"."""
    if code == "rejected":
        if refused_fields and set(refused_fields) <= ADDRESS_FIELDS:
            return "refused:address"
        if refused_fields and set(refused_fields) <= {"email", "phone"}:
            return "refused:contact"
        return "refused"
    return "permanent" if code == "refused" else code


def forwards(apps, schema_editor):
    ChangeRequest = apps.get_model("edits", "ChangeRequest")
    OrderEvent = apps.get_model("orders", "OrderEvent")
    ContentType = apps.get_model("contenttypes", "ContentType")
    ChangeRequest.objects.exclude(status="queued").update(next_attempt_at=None)
    changed = []
    for request in ChangeRequest.objects.exclude(field_errors={}, failure_code="").iterator():
        errors = request.field_errors if isinstance(request.field_errors, dict) else {}
        request.refused_fields = [name for name in errors if name != "__all__"]
        request.failure_code = failure_code(request.failure_code, request.refused_fields)
        changed.append(request)
    ChangeRequest.objects.bulk_update(changed, ["refused_fields", "failure_code"], batch_size=500)

    subject, _created = ContentType.objects.get_or_create(app_label="edits", model="changerequest")
    kinds = dict(ChangeRequest.objects.values_list("pk", "kind"))
    OrderEvent.objects.filter(kind="order.confirmed").update(kind="edits.confirmed")
    moved = []
    for event in OrderEvent.objects.filter(kind__in=STEPS).iterator():
        data = event.data if isinstance(event.data, dict) else {}
        pk = data.get("request")
        pk = pk if isinstance(pk, int) else None
        code = kinds.get(pk) or data.get("change")
        step = "retried" if data.pop("retry", False) else STEPS[event.kind]
        data.pop("change", None)
        # A request since deleted, of a kind no one wrote down, stays readable as its step.
        event.kind = f"edits.{code if isinstance(code, str) else 'unknown'}.{step}"
        if pk in kinds:  # a request since deleted keeps its number in the data
            event.subject_type, event.subject_id = subject, data.pop("request")
        event.data = data
        moved.append(event)
        if len(moved) == 500:
            OrderEvent.objects.bulk_update(moved, ["kind", "subject_type", "subject_id", "data"])
            moved = []
    OrderEvent.objects.bulk_update(moved, ["kind", "subject_type", "subject_id", "data"])


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("edits", "0005_outbox_and_events"),
        ("orders", "0011_event_kinds"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
