"""What each field of `schema.graphql` means over the store.

Fields whose snake_case name is an attribute of the store's object need nothing here: the default
resolver reads `updated_at` for `updatedAt`, a dict's key as it is, and an object's gid for `id`.
The rest is registered with `@resolves(type, field)`; a mutation with `@mutation(field)`, which
also answers a forced userErrors fault without touching the store. Adding a mutation is its SDL
lines (copied from Shopify's schema) and one function here.
"""

from __future__ import annotations

import base64
import functools
import inspect
import json
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo, GraphQLSchema, get_named_type
from graphql.execution.values import get_directive_values

from sandbox import addresses, search
from sandbox.store import (
    DEFAULT_GATEWAY,
    UNSET,
    CalculatedLine,
    EditSession,
    Fee,
    Fulfillment,
    FulfillmentOrder,
    LineItem,
    NewExchangeLine,
    NewRefundLine,
    NewRefundTransaction,
    NewReturnLine,
    NotAllowed,
    Order,
    Problem,
    Product,
    ProductVariant,
    Refund,
    RefundLine,
    Refused,
    Return,
    Store,
    Transaction,
    WebhookSubscription,
    gid,
    parse_gid,
    rounded,
)

Resolver = Callable[..., Any]
RESOLVERS: dict[tuple[str, str], Resolver] = {}


@dataclass
class Context:
    store: Store
    schema: GraphQLSchema
    forced_user_errors: list[dict[str, Any]] | None = None
    search: list[dict[str, Any]] = field(default_factory=list)  # for extensions.search
    # Where the sandbox was reached ("https://shop.myshopify.com"): absolute URLs it answers
    # with (an order's payment page) point back to it. None: the shop's own domain.
    base_url: str | None = None

    def url(self, path: str) -> str:
        return (self.base_url or f"https://{self.store.shop.domain}").rstrip("/") + path


# A mutation's answer carrying this key (true) replays an earlier write (an @idempotent key seen
# before): it is answered without it and not recorded again.
REPLAYED = "__replayed__"


def resolves(type_name: str, field_name: str) -> Callable[[Resolver], Resolver]:
    def register(function: Resolver) -> Resolver:
        RESOLVERS[type_name, field_name] = function
        return function

    return register


def mutation(field_name: str) -> Callable[[Resolver], Resolver]:
    """Register a mutation. Called with the context and the mutation's arguments (and `info`,
    if it takes one: to read a directive); returns its payload as a dict. A forced userErrors
    fault answers instead, in every userErrors list of the payload (orderCancel has two), and
    nothing is written."""

    def register(function: Resolver) -> Resolver:
        wants_info = "info" in inspect.signature(function).parameters

        @functools.wraps(function)
        def resolve(_root: None, info: GraphQLResolveInfo, **arguments: Any) -> dict[str, Any]:
            context: Context = info.context
            if context.forced_user_errors is not None:
                payload = get_named_type(info.return_type)
                lists = [name for name in payload.fields if name.lower().endswith("usererrors")]  # type: ignore[union-attr]
                return dict.fromkeys(lists, context.forced_user_errors)
            extra = {"info": info} if wants_info else {}
            answer = function(context, **arguments, **extra)
            replayed = answer.pop(REPLAYED, False)
            refused = any(
                errors for name, errors in answer.items() if name.lower().endswith("usererrors")
            )
            if not refused and not replayed:
                context.store.record_write(field_name, _plain(arguments))
            return answer

        RESOLVERS["Mutation", field_name] = resolve
        return function

    return register


def _plain(value: Any) -> Any:
    """Arguments as JSON can carry them (enums and decimals as text)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def default_resolver(source: Any, info: GraphQLResolveInfo, **_arguments: Any) -> Any:
    if isinstance(source, dict):
        return source.get(info.field_name)
    if info.field_name == "id":
        return source.gid
    return getattr(source, _snake(info.field_name), None)


@functools.cache
def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def user_error(path: Sequence[str] | None, message: str) -> dict[str, Any]:
    return {"field": list(path) if path is not None else None, "message": message}


# --- connections -------------------------------------------------------------------------------


def connection(
    items: Iterable[Any],
    *,
    key: Callable[[Any], tuple[Any, ...]],
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    reverse: bool = False,
) -> dict[str, Any]:
    """A Relay connection over `items` in `key` order. Cursors carry the key of their node (as
    Shopify's carry last_id and last_value), so a page resumes after that key even when the
    list changed in between: an order updated since moves to the end, and is seen again."""
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last")
    ordered = sorted(items, key=key, reverse=bool(reverse))
    keys = [key(item) for item in ordered]
    beyond = (lambda k, c: k < c) if reverse else (lambda k, c: k > c)
    start, end = 0, len(ordered)
    try:
        if after:
            mark = _decode(after)
            start = next((n for n, k in enumerate(keys) if beyond(k, mark)), len(keys))
        if before:
            mark = _decode(before)
            end = next((n for n, k in enumerate(keys) if not beyond(mark, k)), len(keys))
    except TypeError:  # a cursor of another sort key
        raise GraphQLError("Invalid cursor for the current sort key") from None
    end = max(start, end)
    if first is not None:
        end = min(end, start + max(first, 0))
    if last is not None:
        start = max(start, end - max(last, 0))
    page = list(zip(ordered[start:end], keys[start:end], strict=True))
    edges = [{"node": item, "cursor": _encode(k)} for item, k in page]
    return {
        "nodes": [item for item, _ in page],
        "edges": edges,
        "pageInfo": {
            "hasNextPage": end < len(ordered),
            "hasPreviousPage": start > 0,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def _encode(key: tuple[Any, ...]) -> str:
    value, last_id = key
    return base64.b64encode(json.dumps({"last_id": last_id, "last_value": value}).encode()).decode()


def _decode(cursor: str) -> tuple[Any, ...]:
    try:
        mark = json.loads(base64.b64decode(cursor, validate=True))
        return (mark["last_value"], mark["last_id"])
    except (ValueError, KeyError, TypeError) as error:
        raise GraphQLError(f"Invalid cursor: {cursor}") from error


def _sortable(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


ORDER_KEYS: dict[str, Callable[[Order], tuple[Any, ...]]] = {
    "ID": lambda order: (order.id, order.id),
    "CREATED_AT": lambda order: (_sortable(order.created_at), order.id),
    "PROCESSED_AT": lambda order: (_sortable(order.processed_at), order.id),
    "UPDATED_AT": lambda order: (_sortable(order.updated_at), order.id),
    "ORDER_NUMBER": lambda order: (order.number, order.id),
}


def by_id(item: Any) -> tuple[int, int]:
    return (item.id, item.id)


# --- queries -----------------------------------------------------------------------------------


def matching_orders(info: GraphQLResolveInfo, query: str | None) -> list[Order]:
    context: Context = info.context
    found = search.parse(query, time_zone=context.store.shop.iana_timezone)
    warn(info, query, found.warnings)
    return [order for order in context.store.orders.values() if found.matches(order)]


def warn(info: GraphQLResolveInfo, query: str | None, warnings: list[dict[str, str]]) -> None:
    """Terms Shopify ignored, as the answer's `extensions.search` reports them."""
    if warnings:
        info.context.search.append({"path": [info.path.key], "query": query, "warnings": warnings})


@resolves("QueryRoot", "orders")
def orders(
    _root: None, info: GraphQLResolveInfo, *, sortKey: str, query: str | None = None, **page: Any
) -> dict[str, Any]:
    return connection(matching_orders(info, query), key=ORDER_KEYS[sortKey], **page)


@resolves("QueryRoot", "ordersCount")
def orders_count(
    _root: None, info: GraphQLResolveInfo, *, query: str | None = None, limit: int | None = None
) -> dict[str, Any]:
    count = len(matching_orders(info, query))
    if limit is not None and count > limit:
        return {"count": limit, "precision": "AT_LEAST"}
    return {"count": count, "precision": "EXACT"}


@resolves("QueryRoot", "order")
def order(_root: None, info: GraphQLResolveInfo, *, id: str) -> Order | None:
    if parse_gid(id, "Order") is None:
        raise GraphQLError(f"Invalid global id '{id}'")
    return info.context.store.order_by_gid(id)


PRODUCT_KEYS: dict[str, Callable[[Product], tuple[Any, ...]]] = {
    "ID": lambda product: (product.id, product.id),
    "TITLE": lambda product: (product.title.casefold(), product.id),
}


@resolves("QueryRoot", "products")
def products(
    _root: None, info: GraphQLResolveInfo, *, sortKey: str, query: str | None = None, **page: Any
) -> dict[str, Any]:
    """The catalogue; of `query`, the `tag:` terms (what the portal asks)."""
    context: Context = info.context
    tags, warnings = search.product_tags(query)
    warn(info, query, warnings)
    found = [
        product
        for product in context.store.products.values()
        if set(tags) <= {tag.casefold() for tag in product.tags}
    ]
    return connection(found, key=PRODUCT_KEYS[sortKey], **page)


@resolves("QueryRoot", "product")
def product(_root: None, info: GraphQLResolveInfo, *, id: str) -> Product | None:
    number = parse_gid(id, "Product")
    if number is None:
        raise GraphQLError(f"Invalid global id '{id}'")
    return info.context.store.products.get(number)


@resolves("QueryRoot", "return")
def return_(_root: None, info: GraphQLResolveInfo, *, id: str) -> Return | None:
    if parse_gid(id, "Return") is None:
        raise GraphQLError(f"Invalid global id '{id}'")
    return info.context.store.return_by_gid(id)


@resolves("QueryRoot", "shop")
def shop(_root: None, info: GraphQLResolveInfo) -> Any:
    return info.context.store.shop


@resolves("QueryRoot", "webhookSubscriptions")
def webhook_subscriptions(
    _root: None,
    info: GraphQLResolveInfo,
    *,
    sortKey: str,
    topics: list[str] | None = None,
    **page: Any,
) -> dict[str, Any]:
    subscriptions = info.context.store.subscriptions.values()
    wanted = [s for s in subscriptions if topics is None or s.topic in topics]
    key = by_id if sortKey == "ID" else (lambda s: (_sortable(s.created_at), s.id))
    return connection(wanted, key=key, **page)


# --- the order and what hangs from it ----------------------------------------------------------


def money_bag(info: GraphQLResolveInfo, order: Order, amount: Decimal) -> dict[str, Any]:
    shop_currency = info.context.store.shop.currency
    return {
        "shopMoney": {
            "amount": order.in_shop_currency(amount, shop_currency),
            "currencyCode": shop_currency,
        },
        "presentmentMoney": {"amount": amount, "currencyCode": order.currency},
    }


ORDER_AMOUNTS = {
    "currentSubtotalPriceSet": "current_subtotal",
    "currentShippingPriceSet": "current_shipping_price",
    "currentTotalTaxSet": "current_total_tax",
    "currentTotalDiscountsSet": "current_discounts",
    "currentTotalPriceSet": "current_total",
    "subtotalPriceSet": "subtotal",
    "totalTaxSet": "total_tax",
    "totalDiscountsSet": "discounts",
    "totalPriceSet": "total",
    "totalReceivedSet": "received",
    "totalRefundedSet": "refunded",
    "netPaymentSet": "net_payment",
    "totalOutstandingSet": "total_outstanding",
}


def _order_amount(attribute: str) -> Resolver:
    return lambda order, info: money_bag(info, order, getattr(order, attribute))


for _field, _attribute in ORDER_AMOUNTS.items():
    RESOLVERS["Order", _field] = _order_amount(_attribute)


@resolves("Order", "currencyCode")
def order_shop_currency(_order: Order, info: GraphQLResolveInfo) -> str:
    return info.context.store.shop.currency


@resolves("Order", "presentmentCurrencyCode")
def order_currency(order: Order, _info: GraphQLResolveInfo) -> str:
    return order.currency


@resolves("Order", "lineItems")
def order_lines(order: Order, _info: GraphQLResolveInfo, **page: Any) -> dict[str, Any]:
    return connection(order.lines, key=by_id, **page)


@resolves("Order", "fulfillmentOrders")
def order_fulfillment_orders(
    order: Order, _info: GraphQLResolveInfo, **page: Any
) -> dict[str, Any]:
    return connection(order.fulfillment_orders, key=by_id, **page)


@resolves("Order", "fulfillments")
def order_fulfillments(
    order: Order, _info: GraphQLResolveInfo, *, first: int | None = None
) -> list[Fulfillment]:
    return order.fulfillments[:first] if first is not None else order.fulfillments


@resolves("Order", "returns")
def order_returns(order: Order, _info: GraphQLResolveInfo, **page: Any) -> dict[str, Any]:
    return connection(order.returns, key=by_id, **page)


@resolves("MailingAddress", "countryCodeV2")
def address_country(address: Any, _info: GraphQLResolveInfo) -> str | None:
    return address.country_code


@resolves("LineItem", "originalUnitPriceSet")
def line_price(line: LineItem, info: GraphQLResolveInfo) -> dict[str, Any]:
    return money_bag(info, info.context.store.orders[line.order_id], line.price)


@resolves("LineItem", "discountedUnitPriceSet")
@resolves("LineItem", "discountedUnitPriceAfterAllDiscountsSet")
def line_paid_price(line: LineItem, info: GraphQLResolveInfo) -> dict[str, Any]:
    # The sandbox's only discounts are line-item discounts that edits add.
    return money_bag(info, info.context.store.orders[line.order_id], line.discounted_price)


@resolves("LineItem", "totalDiscountSet")
def line_discount(line: LineItem, info: GraphQLResolveInfo) -> dict[str, Any]:
    order = info.context.store.orders[line.order_id]
    return money_bag(info, order, line.discount * line.quantity)


@resolves("LineItem", "refundableQuantity")
def line_refundable(line: LineItem, _info: GraphQLResolveInfo) -> int:
    return line.current_quantity


@resolves("LineItem", "product")
def line_product(line: LineItem, _info: GraphQLResolveInfo) -> dict[str, Any] | None:
    if not line.product_id:
        return None
    return {
        "id": gid("Product", line.product_id),
        "productType": line.product_type,
        "tags": list(line.product_tags),
    }


@resolves("LineItem", "variant")
def line_variant(line: LineItem, info: GraphQLResolveInfo) -> Any:
    if not line.variant_id:
        return None
    known = info.context.store.variants.get(line.variant_id)
    return known or {"id": gid("ProductVariant", line.variant_id)}


@resolves("LineItem", "image")
def line_image(line: LineItem, _info: GraphQLResolveInfo) -> dict[str, str] | None:
    return {"url": line.image_url} if line.image_url else None


@resolves("FulfillmentOrder", "assignedLocation")
def fulfillment_order_location(fo: FulfillmentOrder, _info: GraphQLResolveInfo) -> dict[str, str]:
    return {"name": fo.location_name}


@resolves("Fulfillment", "trackingInfo")
def fulfillment_tracking(
    fulfillment: Fulfillment, _info: GraphQLResolveInfo, *, first: int | None = None
) -> list[dict[str, str | None]]:
    if not (fulfillment.tracking_company or fulfillment.tracking_number):
        return []
    return [
        {
            "company": fulfillment.tracking_company,
            "number": fulfillment.tracking_number,
            "url": fulfillment.tracking_url,
        }
    ][:first]


@resolves("Fulfillment", "fulfillmentLineItems")
def fulfillment_lines(
    fulfillment: Fulfillment, _info: GraphQLResolveInfo, **page: Any
) -> dict[str, Any]:
    return connection(fulfillment.lines, key=by_id, **page)


@resolves("Fulfillment", "events")
def fulfillment_events(
    fulfillment: Fulfillment, _info: GraphQLResolveInfo, *, sortKey: str, **page: Any
) -> dict[str, Any]:
    if sortKey == "HAPPENED_AT":
        key: Callable[[Any], tuple[Any, ...]] = lambda e: (_sortable(e.happened_at), e.id)  # noqa: E731
    else:
        key = by_id
    return connection(fulfillment.events, key=key, **page)


@resolves("Order", "currentSubtotalLineItemsQuantity")
def order_quantity(order: Order, _info: GraphQLResolveInfo) -> int:
    return sum(line.current_quantity for line in order.lines)


@resolves("Order", "merchantEditable")
def order_editable(order: Order, _info: GraphQLResolveInfo) -> bool:
    return not order.edit_refusals


@resolves("Order", "merchantEditableErrors")
def order_edit_refusals(order: Order, _info: GraphQLResolveInfo) -> list[str]:
    return order.edit_refusals


@resolves("Order", "edited")
def order_edited(order: Order, _info: GraphQLResolveInfo) -> bool:
    return bool(order.edits)


@resolves("Order", "paymentCollectionDetails")
def order_payment_collection(order: Order, info: GraphQLResolveInfo) -> dict[str, Any]:
    """Where the shopper pays what is still owed: the sandbox's own payment page for the order
    (GET /sandbox/orders/<n>/payment), an absolute URL on the host the API was reached at."""
    url = info.context.url(f"/sandbox/orders/{order.number}/payment")
    return {"additionalPaymentCollectionUrl": url if order.amount_due > 0 else None}


@resolves("Order", "transactions")
def order_transactions(
    order: Order,
    _info: GraphQLResolveInfo,
    *,
    first: int | None = None,
    capturable: bool | None = None,
    manuallyResolvable: bool | None = None,
) -> list[Transaction]:
    found = order.transactions
    if capturable is not None:
        found = [t for t in found if bool(t.uncaptured) == capturable]
    if manuallyResolvable:  # the sandbox's transactions all settle at once
        found = []
    return found[:first] if first is not None else found


@resolves("Order", "refunds")
def order_refunds(
    order: Order, _info: GraphQLResolveInfo, *, first: int | None = None
) -> list[Refund]:
    return order.refunds[:first] if first is not None else order.refunds


@resolves("OrderTransaction", "kind")
def transaction_kind(value: Transaction, _info: GraphQLResolveInfo) -> str:
    return value.transaction_kind


@resolves("OrderTransaction", "amountSet")
def transaction_amount(value: Transaction, info: GraphQLResolveInfo) -> dict[str, Any]:
    return money_bag(info, info.context.store.orders[value.order_id], value.amount)


@resolves("OrderTransaction", "parentTransaction")
def transaction_parent(value: Transaction, _info: GraphQLResolveInfo) -> Transaction | None:
    return value.parent


@resolves("OrderTransaction", "processedAt")
def transaction_processed(value: Transaction, _info: GraphQLResolveInfo) -> datetime:
    return value.created_at


@resolves("OrderTransaction", "test")
def transaction_test(_value: Transaction, _info: GraphQLResolveInfo) -> bool:
    return False


@resolves("OrderTransaction", "manualPaymentGateway")
def transaction_manual(value: Transaction, _info: GraphQLResolveInfo) -> bool:
    return value.gateway == DEFAULT_GATEWAY


@resolves("OrderTransaction", "order")
def transaction_order(value: Transaction, info: GraphQLResolveInfo) -> Order:
    return info.context.store.orders[value.order_id]


@resolves("Refund", "order")
def refund_order(value: Refund, info: GraphQLResolveInfo) -> Order:
    return info.context.store.orders[value.order_id]


@resolves("Refund", "totalRefundedSet")
def refund_total(value: Refund, info: GraphQLResolveInfo) -> dict[str, Any]:
    return money_bag(info, info.context.store.orders[value.order_id], value.total)


@resolves("Refund", "transactions")
def refund_transactions(value: Refund, _info: GraphQLResolveInfo, **page: Any) -> dict[str, Any]:
    return connection(value.transactions, key=by_id, **page)


@resolves("Refund", "refundLineItems")
def refund_lines(value: Refund, _info: GraphQLResolveInfo, **page: Any) -> dict[str, Any]:
    return connection(value.lines, key=by_id, **page)


@resolves("RefundLineItem", "lineItem")
def refund_line_item(value: RefundLine, _info: GraphQLResolveInfo) -> LineItem:
    return value.line_item


@resolves("RefundLineItem", "priceSet")
def refund_line_price(value: RefundLine, info: GraphQLResolveInfo) -> dict[str, Any]:
    line = value.line_item
    return money_bag(info, info.context.store.orders[line.order_id], line.discounted_price)


@resolves("RefundLineItem", "subtotalSet")
def refund_line_subtotal(value: RefundLine, info: GraphQLResolveInfo) -> dict[str, Any]:
    line = value.line_item
    amount = line.discounted_price * value.quantity
    return money_bag(info, info.context.store.orders[line.order_id], amount)


@resolves("FulfillmentOrder", "lineItems")
def fulfillment_order_lines(
    fo: FulfillmentOrder, info: GraphQLResolveInfo, **page: Any
) -> dict[str, Any]:
    orders = info.context.store.orders.values()
    order = next(o for o in orders if any(f is fo for f in o.fulfillment_orders))
    return connection(fo.lines(order), key=by_id, **page)


# --- order edits: the calculated order ----------------------------------------------------------


def by_position(items: Sequence[Any]) -> Callable[[Any], tuple[int, int]]:
    positions = {id(item): position for position, item in enumerate(items)}
    return lambda item: (positions[id(item)], positions[id(item)])


@resolves("CalculatedOrder", "lineItems")
def calculated_lines(session: EditSession, _info: GraphQLResolveInfo, **page: Any) -> Any:
    return connection(session.lines, key=by_position(session.lines), **page)


@resolves("CalculatedOrder", "addedLineItems")
def calculated_added(session: EditSession, _info: GraphQLResolveInfo, **page: Any) -> Any:
    return connection(session.added, key=by_position(session.added), **page)


@resolves("CalculatedOrder", "subtotalPriceSet")
def calculated_subtotal(session: EditSession, info: GraphQLResolveInfo) -> dict[str, Any]:
    return money_bag(info, session.order, session.subtotal)


@resolves("CalculatedOrder", "totalPriceSet")
def calculated_total(session: EditSession, info: GraphQLResolveInfo) -> dict[str, Any]:
    return money_bag(info, session.order, session.total)


@resolves("CalculatedOrder", "totalOutstandingSet")
def calculated_outstanding(session: EditSession, info: GraphQLResolveInfo) -> dict[str, Any]:
    return money_bag(info, session.order, session.total_outstanding)


@resolves("CalculatedLineItem", "variant")
def calculated_variant(line: CalculatedLine, info: GraphQLResolveInfo) -> Any:
    if line.variant is not None:
        return line.variant
    return {"id": gid("ProductVariant", line.variant_id)} if line.variant_id else None


@resolves("CalculatedLineItem", "originalUnitPriceSet")
def calculated_price(line: CalculatedLine, info: GraphQLResolveInfo) -> dict[str, Any]:
    return money_bag(info, line.order, line.price)


@resolves("CalculatedLineItem", "discountedUnitPriceSet")
def calculated_paid_price(line: CalculatedLine, info: GraphQLResolveInfo) -> dict[str, Any]:
    return money_bag(info, line.order, line.discounted_price)


@resolves("CalculatedLineItem", "editableSubtotalSet")
def calculated_editable(line: CalculatedLine, info: GraphQLResolveInfo) -> dict[str, Any]:
    return money_bag(info, line.order, line.discounted_price * line.editable_quantity)


@resolves("CalculatedLineItem", "uneditableSubtotalSet")
def calculated_uneditable(line: CalculatedLine, info: GraphQLResolveInfo) -> dict[str, Any]:
    return money_bag(info, line.order, line.discounted_price * line.fulfilled)


@resolves("CalculatedLineItem", "calculatedDiscountAllocations")
def calculated_allocations(line: CalculatedLine, info: GraphQLResolveInfo) -> list[Any]:
    return [
        {
            "allocatedAmountSet": money_bag(info, line.order, staged.per_unit * line.quantity),
            "discountApplication": staged,
        }
        for staged in line.discounts
    ]


# --- the catalogue and returns ------------------------------------------------------------------


@resolves("Product", "variants")
def product_variants(product: Product, _info: GraphQLResolveInfo, **page: Any) -> dict[str, Any]:
    positions = {variant.id: position for position, variant in enumerate(product.variants)}
    return connection(product.variants, key=lambda v: (positions[v.id], v.id), **page)


@resolves("Product", "featuredMedia")
def product_media(product: Product, _info: GraphQLResolveInfo) -> Any:
    if not product.image_url:
        return None
    return SimpleNamespace(
        kind="MediaImage", alt=product.title, preview={"image": {"url": product.image_url}}
    )


@resolves("ProductVariant", "contextualPricing")
def variant_pricing(
    variant: ProductVariant, info: GraphQLResolveInfo, *, context: dict[str, Any]
) -> dict[str, Any]:
    amount, currency = info.context.store.market_price(variant, context.get("country"))
    return {"price": {"amount": amount, "currencyCode": currency}, "compareAtPrice": None}


@resolves("ProductVariant", "product")
def variant_product(variant: ProductVariant, info: GraphQLResolveInfo) -> Product:
    return info.context.store.products[variant.product_id]


@resolves("Return", "order")
def return_order(found: Return, info: GraphQLResolveInfo) -> Order:
    return info.context.store.orders[found.order_id]


@resolves("Return", "returnLineItems")
def return_lines(found: Return, _info: GraphQLResolveInfo, **page: Any) -> dict[str, Any]:
    return connection(found.lines, key=by_id, **page)


@resolves("Return", "exchangeLineItems")
def return_exchanges(found: Return, _info: GraphQLResolveInfo, **page: Any) -> dict[str, Any]:
    return connection(found.exchanges, key=by_id, **page)


@resolves("Return", "returnShippingFees")
def return_shipping_fees(found: Return, _info: GraphQLResolveInfo) -> list[Fee]:
    return [found.shipping_fee] if found.shipping_fee else []


def fee_amount(fee: Fee, info: GraphQLResolveInfo) -> dict[str, Any]:
    return money_bag(info, info.context.store.orders[fee.order_id], fee.amount)


RESOLVERS["ReturnShippingFee", "amountSet"] = fee_amount
RESOLVERS["RestockingFee", "amountSet"] = fee_amount


@resolves("Shop", "myshopifyDomain")
def shop_domain(shop: Any, _info: GraphQLResolveInfo) -> str:
    return shop.domain


@resolves("Shop", "email")
def shop_email(shop: Any, _info: GraphQLResolveInfo) -> str:
    return shop.contact_email


@resolves("Shop", "currencyCode")
def shop_currency(shop: Any, _info: GraphQLResolveInfo) -> str:
    return shop.currency


# --- mutations ---------------------------------------------------------------------------------


@functools.cache
def country_names(schema: GraphQLSchema) -> dict[str, str]:
    """Shopify's English country names, from its CountryCode enum's descriptions."""
    codes = schema.type_map["CountryCode"].values  # type: ignore[attr-defined]
    return {code: (value.description or code).rstrip(".") for code, value in codes.items()}


@mutation("orderUpdate")
def order_update(context: Context, *, input: dict[str, Any]) -> dict[str, Any]:
    order = context.store.order_by_gid(input["id"])
    if order is None:
        return {"order": None, "userErrors": [user_error(["id"], "Order does not exist")]}
    changes = {name: value for name, value in input.items() if name != "id"}
    if not changes:
        message = "No valid update parameters have been provided"
        return {"order": order, "userErrors": [user_error(None, message)]}
    errors = []
    if changes.get("email") and not addresses.email_is_valid(changes["email"]):
        errors.append(user_error(["email"], "Email is invalid"))
    if changes.get("phone") and not addresses.phone_is_valid(changes["phone"]):
        errors.append(user_error(["phone"], "Phone is invalid"))
    address: Any = UNSET
    if "shippingAddress" in changes:
        fields = changes["shippingAddress"]
        address = fields and addresses.from_input(
            fields,
            country_names=country_names(context.schema),
            previous=order.shipping_address,
        )
        for name, message in addresses.problems(address) if address else []:
            errors.append(user_error(["shippingAddress", name], message))
    if errors:
        return {"order": order, "userErrors": errors}
    context.store.update_order(
        order,
        email=changes.get("email", UNSET),
        phone=changes.get("phone", UNSET),
        note=changes.get("note", UNSET),
        tags=changes.get("tags", UNSET),
        shipping_address=address,
    )
    return {"order": order, "userErrors": []}


def _taken(context: Context, topic: str, uri: str, *, besides: WebhookSubscription | None) -> bool:
    return any(
        s.topic == topic and s.uri == uri and s is not besides
        for s in context.store.subscriptions.values()
    )


SUBSCRIPTION_FIELDS = {
    "uri": "uri",
    "format": "format",
    "includeFields": "include_fields",
    "filter": "filter",
}
ADDRESS_FIELD = ["webhookSubscription", "callbackUrl"]


@mutation("webhookSubscriptionCreate")
def webhook_subscription_create(
    context: Context, *, topic: str, webhookSubscription: dict[str, Any]
) -> dict[str, Any]:
    uri = webhookSubscription.get("uri") or ""
    if not uri:
        return {"userErrors": [user_error(ADDRESS_FIELD, "Address can't be blank")]}
    if _taken(context, topic, uri, besides=None):
        message = "Address for this topic has already been taken"
        return {"userErrors": [user_error(ADDRESS_FIELD, message)]}
    details = {SUBSCRIPTION_FIELDS[k]: v for k, v in webhookSubscription.items() if v is not None}
    subscription = context.store.subscribe(topic=topic, **details)
    return {"webhookSubscription": subscription, "userErrors": []}


@mutation("webhookSubscriptionUpdate")
def webhook_subscription_update(
    context: Context, *, id: str, webhookSubscription: dict[str, Any]
) -> dict[str, Any]:
    number = parse_gid(id, "WebhookSubscription")
    subscription = context.store.subscriptions.get(number) if number is not None else None
    if subscription is None:
        return {"userErrors": [user_error(["id"], "Webhook subscription does not exist")]}
    uri = webhookSubscription.get("uri", subscription.uri)
    if not uri:
        return {"userErrors": [user_error(ADDRESS_FIELD, "Address can't be blank")]}
    if _taken(context, subscription.topic, uri, besides=subscription):
        message = "Address for this topic has already been taken"
        return {"userErrors": [user_error(ADDRESS_FIELD, message)]}
    changes = {SUBSCRIPTION_FIELDS[k]: v for k, v in webhookSubscription.items() if v is not None}
    context.store.update_subscription(subscription, **changes)
    return {"webhookSubscription": subscription, "userErrors": []}


@mutation("tagsAdd")
def tags_add(context: Context, *, id: str, tags: list[str]) -> dict[str, Any]:
    order = context.store.order_by_gid(id)
    if order is None:  # as a real tagsAdd answers an id it cannot tag (2025-01 capture)
        raise GraphQLError("invalid id", extensions={"code": "RESOURCE_NOT_FOUND"})
    context.store.add_tags(order, tags)
    return {"node": order, "userErrors": []}


def _hold_error(message: str, code: str, field: list[str] | None = None) -> dict[str, Any]:
    return {"field": field, "message": message, "code": code}


HOLD_CODES = {
    "splittable": "FULFILLMENT_ORDER_NOT_SPLITTABLE",
    "handle": "DUPLICATE_FULFILLMENT_HOLD_HANDLE",
    "maximum": "FULFILLMENT_ORDER_HOLD_LIMIT_REACHED",
}


@mutation("fulfillmentOrderHold")
def fulfillment_order_hold(
    context: Context, *, id: str, fulfillmentHold: dict[str, Any]
) -> dict[str, Any]:
    found = context.store.fulfillment_order_by_gid(id)
    if found is None:
        error = _hold_error(
            "Fulfillment order does not exist.", "FULFILLMENT_ORDER_NOT_FOUND", ["id"]
        )
        return {"fulfillmentHold": None, "fulfillmentOrder": None, "userErrors": [error]}
    order, fulfillment_order = found
    try:
        hold = context.store.hold_fulfillment_order(
            order,
            fulfillment_order,
            reason=fulfillmentHold["reason"],
            handle=fulfillmentHold.get("handle"),
            notes=fulfillmentHold.get("reasonNotes"),
        )
    except NotAllowed as refused:
        message = str(refused)
        code = next((c for key, c in HOLD_CODES.items() if key in message), "TAKEN")
        return {
            "fulfillmentHold": None,
            "fulfillmentOrder": fulfillment_order,
            "userErrors": [_hold_error(message, code)],
        }
    return {"fulfillmentHold": hold, "fulfillmentOrder": fulfillment_order, "userErrors": []}


@mutation("fulfillmentOrderReleaseHold")
def fulfillment_order_release_hold(
    context: Context, *, id: str, holdIds: list[str] | None = None, externalId: str | None = None
) -> dict[str, Any]:
    found = context.store.fulfillment_order_by_gid(id)
    if found is None:
        error = _hold_error(
            "Fulfillment order does not exist.", "FULFILLMENT_ORDER_NOT_FOUND", ["id"]
        )
        return {"fulfillmentOrder": None, "userErrors": [error]}
    order, fulfillment_order = found
    ids = None if holdIds is None else [int(gid.rsplit("/", 1)[-1]) for gid in holdIds]
    try:
        context.store.release_fulfillment_holds(order, fulfillment_order, ids)
    except NotAllowed as refused:
        error = _hold_error(str(refused), "FULFILLMENT_ORDER_NOT_FOUND", ["id"])
        return {"fulfillmentOrder": fulfillment_order, "userErrors": [error]}
    return {"fulfillmentOrder": fulfillment_order, "userErrors": []}


@mutation("orderCancel")
def order_cancel(
    context: Context,
    *,
    orderId: str,
    restock: bool,
    reason: str,
    refund: bool | None = None,
    refundMethod: dict[str, Any] | None = None,
    notifyCustomer: bool = False,
    staffNote: str | None = None,
) -> dict[str, Any]:
    """Cancels at once (a real one is a job, answered not done yet, as here). The refusals'
    words are a real 2026-04 orderCancel's (captures/.../orderCancel-error-messages.json)."""

    def refused(path: list[str], message: str, code: str = "INVALID") -> dict[str, Any]:
        error = user_error(path, message)
        return {
            "job": None,
            "orderCancelUserErrors": [{**error, "code": code}],
            "userErrors": [error],
        }

    if staffNote and len(staffNote) > 255:
        return refused(["staffNote"], "Staff note is too long. Maximum length is 255 characters.")
    if refund is not None and refundMethod is not None:
        return refused(
            ["refund"], "Only one of the arguments `refund` or `refund_method` is allowed."
        )
    order = context.store.order_by_gid(orderId)
    if order is None:
        return refused(["orderId"], "Order does not exist", code="NOT_FOUND")
    refunded = bool(refund or (refundMethod or {}).get("originalPaymentMethodsRefund"))
    try:
        context.store.cancel(order, reason=reason, refund=refunded)
    except NotAllowed as error:
        return refused(["orderId"], str(error))
    job = {"id": gid("Job", str(uuid.uuid4())), "done": False}
    return {"job": job, "orderCancelUserErrors": [], "userErrors": []}


# --- returns -----------------------------------------------------------------------------------
# Refusals carry Shopify's words and codes (see Store's returns); their field path is the
# mutation's own: ["input", ...], ["returnInput", ...] or ["id"].


def refusal(prefix: list[str], refused: Refused) -> dict[str, Any]:
    errors = [
        {
            "field": [*prefix, *(problem.field or [])],
            "message": problem.message,
            "code": problem.code,
        }
        for problem in refused.problems
    ]
    return {"return": None, "userErrors": errors}


def new_return_lines(lines: list[dict[str, Any]]) -> list[NewReturnLine]:
    return [
        NewReturnLine(
            fulfillment_line_id=parse_gid(line["fulfillmentLineItemId"], "FulfillmentLineItem"),
            quantity=line["quantity"],
            # A reason given only as a returnReasonDefinitionId reads UNKNOWN (the sandbox keeps
            # no reason definitions).
            return_reason=line.get("returnReason") or "UNKNOWN",
            return_reason_note=line.get("returnReasonNote") or "",
            customer_note=line.get("customerNote"),
            restocking_fee_percentage=(line.get("restockingFee") or {}).get("percentage"),
        )
        for line in lines
    ]


def shipping_fee(context: Context, order: Order, given: dict[str, Any] | None) -> Decimal | None:
    """The fee in the order's currency. Given in the shop's currency it is converted; any other
    currency is refused (the sandbox's rule and words: the captures only show the order's)."""
    if not given:
        return None
    money = given["amount"]
    amount, currency = Decimal(str(money["amount"])), money["currencyCode"]
    if currency == order.currency:
        return amount
    if currency == context.store.shop.currency:
        return rounded(amount * order.exchange_rate, order.currency)
    path = ["returnShippingFee", "amount", "currencyCode"]
    raise Refused(Problem(path, "Currency code must be the order's currency.", "INVALID"))


def _order_for_return(context: Context, order_id: str) -> Order:
    order = context.store.order_by_gid(order_id)
    if order is None:  # the sandbox's words: no capture asks for an unknown order's return
        raise Refused(Problem(["orderId"], "Order does not exist.", "NOT_FOUND"))
    return order


@mutation("returnRequest")
def return_request(context: Context, *, input: dict[str, Any]) -> dict[str, Any]:
    try:
        order = _order_for_return(context, input["orderId"])
        made = context.store.request_return(
            order,
            lines=new_return_lines(input["returnLineItems"]),
            shipping_fee=shipping_fee(context, order, input.get("returnShippingFee")),
        )
    except Refused as refused:
        return refusal(["input"], refused)
    return {"return": made, "userErrors": []}


@mutation("returnCreate")
def return_create(context: Context, *, returnInput: dict[str, Any]) -> dict[str, Any]:
    exchanges = [
        NewExchangeLine(
            variant_id=parse_gid(line["variantId"], "ProductVariant")
            if line.get("variantId")
            else None,
            quantity=line["quantity"],
        )
        for line in returnInput.get("exchangeLineItems") or []
    ]
    try:
        order = _order_for_return(context, returnInput["orderId"])
        made = context.store.create_return(
            order,
            lines=new_return_lines(returnInput["returnLineItems"]),
            exchanges=exchanges,
            shipping_fee=shipping_fee(context, order, returnInput.get("returnShippingFee")),
        )
    except Refused as refused:
        return refusal(["returnInput"], refused)
    return {"return": made, "userErrors": []}


def _on_return(
    context: Context, return_id: str, prefix: list[str], operation: Callable[[Return], Return]
) -> dict[str, Any]:
    found = context.store.return_by_gid(return_id)
    try:
        if found is None:
            raise Refused(Problem(["id"], "Return not found.", "NOT_FOUND"))
        return {"return": operation(found), "userErrors": []}
    except Refused as refused:
        return refusal(prefix, refused)


@mutation("returnApproveRequest")
def return_approve_request(context: Context, *, input: dict[str, Any]) -> dict[str, Any]:
    return _on_return(context, input["id"], ["input"], context.store.approve_return)


@mutation("returnDeclineRequest")
def return_decline_request(context: Context, *, input: dict[str, Any]) -> dict[str, Any]:
    def decline(found: Return) -> Return:
        return context.store.decline_return(
            found, reason=input["declineReason"], note=input.get("declineNote")
        )

    return _on_return(context, input["id"], ["input"], decline)


@mutation("returnCancel")
def return_cancel(
    context: Context, *, id: str, notifyCustomer: bool | None = None
) -> dict[str, Any]:
    return _on_return(context, id, [], context.store.cancel_return)


@mutation("returnClose")
def return_close(context: Context, *, id: str) -> dict[str, Any]:
    return _on_return(context, id, [], context.store.close_return)


@mutation("returnReopen")
def return_reopen(context: Context, *, id: str) -> dict[str, Any]:
    return _on_return(context, id, [], context.store.reopen_return)


# --- order edits -----------------------------------------------------------------------------
# Shopify's words from real 2026-04 captures (order-edit-lifecycle-user-errors, order-edit-
# existing-order-validation, orderEdit-quantity-validation). The payload's other fields are null
# on a refusal, as there.


def edit_answer(
    session: EditSession | None, *, line: CalculatedLine | None = None, **more: Any
) -> dict[str, Any]:
    return {
        "calculatedOrder": session,
        "calculatedLineItem": line,
        "orderEditSession": {"id": session.session_gid} if session else None,
        "userErrors": [],
        **more,
    }


def edit_refusal(*problems: Problem) -> dict[str, Any]:
    errors = [user_error(problem.field, problem.message) for problem in problems]
    return {
        "calculatedOrder": None,
        "calculatedLineItem": None,
        "orderEditSession": None,
        "addedDiscountStagedChange": None,
        "userErrors": errors,
    }


NO_CALCULATED_ORDER = Problem(["id"], "The calculated order does not exist.")
NO_LINE = "The line item does not exist on the order."


@mutation("orderEditBegin")
def order_edit_begin(context: Context, *, id: str) -> dict[str, Any]:
    order = context.store.order_by_gid(id)
    if order is None:
        return edit_refusal(Problem(["id"], "The order does not exist."))
    try:
        session = context.store.begin_edit(order)
    except Refused as refused:
        return edit_refusal(*refused.problems)
    return edit_answer(session)


@mutation("orderEditSetQuantity")
def order_edit_set_quantity(
    context: Context,
    *,
    id: str,
    lineItemId: str,
    quantity: int,
    restock: bool | None = None,
    locationId: str | None = None,
) -> dict[str, Any]:
    session = context.store.edit_session(id)
    if session is None:
        return edit_refusal(NO_CALCULATED_ORDER)
    if quantity < 0:
        return edit_refusal(Problem(["quantity"], "must be greater than or equal to 0"))
    line = session.find(lineItemId)
    if line is None:
        return edit_refusal(Problem(["lineItemId"], NO_LINE))
    try:
        context.store.set_edit_quantity(session, line, quantity, restock=bool(restock))
    except Refused as refused:
        return edit_refusal(*refused.problems)
    return edit_answer(session, line=line)


@mutation("orderEditAddVariant")
def order_edit_add_variant(
    context: Context,
    *,
    id: str,
    variantId: str,
    quantity: int,
    locationId: str | None = None,
    allowDuplicates: bool = False,
) -> dict[str, Any]:
    session = context.store.edit_session(id)
    if session is None:
        return edit_refusal(NO_CALCULATED_ORDER)
    number = parse_gid(variantId, "ProductVariant")
    if number == 0:
        message = "can't convert Integer[0] to a positive Integer to use as an untrusted id"
        return edit_refusal(Problem(["variantId"], message))
    variant = context.store.variants.get(number) if number is not None else None
    if variant is None:
        return edit_refusal(Problem(["variantId"], "The variant does not exist in the shop."))
    try:
        line = context.store.add_edit_variant(
            session, variant, quantity, allow_duplicates=bool(allowDuplicates)
        )
    except Refused as refused:
        return edit_refusal(*refused.problems)
    return edit_answer(session, line=line)


@mutation("orderEditAddLineItemDiscount")
def order_edit_add_line_item_discount(
    context: Context, *, id: str, lineItemId: str, discount: dict[str, Any]
) -> dict[str, Any]:
    session = context.store.edit_session(id)
    if session is None:
        return edit_refusal(NO_CALCULATED_ORDER)
    line = session.find(lineItemId)
    if line is None:  # under ["id"], as the real capture has it
        return edit_refusal(Problem(["id"], NO_LINE))
    fixed = None
    if discount.get("fixedValue"):
        try:
            fixed = order_money(context, session.order, discount["fixedValue"])
        except Refused as refused:
            path = ["discount", "fixedValue", "currencyCode"]
            return edit_refusal(*(Problem(path, p.message) for p in refused.problems))
    try:
        staged = context.store.add_edit_discount(
            session,
            line,
            description=discount.get("description"),
            percent=discount.get("percentValue"),
            fixed=fixed,
        )
    except Refused as refused:
        return edit_refusal(*refused.problems)
    change = {
        "id": gid("OrderStagedChangeAddLineItemDiscount", staged.change_id),
        "description": staged.description,
    }
    return edit_answer(session, line=line, addedDiscountStagedChange=change)


@mutation("orderEditCommit")
def order_edit_commit(
    context: Context,
    *,
    id: str,
    notifyCustomer: bool | None = None,
    staffNote: str | None = None,
) -> dict[str, Any]:
    """A committed session is gone: committing it again is answered as an unknown one (the
    sandbox's reading; no capture commits twice)."""

    def refused(*problems: Problem) -> dict[str, Any]:
        errors = [user_error(problem.field, problem.message) for problem in problems]
        return {"order": None, "successMessages": None, "userErrors": errors}

    session = context.store.edit_session(id)
    if session is None:
        return refused(NO_CALCULATED_ORDER)
    try:
        messages = context.store.commit_edit(
            session, notify=bool(notifyCustomer), staff_note=staffNote
        )
    except Refused as refusal_:
        return refused(*refusal_.problems)
    return {"order": session.order, "successMessages": messages, "userErrors": []}


def order_money(context: Context, order: Order, given: dict[str, Any]) -> Decimal:
    """A MoneyInput as an amount in the order's currency: the shop's currency is converted at
    the order's rate; any other is refused (the sandbox's rule and words)."""
    amount, currency = Decimal(str(given["amount"])), given["currencyCode"]
    if currency == order.currency:
        return amount
    if currency == context.store.shop.currency:
        return rounded(amount * order.exchange_rate, order.currency)
    raise Refused(Problem(["currencyCode"], "Currency code must be the order's currency."))


# --- refunds ---------------------------------------------------------------------------------

IDEMPOTENT = "idempotent"
# What Shopify answers a refundCreate without the directive, since 2026-04 (its changelog says
# it is required at run time; the words are those real answers carry).
IDEMPOTENCY_REQUIRED = (
    "The @idempotent directive is required for this mutation but was not provided."
)


def idempotency_key(info: GraphQLResolveInfo) -> str:
    directive = info.schema.get_directive(IDEMPOTENT)
    assert directive is not None
    given = get_directive_values(directive, info.field_nodes[0], info.variable_values)
    key = (given or {}).get("key")
    if key is None:
        raise GraphQLError(IDEMPOTENCY_REQUIRED, extensions={"code": "BAD_REQUEST"})
    if not key.strip():  # the directive's own description forbids it; the words are the sandbox's
        message = "The idempotency key cannot be an empty string or whitespace only."
        raise GraphQLError(message, extensions={"code": "BAD_REQUEST"})
    return key


@mutation("refundCreate")
def refund_create(
    context: Context, *, input: dict[str, Any], info: GraphQLResolveInfo
) -> dict[str, Any]:
    """refundCreate @idempotent(key:): the same key again answers the refund it made, and
    refunds nothing more, whatever the input (no capture shows Shopify's answer to another
    input under a used key)."""
    key = idempotency_key(info)
    store = context.store
    earlier = store.refund_for_key(key)
    if earlier is not None:
        order = store.orders[earlier.order_id]
        return {"refund": earlier, "order": order, "userErrors": [], REPLAYED: True}
    order = store.order_by_gid(input["orderId"])
    if order is None:
        return {
            "refund": None,
            "order": None,
            "userErrors": [user_error(["orderId"], "Order does not exist")],
        }
    try:
        store_credit = None
        for index, method in enumerate(input.get("refundMethods") or []):
            credit = method.get("storeCreditRefund")
            if credit:
                try:
                    amount = order_money(context, order, credit["amount"])
                except Refused as refused:
                    path = ["refundMethods", str(index), "storeCreditRefund", "amount"]
                    raise Refused(
                        *(Problem([*path, *(p.field or [])], p.message) for p in refused.problems)
                    ) from None
                store_credit = (store_credit or Decimal(0)) + amount
        made = store.create_refund(
            order,
            transactions=[
                NewRefundTransaction(
                    amount=Decimal(str(given["amount"])),
                    kind=given["kind"],
                    gateway=given["gateway"],
                    parent_id=parse_gid(given["parentId"], "OrderTransaction")
                    if given.get("parentId")
                    else None,
                )
                for given in input.get("transactions") or []
            ],
            lines=[
                NewRefundLine(
                    line_id=parse_gid(given["lineItemId"], "LineItem"),
                    quantity=given["quantity"],
                    restock_type=given.get("restockType") or "NO_RESTOCK",
                )
                for given in input.get("refundLineItems") or []
            ],
            store_credit=store_credit,
            note=input.get("note"),
            currency=input.get("currency"),
            key=key,
        )
    except Refused as refused:
        errors = [user_error(problem.field, problem.message) for problem in refused.problems]
        return {"refund": None, "order": order, "userErrors": errors}
    return {"refund": made, "order": order, "userErrors": []}
