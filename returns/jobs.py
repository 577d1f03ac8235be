"""Returns reaching Shopify through the outbox (`shopify.outbox`, channel "returns.return"), and
Shopify's word coming back. Jobs take primary keys; running one twice is harmless.

What Shopify still has to hear follows from two fields, not from a queue of messages: our status
and the status Shopify last confirmed (`ReturnRequest.shopify_step`). One delivery does the step
due and records Shopify's answer; the outbox then looks again, so a cancellation that arrives
while the request is on its way is sent right after it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from returns import actions, rules
from returns.models import (
    Resolution,
    ReturnLine,
    ReturnPolicy,
    ReturnRequest,
    ShopifyStatus,
    Step,
)
from shopify import calls, catalogue, outbox, queue, refusals
from shopify.client import Client, Permanent, Transient

logger = logging.getLogger(__name__)

RECONCILE_AFTER = timedelta(hours=1)
LOCK_SPACE = 7_301  # advisory locks: (this, return id) while a return's state is followed


def deliver(client: Client, request: ReturnRequest) -> None:
    """Do the one step due in Shopify, and record Shopify's answer."""
    step = request.shopify_step
    if step is None:
        return
    if step == Step.ADOPT:
        found = lost_attempt(client, request)
        if found is None:  # it never reached Shopify: nothing to tell it
            actions.nothing_in_shopify(request=request)
            return
    elif step in (Step.REQUEST, Step.CREATE):
        found = create(client, request, open_at_once=step == Step.CREATE)
    elif step == Step.APPROVE:
        found = calls.approve_return(client, request.shopify_return_id)
    elif step == Step.DECLINE:
        found = calls.decline_return(client, request.shopify_return_id, note=request.decline_reason)
    else:
        found = calls.cancel_return(client, request.shopify_return_id)
    actions.record_shopify(request=request, found=found)


def refused(client: Client, request: ReturnRequest, refusal: refusals.Refusal) -> bool:
    """Shopify refused the step because the return moved on there (INVALID_STATE: processed
    before the shopper's cancellation reached it): ours follows Shopify, and an agent sees why."""
    if refusal.code != refusals.INVALID_STATE or not request.shopify_return_id:
        return False
    found = calls.return_state(client, request.shopify_return_id)
    if found is None:
        return False
    actions.correct_from_shopify(
        request=request,
        shopify_status=found.status,
        processed=found.processed,
        message=refusal.detail,
    )
    return True


CHANNEL = outbox.register(
    outbox.Channel(
        name="returns.return",
        model=ReturnRequest,
        deliver=deliver,
        fail=actions.mark_failed,
        still_due=lambda request: request.shopify_step is not None,
        refused=refused,
    )
)


def create(client: Client, request: ReturnRequest, *, open_at_once: bool) -> calls.Return:
    """`returnRequest` (REQUESTED) or `returnCreate` (OPEN, with exchange items). An earlier
    attempt whose answer was lost may have made it already: then that return is adopted."""
    order = request.order
    items = calls.returnable_items(client, order.shopify_id)
    lines = list(request.lines.select_related("line_item"))
    adopted = made_by_lost_attempt(items, _wanted(lines))
    if adopted is not None:  # then the next step (approve) follows from its status
        return adopted
    policy = ReturnPolicy.for_shop(order.shop)
    returned = returned_items(items, lines, policy)
    fee = Decimal(request.quote.get("shipping_fee") or "0")
    shipping = calls.Money(fee, order.currency) if fee else None
    if not open_at_once:
        return calls.request_return(client, order.shopify_id, returned, shipping_fee=shipping)
    exchanges = []
    for line in lines:
        if line.resolution != Resolution.EXCHANGE:
            continue
        try:
            in_stock = catalogue.still_in_stock(line.line_item, line.exchange_variant_id)
        except catalogue.Unavailable as error:
            raise Transient("product variants not read") from error
        if not in_stock:
            # Sold out before the return reached Shopify: an agent offers another variant,
            # store credit or a refund.
            raise outbox.Conflict("exchange_out_of_stock")
        exchanges.append(calls.Exchange(line.exchange_variant_id, line.quantity))
    return calls.create_return(
        client, order.shopify_id, returned, exchanges=exchanges, shipping_fee=shipping
    )


def lost_attempt(client: Client, request: ReturnRequest) -> calls.Return | None:
    items = calls.returnable_items(client, request.order.shopify_id)
    return made_by_lost_attempt(items, _wanted(request.lines.select_related("line_item")))


def _wanted(lines: Iterable[ReturnLine]) -> dict[int, int]:
    """Order line id -> quantity, of our return."""
    return {line.line_item.shopify_id: line.quantity for line in lines}


def returned_items(
    items: calls.ReturnableItems, lines: list[ReturnLine], policy: ReturnPolicy
) -> list[calls.ReturnItem]:
    """Our lines as Shopify's returned items: each order line's quantity taken from the parcels
    it travelled in, less what Shopify's returns already hold of each parcel."""
    shopify_reasons = {r.code: r.shopify_reason for r in rules.reasons(policy, "en")}
    free = items.free()
    returned = []
    for line in lines:
        wanted = line.quantity
        waived = line.resolution == Resolution.EXCHANGE and policy.fees_waived_for_exchanges
        note = " · ".join(
            part for part in (_wanted_instead(line), line.reason_label, line.comment) if part
        )
        for parcel_line, left in free.get(line.line_item.shopify_id, []):
            take = min(left, wanted)
            if not take:
                break
            returned.append(
                calls.ReturnItem(
                    parcel_line=parcel_line,
                    quantity=take,
                    reason=shopify_reasons.get(line.reason_code, "OTHER"),
                    note=note,
                    restocking_fee_percent=None if waived else policy.restocking_fee_percent,
                )
            )
            wanted -= take
        if wanted:
            raise Permanent(f"{line.line_item.title}: Shopify holds fewer returnable items")
    return returned


def _wanted_instead(line: ReturnLine) -> str:
    """What the shopper chose, for whoever processes the return in Shopify's admin (which
    refunds to the original payment unless told otherwise)."""
    if line.resolution == Resolution.EXCHANGE:
        return f"Exchange for {line.exchange_variant_title}"
    if line.resolution == Resolution.STORE_CREDIT:
        credit = line.request.quote.get("credit")
        return f"Store credit ({credit} {line.request.order.currency} for the return)"
    return "Refund to the original payment"


def made_by_lost_attempt(
    items: calls.ReturnableItems, wanted: dict[int, int]
) -> calls.Return | None:
    """A return in Shopify that none of ours knows, with exactly our items, still requested or
    open: the one an earlier attempt made (its answer lost, then perhaps an agent's retry)."""
    known = set(
        ReturnRequest.objects.filter(
            shopify_return_id__in=[ret.id for ret in items.returns]
        ).values_list("shopify_return_id", flat=True)
    )
    for ret in items.returns:
        if ret.status not in (ShopifyStatus.REQUESTED, ShopifyStatus.OPEN) or ret.id in known:
            continue
        if items.items_of(ret) == wanted:
            return ret
    return None


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
        found = calls.return_state(Client.for_shop(request.order.shop), return_id)
        if found is None:
            return
        actions.follow_shopify(
            request=request,
            shopify_status=found.status,
            processed=found.processed,
            decline_note=found.decline_note,
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
