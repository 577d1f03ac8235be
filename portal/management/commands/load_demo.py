from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from orders import access
from portal import demo


class Command(BaseCommand):
    help = (
        "Reset the sandbox store to the demo's story, connect it like any shop and import its "
        "orders through the Admin API; then say how to open one."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            shop = demo.load()
        except demo.SandboxUnavailable as error:
            raise CommandError(str(error)) from error
        first = shop.orders.get(number=1001)
        base = settings.PORTAL_BASE_URL
        self.stdout.write(self.style.SUCCESS(f"Demo store loaded: {shop.orders.count()} orders."))
        self.stdout.write(
            f"\nOpen {base}/ and look up order #1001 with the email {first.email}\n"
            "(every demo order works the same way: #1001 to #1020, see sandbox/seed.py),\n"
            f"or open it directly: {base}/o/{access.link_token(first)}/\n"
        )
