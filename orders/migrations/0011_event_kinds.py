"""The mirror's own event kinds take the "orders." namespace; a shipment's events point at it."""

from django.db import migrations

RENAMED = {
    "order.placed": "orders.placed",
    "order.cancelled": "orders.cancelled",
    "shipment.created": "orders.shipped",
    "shipment.delivered": "orders.delivered",
    "shipment.problem": "orders.delivery_problem",
    "access.links_revoked": "orders.links_revoked",
    "access.lookup_granted": "orders.lookup_granted",
}
ABOUT_A_SHIPMENT = ("orders.shipped", "orders.delivered", "orders.delivery_problem")


def forwards(apps, schema_editor):
    OrderEvent = apps.get_model("orders", "OrderEvent")
    Fulfillment = apps.get_model("orders", "Fulfillment")
    ContentType = apps.get_model("contenttypes", "ContentType")
    for old, new in RENAMED.items():
        OrderEvent.objects.filter(kind=old).update(kind=new)
    shipment, _created = ContentType.objects.get_or_create(app_label="orders", model="fulfillment")
    parcels = {
        (order, number): pk
        for pk, order, number in Fulfillment.objects.values_list("pk", "order_id", "shopify_id")
    }
    about = OrderEvent.objects.filter(kind__in=ABOUT_A_SHIPMENT, subject_id=None)
    moved = []
    for event in about.exclude(data__fulfillment=None).iterator():
        number = event.data.get("fulfillment") if isinstance(event.data, dict) else None
        found = parcels.get((event.order_id, number)) if isinstance(number, int) else None
        if found:
            event.subject_type, event.subject_id = shipment, found
            event.data.pop("fulfillment")
            moved.append(event)
    OrderEvent.objects.bulk_update(moved, ["subject_type", "subject_id", "data"], batch_size=500)


def backwards(apps, schema_editor):
    OrderEvent = apps.get_model("orders", "OrderEvent")
    for old, new in RENAMED.items():
        OrderEvent.objects.filter(kind=new).update(kind=old)


class Migration(migrations.Migration):
    dependencies = [("orders", "0010_event_stream")]

    operations = [migrations.RunPython(forwards, backwards)]
