"""Sending order changes to Shopify, and telling the shopper. Jobs take primary keys; running
one twice is harmless (`actions.begin_attempt` returns None once the request has settled).

Before writing, the job asks Shopify how far fulfilment has gone *now*: the mirror may be a few
seconds behind, and a parcel packed meanwhile must not be sent to the old address's
replacement without anyone noticing. If the order moved past what the policy allows, the request
fails as a conflict and nothing is written to Shopify.
"""

from __future__ import annotations

import logging
from typing import Any

from edits import actions, emails, holds, rules
from edits.forms import AddressForm, ContactForm
from edits.models import ChangeRequest, EditPolicy, Kind, WarehouseHold
from orders.addresses import ADDRESS_FIELDS
from orders.models import Order
from shopify import documents, queue, sync
from shopify.client import Client, Permanent, ShopifyError, Transient, UserErrors
from shopify.ingest import order_gid

logger = logging.getLogger(__name__)

SHIPPED_STATUSES = {"SUCCESS"}
PREPARING_STATUSES = {"PENDING", "OPEN"}


def gid(order: Order) -> str:
    return order_gid(order.shopify_id)


def push_change(request_id: int) -> None:
    request = ChangeRequest.objects.select_related("order__shop").filter(pk=request_id).first()
    request = request and actions.begin_attempt(request=request)
    if request is None:
        return
    order = request.order
    if not order.shop.is_active:  # the merchant uninstalled the app: nothing more is sent
        actions.mark_failed(request=request, code="refused", message="the shop is disconnected")
        return
    policy = EditPolicy.for_shop(order.shop)
    client = Client.for_shop(order.shop)
    try:
        node = current_state(client, order)
        progress = progress_of(node)
        if request.attempts > 1 and already_done(request, node, progress):
            # An earlier attempt's mutation ran, but its answer was lost (a timeout, a 5xx).
            settle(client, request, policy)
            return
        if not still_as_seen(request, node):
            # The merchant edited the order in Shopify since: the shopper's change would
            # silently undo theirs.
            refusal = rules.refusal("changed_meanwhile")
            actions.mark_failed(
                request=request, code=f"conflict:{refusal.code}", message=str(refusal.message)
            )
            return
        conflict = rules.progress_refusal(request.kind, policy, progress)
        if conflict is not None:
            actions.mark_failed(
                request=request, code=f"conflict:{conflict.code}", message=str(conflict.message)
            )
            return
        send(client, request)
    except UserErrors as error:
        actions.mark_failed(
            request=request,
            code="rejected",
            message="; ".join(e.message for e in error.errors),
            field_errors=_by_field(error),
        )
        return
    except Permanent as error:
        logger.warning("change %s refused by Shopify: %s", request.pk, error)
        actions.mark_failed(request=request, code="refused", message=str(error))
        return
    except Transient:
        if request.attempts >= actions.MAX_ATTEMPTS:
            actions.mark_failed(request=request, code="unavailable", message="")
            return
        actions.end_attempt(request=request)
        raise  # RQ retries with backoff
    except Exception:
        actions.end_attempt(request=request)
        raise
    settle(client, request, policy)


def settle(client: Client, request: ChangeRequest, policy: EditPolicy) -> None:
    """Shopify accepted the change: bring the mirror up to it (the page shows the new address
    at once, not when the webhook comes), mark it applied, tag the order, and let the
    warehouse go on."""
    order = request.order
    if request.kind != Kind.CANCEL:
        try:
            sync.refresh_order(order.shop, order.shopify_id, client=client)
        except ShopifyError as error:  # the orders/updated webhook brings it a little later
            logger.info("%s not re-read after its change: %s", order.name, error)
    actions.mark_applied(request=request)
    add_tags(client, order, policy)
    if request.kind == Kind.CONTACT or not order.warehouse_holds.filter(released_at=None):
        return
    because = (
        WarehouseHold.Release.CANCELLED
        if request.kind == Kind.CANCEL  # Shopify closes the fulfilment orders, holds and all
        else WarehouseHold.Release.CHANGE_APPLIED
    )
    queue.enqueue(holds.release, order.pk, because, queue="shopify", job_id=f"release-{order.pk}")


def current_state(client: Client, order: Order) -> dict[str, Any]:
    """The order as Shopify has it now (`documents.ORDER_STATE`)."""
    node = client.query(documents.ORDER_STATE, {"id": gid(order)}).get("order")
    if node is None:
        raise Permanent(f"{order.name} no longer exists in Shopify")
    return node


def progress_of(node: dict[str, Any]) -> rules.Progress:
    """How far fulfilment has gone, from Shopify's answer."""
    fulfillment_orders = (node.get("fulfillmentOrders") or {}).get("nodes") or []
    fulfillments = node.get("fulfillments") or []
    shipped = [f for f in fulfillments if f.get("status") in SHIPPED_STATUSES]
    return rules.Progress(
        cancelled=bool(node.get("cancelledAt")),
        warehouse_started=any(
            fo["status"] in ("IN_PROGRESS", "CLOSED") for fo in fulfillment_orders
        )
        or any(f.get("status") in PREPARING_STATUSES | SHIPPED_STATUSES for f in fulfillments),
        shipped=bool(shipped),
        delivered=bool(shipped)
        and node.get("displayFulfillmentStatus") == "FULFILLED"
        and all(f.get("deliveredAt") for f in shipped),
    )


# What identifies an address, compared loosely (case and spaces).
ADDRESS_IDENTITY = (
    "first_name",
    "last_name",
    "address1",
    "address2",
    "city",
    "zip",
    "country_code",
)


def _loose(value: Any) -> str:
    return " ".join(str(value or "").split()).casefold()


def _shopify_side(kind: str, node: dict[str, Any]) -> dict[str, str]:
    if kind == Kind.ADDRESS:
        address = node.get("shippingAddress") or {}
        names = dict(ADDRESS_FIELDS)
        return {key: _loose(address.get(names[key])) for key in ADDRESS_IDENTITY}
    return {"email": _loose(node.get("email")), "phone": _loose(node.get("phone"))}


def _our_side(kind: str, values: dict[str, Any]) -> dict[str, str]:
    keys = ADDRESS_IDENTITY if kind == Kind.ADDRESS else ("email", "phone")
    return {key: _loose(values.get(key)) for key in keys}


def still_as_seen(request: ChangeRequest, node: dict[str, Any]) -> bool:
    """Is what the shopper changes still what they saw when they asked?"""
    if request.kind == Kind.CANCEL:
        return True
    return _shopify_side(request.kind, node) == _our_side(request.kind, request.before)


def already_done(request: ChangeRequest, node: dict[str, Any], progress: rules.Progress) -> bool:
    """Does Shopify already show this change (made by an attempt whose answer was lost)?"""
    if request.kind == Kind.CANCEL:
        return progress.cancelled
    return _shopify_side(request.kind, node) == _our_side(request.kind, request.after)


def send(client: Client, request: ChangeRequest) -> None:
    order = request.order
    after = request.after
    if request.kind == Kind.ADDRESS:
        client.mutate(
            documents.ORDER_UPDATE,
            {"input": {"id": gid(order), "shippingAddress": mailing_address(after)}},
            payload="orderUpdate",
        )
    elif request.kind == Kind.CONTACT:
        client.mutate(
            documents.ORDER_UPDATE,
            {
                "input": {
                    "id": gid(order),
                    # Only what changed, and nothing blank: an empty phone would erase it.
                    **{
                        field: after[field] or None
                        for field in ("email", "phone")
                        if after.get(field) != request.before.get(field)
                    },
                }
            },
            payload="orderUpdate",
        )
    else:
        client.mutate(
            documents.ORDER_CANCEL,
            {
                "orderId": gid(order),
                "reason": "CUSTOMER",
                "restock": after["restock"],
                "refundMethod": {"originalPaymentMethodsRefund": after["refund"]},
                "notifyCustomer": after["notify"],
                "staffNote": (after.get("staff_note") or "")[:255] or None,
            },
            payload="orderCancel",
        )


def mailing_address(address: dict[str, Any]) -> dict[str, Any]:
    """Our REST-shaped address -> Shopify's MailingAddressInput (which names the country's code
    `countryCode`, where the address it reads back says `countryCodeV2`). The country follows
    its code, and the province its code where there is one."""
    fields = {
        ("countryCode" if name == "countryCodeV2" else name): address.get(key) or None
        for key, name in ADDRESS_FIELDS
        if key not in ("country", "province")
    }
    if not fields["provinceCode"] and address.get("province"):
        fields["province"] = address["province"]
    return fields


def add_tags(client: Client, order: Order, policy: EditPolicy) -> None:
    """The merchant's marker tags. The change itself is in Shopify already: a failure here is
    logged for agents and does not undo it."""
    if not policy.applied_tags:
        return
    try:
        client.mutate(
            documents.TAGS_ADD, {"id": gid(order), "tags": policy.applied_tags}, payload="tagsAdd"
        )
    except (Permanent, Transient, UserErrors) as error:
        logger.warning("tags for %s not added: %s", order.name, error)


def _by_field(error: UserErrors) -> dict[str, list[str]]:
    """Shopify's userErrors by our form's field names; the rest under "__all__"."""
    known = {**AddressForm.SHOPIFY_FIELDS, **ContactForm.SHOPIFY_FIELDS}
    fields: dict[str, list[str]] = {}
    for user_error in error.errors:
        name = known.get(user_error.field[-1] if user_error.field else "") or "__all__"
        fields.setdefault(name, []).append(user_error.message)
    return fields


def recheck_waiting(order_id: int) -> None:
    """Requests waiting for an agent on an order Shopify says changed: re-read the order and
    reject, in the shopper's language, those the warehouse has overtaken."""
    order = Order.objects.select_related("shop").filter(pk=order_id, shop__is_active=True).first()
    if (
        order is None
        or not order.change_requests.filter(status=ChangeRequest.Status.AWAITING_APPROVAL).exists()
    ):
        return
    sync.refresh_order(order.shop, order.shopify_id)
    order = Order.objects.get(pk=order_id)
    policy = EditPolicy.for_shop(order.shop)
    progress = rules.Progress.of(order)
    for request in order.change_requests.filter(status=ChangeRequest.Status.AWAITING_APPROVAL):
        refusal = rules.progress_refusal(request.kind, policy, progress)
        if refusal is not None:
            # Kept as a code, so that the shopper reads it in their own language.
            actions.reject(request=request, actor="system", code=f"conflict:{refusal.code}")


def send_change_email(request_id: int, event: str) -> None:
    request = ChangeRequest.objects.select_related("order__shop").filter(pk=request_id).first()
    if request is not None:
        emails.send_change_email(request, event)
