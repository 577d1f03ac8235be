from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orders.models import Shop
from shopify import sync
from shopify.client import ShopifyError


class Command(BaseCommand):
    help = (
        "Re-read the orders Shopify changed since the last reconciliation, now. The scheduler "
        "(manage.py rqcron portal.cron) does this every SHOPIFY_RECONCILE_MINUTES."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("domain")

    def handle(self, *args: Any, **options: Any) -> None:
        shop = Shop.objects.filter(domain=options["domain"], credentials__isnull=False).first()
        if shop is None:
            raise CommandError(f"No connected shop {options['domain']!r}: run add_shop first")
        try:
            count = sync.reconcile(shop)
        except ShopifyError as error:
            raise CommandError(f"Stopped by Shopify ({error}); the next run repeats it") from error
        self.stdout.write(self.style.SUCCESS(f"{count} orders re-read"))
