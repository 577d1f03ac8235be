"""`field_errors` (Shopify's words by field) gave way to `refused_fields` (0006 moved them)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("edits", "0006_requests_and_events_rows")]

    operations = [migrations.RemoveField(model_name="changerequest", name="field_errors")]
