"""What an order line could become: its product's other variants, read from Shopify.

The mirror keeps orders, not the catalogue, so variants are read live (`calls.product_variants`)
and cached for a minute while the shopper moves through a flow (an exchange, a size swap).
Submitting reads them again, uncached: a size may have sold out between choosing and confirming.
"""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.core.exceptions import ObjectDoesNotExist

from orders.models import LineItem, Shop
from shopify import calls
from shopify.calls import Product, Variant
from shopify.client import Client, ShopifyError

logger = logging.getLogger(__name__)

CACHE_SECONDS = 60


class Unavailable(Exception):
    """Shopify could not be asked: other variants cannot be offered right now."""


def variants(shop: Shop, product_id: int, *, fresh: bool = False) -> list[Variant]:
    """Every variant of the product, in Shopify's order. Raises `Unavailable`."""
    key = f"shopify:variants:{shop.pk}:{product_id}"
    cached = None if fresh else cache.get(key)
    if cached is not None:
        return cached
    try:
        found = calls.product_variants(Client.for_shop(shop), product_id)
    except (ShopifyError, ObjectDoesNotExist) as error:  # Shopify down, or no credentials
        logger.info("variants of product %s not read: %s", product_id, error)
        raise Unavailable from error
    cache.set(key, found, CACHE_SECONDS)
    return found


def addable(shop: Shop, tag: str) -> list[Product]:
    """The products a shopper may add to an order: those carrying the merchant's `tag`, read
    from Shopify and cached for a minute. Raises `Unavailable`."""
    if not tag:
        return []
    key = f"shopify:tagged:{shop.pk}:{tag.casefold()}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    try:
        found = calls.products_tagged(Client.for_shop(shop), tag)
    except (ShopifyError, ObjectDoesNotExist) as error:
        logger.info("products tagged %s not read: %s", tag, error)
        raise Unavailable from error
    cache.set(key, found, CACHE_SECONDS)
    return found


class NotRead(Exception):
    """The product was not read lately: read it first (a job does, for the order page)."""


PRICED_SECONDS = 900  # prices and stock move slowly; adding an item reads them afresh


def priced(
    shop: Shop, product_id: int, country: str, *, fresh: bool = False, cached_only: bool = False
) -> Product | None:
    """A product with each variant priced for a shopper whose order goes to `country` (what the
    shop offers after checkout, what an item is exchanged for); None when it is gone. Cached for
    15 minutes. `cached_only`: what was read lately, or `NotRead` (a page that must not wait for
    Shopify). Raises `Unavailable`."""
    key = f"shopify:priced:{shop.pk}:{product_id}:{country}"
    cached = None if fresh else cache.get(key)
    if cached is not None:
        return cached or None
    if cached_only:
        raise NotRead(product_id)
    try:
        found = calls.priced_product(Client.for_shop(shop), product_id, country)
    except (ShopifyError, ObjectDoesNotExist) as error:
        logger.info("offered product %s not read: %s", product_id, error)
        raise Unavailable from error
    cache.set(key, found or False, PRICED_SECONDS)
    return found


def products(shop: Shop) -> list[Product]:
    """The merchant's products by title (for choosing in the admin). Cached for a minute.
    Raises `Unavailable`."""
    key = f"shopify:products:{shop.pk}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    try:
        found = calls.product_list(Client.for_shop(shop))
    except (ShopifyError, ObjectDoesNotExist) as error:
        logger.info("products of %s not read: %s", shop, error)
        raise Unavailable from error
    cache.set(key, found, CACHE_SECONDS)
    return found


def exchange_options(line: LineItem, *, fresh: bool = False) -> list[Variant]:
    """The other variants of the line's product (in stock or not: the page says which)."""
    if not line.product_id:
        return []
    return [
        variant
        for variant in variants(line.order.shop, line.product_id, fresh=fresh)
        if variant.id != line.variant_id
    ]


def still_in_stock(line: LineItem, variant_id: int | None) -> bool:
    """Is the variant chosen instead still for sale, read fresh from Shopify? Raises
    `Unavailable` when Shopify cannot be asked."""
    chosen = next((v for v in exchange_options(line, fresh=True) if v.id == variant_id), None)
    return chosen is not None and chosen.available
