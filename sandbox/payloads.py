"""The store's objects as Shopify's webhooks carry them: REST-shaped JSON.

Keys are a subset of Shopify's own documented samples (webhooks/<topic>.json, 2026-04), named and
nested as there: money as strings with `_set` twins in shop and presentment money, times in the
shop's time zone, tags as one comma-separated string, lowercase statuses, REST integer ids next to
`admin_graphql_api_id`. Keys the samples have and the sandbox has no facts for are left out rather
than invented.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.store import (
    Address,
    Change,
    Fulfillment,
    FulfillmentEvent,
    FulfillmentHold,
    FulfillmentOrder,
    LineItem,
    Order,
    OrderEdit,
    Product,
    ProductVariant,
    Refund,
    Return,
    ReturnLine,
    Shop,
    Transaction,
    gid,
    rounded,
)


def local_time(moment: datetime | None, shop: Shop) -> str | None:
    """As Shopify's REST writes times: in the shop's zone with its offset (whole seconds unless
    the moment has a fraction, as the sandbox's change stamps do)."""
    if moment is None:
        return None
    local = moment.astimezone(ZoneInfo(shop.iana_timezone))
    return local.isoformat(timespec="microseconds" if local.microsecond else "seconds")


def amount(value: Decimal, currency: str) -> str:
    return str(rounded(value, currency))


def money_set(value: Decimal, order: Order, shop: Shop) -> dict[str, dict[str, str]]:
    return {
        "shop_money": {
            "amount": amount(order.in_shop_currency(value, shop.currency), shop.currency),
            "currency_code": shop.currency,
        },
        "presentment_money": {
            "amount": amount(value, order.currency),
            "currency_code": order.currency,
        },
    }


def address(value: Address | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {
        "first_name": value.first_name,
        "address1": value.address1,
        "phone": value.phone,
        "city": value.city,
        "zip": value.zip,
        "province": value.province,
        "country": value.country,
        "last_name": value.last_name,
        "address2": value.address2,
        "company": value.company,
        "latitude": None,
        "longitude": None,
        "name": value.name,
        "country_code": value.country_code,
        "province_code": value.province_code,
    }


def line_item(
    line: LineItem, order: Order, shop: Shop, *, shipped: int | None = None, current: bool = True
) -> dict:
    """An order's line; in a shipment, `shipped` is how many of it the parcel holds (and, as in
    Shopify's fulfillment and refund samples, it has no current_quantity)."""
    status = None
    if line.current_quantity and line.fulfilled_quantity >= line.current_quantity:
        status = "fulfilled"
    elif line.fulfilled_quantity:
        status = "partial"
    shown = {
        "id": line.id,
        "admin_graphql_api_id": line.gid,
        "current_quantity": line.current_quantity,
        "fulfillable_quantity": line.fulfillable_quantity,
        "fulfillment_service": "manual",
        "fulfillment_status": status,
        "name": line.name,
        "price": amount(line.price, order.currency),
        "price_set": money_set(line.price, order, shop),
        "product_exists": line.product_id is not None,
        "product_id": line.product_id,
        "quantity": line.quantity if shipped is None else shipped,
        "requires_shipping": line.requires_shipping,
        "sku": line.sku,
        "title": line.title,
        "variant_id": line.variant_id,
        "variant_title": line.variant_title,
    }
    if line.discount:
        shown["total_discount"] = amount(line.discount * line.quantity, order.currency)
        shown["total_discount_set"] = money_set(line.discount * line.quantity, order, shop)
    if shipped is not None or not current:
        del shown["current_quantity"]
    return shown


def order(value: Order, shop: Shop) -> dict[str, Any]:
    status = value.display_fulfillment_status
    return {
        "id": value.id,
        "admin_graphql_api_id": value.gid,
        "cancel_reason": value.cancel_reason.lower() if value.cancel_reason else None,
        "cancelled_at": local_time(value.cancelled_at, shop),
        "closed_at": local_time(value.closed_at, shop),
        "confirmed": True,
        "contact_email": value.email,
        "created_at": local_time(value.created_at, shop),
        "currency": shop.currency,
        "current_shipping_price_set": money_set(value.current_shipping_price, value, shop),
        "current_subtotal_price": amount(value.current_subtotal, value.currency),
        "current_subtotal_price_set": money_set(value.current_subtotal, value, shop),
        "current_total_discounts": amount(value.current_discounts, value.currency),
        "current_total_discounts_set": money_set(value.current_discounts, value, shop),
        "current_total_price": amount(value.current_total, value.currency),
        "current_total_price_set": money_set(value.current_total, value, shop),
        "current_total_tax": amount(value.current_total_tax, value.currency),
        "current_total_tax_set": money_set(value.current_total_tax, value, shop),
        "customer_locale": value.customer_locale,
        "email": value.email,
        "financial_status": value.display_financial_status.lower(),
        "fulfillment_status": {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial"}.get(
            status
        ),
        "name": value.name,
        "note": value.note,
        "number": value.number - 1000,
        "order_number": value.number,
        "payment_gateway_names": value.payment_gateway_names,
        "phone": value.phone,
        "presentment_currency": value.currency,
        "processed_at": local_time(value.processed_at, shop),
        "subtotal_price": amount(value.subtotal, value.currency),
        "subtotal_price_set": money_set(value.subtotal, value, shop),
        "tags": ", ".join(value.tags),
        "test": False,
        "total_discounts": amount(value.discounts, value.currency),
        "total_discounts_set": money_set(value.discounts, value, shop),
        "total_outstanding": amount(value.total_outstanding, value.currency),
        "total_price": amount(value.total, value.currency),
        "total_price_set": money_set(value.total, value, shop),
        "total_shipping_price_set": money_set(value.shipping_price, value, shop),
        "total_tax": amount(value.total_tax, value.currency),
        "total_tax_set": money_set(value.total_tax, value, shop),
        "updated_at": local_time(value.updated_at, shop),
        "fulfillments": [fulfillment(f, value, shop) for f in value.fulfillments],
        "line_items": [line_item(line, value, shop) for line in value.lines],
        "refunds": [order_refund(r, value, shop) for r in value.refunds],
        "shipping_address": address(value.shipping_address),
    }


def order_refund(value: Refund, order: Order, shop: Shop) -> dict[str, Any]:
    """A refund as an order payload nests it (webhooks/refunds/create.json's keys)."""
    return {
        "id": value.id,
        "admin_graphql_api_id": value.gid,
        "created_at": local_time(value.created_at, shop),
        "note": value.note,
        "transactions": [
            {
                "id": t.id,
                "admin_graphql_api_id": t.gid,
                "kind": t.transaction_kind.lower(),
                "status": t.status.lower(),
                "gateway": t.gateway,
                "amount": amount(t.amount, order.currency),
                "currency": order.currency,
                "created_at": local_time(t.created_at, shop),
            }
            for t in value.transactions
        ],
    }


def fulfillment(value: Fulfillment, order: Order, shop: Shop) -> dict[str, Any]:
    numbers = [value.tracking_number] if value.tracking_number else []
    urls = [value.tracking_url] if value.tracking_url else []
    return {
        "id": value.id,
        "order_id": order.id,
        "status": value.status.lower(),
        "created_at": local_time(value.created_at, shop),
        "service": "manual",
        "updated_at": local_time(value.updated_at, shop),
        "tracking_company": value.tracking_company,
        "shipment_status": value.shipment_status.lower() if value.shipment_status else None,
        "location_id": None,
        "origin_address": None,
        "email": order.email,
        "destination": address(order.shipping_address),
        "line_items": [
            line_item(line.line_item, order, shop, shipped=line.quantity) for line in value.lines
        ],
        "tracking_number": value.tracking_number,
        "tracking_numbers": numbers,
        "tracking_url": value.tracking_url,
        "tracking_urls": urls,
        "receipt": {},
        "name": value.name,
        "admin_graphql_api_id": value.gid,
    }


def fulfillment_event(
    value: FulfillmentEvent, fulfillment: Fulfillment, order: Order, shop: Shop
) -> dict[str, Any]:
    return {
        "id": value.id,
        "fulfillment_id": fulfillment.id,
        "status": value.status.lower(),
        "message": value.message,
        "happened_at": local_time(value.happened_at, shop),
        "city": value.city,
        "province": value.province,
        "country": value.country,
        "zip": value.zip,
        "address1": None,
        "latitude": None,
        "longitude": None,
        "shop_id": shop.id,
        "created_at": local_time(value.created_at, shop),
        "updated_at": local_time(value.created_at, shop),
        "estimated_delivery_at": local_time(value.estimated_delivery_at, shop),
        "order_id": order.id,
        "admin_graphql_api_id": value.gid,
    }


def hold(value: FulfillmentHold) -> dict[str, Any]:
    return {
        "id": value.gid,
        "reason": value.reason.lower(),
        "reason_notes": value.reason_notes,
        "held_by_requesting_app": False,
        "handle": value.handle,
    }


def fulfillment_order(value: FulfillmentOrder, *, holds: bool = True) -> dict[str, Any]:
    shown: dict[str, Any] = {"id": value.gid, "status": value.status.lower()}
    if holds:
        shown["fulfillment_holds"] = [hold(h) for h in value.fulfillment_holds]
    return shown


def placed_on_hold(value: FulfillmentOrder, order: Order) -> dict[str, Any]:
    return {
        "fulfillment_order": fulfillment_order(value),
        "remaining_fulfillment_order": None,  # the whole fulfillment order is held
        "held_fulfillment_order_line_items": [
            {
                "id": f"gid://shopify/FulfillmentOrderLineItem/{value.line_ids[line.id]}",
                "quantity": line.fulfillable_quantity,
            }
            for line in order.lines
            if line.fulfillable_quantity and line.id in value.line_ids
        ],
        "created_fulfillment_hold": hold(value.fulfillment_holds[-1]),
    }


# --- order edits and refunds ---------------------------------------------------------------------


def order_edit(value: OrderEdit, shop: Shop) -> dict[str, Any]:
    """orders/edited: what an edit changed, keyed as webhooks/orders/edited.json. The discounts
    an edit adds are not listed: the sample shows no entry's shape."""
    return {
        "order_edit": {
            "id": value.id,
            "app_id": None,
            "created_at": local_time(value.created_at, shop),
            "committed_at": local_time(value.committed_at, shop),
            "notify_customer": value.notify_customer,
            "order_id": value.order_id,
            "staff_note": value.staff_note,
            "user_id": None,
            "line_items": {
                "additions": [{"id": i, "delta": delta} for i, delta in value.additions],
                "removals": [{"id": i, "delta": delta} for i, delta in value.removals],
            },
            "discounts": {"line_item": {"additions": [], "removals": []}},
            "shipping_lines": {"additions": [], "removals": []},
        }
    }


def transaction(value: Transaction, order: Order, shop: Shop) -> dict[str, Any]:
    return {
        "id": value.id,
        "order_id": order.id,
        "kind": value.transaction_kind.lower(),
        "gateway": value.gateway,
        "status": value.status.lower(),
        "message": None,
        "created_at": local_time(value.created_at, shop),
        "test": False,
        "authorization": None,
        "location_id": None,
        "user_id": None,
        "parent_id": value.parent.id if value.parent else None,
        "processed_at": local_time(value.created_at, shop),
        "device_id": None,
        "error_code": None,
        "receipt": {},
        "amount": amount(value.amount, order.currency),
        "currency": order.currency,
        "manual_payment_gateway": value.gateway == "manual",
        "admin_graphql_api_id": value.gid,
    }


def refund(value: Refund, order: Order, shop: Shop) -> dict[str, Any]:
    """refunds/create, keyed as webhooks/refunds/create.json (whose line subtotals are numbers)."""
    zero = money_set(Decimal(0), order, shop)
    return {
        "id": value.id,
        "order_id": order.id,
        "created_at": local_time(value.created_at, shop),
        "note": value.note,
        "user_id": None,
        "processed_at": local_time(value.created_at, shop),
        "duties": [],
        "total_duties_set": zero,
        "return": None,
        "restock": any(line.restocked for line in value.lines),
        "refund_shipping_lines": [],
        "admin_graphql_api_id": value.gid,
        "order_adjustments": [],
        "refund_line_items": [
            {
                "id": line.id,
                "quantity": line.quantity,
                "line_item_id": line.line_item.id,
                "location_id": None,
                "restock_type": line.restock_type.lower(),
                "subtotal": float(line_subtotal(line.line_item, line.quantity, order)),
                "total_tax": 0,
                "subtotal_set": money_set(
                    line_subtotal(line.line_item, line.quantity, order), order, shop
                ),
                "total_tax_set": zero,
                "line_item": line_item(line.line_item, order, shop, current=False),
            }
            for line in value.lines
        ],
        "transactions": [transaction(t, order, shop) for t in value.transactions],
    }


def line_subtotal(line: LineItem, quantity: int, order: Order) -> Decimal:
    return rounded(line.discounted_price * quantity, order.currency)


# --- returns -------------------------------------------------------------------------------------
# Shaped as webhooks/returns/*.json. Their lists are empty in the docs; a return line is shaped as
# in a real returns/request delivery that a third party's docs reprint (docs.yellow.ai, Shopify
# integration): id, admin_graphql_api_id, fulfillment_line_item {id, admin_graphql_api_id,
# line_item {id, admin_graphql_api_id}}, quantity, return_reason, return_reason_note,
# customer_note. Amounts are written as the samples write them ("10.0").


def fee_amount(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text if "." in text else f"{text}.0"


def return_line(line: ReturnLine) -> dict[str, Any]:
    shipped = line.fulfillment_line_item
    return {
        "id": line.id,
        "admin_graphql_api_id": line.gid,
        "fulfillment_line_item": {
            "id": shipped.id,
            "admin_graphql_api_id": shipped.gid,
            "line_item": {
                "id": shipped.line_item.id,
                "admin_graphql_api_id": shipped.line_item.gid,
            },
        },
        "quantity": line.quantity,
        "return_reason": line.return_reason.lower(),
        "return_reason_note": line.return_reason_note,
        "customer_note": line.customer_note,
    }


def return_owner(order: Order) -> dict[str, Any]:
    return {"id": order.id, "admin_graphql_api_id": order.gid}


def return_in_full(value: Return, order: Order, shop: Shop) -> dict[str, Any]:
    """returns/request and returns/approve."""
    fees = [value.shipping_fee] if value.shipping_fee else []
    return {
        "id": value.id,
        "admin_graphql_api_id": value.gid,
        "status": value.status.lower(),
        "order": return_owner(order),
        "total_return_line_items": len(value.lines),
        "name": value.name,
        "return_line_items": [return_line(line) for line in value.lines],
        "return_shipping_fees": [
            {
                "id": fee.id,
                # The sample's kind; GraphQL answers name the same fee gid://shopify/Fee/...
                "admin_graphql_api_id": gid("ReturnShippingFee", fee.id),
                "price": {
                    "shop_money": {
                        "amount": fee_amount(order.in_shop_currency(fee.amount, shop.currency)),
                        "currency_code": shop.currency,
                    },
                    "presentment_money": {
                        "amount": fee_amount(fee.amount),
                        "currency_code": order.currency,
                    },
                },
            }
            for fee in fees
        ],
        "exchange_line_items": [
            {"id": exchange.id, "admin_graphql_api_id": exchange.gid, "line_item": None}
            for exchange in value.exchanges
        ],
        "total_exchange_line_items": len(value.exchanges),
    }


def return_declined(value: Return, order: Order) -> dict[str, Any]:
    decline = value.decline
    return {
        "id": value.id,
        "admin_graphql_api_id": value.gid,
        "status": value.status.lower(),
        "order": return_owner(order),
        "decline": {
            "reason": decline.reason.lower() if decline else None,
            "note": decline.note if decline else None,
        },
    }


def return_status(value: Return, order: Order) -> dict[str, Any]:
    """returns/cancel, /close, /reopen; and returns/process, whose documented sample is `{}`:
    the sandbox sends close's shape, which says which return and what it is now."""
    return {
        "id": value.id,
        "admin_graphql_api_id": value.gid,
        "order_id": order.id,
        "status": value.status.lower(),
    }


def return_payload(topic: str, value: Return, order: Order, shop: Shop) -> dict[str, Any]:
    if topic in ("returns/request", "returns/approve"):
        return return_in_full(value, order, shop)
    if topic == "returns/decline":
        return return_declined(value, order)
    return return_status(value, order)


def return_state(value: Return, order: Order) -> dict[str, Any]:
    """The whole return for assertions (and the control API)."""
    return {
        "id": value.id,
        "admin_graphql_api_id": value.gid,
        "name": value.name,
        "status": value.status,
        "order_id": order.id,
        "order_number": order.number,
        "created_at": value.created_at,
        "request_approved_at": value.request_approved_at,
        "closed_at": value.closed_at,
        "decline": (
            {"reason": value.decline.reason, "note": value.decline.note} if value.decline else None
        ),
        "return_shipping_fee": str(value.shipping_fee.amount) if value.shipping_fee else None,
        "return_line_items": [
            {
                "id": line.id,
                "admin_graphql_api_id": line.gid,
                "fulfillment_line_item_id": line.fulfillment_line_item.gid,
                "line_item_id": line.fulfillment_line_item.line_item.gid,
                "sku": line.fulfillment_line_item.line_item.sku,
                "quantity": line.quantity,
                "processed_quantity": line.processed_quantity,
                "return_reason": line.return_reason,
                "return_reason_note": line.return_reason_note,
                "customer_note": line.customer_note,
                "restocking_fee_percentage": (
                    line.restocking_fee.percentage if line.restocking_fee else None
                ),
            }
            for line in value.lines
        ],
        "exchange_line_items": [
            {
                "id": exchange.id,
                "admin_graphql_api_id": exchange.gid,
                "variant_id": exchange.variant.gid,
                "quantity": exchange.quantity,
                "processed_quantity": exchange.processed_quantity,
            }
            for exchange in value.exchanges
        ],
    }


def render(change: Change, shop: Shop) -> dict[str, Any]:
    """The payload of `change`'s webhook, as the state is now."""
    subject = change.subject
    if isinstance(subject, OrderEdit):
        return order_edit(subject, shop)
    if isinstance(subject, Refund):
        return refund(subject, change.order, shop)
    if isinstance(subject, Return):
        return return_payload(change.topic, subject, change.order, shop)
    if isinstance(subject, Order):
        return order(subject, shop)
    if isinstance(subject, Fulfillment):
        return fulfillment(subject, change.order, shop)
    if isinstance(subject, FulfillmentEvent):
        owner = next(f for f in change.order.fulfillments if subject in f.events)
        return fulfillment_event(subject, owner, change.order, shop)
    if isinstance(subject, FulfillmentOrder) and change.topic.endswith("placed_on_hold"):
        return placed_on_hold(subject, change.order)
    if isinstance(subject, FulfillmentOrder):
        return {"fulfillment_order": fulfillment_order(subject, holds=False)}
    raise TypeError(f"no payload for {change.topic}")


def order_state(value: Order, shop: Shop) -> dict[str, Any]:
    """The whole order for assertions: its REST shape, plus what REST leaves out (its
    fulfillment orders, each shipment's carrier events)."""
    state = order(value, shop)
    state["fulfillment_orders"] = [
        {**fulfillment_order(fo), "assigned_location": {"name": fo.location_name}}
        for fo in value.fulfillment_orders
    ]
    for shown, shipment in zip(state["fulfillments"], value.fulfillments, strict=True):
        shown["events"] = [fulfillment_event(e, shipment, value, shop) for e in shipment.events]
        shown["fulfillment_line_items"] = [
            {
                "admin_graphql_api_id": line.gid,
                "line_item_id": line.line_item.gid,
                "sku": line.line_item.sku,
                "quantity": line.quantity,
            }
            for line in shipment.lines
        ]
    state["returns"] = [return_state(r, value) for r in value.returns]
    state["transactions"] = [
        {
            "admin_graphql_api_id": t.gid,
            "kind": t.transaction_kind,
            "status": t.status,
            "gateway": t.gateway,
            "amount": amount(t.amount, value.currency),
            "parent_id": t.parent.gid if t.parent else None,
        }
        for t in value.transactions
    ]
    state["refunds"] = [
        {
            "admin_graphql_api_id": r.gid,
            "note": r.note,
            "total_refunded": amount(r.total, value.currency),
            "refund_line_items": [
                {"line_item_id": line.line_item.gid, "quantity": line.quantity} for line in r.lines
            ],
        }
        for r in value.refunds
    ]
    state["amount_due"] = amount(value.amount_due, value.currency)
    return state


def variant_state(value: ProductVariant) -> dict[str, Any]:
    return {
        "id": value.id,
        "admin_graphql_api_id": value.gid,
        "product_id": value.product_id,
        "title": value.title,
        "sku": value.sku,
        "price": str(value.price),
        "inventory_quantity": value.inventory_quantity,
        "inventory_policy": value.inventory_policy,
        "available_for_sale": value.available_for_sale,
        "options": dict(value.options),
    }


def product_state(value: Product) -> dict[str, Any]:
    """A product and its variants' stock, for assertions (and the control API)."""
    return {
        "id": value.id,
        "admin_graphql_api_id": value.gid,
        "title": value.title,
        "product_type": value.product_type,
        "tags": list(value.tags),
        "variants": [variant_state(variant) for variant in value.variants],
    }
