"""Support agents decide and retry order changes; store managers also set the edit policy."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = {
    "Support agent": ["view_editpolicy", "view_changerequest", "change_changerequest", "view_warehousehold"],
    "Store manager": ["view_editpolicy", "change_editpolicy", "view_changerequest", "change_changerequest", "view_warehousehold"],
}


def grant(apps, schema_editor):
    app_config = apps.get_app_config("edits")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="edits", codename__in=codenames)
        )


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=ROLES):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="edits"))


class Migration(migrations.Migration):
    dependencies = [("edits", "0003_sending_lease"), ("orders", "0002_staff_groups")]

    operations = [migrations.RunPython(grant, revoke)]
