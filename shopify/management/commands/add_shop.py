from __future__ import annotations

import os
import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from orders.models import Shop
from shopify import credentials, documents
from shopify.client import Client, ShopifyError
from shopify.models import ShopCredentials

DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")


class Command(BaseCommand):
    help = (
        "Connect a shop, or update its credentials. Secrets may come from the environment "
        "(SHOPIFY_ACCESS_TOKEN, SHOPIFY_CLIENT_SECRET) to keep them out of shell history. "
        "A new client secret keeps the previous one, which Shopify may still sign with for an hour."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("domain", help="the shop's myshopify.com domain")
        parser.add_argument("--access-token", default=os.environ.get("SHOPIFY_ACCESS_TOKEN", ""))
        parser.add_argument("--client-secret", default=os.environ.get("SHOPIFY_CLIENT_SECRET", ""))
        parser.add_argument("--name", default="", help="shown to shoppers (default: Shopify's)")
        parser.add_argument(
            "--offline", action="store_true", help="do not read the shop's details from Shopify"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        domain = options["domain"].strip().lower()
        if not DOMAIN.match(domain):
            raise CommandError(
                f"{domain!r} is not a myshopify.com domain (e.g. my-shop.myshopify.com)"
            )
        token, secret = options["access_token"].strip(), options["client_secret"].strip()
        with transaction.atomic():
            shop, created = Shop.objects.get_or_create(
                domain=domain, defaults={"name": options["name"] or domain.split(".")[0]}
            )
            if created and not (token and secret):
                raise CommandError(
                    "A new shop needs --access-token and --client-secret "
                    "(or SHOPIFY_ACCESS_TOKEN and SHOPIFY_CLIENT_SECRET)"
                )
            sealed, _ = ShopCredentials.objects.get_or_create(shop=shop)
            if token:
                sealed.sealed_access_token = credentials.seal(token)
            if secret and secret != credentials.unseal(sealed.sealed_client_secret):
                sealed.sealed_previous_client_secret = sealed.sealed_client_secret
                sealed.sealed_client_secret = credentials.seal(secret)
                if sealed.sealed_previous_client_secret:
                    self.stdout.write("The previous client secret stays accepted for webhooks.")
            sealed.save()
            shop.is_active = True
            if options["name"]:
                shop.name = options["name"]
            shop.save()
        if not options["offline"]:
            self.read_details(shop, keep_name=bool(options["name"]))
        self.stdout.write(self.style.SUCCESS(f"{'Added' if created else 'Updated'} {shop.domain}"))

    def read_details(self, shop: Shop, *, keep_name: bool) -> None:
        try:
            details = Client.for_shop(shop).query(documents.SHOP)["shop"]
        except ShopifyError as error:
            self.stderr.write(f"Could not read the shop's details from Shopify: {error}")
            return
        if not keep_name:
            shop.name = details["name"]
        shop.currency = details["currencyCode"]
        shop.time_zone = details["ianaTimezone"]
        shop.support_email = shop.support_email or details.get("contactEmail") or ""
        shop.save()
        self.stdout.write(f"{shop.name}: {shop.currency}, {shop.time_zone}")
