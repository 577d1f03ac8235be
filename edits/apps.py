from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EditsConfig(AppConfig):
    name = "edits"
    verbose_name = _("Order changes")

    def ready(self) -> None:
        # The kinds of change register themselves; then what works from the registry: the
        # outbox's channel (jobs), the emails (event subscribers), Shopify's webhooks
        # (handlers) and the order page's live part.
        from edits import emails, handlers, jobs, views  # noqa: F401
        from edits.kinds import address, cancellation, contact, items  # noqa: F401
        from orders import live

        live.register("changes", views.changes_part)
