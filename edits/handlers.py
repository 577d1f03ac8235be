"""What Shopify tells us that changes waiting requests: when an order moves on (packed, shipped,
cancelled in Shopify's admin) while a change waits for an agent, the change can no longer be
made, and the shopper should hear so now rather than after an agent's approval fails."""

from __future__ import annotations

from edits import actions, rules
from edits.models import ChangeRequest, EditPolicy
from orders.models import Order
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
    payload = delivery.payload
    order_id = payload.get("order_id") or payload.get("id")
    if order_id is None:
        return
    waiting = ChangeRequest.objects.filter(
        order__shop=delivery.shop,
        order__shopify_id=_order_id(payload, order_id),
        status=ChangeRequest.Status.AWAITING_APPROVAL,
    ).select_related("order__shop")
    for request in waiting:
        order = Order.objects.get(pk=request.order_id)
        policy = EditPolicy.for_shop(order.shop)
        refusal = rules.progress_refusal(request.kind, policy, rules.Progress.of(order))
        if refusal is not None:
            # The reason is kept as a code, so that the shopper reads it in their language.
            actions.reject(request=request, actor="system", code=f"conflict:{refusal.code}")


def _order_id(payload: dict, fallback: int) -> int:
    gid = payload.get("admin_graphql_api_id") if "order_id" not in payload else None
    if isinstance(gid, str) and gid.rsplit("/", 1)[-1].isdigit():
        return int(gid.rsplit("/", 1)[-1])
    return int(fallback)
