from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from orders import access
from portal import demo


class Command(BaseCommand):
    help = "Load (or reload) the demo store's orders, and say how to open one."

    def handle(self, *args: Any, **options: Any) -> None:
        shop = demo.load()
        first = shop.orders.get(number=1001)
        base = settings.PORTAL_BASE_URL
        self.stdout.write(self.style.SUCCESS(f"Demo store loaded: {shop.orders.count()} orders."))
        self.stdout.write(
            f"\nOpen {base}/ and look up order #1001 with the email {first.email}\n"
            "(every demo order works the same way: #1001 to #1020, see portal/demo.py),\n"
            f"or open it directly: {base}/o/{access.link_token(first)}/\n"
        )
