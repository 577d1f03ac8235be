"""Our holds at the warehouse, for two reasons:

- the address window (`hold_during_window`, off by default): a new order's open fulfilment
  orders wait until the address window ends, a change is applied, or the shopper confirms that
  all is right;
- a difference to pay (an item change that made the order dearer): the warehouse waits until
  Shopify says the balance is paid (Shopify's own reason, AWAITING_PAYMENT).

Each reason has its own handle, and we release only the holds we placed, by their ids: other
apps' and the merchant's holds are never touched. Each hold placed and released is in the order's
audit log.

Jobs take primary keys and are idempotent: an order already held for a reason is not held twice
for it, and a hold already released is not released again.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from edits import events, kinds
from edits.models import ChangeRequest, EditPolicy, WarehouseHold
from orders.actors import SYSTEM
from orders.models import Order
from shopify import calls, queue
from shopify.client import Client, UserErrors

logger = logging.getLogger(__name__)

Reason = WarehouseHold.Reason
Release = WarehouseHold.Release
# Our handle and Shopify's reason, per reason of ours.
HANDLES = {
    Reason.ADDRESS_WINDOW: ("order-portal-address-window", "OTHER"),
    Reason.AWAITING_PAYMENT: ("order-portal-awaiting-payment", "AWAITING_PAYMENT"),
}


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
    if timezone.now() >= closing:
        return 0
    note = (
        "The customer may still correct the delivery address "
        f"until {closing:%Y-%m-%d %H:%M} UTC (order portal)."
    )
    return _hold(order, Reason.ADDRESS_WINDOW, note=note, until=closing)


def hold_for_payment(client: Client, order: Order) -> int:
    """The order owes the difference of an item change: the warehouse waits for the payment.
    Returns how many fulfilment orders are held for it (placed now or before)."""
    return _hold(
        order,
        Reason.AWAITING_PAYMENT,
        note="Waiting for the customer to pay the difference of an order change (order portal).",
        client=client,
    )


def _hold(
    order: Order,
    reason: str,
    *,
    note: str,
    until: datetime | None = None,
    client: Client | None = None,
) -> int:
    """Hold each fulfilment order the warehouse has not started, for `reason`, once: one we hold
    for it already is left as it is, and one Shopify shows held under our handle (a hold whose
    answer was lost) is recorded, not held again. Returns how many are held for `reason`."""
    handle, shopify_reason = HANDLES[reason]
    ours = set(
        order.warehouse_holds.filter(reason=reason, released_at=None).values_list(
            "fulfillment_order_gid", flat=True
        )
    )
    client = client or Client.for_shop(order.shop)
    state = calls.order_state(client, order.shopify_id)
    held = 0
    for fulfillment_order in state.holdable():
        if fulfillment_order.id in ours:
            held += 1
            continue
        hold = fulfillment_order.holds.get(handle)
        if hold is None:
            try:
                hold = calls.hold_fulfillment_order(
                    client, fulfillment_order.id, handle=handle, reason=shopify_reason, note=note
                )
            except UserErrors as refused:  # started meanwhile: not holdable any more
                logger.info("%s not held: %s", order.name, refused)
                continue
        try:
            with transaction.atomic():
                WarehouseHold.objects.create(
                    order=order,
                    reason=reason,
                    fulfillment_order_gid=fulfillment_order.id,
                    hold_gid=hold,
                    release_due_at=until,
                )
                order.log(events.HOLD_PLACED, actor=SYSTEM, reason=reason)
        except IntegrityError:
            pass  # a concurrent job recorded it first
        held += 1
    if held > len(ours):
        order.bump_revision()  # the order page says why the warehouse waits
    return held


def release(order_id: int, because: str, reason: str = Reason.ADDRESS_WINDOW) -> int:
    """Release the holds we placed on the order for `reason` (every reason when the order was
    cancelled); how many were released. A payment hold is also looked for in Shopify by our
    handle: one whose answer was lost, and so never recorded, is released too."""
    held = WarehouseHold.objects.filter(order_id=order_id, released_at=None)
    if because != Release.CANCELLED:
        held = held.filter(reason=reason)
    holds = list(held)
    order = Order.objects.select_related("shop").get(pk=order_id)
    if not order.shop.is_active:
        return 0
    client = Client.for_shop(order.shop)
    targets = [(hold.fulfillment_order_gid, hold.hold_gid) for hold in holds]
    if reason == Reason.AWAITING_PAYMENT and because != Release.CANCELLED:
        handle = HANDLES[reason][0]
        state = calls.order_state(client, order.shopify_id)
        targets += [
            (fo.id, fo.holds[handle])
            for fo in state.fulfillment_orders
            if handle in fo.holds and (fo.id, fo.holds[handle]) not in targets
        ]
    if not targets:
        return 0
    if because != Release.CANCELLED:  # Shopify closes a cancelled order's holds itself
        for fulfillment_order, hold_id in targets:
            try:
                calls.release_hold(client, fulfillment_order, hold_id)
            except UserErrors as refused:  # released in Shopify's admin meanwhile: done too
                logger.info("hold %s of %s: %s", hold_id, order.name, refused)
    for hold in holds:
        with transaction.atomic():
            released = WarehouseHold.objects.filter(pk=hold.pk, released_at=None).update(
                released_at=timezone.now(), released_because=because
            )
            if released:
                order.log(events.HOLD_RELEASED, actor=SYSTEM, because=because)
    order.bump_revision()
    return len(targets)


def release_due() -> int:
    """The scheduler's run (every minute): release the holds whose address window ended, and
    the payment holds nothing waits for any more (their release job lost with Redis or a
    worker). Returns how many orders."""
    window = WarehouseHold.objects.filter(
        reason=Reason.ADDRESS_WINDOW, release_due_at__lte=timezone.now()
    )
    waiting = (ChangeRequest.Status.AWAITING_PAYMENT, ChangeRequest.Status.QUEUED)
    still_owed = ChangeRequest.objects.filter(
        order=OuterRef("order"), kind="items", status__in=waiting
    )
    payment = WarehouseHold.objects.filter(reason=Reason.AWAITING_PAYMENT).filter(
        ~Exists(still_owed)
    )
    count = 0
    with transaction.atomic():
        for holds, because, reason, prefix in (
            (window, Release.WINDOW_ENDED, Reason.ADDRESS_WINDOW, "release"),
            (payment, Release.NO_LONGER_OWED, Reason.AWAITING_PAYMENT, "release-paid"),
        ):
            due = (
                holds.filter(released_at=None, order__shop__is_active=True)
                .values_list("order_id", flat=True)
                .distinct()
            )
            for order_id in due:
                queue.enqueue(
                    release,
                    order_id,
                    because,
                    reason,
                    queue="shopify",
                    job_id=f"{prefix}-{order_id}",
                )
                count += 1
    return count
