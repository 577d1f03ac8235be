"""Returns reaching Shopify, and Shopify's word coming back. Jobs take primary keys; running one
twice is harmless.

What Shopify still has to hear follows from two fields, not from a queue of messages: our status
and the status Shopify last confirmed (`next_step`). A push does the one step due, records
Shopify's answer, and looks again, so a cancellation that arrives while the request is on its way
is sent right after it. The sweeper (`actions.sweep_returns`) finds what a lost job left behind.

Shopify's `returnRequest` takes no exchange items; only `returnCreate` (which opens the return at
once) does. So a return waiting for an agent reaches Shopify as a request when it holds no
exchange, and a return with an exchange reaches Shopify when it is approved.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from returns import actions, catalogue, emails, rules
from returns.models import Resolution, ReturnPolicy, ReturnRequest, ShopifyStatus
from shopify import documents, queue
from shopify.client import Client, Permanent, Transient, UserErrors
from shopify.ingest import gid_number, order_gid

logger = logging.getLogger(__name__)

Status = ReturnRequest.Status

REQUEST, CREATE, APPROVE, DECLINE, CANCEL = "request", "create", "approve", "decline", "cancel"
UNDER_WAY = (Status.APPROVED, Status.IN_TRANSIT, Status.RECEIVED)
RECONCILE_AFTER = timedelta(hours=1)
LOCK_SPACE = 7_301  # advisory locks: (this, return id) while a return's state is followed
# Shopify's returns that hold items (declined and cancelled ones give them back).
HOLDING = {ShopifyStatus.REQUESTED, ShopifyStatus.OPEN, ShopifyStatus.CLOSED}


class ExchangeUnavailable(Exception):
    """The variant chosen for an exchange sold out before the return reached Shopify."""


def next_step(request: ReturnRequest) -> str | None:
    """What Shopify has to hear next about this return, if anything."""
    status, seen = request.status, request.shopify_status
    if not seen:
        if status == Status.REQUESTED:
            return None if request.has_exchange else REQUEST
        return CREATE if status in UNDER_WAY else None
    if seen == ShopifyStatus.REQUESTED:
        if status in UNDER_WAY:
            return APPROVE
        return {Status.DECLINED: DECLINE, Status.CANCELLED: CANCEL}.get(status)
    if seen == ShopifyStatus.OPEN and status == Status.CANCELLED:
        return CANCEL
    return None


def push_return(request_id: int, *, steps: int = 4) -> None:
    request = ReturnRequest.objects.select_related("order__shop").filter(pk=request_id).first()
    if request is None or request.sync_failure or next_step(request) is None:
        return
    if not request.order.shop.is_active:  # uninstalled: nothing more is sent
        actions.mark_sync_failed(request=request, code="refused", message="shop disconnected")
        return
    request = actions.begin_sync(request=request)
    if request is None:
        return
    client = Client.for_shop(request.order.shop)
    try:
        step = next_step(request)
        if step is not None:
            node = send(client, request, step)
            actions.record_shopify(request=request, node=node)
    except ExchangeUnavailable as gone:
        actions.mark_sync_failed(
            request=request,
            code="exchange_out_of_stock",
            message=f"{gone}: out of stock; offer another variant, store credit or a refund",
        )
        return
    except UserErrors as error:
        settle_refusal(client, request, error)
        return
    except Permanent as error:
        logger.warning("return %s refused by Shopify: %s", request.number, error)
        actions.mark_sync_failed(request=request, code="refused", message=str(error))
        return
    except Transient:
        if request.sync_attempts >= actions.MAX_ATTEMPTS:
            actions.mark_sync_failed(request=request, code="unavailable", message="")
            return
        actions.end_sync(request=request)
        raise  # RQ retries with backoff
    except Exception:
        actions.end_sync(request=request)
        raise
    actions.end_sync(request=request)
    if steps > 1:  # something else may have happened meanwhile (a cancellation)
        push_return(request_id, steps=steps - 1)


def send(client: Client, request: ReturnRequest, step: str) -> dict[str, Any]:
    """Do one step in Shopify; the return as Shopify answers it."""
    if step in (REQUEST, CREATE):
        return create(client, request, open_at_once=step == CREATE)
    ref = f"gid://shopify/Return/{request.shopify_return_id}"
    if step == APPROVE:
        result = client.mutate(
            documents.RETURN_APPROVE_REQUEST,
            {"input": {"id": ref, "notifyCustomer": False}},
            payload="returnApproveRequest",
        )
    elif step == DECLINE:
        result = client.mutate(
            documents.RETURN_DECLINE_REQUEST,
            {
                "input": {
                    "id": ref,
                    "declineReason": "OTHER",
                    "declineNote": request.decline_reason[:255] or None,
                    "notifyCustomer": False,  # we tell the shopper, in their language
                }
            },
            payload="returnDeclineRequest",
        )
    else:
        result = client.mutate(documents.RETURN_CANCEL, {"id": ref}, payload="returnCancel")
    return result["return"]


def create(client: Client, request: ReturnRequest, *, open_at_once: bool) -> dict[str, Any]:
    """`returnRequest` (REQUESTED) or `returnCreate` (OPEN, with exchange items). An earlier
    attempt whose answer was lost may have made it already: then that return is adopted."""
    order = request.order
    node = client.query(documents.RETURNABLE_ITEMS, {"id": order_gid(order.shopify_id)})["order"]
    if node is None:
        raise Permanent(f"{order.name} no longer exists in Shopify")
    lines = list(request.lines.select_related("line_item"))
    wanted = {line.line_item.shopify_id: line.quantity for line in lines}
    adopted = _made_by_lost_attempt(node, wanted)
    if adopted is not None:  # then the next step (approve) follows from its status
        return client.query(documents.RETURN_STATE, {"id": adopted})["return"]
    policy = ReturnPolicy.for_shop(order.shop)
    return_lines = _fulfillment_lines(node, lines, policy)
    fee = Decimal(request.quote.get("shipping_fee") or "0")
    shipping = {"amount": {"amount": str(fee), "currencyCode": order.currency}} if fee else None
    if not open_at_once:
        result = client.mutate(
            documents.RETURN_REQUEST,
            {
                "input": {
                    "orderId": order_gid(order.shopify_id),
                    "returnLineItems": [
                        {**item, "customerNote": note} for item, note in return_lines
                    ],
                    "returnShippingFee": shipping,
                }
            },
            payload="returnRequest",
        )
        return result["return"]
    exchanges = []
    for line in lines:
        if line.resolution != Resolution.EXCHANGE:
            continue
        try:
            in_stock = catalogue.still_in_stock(line.line_item, line.exchange_variant_id)
        except catalogue.Unavailable as error:
            raise Transient("product variants not read") from error
        if not in_stock:
            raise ExchangeUnavailable(line.exchange_variant_title)
        exchanges.append(
            {
                "variantId": f"gid://shopify/ProductVariant/{line.exchange_variant_id}",
                "quantity": line.quantity,
            }
        )
    result = client.mutate(
        documents.RETURN_CREATE,
        {
            "returnInput": {
                "orderId": order_gid(order.shopify_id),
                "returnLineItems": [
                    {**item, "returnReasonNote": note} for item, note in return_lines
                ],
                "exchangeLineItems": exchanges or None,
                "returnShippingFee": shipping,
            }
        },
        payload="returnCreate",
    )
    return result["return"]


def _fulfillment_lines(
    node: dict[str, Any], lines: list, policy: ReturnPolicy
) -> list[tuple[dict[str, Any], str]]:
    """Our lines as Shopify's returned items: each order line's quantity taken from the parcels
    it travelled in, less what Shopify's open returns already hold of each parcel."""
    shopify_reasons = {r.code: r.shopify_reason for r in rules.reasons(policy, "en")}
    held: dict[str, int] = {}
    for ret in _returns(node):
        if ret["status"] in HOLDING:
            for key, quantity in _returned(ret):
                held[key] = held.get(key, 0) + quantity
    parcels: dict[int, list[tuple[str, int]]] = {}
    for fulfillment, part in _parcel_lines(node):
        if fulfillment.get("status") != "SUCCESS":
            continue
        line_id = gid_number(part["lineItem"]["id"])
        free = part["quantity"] - held.get(part["id"], 0)
        if line_id and free > 0:
            parcels.setdefault(line_id, []).append((part["id"], free))
    items = []
    for line in lines:
        wanted = line.quantity
        waived = line.resolution == Resolution.EXCHANGE and policy.fees_waived_for_exchanges
        note = " · ".join(
            part for part in (_wanted_instead(line), line.reason_label, line.comment) if part
        )
        for fulfillment_line_id, free in parcels.get(line.line_item.shopify_id, []):
            take = min(free, wanted)
            if not take:
                break
            item: dict[str, Any] = {
                "fulfillmentLineItemId": fulfillment_line_id,
                "quantity": take,
                "returnReason": shopify_reasons.get(line.reason_code, "OTHER"),
            }
            if policy.restocking_fee_percent and not waived:
                item["restockingFee"] = {"percentage": float(policy.restocking_fee_percent)}
            items.append((item, note[:300]))
            wanted -= take
        if wanted:
            raise Permanent(f"{line.line_item.title}: Shopify holds fewer returnable items")
    return items


def _wanted_instead(line: Any) -> str:
    """What the shopper chose, for whoever processes the return in Shopify's admin (which
    refunds to the original payment unless told otherwise)."""
    if line.resolution == Resolution.EXCHANGE:
        return f"Exchange for {line.exchange_variant_title}"
    if line.resolution == Resolution.STORE_CREDIT:
        credit = line.request.quote.get("credit")
        return f"Store credit ({credit} {line.request.order.currency} for the return)"
    return "Refund to the original payment"


def _made_by_lost_attempt(node: dict[str, Any], wanted: dict[int, int]) -> str | None:
    """A return in Shopify that none of ours knows, with exactly our items, still requested or
    open: the one an earlier attempt made (its answer lost, then perhaps an agent's retry)."""
    line_of = {part["id"]: gid_number(part["lineItem"]["id"]) for _f, part in _parcel_lines(node)}
    known = set(
        ReturnRequest.objects.filter(
            shopify_return_id__in=[gid_number(ret["id"]) for ret in _returns(node)]
        ).values_list("shopify_return_id", flat=True)
    )
    for ret in _returns(node):
        if ret["status"] not in (ShopifyStatus.REQUESTED, ShopifyStatus.OPEN):
            continue
        if gid_number(ret["id"]) in known:
            continue
        items: dict[int, int] = {}
        for key, quantity in _returned(ret):
            line_id = line_of.get(key)
            if line_id:
                items[line_id] = items.get(line_id, 0) + quantity
        if items == wanted:
            return ret["id"]
    return None


# Reading `documents.RETURNABLE_ITEMS`' answer.


def _returns(node: dict[str, Any]) -> list[dict[str, Any]]:
    return (node.get("returns") or {}).get("nodes") or []


def _returned(ret: dict[str, Any]) -> Iterator[tuple[str, int]]:
    """(fulfillment line item gid, quantity) of each item in a Shopify return."""
    for item in (ret.get("returnLineItems") or {}).get("nodes") or []:
        key = (item.get("fulfillmentLineItem") or {}).get("id")
        if key:
            yield key, item["quantity"]


def _parcel_lines(node: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(fulfillment, fulfillment line item) of every parcel of the order."""
    for fulfillment in node.get("fulfillments") or []:
        for part in (fulfillment.get("fulfillmentLineItems") or {}).get("nodes") or []:
            yield fulfillment, part


def settle_refusal(client: Client, request: ReturnRequest, error: UserErrors) -> None:
    """Shopify refused the step. When the return moved on in Shopify meanwhile (INVALID_STATE:
    processed before the shopper's cancellation reached it), ours follows Shopify; either way
    an agent sees why."""
    message = "; ".join(e.message for e in error.errors)
    if any(e.code == "INVALID_STATE" for e in error.errors) and request.shopify_return_id:
        try:
            node = client.query(
                documents.RETURN_STATE, {"id": f"gid://shopify/Return/{request.shopify_return_id}"}
            )["return"]
        except (Permanent, Transient, UserErrors):
            node = None
        if node is not None:
            actions.correct_from_shopify(
                request=request,
                shopify_status=node["status"],
                processed=fully_processed(node),
                message=message,
            )
            return
    code = next((e.code for e in error.errors if e.code), "rejected")
    actions.mark_sync_failed(request=request, code=code.lower(), message=message)


def fully_processed(node: dict[str, Any]) -> bool:
    items = ((node.get("returnLineItems") or {}).get("nodes")) or []
    return bool(items) and all(i.get("processedQuantity", 0) >= i["quantity"] for i in items)


def refresh_return(shop_id: int, return_id: int) -> None:
    """A returns/* webhook: read the return as Shopify has it now, and follow it. Webhooks may
    come late, twice or out of order; reading the state makes that harmless."""
    request = (
        ReturnRequest.objects.select_related("order__shop")
        .filter(order__shop_id=shop_id, shopify_return_id=return_id)
        .first()
    )
    if request is None or not request.order.shop.is_active:
        return  # a return made in Shopify's admin, not through the portal
    with transaction.atomic():
        # One read-and-follow at a time per return: two deliveries (approve, then close) read
        # on two workers must not be applied in the wrong order.
        one_at_a_time(return_id)
        node = Client.for_shop(request.order.shop).query(
            documents.RETURN_STATE, {"id": f"gid://shopify/Return/{return_id}"}
        )["return"]
        if node is None:
            return
        actions.follow_shopify(
            request=request,
            shopify_status=node["status"],
            processed=fully_processed(node),
            decline_note=((node.get("decline") or {}).get("note") or ""),
        )


def one_at_a_time(return_id: int) -> None:
    """A PostgreSQL advisory lock for this return, until the transaction ends (SQLite, the
    demo's database, runs one writer at a time anyway)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_SPACE, return_id % 2**31])


def reconcile_returns(*, older_than: timedelta = RECONCILE_AFTER) -> int:
    """Shopify's returns/* webhooks can be lost, and a return never moves its order's
    `updatedAt`, so the orders' reconciliation cannot see it: read again, now and then, every
    return Shopify still has open. Returns how many were sent to be read."""
    stale = ReturnRequest.objects.filter(
        shopify_status__in=[ShopifyStatus.REQUESTED, ShopifyStatus.OPEN],
        updated_at__lt=timezone.now() - older_than,
        order__shop__is_active=True,
    ).values_list("order__shop_id", "shopify_return_id")
    count = 0
    for shop_id, return_id in stale.iterator(chunk_size=500):
        queue.enqueue(refresh_return, shop_id, return_id, queue="shopify")
        count += 1
    return count


def send_return_email(request_id: int, event: str) -> None:
    request = ReturnRequest.objects.select_related("order__shop").filter(pk=request_id).first()
    if request is not None:
        emails.send_return_email(request, event)
