"""The audit log becomes the event stream: kinds are namespaced text each app registers (no
choices, no migration per kind), each event has a typed subject, and the actor is an `Actor`.
(The rows follow in 0011: PostgreSQL alters no table with row changes pending.)"""

import django.db.models.deletion
import orders.actors
from django.db import migrations, models


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
    ]
