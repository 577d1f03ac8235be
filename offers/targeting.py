"""Which of the merchant's offers an order is shown: pure functions of the offers, the order
(its lines loaded), the shopper's language and the moment. No database, no Shopify: whether the
order may still be changed at all is `rules.can_offer`'s question, whether the product is in
stock and priced for the order's market is the card's (`views`)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime

from offers.models import Offer
from orders.models import Order


def matches(offer: Offer, order: Order, *, language: str, now: datetime) -> bool:
    """Does the offer target this order? Every condition the merchant gave must hold; one left
    empty holds for every order. A product the order holds already is not offered again."""
    if not offer.active:
        return False
    if offer.starts_at and now < offer.starts_at:
        return False
    if offer.ends_at and now >= offer.ends_at:
        return False
    lines = list(order.lines.all())
    held = {line.product_id for line in lines if line.product_id}
    if offer.product_id in held:
        return False
    if offer.for_products and not held & {int(p) for p in offer.for_products}:
        return False
    if offer.for_product_types and not _folded(line.product_type for line in lines) & _folded(
        offer.for_product_types
    ):
        return False
    if offer.for_order_tags and not _folded(order.tags) & _folded(offer.for_order_tags):
        return False
    if offer.min_total is not None or offer.max_total is not None:
        # The range is in the shop's currency: an order paid in another is compared at its own
        # rate, and not at all while that is not known.
        total = order.in_shop_currency(order.total)
        if total is None:
            return False
        if offer.min_total is not None and total < offer.min_total:
            return False
        if offer.max_total is not None and total > offer.max_total:
            return False
    if offer.countries and order.country_code not in offer.countries:
        return False
    return not offer.languages or language in offer.languages


def chosen(
    offers: Iterable[Offer],
    order: Order,
    *,
    language: str,
    now: datetime,
    accepted_today: Mapping[int, int],
    limit: int,
) -> list[Offer]:
    """The offers to show, best first (the merchant's priority): those that target the order,
    not accepted as often today as their cap allows, one of each A/B test; at most `limit`."""
    fitting = [
        offer
        for offer in offers
        if matches(offer, order, language=language, now=now)
        and (offer.daily_cap is None or accepted_today.get(offer.pk, 0) < offer.daily_cap)
    ]
    fitting.sort(key=lambda offer: (-offer.priority, offer.pk))
    found: list[Offer] = []
    tests: dict[str, list[Offer]] = {}
    for offer in fitting:
        if offer.experiment:
            tests.setdefault(offer.experiment.casefold(), []).append(offer)
    for offer in fitting:
        test = tests.get(offer.experiment.casefold()) if offer.experiment else None
        if test is not None and offer is not arm(test, order):
            continue
        found.append(offer)
    return found[:limit]


def arm(test: list[Offer], order: Order) -> Offer:
    """The one offer of an A/B test this order sees: the same on every visit, spread evenly
    over orders. The arms are taken in the order they were created."""
    arms = sorted(test, key=lambda offer: offer.pk)
    name = arms[0].experiment.casefold()
    digest = hashlib.sha256(f"{name}:{order.pk}".encode()).digest()
    return arms[int.from_bytes(digest[:4], "big") % len(arms)]


def _folded(words: Iterable[str]) -> set[str]:
    return {str(word).strip().casefold() for word in words if str(word).strip()}
