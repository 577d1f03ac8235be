from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReturnsConfig(AppConfig):
    name = "returns"
    verbose_name = _("Returns and exchanges")

    def ready(self) -> None:
        # Shopify's webhooks (handlers), the outbox's channel (jobs), the emails (event
        # subscribers) and the order page's live part.
        from orders import live
        from returns import emails, handlers, jobs, views  # noqa: F401

        live.register("returns", views.returns_part)
