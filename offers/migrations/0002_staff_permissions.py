"""Store managers set the offers; support agents see them (and their funnels)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = {
    "Support agent": ["view_offer"],
    "Store manager": ["view_offer", "add_offer", "change_offer", "delete_offer"],
}


def grant(apps, schema_editor):
    app_config = apps.get_app_config("offers")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="offers", codename__in=codenames)
        )


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=ROLES):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="offers"))


class Migration(migrations.Migration):
    dependencies = [("offers", "0001_offers"), ("orders", "0002_staff_groups")]

    operations = [migrations.RunPython(grant, revoke)]
