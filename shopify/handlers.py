"""The mirror's own webhook handlers: Shopify's order facts land in `orders` through ingest."""

from __future__ import annotations

from orders.models import Shop
from shopify import ingest, jobs, privacy, queue
from shopify.models import WebhookDelivery
from shopify.registry import handles

ORDER_TOPICS = (
    "orders/create",
    "orders/updated",
    "orders/cancelled",
    "orders/fulfilled",
    "orders/partially_fulfilled",
    "orders/paid",  # an order payload too: a balance was paid (item changes)
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
    # The request itself names the customer: keep that it happened, not who. (The row only:
    # apps above still read the payload, to erase what they keep of the customer.)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(payload=privacy.REDACTED)


@handles("shop/redact")
def shop_redacted(delivery: WebhookDelivery) -> None:
    privacy.redact_shop(delivery.shop)


@handles("fulfillment_orders/placed_on_hold", "fulfillment_orders/hold_released")
def fulfillment_order_changed(delivery: WebhookDelivery) -> None:
    """The warehouse's hold on a fulfilment order. These payloads carry no `updated_at`: the
    delivery's triggered-at orders them."""
    payload = delivery.payload
    held_id = ingest.gid_number(str(payload["fulfillment_order"]["id"]))
    for key in ("fulfillment_order", "remaining_fulfillment_order"):
        fulfillment_order = payload.get(key)
        if not fulfillment_order:
            continue
        facts = ingest.FulfillmentOrderFacts(
            shopify_id=ingest.gid_number(str(fulfillment_order["id"])),
            status=ingest.lower(fulfillment_order.get("status")),
            location_name=None,
            hold_reasons=[
                ingest.lower(hold.get("reason"))
                for hold in fulfillment_order.get("fulfillment_holds") or []
            ],
            updated_at=delivery.triggered_at,
        )
        ingest.apply_fulfillment_order_change(delivery.shop, facts, sibling_id=held_id)


@handles("refunds/create")
def refund_created(delivery: WebhookDelivery) -> None:
    """A refund changes the order's amounts and payment status: re-read the order."""
    queue.enqueue(
        jobs.refresh_order, delivery.shop_id, int(delivery.payload["order_id"]), queue="shopify"
    )


@handles("orders/edited")
def order_edited(delivery: WebhookDelivery) -> None:
    """An order edit names only what changed: re-read the order."""
    order_id = int(delivery.payload["order_edit"]["order_id"])
    queue.enqueue(jobs.refresh_order, delivery.shop_id, order_id, queue="shopify")


@handles("customers/data_request")
def customer_data_requested(delivery: WebhookDelivery) -> None:
    privacy.export_customer(delivery.shop, delivery.payload)
