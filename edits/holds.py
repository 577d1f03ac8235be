"""The warehouse waits while the shopper may still fix the address (`hold_during_window`, off by
default): a new order's open fulfilment orders are put on hold under our own handle, and released
when the address window ends, when a change has been applied, or when the shopper confirms that
all is right. Other apps' and the merchant's holds are never touched: we release only the holds
we placed, by their ids. Each hold placed and released is in the order's audit log.

Jobs take primary keys and are idempotent: an order already held is not held twice, and a hold
already released is not released again.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from edits import events, kinds
from edits.models import EditPolicy, WarehouseHold
from orders.actors import SYSTEM
from orders.models import Order
from shopify import calls, queue
from shopify.client import Client, UserErrors

logger = logging.getLogger(__name__)

HANDLE = "order-portal-address-window"
Release = WarehouseHold.Release


def place(order_id: int) -> int:
    """Hold a new order's open fulfilment orders until its address window ends. Returns how many
    holds were placed."""
    order = Order.objects.select_related("shop").filter(pk=order_id, shop__is_active=True).first()
    if order is None or order.is_cancelled:
        return 0
    policy = EditPolicy.for_shop(order.shop)
    address = kinds.get("address")
    if not policy.hold_during_window or not address.decide(order, policy, now=timezone.now()):
        return 0  # nothing the shopper could change: no reason to make the warehouse wait
    closing = address.closes_at(order, policy)
    if timezone.now() >= closing or order.warehouse_holds.filter(released_at=None).exists():
        return 0
    client = Client.for_shop(order.shop)
    state = calls.order_state(client, order.shopify_id)
    placed = 0
    for fulfillment_order in state.open_fulfillment_orders:
        try:
            hold = calls.hold_fulfillment_order(
                client,
                fulfillment_order,
                handle=HANDLE,
                note="The customer may still correct the delivery address "
                f"until {closing:%Y-%m-%d %H:%M} UTC (order portal).",
            )
        except UserErrors as refused:  # already held by us, not holdable any more
            logger.info("%s not held: %s", order.name, refused)
            continue
        try:
            with transaction.atomic():
                WarehouseHold.objects.create(
                    order=order,
                    fulfillment_order_gid=fulfillment_order,
                    hold_gid=hold,
                    release_due_at=closing,
                )
                order.log(events.HOLD_PLACED, actor=SYSTEM, until=closing.isoformat())
        except IntegrityError:
            continue  # a concurrent job recorded it first
        placed += 1
    if placed:
        order.bump_revision()  # the order page offers "all is right, ship it"
    return placed


def release(order_id: int, because: str) -> int:
    """Release the holds we placed on the order; how many were released."""
    holds = list(WarehouseHold.objects.filter(order_id=order_id, released_at=None))
    order = Order.objects.select_related("shop").get(pk=order_id)
    if not holds or not order.shop.is_active:
        return 0
    client = Client.for_shop(order.shop)
    for hold in holds:
        if because != Release.CANCELLED:  # Shopify closes a cancelled order's holds itself
            try:
                calls.release_hold(client, hold.fulfillment_order_gid, hold.hold_gid)
            except UserErrors as refused:  # released in Shopify's admin meanwhile: done too
                logger.info("hold %s of %s: %s", hold.hold_gid, order.name, refused)
        with transaction.atomic():
            released = WarehouseHold.objects.filter(pk=hold.pk, released_at=None).update(
                released_at=timezone.now(), released_because=because
            )
            if released:
                order.log(events.HOLD_RELEASED, actor=SYSTEM, because=because)
    order.bump_revision()
    return len(holds)


def release_due() -> int:
    """The scheduler's run (every minute): release the holds whose address window ended."""
    due = (
        WarehouseHold.objects.filter(
            released_at=None, release_due_at__lte=timezone.now(), order__shop__is_active=True
        )
        .values_list("order_id", flat=True)
        .distinct()
    )
    count = 0
    with transaction.atomic():
        for order_id in due:
            queue.enqueue(
                release,
                order_id,
                Release.WINDOW_ENDED,
                queue="shopify",
                job_id=f"release-{order_id}",
            )
            count += 1
    return count
