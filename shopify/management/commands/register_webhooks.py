from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from orders.models import Shop
from shopify import subscriptions
from shopify.client import Client, ShopifyError


class Command(BaseCommand):
    help = (
        "Subscribe the shop's webhook topics to SHOPIFY_WEBHOOK_URL through the Admin API. "
        "Running it again changes nothing. The privacy topics are set in the app's configuration."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("domain")
        parser.add_argument("--url", default=settings.SHOPIFY_WEBHOOK_URL)

    def handle(self, *args: Any, **options: Any) -> None:
        shop = Shop.objects.filter(domain=options["domain"], credentials__isnull=False).first()
        if shop is None:
            raise CommandError(f"No connected shop {options['domain']!r}: run add_shop first")
        url = options["url"]
        if not url.startswith("https://") and not settings.DEBUG:
            raise CommandError(f"Shopify delivers only to https:// addresses, not {url!r}")
        try:
            outcome = subscriptions.subscribe(Client.for_shop(shop), url)
        except ShopifyError as error:
            raise CommandError(f"Shopify refused: {error}") from error
        for label, topics in (
            ("created", outcome.created),
            ("pointed here", outcome.updated),
            ("already in place", outcome.unchanged),
        ):
            if topics:
                self.stdout.write(f"{len(topics)} {label}: {', '.join(topics)}")
        self.stdout.write(self.style.SUCCESS(f"{shop.domain} delivers to {url}"))
