"""Shopify's mandatory privacy topics: what a merchant's customer asks to be forgotten is
really erased, here as in Shopify.

What stays after a customer's redaction is anonymous: that an order existed, its number, items,
amounts, dates and destination country, so the merchant's figures still add up.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q

from orders.models import Order, Shop
from shopify.models import WebhookDelivery

REDACTED = {"redacted": True}


@transaction.atomic
def redact_customer(shop: Shop, payload: dict[str, Any]) -> int:
    """Erase one customer's personal data from the shop's orders and from every webhook
    delivery that carried it. Returns how many orders were touched."""
    customer = payload.get("customer") or {}
    email = (customer.get("email") or "").strip()
    order_ids = [int(i) for i in payload.get("orders_to_redact") or []]
    match = Q(shopify_id__in=order_ids)
    if email:
        match |= Q(email__iexact=email)
    orders = list(Order.objects.select_for_update().filter(match, shop=shop))
    for order in orders:
        country = (order.shipping_address or {}).get("country_code", "")
        order.email = ""
        order.phone = ""
        order.shipping_address = {"country_code": country} if country else {}
        order.save(update_fields=["email", "phone", "shipping_address"])
        order.events.exclude(data={}).update(data={})
        order.bump_revision()
    # Shopify's payloads held the same data: keep the record of each delivery, not its body.
    touched = {order.shopify_id for order in orders}
    deliveries = WebhookDelivery.objects.filter(shop=shop).exclude(payload=REDACTED)
    for delivery in deliveries.only("pk", "payload", "topic"):
        if _mentions(delivery.payload, touched, email, customer.get("id")):
            WebhookDelivery.objects.filter(pk=delivery.pk).update(payload=REDACTED)
    return len(orders)


def _mentions(payload: Any, order_ids: set[int], email: str, customer_id: Any) -> bool:
    if not isinstance(payload, dict):
        return False
    if payload.get("customer", {}) and payload["customer"].get("id") == customer_id:
        return True
    ids = {payload.get("id"), payload.get("order_id")}
    gid = payload.get("admin_graphql_api_id")
    if isinstance(gid, str) and gid.startswith("gid://shopify/Order/"):
        ids.add(int(gid.rsplit("/", 1)[-1]))
    if ids & order_ids:
        return True
    return bool(email) and email.casefold() in str(payload).casefold()


@transaction.atomic
def redact_shop(shop: Shop) -> None:
    """48 hours after uninstall: everything of the shop goes (orders, events, deliveries and
    credentials cascade with it)."""
    shop.delete()
