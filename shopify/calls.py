"""Typed calls of the Admin API: the only place that builds Shopify's ids and variables and reads
its answers for the apps above. An app says "cancel order 123, restock, refund" and gets back
plain values; it never sees a gid, a GraphQL variable or a node.

Every call raises what `Client` raises (`Transient`, `Permanent`, `UserErrors`); an order or a
return that no longer exists in Shopify is `Permanent`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from orders.addresses import ADDRESS_FIELDS
from shopify import documents
from shopify.client import Client, Permanent
from shopify.ingest import gid_number


def gid(kind: str, number: int) -> str:
    """("Order", 123) -> gid://shopify/Order/123, how the Admin API names things."""
    return f"gid://shopify/{kind}/{number}"


# Orders.

SHIPPED = {"SUCCESS"}
PREPARING = {"PENDING", "OPEN"}
# What happened to the shopper's money, from Shopify's displayFinancialStatus.
PAYMENT = {"REFUNDED": "refunded", "PARTIALLY_REFUNDED": "refunded", "VOIDED": "voided"}


@dataclass(frozen=True)
class OrderState:
    """The order as Shopify has it now: how far fulfilment has gone, and what a change replaces."""

    cancelled: bool
    cancel_reason: str  # Shopify's OrderCancelReason, e.g. "CUSTOMER"
    warehouse_started: bool
    shipped: bool
    delivered: bool
    payment: str  # "refunded", "voided" (an authorisation released: nothing charged), or "kept"
    email: str
    phone: str
    shipping_address: dict[str, str]  # the mirror's REST keys
    fulfillment_orders: tuple[FulfillmentOrderState, ...]

    def holdable(self) -> tuple[FulfillmentOrderState, ...]:
        """The fulfilment orders the warehouse has not started: those a hold keeps waiting."""
        return tuple(fo for fo in self.fulfillment_orders if fo.status in HOLDABLE)


# A fulfilment order not yet started: open, scheduled (a pre-order, a subscription), or held by
# someone (holds stack: each app's and the merchant's, released one by one).
HOLDABLE = {"OPEN", "SCHEDULED", "ON_HOLD"}


@dataclass(frozen=True)
class FulfillmentOrderState:
    id: str
    status: str
    holds: dict[str, str]  # the holds on it: handle -> hold id (holds without a handle left out)


def order_state(client: Client, order_id: int) -> OrderState:
    node = client.query(documents.ORDER_STATE, {"id": gid("Order", order_id)}).get("order")
    if node is None:
        raise Permanent(f"order {order_id} no longer exists in Shopify")
    address = node.get("shippingAddress") or {}
    return OrderState(
        **_progress(node),
        cancel_reason=node.get("cancelReason") or "",
        payment=PAYMENT.get(node.get("displayFinancialStatus") or "", "kept"),
        email=node.get("email") or "",
        phone=node.get("phone") or "",
        shipping_address={key: address.get(name) or "" for key, name in ADDRESS_FIELDS},
        fulfillment_orders=tuple(
            FulfillmentOrderState(
                id=fo["id"],
                status=fo.get("status") or "",
                holds={
                    hold["handle"]: hold["id"]
                    for hold in fo.get("fulfillmentHolds") or []
                    if hold.get("handle")
                },
            )
            for fo in (node.get("fulfillmentOrders") or {}).get("nodes") or []
        ),
    )


def _progress(node: dict[str, Any]) -> dict[str, bool]:
    """How far fulfilment has gone, from an order's fulfilment orders and fulfilments."""
    fulfillment_orders = (node.get("fulfillmentOrders") or {}).get("nodes") or []
    fulfillments = node.get("fulfillments") or []
    shipped = [f for f in fulfillments if f.get("status") in SHIPPED]
    return {
        "cancelled": bool(node.get("cancelledAt")),
        # A closed fulfilment order alone says nothing: Shopify closes one whose items an order
        # edit took away. What left, or is being prepared, is in the fulfilments.
        "warehouse_started": any(fo["status"] == "IN_PROGRESS" for fo in fulfillment_orders)
        or any(f.get("status") in PREPARING | SHIPPED for f in fulfillments),
        "shipped": bool(shipped),
        "delivered": bool(shipped)
        and node.get("displayFulfillmentStatus") == "FULFILLED"
        and all(f.get("deliveredAt") for f in shipped),
    }


def mailing_address(address: dict[str, Any]) -> dict[str, Any]:
    """The mirror's REST-shaped address -> Shopify's MailingAddressInput (which names the
    country's code `countryCode`, where the address it reads back says `countryCodeV2`). The
    country follows its code, and the province its code where there is one."""
    fields = {
        ("countryCode" if name == "countryCodeV2" else name): address.get(key) or None
        for key, name in ADDRESS_FIELDS
        if key not in ("country", "province")
    }
    if not fields["provinceCode"] and address.get("province"):
        fields["province"] = address["province"]
    return fields


def update_order(
    client: Client,
    order_id: int,
    *,
    shipping_address: dict[str, Any] | None = None,
    contact: dict[str, str | None] | None = None,
) -> None:
    """orderUpdate with only what is given: the address whole, and of the contact details
    ("email", "phone") only the keys present."""
    values: dict[str, Any] = {"id": gid("Order", order_id)}
    if shipping_address is not None:
        values["shippingAddress"] = mailing_address(shipping_address)
    for key, value in (contact or {}).items():
        if key not in ("email", "phone"):
            raise ValueError(f"{key} is not a contact detail")
        values[key] = value
    client.mutate(documents.ORDER_UPDATE, {"input": values}, payload="orderUpdate")


def cancel_order(
    client: Client,
    order_id: int,
    *,
    restock: bool,
    refund: bool,
    notify: bool,
    staff_note: str = "",
    reason: str = "CUSTOMER",
) -> None:
    client.mutate(
        documents.ORDER_CANCEL,
        {
            "orderId": gid("Order", order_id),
            "reason": reason,
            "restock": restock,
            "refundMethod": {"originalPaymentMethodsRefund": refund},
            "notifyCustomer": notify,
            "staffNote": staff_note[:255] or None,  # Shopify refuses a longer note
        },
        payload="orderCancel",
    )


def add_tags(client: Client, order_id: int, tags: Iterable[str]) -> None:
    client.mutate(
        documents.TAGS_ADD, {"id": gid("Order", order_id), "tags": list(tags)}, payload="tagsAdd"
    )


def hold_fulfillment_order(
    client: Client, fulfillment_order: str, *, handle: str, note: str, reason: str = "OTHER"
) -> str:
    """Our hold, under our own handle, for one of Shopify's FulfillmentHoldReasons; the hold's
    id, to release exactly it later."""
    result = client.mutate(
        documents.FULFILLMENT_ORDER_HOLD,
        {
            "id": fulfillment_order,
            "fulfillmentHold": {"reason": reason, "reasonNotes": note, "handle": handle},
        },
        payload="fulfillmentOrderHold",
    )
    return result["fulfillmentHold"]["id"]


def release_hold(client: Client, fulfillment_order: str, hold: str) -> None:
    client.mutate(
        documents.FULFILLMENT_ORDER_RELEASE_HOLD,
        {"id": fulfillment_order, "holdIds": [hold]},
        payload="fulfillmentOrderReleaseHold",
    )


# Item changes: Shopify's order edits.


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class OrderLine:
    """A line of the order as it is now."""

    id: int
    quantity: int  # Shopify's currentQuantity: what is still ordered
    variant_id: int | None


@dataclass(frozen=True)
class Transaction:
    id: str
    kind: str  # SALE, CAPTURE, AUTHORIZATION, REFUND...
    status: str  # SUCCESS, PENDING, FAILURE...
    gateway: str
    amount: Money
    parent_id: str = ""  # what a capture captures, what a refund refunds


# Paid, and what was paid not all refunded: an order a change may make dearer or cheaper. An
# authorised, pending or partly paid order owes its own balance first; an edit would mix the two.
SETTLED = {"PAID", "PARTIALLY_REFUNDED"}


@dataclass(frozen=True)
class EditableOrder:
    """An order about to be edited: whether Shopify lets it be, how far fulfilment has gone,
    its lines now, its payment (what was received, what it owes; negative: owed back), and the
    transactions a refund goes back to."""

    cancelled: bool
    warehouse_started: bool
    shipped: bool
    delivered: bool
    editable: bool
    not_editable_because: tuple[str, ...]
    financial_status: str  # Shopify's displayFinancialStatus
    received: Money
    outstanding: Money
    payment_url: str
    lines: dict[int, OrderLine]
    transactions: tuple[Transaction, ...]

    @property
    def settled(self) -> bool:
        """Paid in full and owing nothing: a change's difference is then the whole balance."""
        return self.financial_status in SETTLED and self.outstanding.amount == 0

    def payment_for(self, amount: Decimal) -> Transaction | None:
        """The payment a refund of `amount` goes back to: the first successful sale or capture
        with that much left after its refunds; none when no single payment has it."""
        refunded: dict[str, Decimal] = {}
        for t in self.transactions:
            if t.kind == "REFUND" and t.status == "SUCCESS" and t.parent_id:
                refunded[t.parent_id] = refunded.get(t.parent_id, Decimal(0)) + t.amount.amount
        return next(
            (
                t
                for t in self.transactions
                if t.kind in ("SALE", "CAPTURE")
                and t.status == "SUCCESS"
                and t.amount.amount - refunded.get(t.id, Decimal(0)) >= amount
            ),
            None,
        )


@dataclass(frozen=True)
class EditedLine:
    """A line an order edit changed or added, as Shopify calculates it."""

    line_id: int | None  # the order's line it is; None for a line the edit adds
    variant_id: int | None
    title: str
    variant_title: str
    quantity: int
    unit_price: Decimal  # after discounts, in the order's currency

    @property
    def total(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class OrderEdit:
    """Staged changes to an order, not committed: what the order would be."""

    id: str  # what `commit_edit` commits
    original_total: Money  # the order's total before the edit
    total: Money
    outstanding: Money  # what the order would owe; negative: owed back
    lines: tuple[EditedLine, ...]  # the lines changed or added, in the order staged
    # The same two totals in the shop's currency (what the merchant's reports count in).
    original_in_shop: Money | None = None
    total_in_shop: Money | None = None

    @property
    def difference(self) -> Decimal:
        """How much dearer the order becomes (negative: cheaper)."""
        return self.total.amount - self.original_total.amount


@dataclass(frozen=True)
class Addition:
    variant_id: int
    quantity: int
    # Off each unit, as a percentage of its price: Shopify applies a line's percentage to every
    # unit (the 2025-01 capture: 10 % of 2 × 100 is 90 each), where a fixed amount's reading
    # (per unit, or the line's) is not documented.
    discount_percent: Decimal = Decimal(0)
    discount_note: str = ""
    # A second line of a variant the edit adds already (at another discount): Shopify adds no
    # second line of one variant unless asked to.
    duplicate: bool = False


def editable_order(client: Client, order_id: int) -> EditableOrder:
    node = client.query(documents.EDITABLE_ORDER, {"id": gid("Order", order_id)}).get("order")
    if node is None:
        raise Permanent(f"order {order_id} no longer exists in Shopify")
    lines = {}
    for line in _nodes(node, "lineItems"):
        number = gid_number(line["id"]) or 0
        lines[number] = OrderLine(
            id=number,
            quantity=int(line.get("currentQuantity") or 0),
            variant_id=gid_number((line.get("variant") or {}).get("id")),
        )
    return EditableOrder(
        **_progress(node),
        editable=bool(node.get("merchantEditable")),
        not_editable_because=tuple(node.get("merchantEditableErrors") or ()),
        financial_status=node.get("displayFinancialStatus") or "",
        received=_money(node.get("totalReceivedSet")),
        outstanding=_money(node.get("totalOutstandingSet")),
        payment_url=(node.get("paymentCollectionDetails") or {}).get(
            "additionalPaymentCollectionUrl"
        )
        or "",
        lines=lines,
        transactions=tuple(
            Transaction(
                id=t["id"],
                kind=t.get("kind") or "",
                status=t.get("status") or "",
                gateway=t.get("gateway") or "",
                amount=_money(t.get("amountSet")),
                parent_id=(t.get("parentTransaction") or {}).get("id") or "",
            )
            for t in node.get("transactions") or []
        ),
    )


def stage_edit(
    client: Client,
    order_id: int,
    *,
    quantities: dict[int, int],
    additions: list[Addition],
    restock: bool = True,
) -> OrderEdit:
    """Begin an edit and stage the changes: each line's new quantity (0 removes it), and the
    variants added (with their discount, if any). Nothing changes until
    `commit_edit`; an edit never committed is forgotten. A swap is both: the old line to 0,
    the new variant added."""
    node = _staged(
        client.mutate(
            documents.ORDER_EDIT_BEGIN, {"id": gid("Order", order_id)}, payload="orderEditBegin"
        )
    )
    edit_id, original_total = node["id"], _money(node.get("totalPriceSet"))
    original_in_shop = _money(node.get("totalPriceSet"), "shopMoney")
    lines: list[EditedLine] = []
    for line_id, quantity in quantities.items():
        result = client.mutate(
            documents.ORDER_EDIT_SET_QUANTITY,
            {
                "id": edit_id,
                "lineItemId": gid("CalculatedLineItem", line_id),
                "quantity": quantity,
                "restock": restock,
            },
            payload="orderEditSetQuantity",
        )
        node = _staged(result)
        lines.append(_edited_line(result.get("calculatedLineItem") or {}, line_id=line_id))
    for addition in additions:
        result = client.mutate(
            documents.ORDER_EDIT_ADD_VARIANT,
            {
                "id": edit_id,
                "variantId": gid("ProductVariant", addition.variant_id),
                "quantity": addition.quantity,
                "allowDuplicates": addition.duplicate,
            },
            payload="orderEditAddVariant",
        )
        node = _staged(result)
        added = result.get("calculatedLineItem") or {}
        if addition.discount_percent > 0 and added.get("id"):
            result = client.mutate(
                documents.ORDER_EDIT_ADD_LINE_ITEM_DISCOUNT,
                {
                    "id": edit_id,
                    "lineItemId": added["id"],
                    "discount": {
                        "percentValue": float(addition.discount_percent),
                        "description": addition.discount_note[:255] or None,
                    },
                },
                payload="orderEditAddLineItemDiscount",
            )
            node = _staged(result)
            added = result.get("calculatedLineItem") or added
        lines.append(_edited_line(added, line_id=None))
    return OrderEdit(
        id=edit_id,
        original_total=original_total,
        total=_money(node.get("totalPriceSet")),
        outstanding=_money(node.get("totalOutstandingSet")),
        lines=tuple(lines),
        original_in_shop=original_in_shop,
        total_in_shop=_money(node.get("totalPriceSet"), "shopMoney"),
    )


def commit_edit(client: Client, edit_id: str, *, notify: bool, staff_note: str) -> None:
    """Make the staged edit the order. It moves no money: what the order then owes is paid on
    Shopify's payment page, what it is owed is refunded (`refund`)."""
    client.mutate(
        documents.ORDER_EDIT_COMMIT,
        {"id": edit_id, "notifyCustomer": notify, "staffNote": staff_note[:255] or None},
        payload="orderEditCommit",
    )


def refund(
    client: Client,
    order_id: int,
    *,
    amount: Money,
    key: str,
    to_payment: Transaction | None,
    note: str = "",
) -> Money:
    """Give `amount` back: to the original payment (`to_payment`, the sale it refunds) or, when
    there is none, as store credit. Idempotent under `key`: a second call refunds nothing more."""
    order = gid("Order", order_id)
    value = {"amount": str(amount.amount), "currencyCode": amount.currency}
    refund_input: dict[str, Any] = {
        "orderId": order,
        "currency": amount.currency,
        "note": note[:255] or None,
        "notify": False,  # the portal tells the shopper, in their language
    }
    if to_payment is not None:
        refund_input["transactions"] = [
            {
                "orderId": order,
                "parentId": to_payment.id,
                "gateway": to_payment.gateway,
                "kind": "REFUND",
                "amount": str(amount.amount),
            }
        ]
    else:
        refund_input["refundMethods"] = [{"storeCreditRefund": {"amount": value}}]
    result = client.mutate(
        documents.REFUND_CREATE, {"input": refund_input, "key": key}, payload="refundCreate"
    )
    return _money((result.get("refund") or {}).get("totalRefundedSet"))


def _staged(result: dict[str, Any]) -> dict[str, Any]:
    """The calculated order of a staging mutation's answer."""
    node = result.get("calculatedOrder")
    if not node:
        raise Permanent("Shopify answered an order edit without the calculated order")
    return node


def _nodes(node: dict[str, Any], connection: str) -> list[dict[str, Any]]:
    return (node.get(connection) or {}).get("nodes") or []


def _edited_line(line: dict[str, Any], *, line_id: int | None) -> EditedLine:
    return EditedLine(
        line_id=line_id,
        variant_id=gid_number((line.get("variant") or {}).get("id")),
        title=line.get("title") or "",
        variant_title=line.get("variantTitle") or "",
        quantity=int(line.get("quantity") or 0),
        unit_price=Decimal(
            str(
                ((line.get("discountedUnitPriceSet") or {}).get("presentmentMoney") or {}).get(
                    "amount"
                )
                or "0"
            )
        ),
    )


def _money(bag: dict[str, Any] | None, side: str = "presentmentMoney") -> Money:
    money = (bag or {}).get(side) or {}
    return Money(Decimal(str(money.get("amount") or "0")), money.get("currencyCode") or "")


# Returns.


@dataclass(frozen=True)
class ParcelLine:
    """Some of an order line, in one parcel (Shopify's fulfillment line item)."""

    id: str
    line_item_id: int
    quantity: int
    shipped: bool


@dataclass(frozen=True)
class Return:
    """A return as Shopify has it."""

    id: int
    name: str
    status: str  # REQUESTED, OPEN, DECLINED, CLOSED, CANCELED
    items: tuple[tuple[str, int], ...]  # (parcel line id, quantity)
    processed: bool = False  # every item processed (refunded, credited or exchanged)
    decline_note: str = ""

    @property
    def holds_items(self) -> bool:
        """Its items count as taken (they cannot be returned again)."""
        return self.status in ("REQUESTED", "OPEN", "CLOSED")


@dataclass(frozen=True)
class ReturnableItems:
    """What was shipped of an order, parcel by parcel, and the returns it already has."""

    parcel_lines: tuple[ParcelLine, ...]
    returns: tuple[Return, ...]

    def free(self) -> dict[int, list[tuple[str, int]]]:
        """Order line id -> (parcel line id, quantity not held by a return), shipped parcels
        only, in Shopify's order."""
        held: dict[str, int] = {}
        for ret in self.returns:
            if ret.holds_items:
                for key, quantity in ret.items:
                    held[key] = held.get(key, 0) + quantity
        free: dict[int, list[tuple[str, int]]] = {}
        for part in self.parcel_lines:
            left = part.quantity - held.get(part.id, 0)
            if part.shipped and left > 0:
                free.setdefault(part.line_item_id, []).append((part.id, left))
        return free

    def items_of(self, ret: Return) -> dict[int, int]:
        """Order line id -> quantity, of one return."""
        line_of = {part.id: part.line_item_id for part in self.parcel_lines}
        items: dict[int, int] = {}
        for key, quantity in ret.items:
            if key in line_of:
                items[line_of[key]] = items.get(line_of[key], 0) + quantity
        return items


@dataclass(frozen=True)
class ReturnItem:
    """One parcel line going back, as `returnRequest` and `returnCreate` take it."""

    parcel_line: str
    quantity: int
    reason: str  # Shopify's ReturnReason
    note: str = ""
    restocking_fee_percent: Decimal | None = None


@dataclass(frozen=True)
class Exchange:
    variant_id: int
    quantity: int


def returnable_items(client: Client, order_id: int) -> ReturnableItems:
    node = client.query(documents.RETURNABLE_ITEMS, {"id": gid("Order", order_id)}).get("order")
    if node is None:
        raise Permanent(f"order {order_id} no longer exists in Shopify")
    parcel_lines = tuple(
        ParcelLine(
            id=part["id"],
            line_item_id=gid_number(part["lineItem"]["id"]) or 0,
            quantity=int(part["quantity"]),
            shipped=fulfillment.get("status") in SHIPPED,
        )
        for fulfillment in node.get("fulfillments") or []
        for part in (fulfillment.get("fulfillmentLineItems") or {}).get("nodes") or []
    )
    returns = tuple(_return(ret) for ret in (node.get("returns") or {}).get("nodes") or [])
    return ReturnableItems(parcel_lines, returns)


def return_state(client: Client, return_id: int) -> Return | None:
    node = client.query(documents.RETURN_STATE, {"id": gid("Return", return_id)}).get("return")
    return _return(node) if node else None


def request_return(
    client: Client, order_id: int, items: list[ReturnItem], *, shipping_fee: Money | None
) -> Return:
    """returnRequest: REQUESTED, for the merchant to approve. It takes no exchange items."""
    result = client.mutate(
        documents.RETURN_REQUEST,
        {
            "input": {
                "orderId": gid("Order", order_id),
                # Shopify takes 300 characters of the customer's note...
                "returnLineItems": [
                    {**_item(item), "customerNote": item.note[:300]} for item in items
                ],
                "returnShippingFee": _fee(shipping_fee),
            }
        },
        payload="returnRequest",
    )
    return _return(result["return"])


def create_return(
    client: Client,
    order_id: int,
    items: list[ReturnItem],
    *,
    exchanges: list[Exchange],
    shipping_fee: Money | None,
) -> Return:
    """returnCreate: OPEN at once, with the variants sent in exchange."""
    result = client.mutate(
        documents.RETURN_CREATE,
        {
            "returnInput": {
                "orderId": gid("Order", order_id),
                # ...and 255 of the reason's note.
                "returnLineItems": [
                    {**_item(item), "returnReasonNote": item.note[:255]} for item in items
                ],
                "exchangeLineItems": [
                    {"variantId": gid("ProductVariant", e.variant_id), "quantity": e.quantity}
                    for e in exchanges
                ]
                or None,
                "returnShippingFee": _fee(shipping_fee),
            }
        },
        payload="returnCreate",
    )
    return _return(result["return"])


def approve_return(client: Client, return_id: int) -> Return:
    result = client.mutate(
        documents.RETURN_APPROVE_REQUEST,
        {"input": {"id": gid("Return", return_id), "notifyCustomer": False}},
        payload="returnApproveRequest",
    )
    return _return(result["return"])


def decline_return(client: Client, return_id: int, *, note: str) -> Return:
    result = client.mutate(
        documents.RETURN_DECLINE_REQUEST,
        {
            "input": {
                "id": gid("Return", return_id),
                "declineReason": "OTHER",
                "declineNote": note[:255] or None,
                "notifyCustomer": False,  # the portal tells the shopper, in their language
            }
        },
        payload="returnDeclineRequest",
    )
    return _return(result["return"])


def cancel_return(client: Client, return_id: int) -> Return:
    result = client.mutate(
        documents.RETURN_CANCEL, {"id": gid("Return", return_id)}, payload="returnCancel"
    )
    return _return(result["return"])


def _return(node: dict[str, Any]) -> Return:
    items = [
        item
        for item in (node.get("returnLineItems") or {}).get("nodes") or []
        if (item.get("fulfillmentLineItem") or {}).get("id")
    ]
    return Return(
        id=gid_number(node["id"]) or 0,
        name=node.get("name") or "",
        status=node["status"],
        items=tuple((item["fulfillmentLineItem"]["id"], int(item["quantity"])) for item in items),
        processed=bool(items)
        and all(int(item.get("processedQuantity") or 0) >= int(item["quantity"]) for item in items),
        decline_note=(node.get("decline") or {}).get("note") or "",
    )


def _item(item: ReturnItem) -> dict[str, Any]:
    value: dict[str, Any] = {
        "fulfillmentLineItemId": item.parcel_line,
        "quantity": item.quantity,
        "returnReason": item.reason,
    }
    if item.restocking_fee_percent:
        value["restockingFee"] = {"percentage": float(item.restocking_fee_percent)}
    return value


def _fee(fee: Money | None) -> dict[str, Any] | None:
    if not fee or not fee.amount:
        return None
    return {"amount": {"amount": str(fee.amount), "currencyCode": fee.currency}}


# The catalogue.


@dataclass(frozen=True)
class Variant:
    id: int
    title: str
    price: Decimal  # in the shop's currency: Shopify's `ProductVariant.price`
    available: bool
    options: dict[str, str] = field(default_factory=dict)
    # Units Shopify may still sell; None: no limit (it sells past zero, or stock is not tracked).
    stock: int | None = None
    # What a shopper in one market pays (Shopify's contextual pricing), when it was asked for.
    market_price: Money | None = None

    def can_sell(self, quantity: int) -> bool:
        return self.available and (self.stock is None or quantity <= self.stock)


def product_variants(client: Client, product_id: int) -> list[Variant]:
    """Every variant of the product, in Shopify's order; none when the product is gone."""
    product = client.query(documents.PRODUCT_VARIANTS, {"id": gid("Product", product_id)}).get(
        "product"
    )
    return list(_variants(product or {}))


@dataclass(frozen=True)
class Product:
    id: int
    title: str
    variants: tuple[Variant, ...]
    product_type: str = ""
    image_url: str = ""
    image_alt: str = ""


def products_tagged(client: Client, tag: str) -> list[Product]:
    """The products carrying `tag`, by title (the first ten)."""
    value = tag.replace("\\", "\\\\").replace('"', '\\"')
    found = client.query(documents.PRODUCTS_TAGGED, {"query": f'tag:"{value}"'}).get("products")
    return [
        Product(
            id=gid_number(node["id"]) or 0, title=node["title"], variants=tuple(_variants(node))
        )
        for node in (found or {}).get("nodes") or []
    ]


def priced_product(client: Client, product_id: int, country: str) -> Product | None:
    """A product for a shopper whose order goes to `country`: its picture, and each variant
    with the price a shopper there pays. None when the product is gone."""
    node = client.query(
        documents.PRICED_PRODUCT, {"id": gid("Product", product_id), "country": country}
    ).get("product")
    if not node:
        return None
    media = node.get("featuredMedia") or {}
    image = ((media.get("preview") or {}).get("image")) or {}
    return Product(
        id=gid_number(node["id"]) or 0,
        title=node["title"],
        variants=tuple(_variants(node)),
        image_url=image.get("url") or "",
        image_alt=media.get("alt") or "",
    )


def product_list(client: Client) -> list[Product]:
    """The merchant's products by title, without their variants (the first 250)."""
    found = client.query(documents.PRODUCT_LIST, {}).get("products")
    return [
        Product(
            id=gid_number(node["id"]) or 0,
            title=node["title"],
            variants=(),
            product_type=node.get("productType") or "",
        )
        for node in (found or {}).get("nodes") or []
    ]


def _variants(product: dict[str, Any]) -> Iterator[Variant]:
    for node in (product.get("variants") or {}).get("nodes") or []:
        market = (node.get("contextualPricing") or {}).get("price")
        yield Variant(
            id=gid_number(node["id"]) or 0,
            title=node["title"],
            price=Decimal(str(node["price"])),
            available=bool(node["availableForSale"]),
            options={o["name"]: o["value"] for o in node.get("selectedOptions") or []},
            stock=_stock(node),
            market_price=Money(Decimal(str(market["amount"])), market["currencyCode"])
            if market
            else None,
        )


def _stock(variant: dict[str, Any]) -> int | None:
    """How many Shopify may still sell of a variant. A variant that sells past zero has no
    limit; so has one for sale with nothing in stock (its stock is not tracked)."""
    quantity = variant.get("inventoryQuantity")
    if variant.get("inventoryPolicy") == "CONTINUE" or quantity is None:
        return None
    if variant.get("availableForSale") and int(quantity) <= 0:
        return None
    return max(int(quantity), 0)
