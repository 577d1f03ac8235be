"""The demo store, connected like any shop: the sandbox store plays Shopify and tells the story
of twenty orders (`sandbox/seed.py`: every stage, seven languages, six currencies, nine
countries), and the portal reaches it through the same client, webhooks and ingest as a real shop.

`load()` resets the sandbox to that story, connects the shop (sealed credentials), subscribes its
webhooks to this portal, and imports the orders through the Admin API. Loading again replaces
the demo shop's orders and nothing else.

The portal (the top floor) is the only place that knows the sandbox is there.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import requests
from django.conf import settings
from django.utils import timezone

from edits.models import EditPolicy
from offers.models import Offer
from orders.models import Shop
from shopify import calls, credentials, subscriptions, sync
from shopify.client import Client, ShopifyError, new_session
from shopify.models import ShopCredentials, SyncState

logger = logging.getLogger(__name__)

DOMAIN = "northwind-demo.myshopify.com"
# The sandbox's development credentials (manage.py sandbox's defaults).
ACCESS_TOKEN = "shpat_sandbox_dev_token"
CLIENT_SECRET = "sandbox-dev-client-secret"
BRANDING = {
    "name": "Northwind Outfitters",
    "default_locale": "en",
    "enabled_locales": [
        "en",
        "de",
        "fr",
        "es",
        "nl",
        "ja",
        "ar",
        "it",
        "pt-br",
        "pl",
        "sv",
        "zh-hans",
        "he",
    ],
    "time_zone": "Europe/Berlin",
    "currency": "EUR",
    "brand_colour": "#14532d",
    "accent_colour": "#15803d",
    "support_email": "support@northwind.example",
    "is_active": True,
}


class SandboxUnavailable(Exception):
    pass


def sandbox_url() -> str:
    """Where the sandbox's control API answers: its own port, or in process (tests)."""
    return settings.SANDBOX_URL or f"https://{DOMAIN}"


def reset_sandbox(session: requests.Session, *, wait: float = 15.0) -> None:
    """Back to the demo's story, told anew from now. Waits for a sandbox that is starting."""
    deadline = time.monotonic() + wait
    while True:
        try:
            response = session.post(
                f"{sandbox_url()}/sandbox/reset",
                json={"seed": "demo", "keep_subscriptions": False},
                timeout=30,
            )
            response.raise_for_status()
            return
        except requests.ConnectionError as error:
            if time.monotonic() > deadline:
                raise SandboxUnavailable(
                    f"No sandbox store answers at {sandbox_url()}: start it with "
                    "`manage.py sandbox` (make run does)"
                ) from error
            time.sleep(0.25)


def connect() -> Shop:
    shop, _ = Shop.objects.update_or_create(domain=DOMAIN, defaults=BRANDING)
    ShopCredentials.objects.update_or_create(
        shop=shop,
        defaults={
            "sealed_access_token": credentials.seal(ACCESS_TOKEN),
            "sealed_client_secret": credentials.seal(CLIENT_SECRET),
            "sealed_previous_client_secret": "",
        },
    )
    # The demo shows every change a shopper can make: item changes too, which a real shop
    # switches on itself, and the cap (tagged add-on) to add.
    policy = EditPolicy.for_shop(shop)
    policy.items_enabled = True
    policy.items_add_tag = "add-on"
    policy.save()
    return shop


def load(*, webhook_url: str | None = None, history: timedelta = timedelta(days=400)) -> Shop:
    session = new_session()
    reset_sandbox(session)
    shop = connect()
    shop.orders.all().delete()
    SyncState.objects.filter(shop=shop).delete()
    client = Client(DOMAIN, ACCESS_TOKEN, session=session)
    url = webhook_url or settings.SHOPIFY_WEBHOOK_URL
    if url:
        try:
            subscriptions.subscribe(client, url)
        except ShopifyError as error:  # the demo still works, only without live updates
            logger.warning("webhooks not subscribed (%s): changes show after a reconcile", error)
    sync.import_orders(shop, since=timezone.now() - history, restart=True, client=client)
    offer_mug(shop, client)
    return shop


def offer_mug(shop: Shop, client: Client) -> None:
    """The demo's offer after checkout: the enamel camp mug (made to order, so never sold out)
    at 20 % off, to every order, once its shopper has confirmed the delivery address."""
    mug = next((p for p in calls.product_list(client) if p.title == "Enamel camp mug"), None)
    if mug is None:
        return
    Offer.objects.filter(shop=shop).delete()
    Offer.objects.create(
        shop=shop,
        name="A mug for the camp",
        product_id=mug.id,
        product_title=mug.title,
        discount_value=20,
    )
