"""Order changes reaching Shopify, through the outbox (`shopify.outbox`, channel "edits.change"):
one attempt is `deliver`; the lease, the retries and the failures are the outbox's.

Before writing, an attempt asks Shopify how far fulfilment has gone *now*: the mirror may be a
few seconds behind, and a parcel packed meanwhile must not lose its address without anyone
noticing. If the order moved past what the policy allows, or the merchant edited what the shopper
changes, nothing is written and the change fails as a conflict. An attempt after one whose answer
was lost (a timeout, a 5xx) first looks whether Shopify already has the change.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from edits import actions, holds, kinds
from edits.models import ChangeRequest, EditPolicy, WarehouseHold
from edits.rules import Progress
from orders.models import Order
from shopify import calls, outbox, queue, refusals, sync
from shopify.client import Client, Permanent, ShopifyError, Transient, UserErrors

logger = logging.getLogger(__name__)


def deliver(client: Client, request: ChangeRequest) -> None:
    kind = kinds.get(request.kind)
    order = request.order
    policy = EditPolicy.for_shop(order.shop)
    state = kind.state(client, request)
    if done_already(client, request, state):
        return
    refusal = kind.progress_refusal(policy, Progress.of_state(state))
    if refusal is not None:
        raise outbox.Conflict(refusal.code)
    conflict = kind.conflict(request, state)
    if conflict:
        raise outbox.Conflict(conflict)
    kind.send(client, request, state)
    settle(client, request, policy)


def done_already(client: Client, request: ChangeRequest, state: Any, *, refusal: str = "") -> bool:
    """Is what the shopper asked already so in Shopify? Made by an earlier attempt of ours whose
    answer was lost (then it is applied), or by the shop itself (a cancellation the merchant
    made first: done by the shop, with Shopify's `refusal` for agents)."""
    kind = kinds.get(request.kind)
    if kind.already_done(request, state):
        settle(client, request, EditPolicy.for_shop(request.order.shop))
        return True
    if kind.done_by_shop(Progress.of_state(state)):
        actions.mark_done_by_shop(request=request, result=kind.shop_result(state), detail=refusal)
        return True
    return False


def refused(client: Client, request: ChangeRequest, refusal: refusals.Refusal) -> bool:
    """Shopify refused because it is done already (the shop cancelled between our look and our
    write): read the order again to say by whom. Any other refusal fails the request."""
    if not kinds.get(request.kind).refusal_says_done(refusal):
        return False
    state = kinds.get(request.kind).state(client, request)
    return done_already(client, request, state, refusal=refusal.detail)


CHANNEL = outbox.register(
    outbox.Channel(
        name="edits.change",
        model=ChangeRequest,
        deliver=deliver,
        fail=actions.mark_failed,
        refused=refused,
    )
)


def settle(client: Client, request: ChangeRequest, policy: EditPolicy) -> None:
    """Shopify accepted the change: bring the mirror up to it, mark it applied, tag the order,
    and let the warehouse go on."""
    kind = kinds.get(request.kind)
    order = request.order
    if kind.reread_after():
        try:
            sync.refresh_order(order.shop, order.shopify_id, client=client)
        except ShopifyError as error:  # the orders/updated webhook brings it a little later
            logger.info("%s not re-read after its change: %s", order.name, error)
    request = actions.mark_applied(request=request, result=kind.settle_money(client, request))
    if request.status == ChangeRequest.Status.AWAITING_PAYMENT:  # paid already, perhaps
        queue.enqueue(check_payment, order.pk, queue="shopify", job_id=f"payment-{order.pk}")
    if policy.applied_tags:
        try:
            calls.add_tags(client, order.shopify_id, policy.applied_tags)
        except (Permanent, Transient, UserErrors) as error:
            # The change itself is in Shopify already: the merchant's marker tags are not worth
            # undoing it for.
            logger.warning("tags for %s not added: %s", order.name, error)
    held = order.warehouse_holds.filter(released_at=None)
    if not kind.cancels_order:
        held = held.filter(reason=WarehouseHold.Reason.ADDRESS_WINDOW)
    if not kind.releases_hold or not held.exists():
        return
    because = (
        WarehouseHold.Release.CANCELLED
        if kind.cancels_order  # Shopify closes the fulfilment orders, holds and all
        else WarehouseHold.Release.CHANGE_APPLIED
    )
    queue.enqueue(holds.release, order.pk, because, queue="shopify", job_id=f"release-{order.pk}")


def recheck_waiting(order_id: int) -> None:
    """Requests waiting for an agent on an order Shopify says changed: re-read the order and
    settle those the warehouse (or the shop) has overtaken."""
    order = Order.objects.select_related("shop").filter(pk=order_id, shop__is_active=True).first()
    waiting = ChangeRequest.Status.AWAITING_APPROVAL
    if order is None or not order.change_requests.filter(status=waiting).exists():
        return
    sync.refresh_order(order.shop, order.shopify_id)
    order = Order.objects.get(pk=order_id)
    progress = Progress.of(order)
    for request in order.change_requests.filter(status=waiting):
        actions.recheck(request=request, progress=progress)


def check_payment(order_id: int) -> None:
    """An order whose item change waits for the difference: has Shopify been paid since? Then
    the warehouse may go on. Owing nothing without a payment (the order cancelled, or changed by
    the shop) closes the wait without thanks. Past the policy's time, an agent takes it."""
    order = Order.objects.select_related("shop").filter(pk=order_id, shop__is_active=True).first()
    waiting = ChangeRequest.Status.AWAITING_PAYMENT
    if order is None or not order.change_requests.filter(status=waiting).exists():
        return
    state = calls.editable_order(Client.for_shop(order.shop), order.shopify_id)
    for request in order.change_requests.filter(status=waiting):
        received_before = Decimal(request.shopify_result.get("received_before") or "0")
        if state.cancelled:  # nothing is owed of a cancelled order; Shopify closed its holds
            actions.mark_payment_closed(request=request, because="order_cancelled")
        elif state.outstanding.amount <= 0 and state.received.amount > received_before:
            actions.mark_paid(request=request)
        elif state.outstanding.amount <= 0:
            actions.mark_payment_closed(request=request, because="no_longer_owed")
        elif timezone.now() >= datetime.fromisoformat(request.shopify_result["pay_by"]):
            actions.mark_payment_overdue(request=request)


def payments_due() -> int:
    """The scheduler's run (hourly): look again at every change still waiting for its payment,
    in case a webhook was lost, and hand the overdue ones to agents. Returns how many."""
    orders = (
        ChangeRequest.objects.filter(
            status=ChangeRequest.Status.AWAITING_PAYMENT, order__shop__is_active=True
        )
        .values_list("order_id", flat=True)
        .distinct()
    )
    count = 0
    with transaction.atomic():
        for order_id in orders:
            queue.enqueue(check_payment, order_id, queue="shopify", job_id=f"payment-{order_id}")
            count += 1
    return count
