"""What Shopify tells us that changes waiting requests: when an order moves on (packed, shipped,
cancelled in Shopify's admin) while a change waits for an agent, the change can no longer be
made, and the shopper should hear so now rather than after an agent's approval fails."""

from __future__ import annotations

from django.db.models import Q

from edits import holds, jobs
from edits.models import ChangeRequest, EditPolicy
from orders.models import Order
from shopify import queue
from shopify.ingest import shopify_id
from shopify.models import WebhookDelivery
from shopify.registry import handles


@handles(
    "orders/updated",
    "orders/cancelled",
    "orders/fulfilled",
    "orders/partially_fulfilled",
    "fulfillments/create",
)
def order_moved_on(delivery: WebhookDelivery) -> None:
    """Shopify's order payloads do not say how far the warehouse is (fulfilment orders): when a
    change waits for an agent, re-read the order and look again."""
    payload = delivery.payload
    if "order_id" not in payload and "id" not in payload:
        return
    order_id = shopify_id(payload, "order_id") if "order_id" in payload else shopify_id(payload)
    waiting = ChangeRequest.objects.filter(
        order__shop=delivery.shop,
        order__shopify_id=order_id,
        status=ChangeRequest.Status.AWAITING_APPROVAL,
    ).values_list("order_id", flat=True)
    for order_pk in set(waiting):
        queue.enqueue(jobs.recheck_waiting, order_pk, queue="shopify", job_id=f"recheck-{order_pk}")


@handles("orders/updated", "orders/paid")
def order_paid(delivery: WebhookDelivery) -> None:
    """An order that owes the difference of an item change: Shopify says it changed (paid?)."""
    payload = delivery.payload
    if "id" not in payload:
        return
    waiting = ChangeRequest.objects.filter(
        order__shop=delivery.shop,
        order__shopify_id=shopify_id(payload),
        status=ChangeRequest.Status.AWAITING_PAYMENT,
    ).values_list("order_id", flat=True)
    for order_pk in set(waiting):
        queue.enqueue(jobs.check_payment, order_pk, queue="shopify", job_id=f"payment-{order_pk}")


@handles("orders/create")
def order_placed(delivery: WebhookDelivery) -> None:
    """A new order: hold it at the warehouse while the address may change, if the merchant
    wants that."""
    if not EditPolicy.for_shop(delivery.shop).hold_during_window:
        return
    order = Order.objects.filter(
        shop=delivery.shop, shopify_id=shopify_id(delivery.payload)
    ).first()
    if order is not None:
        queue.enqueue(holds.place, order.pk, queue="shopify", job_id=f"hold-{order.pk}")


@handles("customers/redact")
def customer_redacted(delivery: WebhookDelivery) -> None:
    """What the customer asked to change held their addresses, emails and phones: erase it
    too, keeping that a change of that kind happened and how it ended."""
    payload = delivery.payload
    email = ((payload.get("customer") or {}).get("email") or "").strip()
    ids = [int(i) for i in payload.get("orders_to_redact") or []]
    match = Q(order__shopify_id__in=ids)
    if email:
        match |= Q(before__email__iexact=email) | Q(after__email__iexact=email)
    ChangeRequest.objects.filter(match, order__shop=delivery.shop).update(
        before={}, after={}, rejection_reason="", failure_detail="", refused_fields=[]
    )
