"""Reading the offered products from Shopify, away from the order page: the page shows only
what was read lately (`catalogue.priced`, cached for 15 minutes), so that it never waits for
Shopify. Read when the shopper confirms the address (the offers come next), and by a job when an
order page finds them unread."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from offers.models import Offer, active_offers
from orders.events import Event
from orders.models import Order
from shopify import catalogue, queue

logger = logging.getLogger(__name__)


def price(order_id: int, product_ids: list[int]) -> None:
    """Read the products, priced for the order's destination; then the order's page renews."""
    order = Order.objects.select_related("shop").filter(pk=order_id).first()
    if order is None or not order.country_code:
        return
    for product_id in product_ids:
        catalogue.priced(order.shop, product_id, order.country_code, fresh=True)
    order.bump_revision()


def price_later(order: Order, offers: Iterable[Offer]) -> None:
    products = sorted({offer.product_id for offer in offers})
    country = order.country_code
    queue.enqueue(
        price,
        order.pk,
        products,
        queue="shopify",
        job_id=f"offers-price-{order.shop_id}-{country}-{'-'.join(map(str, products))}",
    )


def price_on_confirmation(event: Event) -> None:
    """The shopper confirmed the address: the offers are shown next, read them now (in this
    request, after its commit), so that the page they land on has them."""
    order = Order.objects.select_related("shop").get(pk=event.order_id)
    products = sorted({offer.product_id for offer in active_offers(order.shop)})
    if not products or not order.country_code:
        return
    try:
        for product_id in products:
            catalogue.priced(order.shop, product_id, order.country_code)
    except catalogue.Unavailable as error:  # the page's job reads them later
        logger.info("offers of %s not read at confirmation: %s", order.name, error)
