from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReturnsConfig(AppConfig):
    name = "returns"
    verbose_name = _("Returns and exchanges")

    def ready(self) -> None:
        from orders import live
        from returns import handlers, views  # noqa: F401  (handlers register with shopify)

        live.register("returns", views.returns_part)
