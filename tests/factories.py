"""Plain factory functions for the test cast: each takes overrides for what a test cares about."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from orders.models import (
    Fulfillment,
    FulfillmentLine,
    FulfillmentOrder,
    LineItem,
    Order,
    Shop,
    TrackingEvent,
)

_ids = itertools.count(1_000)


def next_id() -> int:
    return next(_ids)


def make_shop(**overrides: Any) -> Shop:
    values: dict[str, Any] = {
        "domain": f"shop-{next_id()}.myshopify.com",
        "name": "Test Shop",
        "time_zone": "Europe/Berlin",
        "currency": "EUR",
        "support_email": "help@shop.example",
    }
    values.update(overrides)
    return Shop.objects.create(**values)


US_ADDRESS = {
    "first_name": "Alice",
    "last_name": "Walker",
    "address1": "350 Fifth Avenue",
    "address2": "Apt 4B",
    "city": "New York",
    "province": "New York",
    "province_code": "NY",
    "zip": "10118",
    "country": "United States",
    "country_code": "US",
    "phone": "+12125550142",
}


def make_order(shop: Shop, **overrides: Any) -> Order:
    number = overrides.pop("number", None) or next_id()
    values: dict[str, Any] = {
        "shopify_id": 5_000_000 + number,
        "name": f"#{number}",
        "number": number,
        "email": "alice@example.com",
        "phone": "+12125550142",
        "customer_locale": "en",
        "currency": "USD",
        "subtotal": Decimal("58.00"),
        "shipping": Decimal("5.00"),
        "total": Decimal("63.00"),
        "placed_at": timezone.now() - timedelta(days=2),
        "shipping_address": dict(US_ADDRESS),
        "shopify_updated_at": timezone.now(),
        # The cast's orders are in dollars, its shops in euros: at par, so that a merchant's
        # amount (a fee, a threshold) reads the same in both. A test of rates sets its own.
        "exchange_rate": Decimal(1),
    }
    values.update(overrides)
    return Order.objects.create(shop=shop, **values)


def add_line(order: Order, **overrides: Any) -> LineItem:
    quantity = overrides.pop("quantity", 1)
    values: dict[str, Any] = {
        "shopify_id": next_id(),
        "title": "Organic T-shirt",
        "variant_title": "M / Navy",
        "sku": "TEE-M",
        "quantity": quantity,
        "fulfillable_quantity": quantity,
        "price": Decimal("29.00"),
    }
    values.update(overrides)
    return LineItem.objects.create(order=order, **values)


def add_fulfillment_order(order: Order, status: str = "open") -> FulfillmentOrder:
    return FulfillmentOrder.objects.create(order=order, shopify_id=next_id(), status=status)


def ship(
    order: Order,
    lines: list[LineItem] | None = None,
    *,
    shipment_status: str = "in_transit",
    status: str = "success",
    events: list[tuple[str, datetime]] | None = None,
    **overrides: Any,
) -> Fulfillment:
    """A shipment of `lines` (all of them by default), their fulfillable quantity used up."""
    lines = list(order.lines.all()) if lines is None else lines
    values: dict[str, Any] = {
        "shopify_id": next_id(),
        "name": f"{order.name}.1",
        "status": status,
        "shipment_status": shipment_status,
        "tracking_company": "UPS",
        "tracking_numbers": ["1Z999AA10123456784"],
        "tracking_urls": ["https://www.ups.com/track?tracknum=1Z999AA10123456784"],
        "shipped_at": timezone.now() - timedelta(days=1),
    }
    values.update(overrides)
    fulfillment = Fulfillment.objects.create(order=order, **values)
    for line in lines:
        FulfillmentLine.objects.create(
            fulfillment=fulfillment, line_item=line, quantity=line.quantity
        )
        if status == "success":
            line.fulfillable_quantity = 0
            line.save(update_fields=["fulfillable_quantity"])
    for event_status, happened_at in events or []:
        TrackingEvent.objects.create(
            fulfillment=fulfillment,
            shopify_id=next_id(),
            status=event_status,
            happened_at=happened_at,
            message=f"Carrier says {event_status}",
            city="Newark",
            country_code="US",
        )
    return fulfillment
