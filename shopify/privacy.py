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
from shopify.models import DataRequest, WebhookDelivery

REDACTED = {"redacted": True}


@transaction.atomic
def redact_customer(shop: Shop, payload: dict[str, Any]) -> int:
    """Erase one customer's personal data from the shop's orders and from every webhook
    delivery that carried it. Returns how many orders were touched."""
    customer = payload.get("customer") or {}
    email = (customer.get("email") or "").strip()
    orders = list(Order.objects.select_for_update().filter(_customer_match(payload), shop=shop))
    for order in orders:
        country = (order.shipping_address or {}).get("country_code", "")
        order.email = ""
        order.phone = ""
        order.shipping_address = {"country_code": country} if country else {}
        order.save(update_fields=["email", "phone", "shipping_address"])
        order.events.exclude(data={}).update(data={})
        order.bump_revision()
    DataRequest.objects.filter(shop=shop).filter(
        Q(customer_email__iexact=email) if email else Q(pk__in=[])
    ).delete()
    # Shopify's payloads held the same data: keep the record of each delivery, not its body.
    touched = {order.shopify_id for order in orders}
    deliveries = WebhookDelivery.objects.filter(shop=shop).exclude(payload=REDACTED)
    for delivery in deliveries.only("pk", "payload", "topic"):
        if _mentions(delivery.payload, touched, email, customer.get("id")):
            WebhookDelivery.objects.filter(pk=delivery.pk).update(payload=REDACTED)
    return len(orders)


def _customer_match(payload: dict[str, Any]) -> Q:
    """The customer's orders: those Shopify names, and any under the customer's email."""
    email = ((payload.get("customer") or {}).get("email") or "").strip()
    ids = payload.get("orders_requested") or payload.get("orders_to_redact") or []
    match = Q(shopify_id__in=[int(i) for i in ids])
    return match | Q(email__iexact=email) if email else match


def customer_orders(shop: Shop, payload: dict[str, Any]) -> list[Order]:
    return list(
        Order.objects.filter(_customer_match(payload), shop=shop)
        .prefetch_related("lines", "fulfillments__events", "events")
        .order_by("placed_at")
    )


@transaction.atomic
def export_customer(shop: Shop, payload: dict[str, Any]) -> DataRequest:
    """Assemble what the portal holds of a customer (customers/data_request)."""
    customer = payload.get("customer") or {}
    orders = customer_orders(shop, payload)
    export = {
        "shop": shop.domain,
        "customer": {"email": customer.get("email"), "phone": customer.get("phone")},
        "orders": [
            {
                "name": order.name,
                "placed_at": order.placed_at.isoformat(),
                "email": order.email,
                "phone": order.phone,
                "shipping_address": order.shipping_address,
                "items": [
                    {"title": line.title, "variant": line.variant_title, "quantity": line.quantity}
                    for line in order.lines.all()
                ],
                "shipments": [
                    {
                        "carrier": shipment.tracking_company,
                        "tracking_numbers": shipment.tracking_numbers,
                        "events": [
                            {"status": event.status, "at": event.happened_at.isoformat()}
                            for event in shipment.events.all()
                        ],
                    }
                    for shipment in order.fulfillments.all()
                ],
                "activity": [
                    {"what": event.kind, "at": event.created_at.isoformat(), "by": event.actor.key}
                    for event in order.events.all()
                ],
            }
            for order in orders
        ],
    }
    return DataRequest.objects.create(
        shop=shop,
        shopify_request_id=str((payload.get("data_request") or {}).get("id") or ""),
        customer_email=(customer.get("email") or "")[:254],
        export=export,
    )


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
