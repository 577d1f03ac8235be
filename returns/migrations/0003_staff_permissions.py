"""Support agents work the return queues (change_returnrequest unlocks the admin's actions); store managers also set the return policy and its reasons."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = {
    "Support agent": ["view_returnpolicy", "view_returnreason", "view_returnrequest", "change_returnrequest", "view_returnline"],
    "Store manager": ["view_returnpolicy", "change_returnpolicy", "view_returnreason", "add_returnreason", "change_returnreason", "delete_returnreason", "view_returnrequest", "change_returnrequest", "view_returnline"],
}


def grant(apps, schema_editor):
    app_config = apps.get_app_config("returns")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="returns", codename__in=codenames)
        )


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=ROLES):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="returns"))


class Migration(migrations.Migration):
    dependencies = [("returns", "0002_return_flow_and_sync"), ("orders", "0002_staff_groups")]

    operations = [migrations.RunPython(grant, revoke)]
