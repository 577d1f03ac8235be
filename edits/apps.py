from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EditsConfig(AppConfig):
    name = "edits"
    verbose_name = _("Order changes")

    def ready(self) -> None:
        # Shopify tells us when an order moves on while a change waits: see handlers.py.
        from edits import handlers, views  # noqa: F401
        from orders import live

        live.register("changes", views.changes_part)
