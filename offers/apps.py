from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OffersConfig(AppConfig):
    name = "offers"
    verbose_name = _("Offers after checkout")

    def ready(self) -> None:
        from offers import events, views
        from orders import events as order_events
        from orders import live

        live.register("offers", views.offers_part)
        for step in ("paid", "applied"):
            order_events.subscribe(f"edits.items.{step}", events.count_payment)
