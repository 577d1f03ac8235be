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

from edits import actions, holds, kinds
from edits.models import ChangeRequest, EditPolicy, WarehouseHold
from edits.rules import Progress
from orders.models import Order
from shopify import calls, outbox, queue, refusals, sync
from shopify.calls import OrderState
from shopify.client import Client, Permanent, ShopifyError, Transient, UserErrors

logger = logging.getLogger(__name__)


def deliver(client: Client, request: ChangeRequest) -> None:
    kind = kinds.get(request.kind)
    order = request.order
    policy = EditPolicy.for_shop(order.shop)
    state = calls.order_state(client, order.shopify_id)
    if done_already(client, request, state):
        return
    if not kind.still_as_seen(request, state):
        raise outbox.Conflict("changed_meanwhile")
    conflict = kind.progress_refusal(policy, Progress.of_state(state))
    if conflict is not None:
        raise outbox.Conflict(conflict.code)
    kind.send(client, request)
    settle(client, request, policy)


def done_already(
    client: Client, request: ChangeRequest, state: OrderState, *, refusal: str = ""
) -> bool:
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
    state = calls.order_state(client, request.order.shopify_id)
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
    actions.mark_applied(request=request)
    if policy.applied_tags:
        try:
            calls.add_tags(client, order.shopify_id, policy.applied_tags)
        except (Permanent, Transient, UserErrors) as error:
            # The change itself is in Shopify already: the merchant's marker tags are not worth
            # undoing it for.
            logger.warning("tags for %s not added: %s", order.name, error)
    if not kind.releases_hold or not order.warehouse_holds.filter(released_at=None):
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
