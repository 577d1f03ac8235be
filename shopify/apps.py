from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShopifyConfig(AppConfig):
    name = "shopify"
    verbose_name = _("Shopify")

    def ready(self) -> None:
        # The mirror's own handlers; apps above register theirs the same way.
        from shopify import handlers  # noqa: F401
