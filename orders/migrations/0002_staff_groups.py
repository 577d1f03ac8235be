"""The two staff roles: support agents work orders; store managers also set up the shop.

Later apps add their own permissions to these groups in their own migrations.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SEE_ORDERS = [
    "view_shop",
    "view_order",
    "view_lineitem",
    "view_fulfillmentorder",
    "view_fulfillment",
    "view_fulfillmentline",
    "view_trackingevent",
    "view_orderevent",
]
ROLES = {
    # change_order only unlocks agent actions (revoking links); mirror fields stay read-only.
    "Support agent": [*SEE_ORDERS, "change_order"],
    "Store manager": [*SEE_ORDERS, "change_order", "change_shop"],
}


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations ran; make sure ours exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="orders", codename__in=codenames)
        )


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
