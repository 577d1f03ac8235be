"""The audit log becomes the event stream: kinds are namespaced text each app registers (no
choices, no migration per kind), each event has a typed subject, and the actor is an `Actor`.
The mirror's own kinds take the "orders." namespace; a shipment's events point at it."""

import django.db.models.deletion
import orders.actors
from django.db import migrations, models


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
    about = OrderEvent.objects.filter(kind__in=ABOUT_A_SHIPMENT, subject_id=None)
    for event in about.exclude(data__fulfillment=None).iterator():
        found = (
            Fulfillment.objects.filter(order_id=event.order_id, shopify_id=event.data["fulfillment"])
            .values_list("pk", flat=True)
            .first()
        )
        if found:
            event.subject_type, event.subject_id = shipment, found
            event.data.pop("fulfillment")
            event.save(update_fields=["subject_type", "subject_id", "data"])


def backwards(apps, schema_editor):
    OrderEvent = apps.get_model("orders", "OrderEvent")
    for old, new in RENAMED.items():
        OrderEvent.objects.filter(kind=new).update(kind=old)


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('orders', '0009_lineitem_paid_price'),
    ]

    operations = [
        migrations.AddField(
            model_name='orderevent',
            name='subject_id',
            field=models.PositiveBigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='orderevent',
            name='subject_type',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='contenttypes.contenttype'),
        ),
        migrations.AlterField(
            model_name='orderevent',
            name='actor',
            field=orders.actors.ActorField(),
        ),
        migrations.AlterField(
            model_name='orderevent',
            name='kind',
            field=models.CharField(db_index=True, max_length=64),
        ),
        migrations.AddIndex(
            model_name='orderevent',
            index=models.Index(fields=['subject_type', 'subject_id'], name='orders_orde_subject_5f3ad5_idx'),
        ),
        migrations.RunPython(forwards, backwards),
    ]
