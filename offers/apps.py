from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OffersConfig(AppConfig):
    name = "offers"
    verbose_name = _("Offers after checkout")

    def ready(self) -> None:
        from edits.rules import ADDRESS_CONFIRMED
        from offers import events, jobs, views
        from orders import events as order_events
        from orders import live

        live.register("offers", views.offers_part)
        for step in ("paid", "applied"):
            order_events.subscribe(f"edits.items.{step}", events.count_payment)
        for confirmed in ADDRESS_CONFIRMED:  # "Everything is right", or a new address made
            order_events.subscribe(confirmed, jobs.price_on_confirmation)
