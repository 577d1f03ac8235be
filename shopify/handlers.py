"""The mirror's own webhook handlers: Shopify's order facts land in `orders` through ingest."""

from __future__ import annotations

from orders.models import Shop
from shopify import ingest, privacy
from shopify.models import WebhookDelivery
from shopify.registry import handles

ORDER_TOPICS = (
    "orders/create",
    "orders/updated",
    "orders/cancelled",
    "orders/fulfilled",
    "orders/partially_fulfilled",
)


@handles(*ORDER_TOPICS)
def order_changed(delivery: WebhookDelivery) -> None:
    ingest.apply_order(delivery.shop, ingest.order_from_rest(delivery.payload))


@handles("fulfillments/create", "fulfillments/update")
def shipment_changed(delivery: WebhookDelivery) -> None:
    payload = delivery.payload
    ingest.apply_shipment(
        delivery.shop, int(payload["order_id"]), ingest.fulfillment_from_rest(payload)
    )


@handles("fulfillment_events/create")
def carrier_event(delivery: WebhookDelivery) -> None:
    ingest.apply_tracking(delivery.shop, ingest.tracking_from_rest(delivery.payload))


@handles("app/uninstalled")
def app_uninstalled(delivery: WebhookDelivery) -> None:
    """The merchant removed the app: stop serving and syncing the shop. Its data stays until
    Shopify's shop/redact, 48 hours later."""
    Shop.objects.filter(pk=delivery.shop_id).update(is_active=False)


@handles("customers/redact")
def customer_redacted(delivery: WebhookDelivery) -> None:
    privacy.redact_customer(delivery.shop, delivery.payload)
    # The request itself names the customer: keep that it happened, not who.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(payload=privacy.REDACTED)
    delivery.payload = privacy.REDACTED


@handles("shop/redact")
def shop_redacted(delivery: WebhookDelivery) -> None:
    privacy.redact_shop(delivery.shop)
