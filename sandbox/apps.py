from __future__ import annotations

from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """Only for `manage.py sandbox`: the sandbox has no models and needs no migrations."""

    name = "sandbox"
    label = "sandbox"
    verbose_name = "Sandbox Shopify store"
