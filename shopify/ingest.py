"""Shopify's facts -> the order mirror, through one mapping.

Webhooks bring REST-shaped JSON; the Admin API (backfill, reconciliation) brings GraphQL results.
Both are first read into the same plain facts (`OrderFacts`, ...), and only `apply_order` writes
them, so the two paths cannot disagree about what a field means.

Invariants of every write here:
- an older payload never overwrites newer data: Shopify's `updated_at` decides;
- writing the same facts twice changes nothing (deliveries are at least once);
- whatever changes what a shopper sees bumps the order's revision, so its cached page renews.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.dateparse import parse_datetime

from orders import models as mirror
from orders.actors import SHOPIFY
from orders.addresses import ADDRESS_FIELDS, ADDRESS_KEYS
from orders.models import (
    Fulfillment,
    FulfillmentLine,
    FulfillmentOrder,
    LineItem,
    Order,
    Shop,
    TrackingEvent,
)

SHIPMENT_STATUSES = set(Fulfillment.ShipmentStatus.values)


def shopify_id(payload: dict[str, Any], key: str = "id") -> int:
    """The numeric id, from the GraphQL gid when there is one: Shopify's own documentation
    samples carry REST ids rounded to 53 bits, the gid is exact."""
    gid = payload.get("admin_graphql_api_id") if key == "id" else None
    if isinstance(gid, str) and gid.rsplit("/", 1)[-1].isdigit():
        return int(gid.rsplit("/", 1)[-1])
    return int(payload[key])


def subject_id(payload: dict[str, Any]) -> int | None:
    """The id of what a webhook is about, or None when it names nothing (Shopify documents an
    empty returns/process body)."""
    gid = payload.get("admin_graphql_api_id")
    number = gid_number(gid) if isinstance(gid, str) else None
    if number is None and isinstance(payload.get("id"), int):
        number = payload["id"]
    return number


def gid_number(gid: str | None) -> int | None:
    """gid://shopify/Order/123 -> 123."""
    tail = (gid or "").rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else None


def order_gid(order_id: int) -> str:
    """123 -> gid://shopify/Order/123, how the Admin API names an order."""
    return f"gid://shopify/Order/{order_id}"


def country_code(value: str | None) -> str:
    """Carriers report a country as a code or a name; only a code is worth keeping."""
    value = (value or "").strip()
    return value.upper() if len(value) == 2 and value.isalpha() else ""


def moment(value: str | None) -> datetime | None:
    return parse_datetime(value) if value else None


def money(payload: dict[str, Any], key: str) -> Decimal:
    """What the shopper paid: the presentment amount of a `*_set`, else the plain field."""
    money_set = payload.get(f"{key}_set") or {}
    amount = (money_set.get("presentment_money") or {}).get("amount")
    if amount is None:
        amount = payload.get(key)
    return Decimal(str(amount or "0"))


def plain_amount(value: Any) -> Decimal:
    """An amount as a payload writes it; 0 for what is not one."""
    try:
        found = Decimal(str(value if value is not None else 0))
    except ArithmeticError:
        return Decimal(0)
    return found if found.is_finite() else Decimal(0)


def refunds_from_rest(payload: dict[str, Any]) -> list[dict[str, str]]:
    """The refunds an order payload nests: what each gave back (its successful refund
    transactions, in the order's currency) and when."""
    found = []
    for refund in payload.get("refunds") or []:
        given = sum(
            (
                plain_amount(t.get("amount"))
                for t in refund.get("transactions") or []
                if str(t.get("kind")).lower() == "refund"
                and str(t.get("status")).lower() == "success"
            ),
            Decimal(0),
        )
        if given > 0:
            at = refund.get("processed_at") or refund.get("created_at") or ""
            found.append({"id": str(shopify_id(refund)), "at": at, "amount": str(given)})
    return found


def rate(presentment: Any, shop: Any) -> Decimal | None:
    """Units of the order's currency per unit of the shop's: the order's total in each (None
    when one is missing or zero, as an order of nothing but free items has)."""
    try:
        paid, counted = Decimal(str(presentment)), Decimal(str(shop))
    except (ArithmeticError, ValueError, TypeError):
        return None
    if not paid.is_finite() or not counted.is_finite() or paid <= 0 or counted <= 0:
        return None
    return (paid / counted).quantize(Decimal("0.0000000001"))


def paid_unit_price(line: dict[str, Any]) -> Decimal:
    """A REST line's unit price after its discounts (`discount_allocations` are for the whole
    line, in the presentment currency under `amount_set`)."""
    quantity = int(line.get("quantity") or 0)
    discounts = sum(
        (money(allocation, "amount") for allocation in line.get("discount_allocations") or []),
        Decimal("0"),
    )
    if not quantity or not discounts:
        return money(line, "price")
    return (money(line, "price") - discounts / quantity).quantize(Decimal("0.001"))


@dataclass
class LineFacts:
    shopify_id: int
    position: int
    product_id: int | None
    variant_id: int | None
    sku: str
    title: str
    variant_title: str
    image_url: str
    quantity: int
    fulfillable_quantity: int
    price: Decimal
    requires_shipping: bool
    # None when the source does not say (REST line items): what another source filled stays.
    product_type: str | None = None
    product_tags: list[str] | None = None
    paid_price: Decimal | None = None  # per unit, after every discount


@dataclass
class TrackingFacts:
    shopify_id: int
    order_id: int
    fulfillment_id: int
    status: str
    happened_at: datetime
    message: str
    city: str
    province: str
    country_code: str
    estimated_delivery_at: datetime | None


@dataclass
class FulfillmentFacts:
    shopify_id: int
    name: str
    status: str
    shipment_status: str
    tracking_company: str
    tracking_numbers: list[str]
    tracking_urls: list[str]
    shipped_at: datetime
    updated_at: datetime | None
    estimated_delivery_at: datetime | None = None
    delivered_at: datetime | None = None
    lines: dict[int, int] = field(default_factory=dict)  # line item id -> quantity
    events: list[TrackingFacts] = field(default_factory=list)  # the Admin API sends them along


@dataclass
class FulfillmentOrderFacts:
    shopify_id: int
    status: str
    location_name: str | None
    hold_reasons: list[str]
    updated_at: datetime | None


@dataclass
class OrderFacts:
    shopify_id: int
    name: str
    number: int
    email: str
    phone: str
    customer_locale: str
    currency: str
    subtotal: Decimal
    shipping: Decimal
    tax: Decimal
    discounts: Decimal
    total: Decimal
    financial_status: str
    fulfillment_status: str
    placed_at: datetime
    cancelled_at: datetime | None
    cancel_reason: str
    closed_at: datetime | None
    shipping_address: dict[str, str]
    tags: list[str]
    updated_at: datetime
    lines: list[LineFacts]
    fulfillments: list[FulfillmentFacts]
    # Units of the order's currency per unit of the shop's, from the order's two totals.
    exchange_rate: Decimal | None = None
    original_total: Decimal | None = None  # at checkout, before refunds and cancellation
    refunds: list[dict[str, str]] | None = None  # {"id", "at", "amount"}: the money given back
    # None when the source does not say (REST order payloads carry no fulfilment orders).
    fulfillment_orders: list[FulfillmentOrderFacts] | None = None


# --- REST (webhooks) ----------------------------------------------------------------------------


def fulfillment_from_rest(payload: dict[str, Any]) -> FulfillmentFacts:
    status = payload.get("shipment_status") or ""
    return FulfillmentFacts(
        shopify_id=shopify_id(payload),
        name=payload.get("name") or "",
        status=payload.get("status") or Fulfillment.Status.SUCCESS,
        shipment_status=status if status in SHIPMENT_STATUSES else "",
        tracking_company=payload.get("tracking_company") or "",
        tracking_numbers=[n for n in payload.get("tracking_numbers") or [] if n],
        tracking_urls=[u for u in payload.get("tracking_urls") or [] if u],
        shipped_at=moment(payload.get("created_at")) or moment(payload.get("updated_at")),
        updated_at=moment(payload.get("updated_at")),
        lines={
            shopify_id(line): int(line.get("quantity") or 0)
            for line in payload.get("line_items") or []
        },
    )


def order_from_rest(payload: dict[str, Any]) -> OrderFacts:
    address = payload.get("shipping_address") or {}
    lines = [
        LineFacts(
            shopify_id=shopify_id(line),
            position=position,
            product_id=line.get("product_id"),
            variant_id=line.get("variant_id"),
            sku=line.get("sku") or "",
            title=line.get("title") or line.get("name") or "",
            variant_title=line.get("variant_title") or "",
            image_url="",  # REST line items carry no image; the Admin API fills it in
            quantity=int(line.get("current_quantity", line.get("quantity")) or 0),
            fulfillable_quantity=int(line.get("fulfillable_quantity") or 0),
            price=money(line, "price"),
            paid_price=paid_unit_price(line),
            requires_shipping=bool(line.get("requires_shipping", True)),
        )
        for position, line in enumerate(payload.get("line_items") or [])
    ]
    return OrderFacts(
        shopify_id=shopify_id(payload),
        name=payload.get("name") or f"#{payload.get('order_number')}",
        number=int(payload.get("order_number") or payload.get("number") or 0),
        email=payload.get("email") or payload.get("contact_email") or "",
        phone=payload.get("phone") or "",
        customer_locale=payload.get("customer_locale") or "",
        currency=payload.get("presentment_currency") or payload.get("currency") or "",
        subtotal=money(payload, "current_subtotal_price"),
        shipping=money(payload, "current_shipping_price"),
        tax=money(payload, "current_total_tax"),
        discounts=money(payload, "current_total_discounts"),
        total=money(payload, "current_total_price"),
        financial_status=payload.get("financial_status") or Order.FinancialStatus.PENDING,
        fulfillment_status=payload.get("fulfillment_status") or Order.FulfillmentStatus.UNFULFILLED,
        placed_at=moment(payload.get("processed_at")) or moment(payload.get("created_at")),
        cancelled_at=moment(payload.get("cancelled_at")),
        cancel_reason=payload.get("cancel_reason") or "",
        closed_at=moment(payload.get("closed_at")),
        shipping_address={key: address.get(key) or "" for key in ADDRESS_KEYS} if address else {},
        exchange_rate=rate(
            ((payload.get("total_price_set") or {}).get("presentment_money") or {}).get("amount"),
            ((payload.get("total_price_set") or {}).get("shop_money") or {}).get("amount"),
        ),
        original_total=money(payload, "total_price"),
        refunds=refunds_from_rest(payload) if "refunds" in payload else None,
        tags=[tag.strip() for tag in (payload.get("tags") or "").split(",") if tag.strip()],
        updated_at=moment(payload.get("updated_at")) or moment(payload.get("created_at")),
        lines=lines,
        fulfillments=[fulfillment_from_rest(f) for f in payload.get("fulfillments") or []],
    )


# --- GraphQL (backfill, reconciliation) -------------------------------------------------------
# Shapes of `documents.ORDER_FIELDS`. Enums arrive upper case where REST has lower case.

FULFILLMENT_STATUS_FROM_DISPLAY = {
    "FULFILLED": Order.FulfillmentStatus.FULFILLED,
    "PARTIALLY_FULFILLED": Order.FulfillmentStatus.PARTIAL,
    "RESTOCKED": Order.FulfillmentStatus.RESTOCKED,
}


def amount(money_bag: dict[str, Any] | None) -> Decimal:
    """What the shopper paid, from a MoneyBag."""
    value = ((money_bag or {}).get("presentmentMoney") or {}).get("amount")
    return Decimal(str(value or "0"))


def lower(value: str | None) -> str:
    return (value or "").lower()


def tracking_from_graphql(order_id: int, fulfillment_id: int, node: dict) -> TrackingFacts:
    return TrackingFacts(
        shopify_id=gid_number(node["id"]),
        order_id=order_id,
        fulfillment_id=fulfillment_id,
        status=lower(node.get("status")),
        happened_at=moment(node.get("happenedAt")),
        message=(node.get("message") or "")[:500],
        city=node.get("city") or "",
        province=node.get("province") or "",
        country_code=country_code(node.get("country")),
        estimated_delivery_at=moment(node.get("estimatedDeliveryAt")),
    )


def fulfillment_from_graphql(order_id: int, node: dict[str, Any]) -> FulfillmentFacts:
    fulfillment_id = gid_number(node["id"])
    tracking = node.get("trackingInfo") or []
    display = lower(node.get("displayStatus"))
    return FulfillmentFacts(
        shopify_id=fulfillment_id,
        name=node.get("name") or "",
        status=lower(node.get("status")) or Fulfillment.Status.SUCCESS,
        shipment_status=display if display in SHIPMENT_STATUSES else "",
        tracking_company=next((t["company"] for t in tracking if t.get("company")), ""),
        tracking_numbers=[t["number"] for t in tracking if t.get("number")],
        tracking_urls=[t["url"] for t in tracking if t.get("url")],
        shipped_at=moment(node.get("createdAt")),
        updated_at=moment(node.get("updatedAt")),
        estimated_delivery_at=moment(node.get("estimatedDeliveryAt")),
        delivered_at=moment(node.get("deliveredAt")),
        lines={
            gid_number(item["lineItem"]["id"]): int(item.get("quantity") or 0)
            for item in (node.get("fulfillmentLineItems") or {}).get("nodes") or []
            if item.get("lineItem")
        },
        events=[
            tracking_from_graphql(order_id, fulfillment_id, event)
            for event in (node.get("events") or {}).get("nodes") or []
        ],
    )


def order_from_graphql(node: dict[str, Any]) -> OrderFacts:
    order_id = gid_number(node["id"])
    address = node.get("shippingAddress") or {}
    return OrderFacts(
        shopify_id=order_id,
        name=node.get("name") or f"#{node.get('number')}",
        number=int(node.get("number") or 0),
        email=node.get("email") or "",
        phone=node.get("phone") or "",
        customer_locale=node.get("customerLocale") or "",
        currency=node.get("presentmentCurrencyCode") or "",
        subtotal=amount(node.get("currentSubtotalPriceSet")),
        shipping=amount(node.get("currentShippingPriceSet")),
        tax=amount(node.get("currentTotalTaxSet")),
        discounts=amount(node.get("currentTotalDiscountsSet")),
        total=amount(node.get("currentTotalPriceSet")),
        financial_status=lower(node.get("displayFinancialStatus")) or Order.FinancialStatus.PENDING,
        fulfillment_status=FULFILLMENT_STATUS_FROM_DISPLAY.get(
            node.get("displayFulfillmentStatus"), Order.FulfillmentStatus.UNFULFILLED
        ),
        placed_at=moment(node.get("processedAt")) or moment(node.get("createdAt")),
        cancelled_at=moment(node.get("cancelledAt")),
        cancel_reason=lower(node.get("cancelReason")),
        closed_at=moment(node.get("closedAt")),
        shipping_address={key: address.get(name) or "" for key, name in ADDRESS_FIELDS}
        if address
        else {},
        tags=[tag.strip() for tag in node.get("tags") or [] if tag.strip()],
        updated_at=moment(node.get("updatedAt")),
        exchange_rate=rate(
            ((node.get("totalPriceSet") or {}).get("presentmentMoney") or {}).get("amount"),
            ((node.get("totalPriceSet") or {}).get("shopMoney") or {}).get("amount"),
        ),
        original_total=amount(node.get("totalPriceSet")),
        refunds=[
            {
                "id": str(gid_number(refund.get("id")) or ""),
                "at": refund.get("createdAt") or "",
                "amount": str(amount(refund.get("totalRefundedSet"))),
            }
            for refund in node.get("refunds") or []
            if amount(refund.get("totalRefundedSet")) > 0
        ]
        if "refunds" in node
        else None,
        lines=[
            LineFacts(
                shopify_id=gid_number(line["id"]),
                position=position,
                product_id=gid_number((line.get("product") or {}).get("id")),
                variant_id=gid_number((line.get("variant") or {}).get("id")),
                sku=line.get("sku") or "",
                title=line.get("title") or "",
                variant_title=line.get("variantTitle") or "",
                image_url=(line.get("image") or {}).get("url") or "",
                quantity=int(line.get("currentQuantity") or 0),
                fulfillable_quantity=int(line.get("unfulfilledQuantity") or 0),
                price=amount(line.get("originalUnitPriceSet")),
                paid_price=amount(line.get("discountedUnitPriceAfterAllDiscountsSet"))
                if line.get("discountedUnitPriceAfterAllDiscountsSet")
                else None,
                requires_shipping=bool(line.get("requiresShipping", True)),
                product_type=(line.get("product") or {}).get("productType") or "",
                product_tags=list((line.get("product") or {}).get("tags") or []),
            )
            for position, line in enumerate((node.get("lineItems") or {}).get("nodes") or [])
        ],
        fulfillments=[
            fulfillment_from_graphql(order_id, f) for f in node.get("fulfillments") or []
        ],
        fulfillment_orders=[
            FulfillmentOrderFacts(
                shopify_id=gid_number(fo["id"]),
                status=lower(fo.get("status")),
                location_name=(fo.get("assignedLocation") or {}).get("name"),
                hold_reasons=[lower(h.get("reason")) for h in fo.get("fulfillmentHolds") or []],
                updated_at=moment(fo.get("updatedAt")),
            )
            for fo in (node.get("fulfillmentOrders") or {}).get("nodes") or []
        ],
    )


# --- writing the mirror -----------------------------------------------------------------------


def locked_order(shop: Shop, order_id: int) -> Order | None:
    """The mirrored order, its row locked for the rest of the transaction: writes to one order
    and the rows below it happen one at a time."""
    return Order.objects.select_for_update().filter(shop=shop, shopify_id=order_id).first()


@transaction.atomic
def apply_order(shop: Shop, facts: OrderFacts) -> Order | None:
    """Upsert the order and everything below it; None when the mirror already holds newer data."""
    order = locked_order(shop, facts.shopify_id)
    if is_newer(order, facts.updated_at):
        return None
    was_cancelled = order is not None and order.is_cancelled
    values = {
        "name": facts.name,
        "number": facts.number,
        "email": facts.email,
        "phone": facts.phone,
        "customer_locale": facts.customer_locale,
        "currency": facts.currency,
        "subtotal": facts.subtotal,
        "shipping": facts.shipping,
        "tax": facts.tax,
        "discounts": facts.discounts,
        "total": facts.total,
        "financial_status": facts.financial_status,
        "fulfillment_status": facts.fulfillment_status,
        "placed_at": facts.placed_at,
        "cancelled_at": facts.cancelled_at,
        "cancel_reason": facts.cancel_reason,
        "closed_at": facts.closed_at,
        "shipping_address": facts.shipping_address,
        "tags": facts.tags,
        "shopify_updated_at": facts.updated_at,
    }
    if facts.exchange_rate is not None:  # a source that does not say keeps what is known
        values["exchange_rate"] = facts.exchange_rate
    if facts.original_total is not None:
        values["original_total"] = facts.original_total
    if facts.refunds is not None:
        values["refunds"] = sorted(facts.refunds, key=lambda refund: refund["at"])
    created = order is None
    if created:
        order = Order.objects.create(shop=shop, shopify_id=facts.shopify_id, **values)
        order.log(mirror.PLACED, actor=SHOPIFY, at=facts.placed_at)
    else:
        Order.objects.filter(pk=order.pk).update(**values)
    for line in facts.lines:
        LineItem.objects.update_or_create(
            order=order,
            shopify_id=line.shopify_id,
            defaults={
                "position": line.position,
                "product_id": line.product_id,
                "variant_id": line.variant_id,
                "sku": line.sku,
                "title": line.title,
                "variant_title": line.variant_title,
                **({"image_url": line.image_url} if line.image_url else {}),
                **({"product_type": line.product_type} if line.product_type is not None else {}),
                **({"product_tags": line.product_tags} if line.product_tags is not None else {}),
                "quantity": line.quantity,
                "fulfillable_quantity": line.fulfillable_quantity,
                "price": line.price,
                "paid_price": line.paid_price,
                "requires_shipping": line.requires_shipping,
            },
        )
    for fulfillment_order in facts.fulfillment_orders or []:
        apply_fulfillment_order(order, fulfillment_order)
    for fulfillment in facts.fulfillments:
        apply_fulfillment(order, fulfillment)
    if facts.cancelled_at and not was_cancelled:
        order.log(mirror.CANCELLED, actor=SHOPIFY, at=facts.cancelled_at)
    order.bump_revision()
    return order


@transaction.atomic
def apply_shipment(shop: Shop, order_id: int, facts: FulfillmentFacts) -> Fulfillment | None:
    """A shipment on its own (fulfillments/*). None when its order is not mirrored yet: the
    order's own sync (webhook or reconciliation) brings it, with this shipment."""
    order = locked_order(shop, order_id)
    if order is None:
        return None
    fulfillment = apply_fulfillment(order, facts)
    order.bump_revision()
    return fulfillment


def is_newer(row: Any, updated_at: datetime | None) -> bool:
    """Does the mirror's row already hold newer data than facts stamped `updated_at`? (Rows and
    facts without a stamp cannot tell: they are applied.)"""
    return bool(
        row is not None
        and row.shopify_updated_at
        and updated_at
        and row.shopify_updated_at > updated_at
    )


def apply_fulfillment(order: Order, facts: FulfillmentFacts) -> Fulfillment | None:
    """Upsert one shipment of `order` (whose row the caller has locked)."""
    existing = Fulfillment.objects.filter(order=order, shopify_id=facts.shopify_id).first()
    was_shipped = existing is not None and existing.is_shipped
    if is_newer(existing, facts.updated_at):
        return None
    values = {
        "name": facts.name,
        "status": facts.status,
        "tracking_company": facts.tracking_company,
        "tracking_numbers": facts.tracking_numbers,
        "tracking_urls": facts.tracking_urls,
        "shipped_at": facts.shipped_at,
        "shopify_updated_at": facts.updated_at,
    }
    # Shopify's REST shapes leave these out; never blank what another source filled in.
    for key in ("shipment_status", "estimated_delivery_at", "delivered_at"):
        if getattr(facts, key):
            values[key] = getattr(facts, key)
    fulfillment, _created = Fulfillment.objects.update_or_create(
        order=order, shopify_id=facts.shopify_id, defaults=values
    )
    lines = {line.shopify_id: line for line in order.lines.filter(shopify_id__in=facts.lines)}
    for line_id, quantity in facts.lines.items():
        if line_id in lines:
            FulfillmentLine.objects.update_or_create(
                fulfillment=fulfillment, line_item=lines[line_id], defaults={"quantity": quantity}
            )
    if fulfillment.is_shipped and not was_shipped:
        order.log(mirror.SHIPPED, actor=SHOPIFY, subject=fulfillment, at=facts.shipped_at)
    for event in sorted(facts.events, key=lambda e: e.happened_at):
        record_tracking(order, fulfillment, event)
    return fulfillment


def apply_fulfillment_order(order: Order, facts: FulfillmentOrderFacts) -> None:
    """Upsert one fulfilment order of `order` (locked by the caller): the warehouse's progress,
    which decides what the shopper may still change."""
    existing = FulfillmentOrder.objects.filter(order=order, shopify_id=facts.shopify_id).first()
    if is_newer(existing, facts.updated_at):
        return
    values: dict[str, Any] = {
        "status": facts.status,
        "hold_reasons": facts.hold_reasons,
        "shopify_updated_at": facts.updated_at,
    }
    if facts.location_name is not None:
        values["location_name"] = facts.location_name
    FulfillmentOrder.objects.update_or_create(
        order=order, shopify_id=facts.shopify_id, defaults=values
    )


@transaction.atomic
def apply_fulfillment_order_change(
    shop: Shop, facts: FulfillmentOrderFacts, *, sibling_id: int | None = None
) -> bool:
    """A fulfilment order's own webhook (placed on hold, hold released). Those payloads do not
    name the order: it is found through the fulfilment order, or through a `sibling` of the same
    order (the part a hold split off); reconciliation brings the others. False when neither is
    known."""
    known = (
        FulfillmentOrder.objects.filter(
            order__shop=shop, shopify_id__in=[facts.shopify_id, sibling_id]
        )
        .values_list("order__shopify_id", flat=True)
        .first()
    )
    order = known and locked_order(shop, known)
    if not order:
        return False
    apply_fulfillment_order(order, facts)
    order.bump_revision()
    return True


def tracking_from_rest(payload: dict[str, Any]) -> TrackingFacts:
    return TrackingFacts(
        shopify_id=shopify_id(payload),
        order_id=int(payload["order_id"]),
        fulfillment_id=int(payload["fulfillment_id"]),
        status=payload.get("status") or "",
        happened_at=moment(payload.get("happened_at")) or moment(payload.get("created_at")),
        message=(payload.get("message") or "")[:500],
        city=payload.get("city") or "",
        province=payload.get("province") or "",
        country_code=country_code(payload.get("country")),
        estimated_delivery_at=moment(payload.get("estimated_delivery_at")),
    )


@transaction.atomic
def apply_tracking(shop: Shop, facts: TrackingFacts) -> TrackingEvent | None:
    """Record a carrier event (fulfillment_events/create). None when the order or shipment is
    not mirrored yet: the order's own sync brings the shipment, with its events."""
    if facts.status not in SHIPMENT_STATUSES:
        return None
    order = locked_order(shop, facts.order_id)
    fulfillment = order and order.fulfillments.filter(shopify_id=facts.fulfillment_id).first()
    if not fulfillment:
        return None
    event = record_tracking(order, fulfillment, facts)
    order.bump_revision()
    return event


def record_tracking(
    order: Order, fulfillment: Fulfillment, facts: TrackingFacts
) -> TrackingEvent | None:
    """Upsert a carrier event of a shipment of `order` (locked by the caller); the shipment's
    status follows its newest event."""
    if facts.status not in SHIPMENT_STATUSES or facts.happened_at is None:
        return None
    event, _created = TrackingEvent.objects.update_or_create(
        fulfillment=fulfillment,
        shopify_id=facts.shopify_id,
        defaults={
            "status": facts.status,
            "happened_at": facts.happened_at,
            "message": facts.message,
            "city": facts.city,
            "province": facts.province,
            "country_code": facts.country_code,
            "estimated_delivery_at": facts.estimated_delivery_at,
        },
    )
    newest = fulfillment.events.order_by("-happened_at", "-pk").first()
    if newest != event:
        return event
    was = fulfillment.shipment_status
    fulfillment.shipment_status = event.status
    if event.estimated_delivery_at:
        fulfillment.estimated_delivery_at = event.estimated_delivery_at
    if event.status in Fulfillment.DONE and not fulfillment.delivered_at:
        fulfillment.delivered_at = event.happened_at
    fulfillment.save(update_fields=["shipment_status", "estimated_delivery_at", "delivered_at"])
    if was != event.status and event.status in Fulfillment.DONE:
        kind = mirror.DELIVERED
    elif was != event.status and event.status in Fulfillment.PROBLEMS:
        kind = mirror.DELIVERY_PROBLEM
    else:
        return event
    order.log(kind, actor=SHOPIFY, subject=fulfillment, at=event.happened_at)
    return event
