"""The state of one Shopify shop, and the only code that changes it.

Each operation is something that happens to a real shop: an order is placed, packing starts, a
parcel leaves, a carrier scans it, the order is cancelled or held, an app edits it. It changes the
state as Shopify would and reports a `Change` per webhook topic Shopify would send, while the state
is exactly as the payload must show it (observers render it on the spot).

Invariants:
- one re-entrant lock guards every read and write: the HTTP server is threaded;
- every change to an order moves its `updated_at` strictly forward: stamps come from one shop-wide
  sequence, one microsecond apart at least, even when the clock stands still (a test's clock);
- ids come from one counter of Shopify-sized integers, so no two objects share one.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

Clock = Callable[[], datetime]

FIRST_ID = 6_100_000_000_000  # the size of Shopify's ids in 2026 (13 digits)
FIRST_ORDER_NUMBER = 1001
UNSET: object = object()
DEFAULT_TITLE = "Default Title"  # a product's only variant
# Currencies without minor units; every other one has two (enough for the sandbox's shops).
WHOLE_CURRENCIES = {
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
}  # fmt: skip


def utc_now() -> datetime:
    return datetime.now(UTC)


def gid(kind: str, number: int | str) -> str:
    return f"gid://shopify/{kind}/{number}"


def parse_gid(value: str, kind: str) -> int | None:
    prefix = f"gid://shopify/{kind}/"
    tail = value[len(prefix) :] if value.startswith(prefix) else ""
    return int(tail) if tail.isdigit() else None


def rounded(amount: Decimal, currency: str) -> Decimal:
    """`amount` to the currency's minor unit (cents; whole yen)."""
    return amount.quantize(Decimal(1) if currency in WHOLE_CURRENCIES else Decimal("0.01"))


class NotAllowed(Exception):
    """The shop refuses the operation in its current state (fulfil a cancelled order, ...)."""


class NotFound(KeyError):
    """No such order (by number) or shipment (by index) in the shop."""


class Entity:
    kind: ClassVar[str]
    id: int

    @property
    def gid(self) -> str:
        return gid(self.kind, self.id)


@dataclass
class Shop(Entity):
    kind: ClassVar[str] = "Shop"
    id: int
    domain: str
    name: str
    currency: str
    iana_timezone: str
    contact_email: str


@dataclass
class Address:
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    province: str | None = None
    province_code: str | None = None
    zip: str | None = None
    country: str | None = None
    country_code: str | None = None
    phone: str | None = None

    @property
    def name(self) -> str | None:
        return " ".join(part for part in (self.first_name, self.last_name) if part) or None


@dataclass
class NewLine:
    """A line of an order being placed; the price is in the order's (presentment) currency."""

    title: str
    price: Decimal
    quantity: int = 1
    sku: str | None = None
    variant_title: str | None = None
    product_id: int | None = None
    variant_id: int | None = None
    image_url: str | None = None
    requires_shipping: bool = True
    product_type: str = ""
    product_tags: tuple[str, ...] = ()


@dataclass
class LineItem(Entity):
    kind: ClassVar[str] = "LineItem"
    id: int
    title: str
    price: Decimal
    quantity: int
    sku: str | None
    variant_title: str | None
    product_id: int | None
    variant_id: int | None
    image_url: str | None
    requires_shipping: bool
    order_id: int
    fulfilled_quantity: int = 0
    fulfillable_quantity: int = 0  # what is left to ship: 0 once the order is cancelled
    product_type: str = ""
    product_tags: tuple[str, ...] = ()
    removed_quantity: int = 0  # units an edit took off or a refund gave back
    discount: Decimal = Decimal(0)  # per unit, from a line-item discount an edit added

    @property
    def name(self) -> str:
        return f"{self.title} - {self.variant_title}" if self.variant_title else self.title

    @property
    def current_quantity(self) -> int:
        """Shopify's currentQuantity: `quantity` less what edits removed and refunds took back
        (a line an edit set to 0 stays on the order, at 0)."""
        return self.quantity - self.removed_quantity

    @property
    def unfulfilled_quantity(self) -> int:
        return self.fulfillable_quantity

    @property
    def discounted_price(self) -> Decimal:
        return self.price - self.discount


@dataclass
class FulfillmentHold(Entity):
    kind: ClassVar[str] = "FulfillmentHold"
    id: int
    reason: str  # FulfillmentHoldReason
    handle: str | None = None
    reason_notes: str | None = None


@dataclass
class FulfillmentOrder(Entity):
    kind: ClassVar[str] = "FulfillmentOrder"
    id: int
    location_name: str
    line_ids: dict[int, int]  # order line item id -> fulfillment order line item id
    created_at: datetime
    updated_at: datetime
    status: str = "OPEN"  # FulfillmentOrderStatus
    fulfillment_holds: list[FulfillmentHold] = field(default_factory=list)
    status_before_hold: str | None = None

    @property
    def active(self) -> bool:
        return self.status not in ("CLOSED", "CANCELLED")

    def lines(self, order: Order) -> list[FulfillmentOrderLine]:
        """Its line items as they stand: a line an edit removed whole is no longer in it."""
        return [
            FulfillmentOrderLine(id=self.line_ids[line.id], line_item=line)
            for line in order.lines
            if line.id in self.line_ids and line.current_quantity
        ]


@dataclass
class FulfillmentEvent(Entity):
    kind: ClassVar[str] = "FulfillmentEvent"
    id: int
    status: str  # FulfillmentEventStatus
    happened_at: datetime
    created_at: datetime
    message: str | None = None
    city: str | None = None
    province: str | None = None
    country: str | None = None
    zip: str | None = None
    estimated_delivery_at: datetime | None = None


@dataclass
class FulfillmentLine(Entity):
    kind: ClassVar[str] = "FulfillmentLineItem"
    id: int
    line_item: LineItem
    quantity: int


@dataclass
class Fulfillment(Entity):
    kind: ClassVar[str] = "Fulfillment"
    id: int
    name: str
    lines: list[FulfillmentLine]
    created_at: datetime
    updated_at: datetime
    tracking_company: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    status: str = "SUCCESS"  # FulfillmentStatus
    events: list[FulfillmentEvent] = field(default_factory=list)

    @property
    def latest_event(self) -> FulfillmentEvent | None:
        # The carrier's newest scan, not the newest report: scans can arrive late.
        return max(reversed(self.events), key=lambda event: event.happened_at, default=None)

    @property
    def shipment_status(self) -> str | None:
        return self.latest_event.status if self.latest_event else None

    @property
    def display_status(self) -> str:
        return self.shipment_status or "FULFILLED"

    @property
    def estimated_delivery_at(self) -> datetime | None:
        dated = [event for event in self.events if event.estimated_delivery_at]
        newest = max(reversed(dated), key=lambda event: event.happened_at, default=None)
        return newest.estimated_delivery_at if newest else None

    @property
    def delivered_at(self) -> datetime | None:
        return max((e.happened_at for e in self.events if e.status == "DELIVERED"), default=None)

    @property
    def in_transit_at(self) -> datetime | None:
        return min((e.happened_at for e in self.events if e.status == "IN_TRANSIT"), default=None)


@dataclass
class Order(Entity):
    kind: ClassVar[str] = "Order"
    id: int
    number: int
    email: str | None
    phone: str | None
    customer_locale: str | None
    currency: str  # what the shopper paid in (presentment currency)
    exchange_rate: Decimal  # presentment units per unit of the shop's currency
    lines: list[LineItem]
    shipping_address: Address | None
    shipping_price: Decimal
    tax: Decimal
    processed_at: datetime
    created_at: datetime
    updated_at: datetime
    display_financial_status: str  # OrderDisplayFinancialStatus
    tags: list[str] = field(default_factory=list)
    note: str | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None  # OrderCancelReason
    closed_at: datetime | None = None
    fulfillment_orders: list[FulfillmentOrder] = field(default_factory=list)
    fulfillments: list[Fulfillment] = field(default_factory=list)
    returns: list[Return] = field(default_factory=list)
    transactions: list[Transaction] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)
    edits: list[OrderEdit] = field(default_factory=list)
    # The lines' subtotal the placement's `tax` was charged on: tax follows the lines at the
    # same rate when edits change them (the order-edit-money-math capture: a $26 tax on two
    # units is $13 on one).
    tax_base: Decimal | None = None

    def __post_init__(self) -> None:
        if self.tax_base is None:
            self.tax_base = self._lines_total(lambda line: line.quantity)

    @property
    def name(self) -> str:
        return f"#{self.number}"

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    def in_shop_currency(self, amount: Decimal, shop_currency: str) -> Decimal:
        return rounded(amount / self.exchange_rate, shop_currency)

    # Money, in the order's (presentment) currency. Shopify's "original" amounts (subtotalPrice,
    # totalPrice) count every unit ever added, after line discounts: an edit's additions and
    # discounts change them, its removals do not. Its "current" amounts count what is on the
    # order now (order-edit-money-math, order-edit-commit-derived-statuses).

    def _lines_total(self, quantity: Callable[[LineItem], int]) -> Decimal:
        return sum((line.discounted_price * quantity(line) for line in self.lines), Decimal(0))

    def tax_on(self, base: Decimal) -> Decimal:
        """The tax on lines worth `base`, at the rate the placement's tax was charged."""
        if base == self.tax_base:
            return self.tax
        if not self.tax_base:
            return Decimal(0)
        return rounded(self.tax * base / self.tax_base, self.currency)

    @property
    def subtotal(self) -> Decimal:
        return self._lines_total(lambda line: line.quantity)

    @property
    def discounts(self) -> Decimal:
        return sum((line.discount * line.quantity for line in self.lines), Decimal(0))

    @property
    def total_tax(self) -> Decimal:
        return self.tax_on(self.subtotal)

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.shipping_price + self.total_tax

    def current(self, amount: Decimal) -> Decimal:
        """An amount as it stands now (Shopify's current_*): a cancelled order's is 0, as real
        2026-04 reads after orderCancel show."""
        return Decimal(0) if self.cancelled_at else amount

    @property
    def current_subtotal(self) -> Decimal:
        return self.current(self._lines_total(lambda line: line.current_quantity))

    @property
    def current_discounts(self) -> Decimal:
        return self.current(
            sum((line.discount * line.current_quantity for line in self.lines), Decimal(0))
        )

    @property
    def current_total_tax(self) -> Decimal:
        return self.current(self.tax_on(self._lines_total(lambda line: line.current_quantity)))

    @property
    def current_shipping_price(self) -> Decimal:
        return self.current(self.shipping_price)

    @property
    def current_total(self) -> Decimal:
        return self.current_subtotal + self.current_shipping_price + self.current_total_tax

    # What was paid: successful SALE and CAPTURE transactions, less REFUNDs (Shopify's
    # totalReceived, totalRefunded, netPayment); what is still owed is the current total less
    # that, negative when money is owed back (totalOutstanding).

    def _transacted(self, *kinds: str) -> Decimal:
        return sum(
            (t.amount for t in self.transactions if t.succeeded and t.transaction_kind in kinds),
            Decimal(0),
        )

    @property
    def received(self) -> Decimal:
        return self._transacted("SALE", "CAPTURE")

    @property
    def refunded(self) -> Decimal:
        return self._transacted("REFUND")

    @property
    def net_payment(self) -> Decimal:
        return self.received - self.refunded

    @property
    def total_outstanding(self) -> Decimal:
        return self.current_total - self.net_payment

    @property
    def uncaptured(self) -> Decimal:
        """What authorizations still hold, not yet captured or voided."""
        return sum((t.uncaptured for t in self.transactions), Decimal(0))

    @property
    def amount_due(self) -> Decimal:
        """What the shopper still has to pay: the outstanding amount no authorization covers."""
        return max(Decimal(0), self.total_outstanding - self.uncaptured)

    @property
    def payment_gateway_names(self) -> list[str]:
        return list(dict.fromkeys(t.gateway for t in self.transactions))

    @property
    def edit_refusals(self) -> list[str]:
        """Why the merchant cannot edit the order (Shopify's merchantEditableErrors). A closed
        (archived) order can be edited: committing reopens it (order-edit-commit-success-
        messages)."""
        if self.cancelled_at:
            return ["Canceled orders can't be edited"]
        if self.display_fulfillment_status == "FULFILLED":
            return ["Fulfilled orders can't be edited"]
        return []

    @property
    def display_fulfillment_status(self) -> str:
        shipped = sum(line.fulfilled_quantity for line in self.lines)
        live = [line for line in self.lines if line.current_quantity]
        if live and all(line.fulfilled_quantity >= line.current_quantity for line in live):
            return "FULFILLED"
        if shipped:
            return "PARTIALLY_FULFILLED"
        statuses = {fo.status for fo in self.fulfillment_orders}
        for status in ("ON_HOLD", "IN_PROGRESS"):
            if status in statuses:
                return status
        return "UNFULFILLED"

    def fulfillment(self, index: int) -> Fulfillment:
        """The order's `index`-th shipment (1-based, as in its name #1001.1)."""
        if not 1 <= index <= len(self.fulfillments):
            raise NotFound(f"{self.name} has no shipment {index}")
        return self.fulfillments[index - 1]

    def line(self, key: str | int) -> LineItem:
        """A line by id, gid or SKU."""
        for line in self.lines:
            if key in (line.id, line.gid, line.sku, str(line.id)):
                return line
        raise KeyError(f"{self.name} has no line {key!r}")


@dataclass
class ProductVariant(Entity):
    """One size or colour of a product, with its stock at the shop's one location."""

    kind: ClassVar[str] = "ProductVariant"
    id: int
    product_id: int
    title: str
    price: Decimal  # in the shop's currency
    inventory_quantity: int = 0
    inventory_policy: str = "DENY"  # ProductVariantInventoryPolicy: CONTINUE sells past zero
    options: tuple[tuple[str, str], ...] = ()  # (option name, value), e.g. ("Size", "M")
    sku: str | None = None

    @property
    def available_for_sale(self) -> bool:
        return self.inventory_quantity > 0 or self.inventory_policy == "CONTINUE"

    @property
    def selected_options(self) -> list[dict[str, str]]:
        return [{"name": name, "value": value} for name, value in self.options]

    def can_sell(self, quantity: int) -> bool:
        return self.inventory_policy == "CONTINUE" or quantity <= self.inventory_quantity


@dataclass
class Product(Entity):
    kind: ClassVar[str] = "Product"
    id: int
    title: str
    product_type: str = ""
    tags: tuple[str, ...] = ()
    variants: list[ProductVariant] = field(default_factory=list)
    image_url: str = ""  # its featured picture


@dataclass
class NewVariant:
    """A variant of a product being added to the catalogue; the price is in the shop's currency."""

    title: str
    price: Decimal
    inventory_quantity: int = 0
    inventory_policy: str = "DENY"
    options: Mapping[str, str] = field(default_factory=dict)
    sku: str | None = None
    id: int | None = None


RETURN_STATUSES = ("REQUESTED", "OPEN", "DECLINED", "CLOSED", "CANCELED")
# What a return holds back of its items: a declined or canceled one gives them back (the
# quantity-cap capture counts an OPEN return; REQUESTED and CLOSED ones are still the shopper's
# return, so the sandbox counts them too).
HOLDING_STATUSES = ("REQUESTED", "OPEN", "CLOSED")


@dataclass
class ReturnLine(Entity):
    kind: ClassVar[str] = "ReturnLineItem"
    id: int
    fulfillment_line_item: FulfillmentLine
    quantity: int
    return_reason: str = "UNKNOWN"  # ReturnReason
    return_reason_note: str = ""
    customer_note: str | None = None
    restocking_fee: Fee | None = None
    processed_quantity: int = 0

    @property
    def unprocessed_quantity(self) -> int:
        return self.quantity - self.processed_quantity

    @property
    def processable_quantity(self) -> int:
        return self.unprocessed_quantity


@dataclass
class ExchangeLine(Entity):
    kind: ClassVar[str] = "ExchangeLineItem"
    id: int
    variant: ProductVariant
    quantity: int
    processed_quantity: int = 0

    @property
    def variant_id(self) -> str:
        return self.variant.gid

    @property
    def unprocessed_quantity(self) -> int:
        return self.quantity - self.processed_quantity

    @property
    def processable_quantity(self) -> int:
        return self.unprocessed_quantity


@dataclass
class Fee(Entity):
    """A return's shipping fee (an amount) or a line's restocking fee (a percentage of it).
    Real returnCreate answers name both gid://shopify/Fee/..."""

    kind: ClassVar[str] = "Fee"
    id: int
    order_id: int
    amount: Decimal  # in the order's (presentment) currency
    percentage: float | None = None


@dataclass
class ReturnDecline:
    reason: str  # ReturnDeclineReason
    note: str | None = None


@dataclass
class Return(Entity):
    kind: ClassVar[str] = "Return"
    id: int
    order_id: int
    name: str  # #1001-R1: numbered per order
    status: str  # ReturnStatus
    lines: list[ReturnLine]
    created_at: datetime
    exchanges: list[ExchangeLine] = field(default_factory=list)
    shipping_fee: Fee | None = None
    decline: ReturnDecline | None = None
    request_approved_at: datetime | None = None
    closed_at: datetime | None = None

    @property
    def total_quantity(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def processed(self) -> bool:
        return any(line.processed_quantity for line in [*self.lines, *self.exchanges])


@dataclass
class NewReturnLine:
    """A line of a return being asked for; `fulfillment_line_id` None when the id named none."""

    fulfillment_line_id: int | None
    quantity: int
    return_reason: str = "UNKNOWN"
    return_reason_note: str = ""
    customer_note: str | None = None
    restocking_fee_percentage: float | None = None


@dataclass
class NewExchangeLine:
    variant_id: int | None
    quantity: int


# --- payments, refunds and order edits -----------------------------------------------------------

DEFAULT_GATEWAY = "manual"  # what real orderCreate/draftOrderComplete/orderMarkAsPaid orders show
STORE_CREDIT_GATEWAY = "shopify_store_credit"  # the sandbox's name for a refund to store credit
RESTOCKING_TYPES = ("RETURN", "CANCEL", "LEGACY_RESTOCK")


@dataclass(eq=False)
class Transaction(Entity):
    """Money moving on an order (Shopify's OrderTransaction), in the order's currency. Its
    kind is `transaction_kind`: `kind` names the GraphQL type, as on every entity."""

    kind: ClassVar[str] = "OrderTransaction"
    id: int
    order_id: int
    transaction_kind: str  # OrderTransactionKind: SALE, AUTHORIZATION, CAPTURE, VOID, REFUND
    status: str  # OrderTransactionStatus
    gateway: str
    amount: Decimal
    created_at: datetime
    parent: Transaction | None = None
    children: list[Transaction] = field(default_factory=list, repr=False)

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCESS"

    @property
    def refundable(self) -> Decimal:
        """What of a payment can still be given back."""
        if not self.succeeded or self.transaction_kind not in ("SALE", "CAPTURE"):
            return Decimal(0)
        given_back = sum(
            (t.amount for t in self.children if t.succeeded and t.transaction_kind == "REFUND"),
            Decimal(0),
        )
        return self.amount - given_back

    @property
    def uncaptured(self) -> Decimal:
        if not self.succeeded or self.transaction_kind != "AUTHORIZATION":
            return Decimal(0)
        if any(t.succeeded and t.transaction_kind == "VOID" for t in self.children):
            return Decimal(0)
        captured = sum(
            (t.amount for t in self.children if t.succeeded and t.transaction_kind == "CAPTURE"),
            Decimal(0),
        )
        return max(Decimal(0), self.amount - captured)


@dataclass
class RefundLine(Entity):
    kind: ClassVar[str] = "RefundLineItem"
    id: int
    line_item: LineItem
    quantity: int
    restock_type: str  # RefundLineItemRestockType
    restocked: bool = False


@dataclass
class Refund(Entity):
    kind: ClassVar[str] = "Refund"
    id: int
    order_id: int
    created_at: datetime
    note: str | None = None
    transactions: list[Transaction] = field(default_factory=list)
    lines: list[RefundLine] = field(default_factory=list)
    idempotency_key: str | None = None

    @property
    def updated_at(self) -> datetime:
        return self.created_at

    @property
    def processed_at(self) -> datetime:
        return self.created_at

    @property
    def total(self) -> Decimal:
        return sum((t.amount for t in self.transactions if t.succeeded), Decimal(0))


@dataclass
class NewRefundTransaction:
    """A transaction of a refund being asked for; `parent_id` None when the id named none."""

    amount: Decimal
    kind: str = "REFUND"
    gateway: str = DEFAULT_GATEWAY
    parent_id: int | None = None


@dataclass
class NewRefundLine:
    line_id: int | None
    quantity: int
    restock_type: str = "NO_RESTOCK"


@dataclass
class StagedDiscount(Entity):
    """A line-item discount an edit adds (Shopify's CalculatedManualDiscountApplication, whose
    ids are UUIDs; `change_id` numbers its OrderStagedChangeAddLineItemDiscount)."""

    kind: ClassVar[str] = "CalculatedManualDiscountApplication"
    id: str
    change_id: int
    description: str
    per_unit: Decimal  # what it takes off each unit, in the order's currency


@dataclass(eq=False)
class CalculatedLine(Entity):
    """A line as an edit will leave it: an order's line (same id as the LineItem, as Shopify
    numbers CalculatedLineItems) or one the edit adds (a UUID id, as Shopify's)."""

    kind: ClassVar[str] = "CalculatedLineItem"
    id: int | str
    order: Order
    title: str
    variant_title: str | None
    sku: str | None
    price: Decimal  # the unit price, in the order's currency
    quantity: int  # as staged
    quantity_before: int  # on the order when the edit began (0 for an added line)
    fulfilled: int  # units already shipped: not editable
    line: LineItem | None = None
    variant: ProductVariant | None = None
    restock: bool = False
    discount_before: Decimal = Decimal(0)  # per unit, from earlier edits
    discounts: list[StagedDiscount] = field(default_factory=list)

    @property
    def added(self) -> bool:
        return self.line is None

    @property
    def variant_id(self) -> int | None:
        if self.line is not None:
            return self.line.variant_id
        return self.variant.id if self.variant else None

    @property
    def unit_discount(self) -> Decimal:
        return self.discount_before + sum((d.per_unit for d in self.discounts), Decimal(0))

    @property
    def discounted_price(self) -> Decimal:
        return self.price - self.unit_discount

    @property
    def editable_quantity(self) -> int:
        return self.quantity - self.fulfilled

    @property
    def editable_quantity_before_changes(self) -> int:
        return self.quantity_before - self.fulfilled

    @property
    def has_staged_line_item_discount(self) -> bool:
        return bool(self.discounts)

    @property
    def restockable(self) -> bool:
        return self.variant is not None

    @property
    def restocking(self) -> bool:
        return self.restock and self.quantity < self.quantity_before

    @property
    def changed(self) -> bool:
        return self.added or self.quantity != self.quantity_before or bool(self.discounts)


@dataclass(eq=False)
class EditSession(Entity):
    """An order edit begun and not yet committed: Shopify's CalculatedOrder, whose id is also
    its OrderEditSession's."""

    kind: ClassVar[str] = "CalculatedOrder"
    id: int
    order: Order
    created_at: datetime
    lines: list[CalculatedLine]
    added: list[CalculatedLine] = field(default_factory=list)
    committed: bool = False
    stale: bool = False  # another edit of the order was committed since this one began

    @property
    def session_gid(self) -> str:
        return gid("OrderEditSession", self.id)

    @property
    def original_order(self) -> Order:
        return self.order

    @property
    def all_lines(self) -> list[CalculatedLine]:
        return [*self.lines, *self.added]

    def find(self, value: str) -> CalculatedLine | None:
        return next((line for line in self.all_lines if line.gid == value), None)

    @property
    def subtotal(self) -> Decimal:
        return sum((line.discounted_price * line.quantity for line in self.all_lines), Decimal(0))

    @property
    def subtotal_line_items_quantity(self) -> int:
        return sum(line.quantity for line in self.all_lines)

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.order.shipping_price + self.order.tax_on(self.subtotal)

    @property
    def total_outstanding(self) -> Decimal:
        return self.total - self.order.net_payment


@dataclass
class OrderEdit:
    """A committed edit, as orders/edited tells it: line id -> units added or removed."""

    id: int  # the edit session's
    order_id: int
    created_at: datetime
    committed_at: datetime
    notify_customer: bool
    staff_note: str
    additions: list[tuple[int, int]]
    removals: list[tuple[int, int]]


@dataclass
class FulfillmentOrderLine(Entity):
    """One order line's part of a fulfillment order, as it stands (a view, not stored)."""

    kind: ClassVar[str] = "FulfillmentOrderLineItem"
    id: int
    line_item: LineItem

    @property
    def total_quantity(self) -> int:
        return self.line_item.current_quantity

    @property
    def remaining_quantity(self) -> int:
        return self.line_item.fulfillable_quantity

    @property
    def sku(self) -> str | None:
        return self.line_item.sku


@dataclass
class Problem:
    """One of Shopify's userErrors: `field` is the path inside the mutation's input (None for
    a refusal of the whole mutation); `code` is empty where Shopify's error type has none."""

    field: list[str] | None
    message: str
    code: str = ""


class Refused(NotAllowed):
    """The shop refuses an operation (a return's, an edit's, a refund), with Shopify's
    userErrors."""

    def __init__(self, *problems: Problem) -> None:
        super().__init__("; ".join(problem.message for problem in problems))
        self.problems = list(problems)


@dataclass
class WebhookSubscription(Entity):
    kind: ClassVar[str] = "WebhookSubscription"
    id: int
    topic: str  # WebhookSubscriptionTopic, e.g. ORDERS_UPDATED
    uri: str
    created_at: datetime
    updated_at: datetime
    format: str = "JSON"
    include_fields: list[str] = field(default_factory=list)
    filter: str | None = None


def topic_enum(topic: str) -> str:
    """orders/partially_fulfilled -> ORDERS_PARTIALLY_FULFILLED (Shopify's own rule)."""
    return topic.upper().replace("/", "_")


@dataclass
class Change:
    """Something Shopify sends a webhook for: its topic, the order it concerns and the object
    the payload describes (the order itself, a shipment, a carrier event, a hold)."""

    topic: str
    order: Order
    subject: object
    at: datetime


Observer = Callable[[Change], None]


class Store:
    def __init__(self, shop: Shop, *, clock: Clock = utc_now) -> None:
        self.shop = shop
        self.clock = clock
        self.lock = threading.RLock()
        self.orders: dict[int, Order] = {}
        self._numbers: dict[int, Order] = {}
        self.subscriptions: dict[int, WebhookSubscription] = {}
        self.products: dict[int, Product] = {}
        self.variants: dict[int, ProductVariant] = {}
        self.returns: dict[int, Return] = {}
        self.edit_sessions: dict[int, EditSession] = {}
        self.refund_keys: dict[str, Refund] = {}  # @idempotent keys of accepted refunds
        # Shopify Markets, as far as the sandbox plays them: a destination country's currency
        # and its rate to the shop's. Learnt from the orders placed (an order to Britain in
        # pounds tells the British market); other countries pay the shop's prices.
        self.markets: dict[str, tuple[str, Decimal]] = {}
        # Every mutation an app made that Shopify accepted, in order: what tests count to prove
        # a change reached the shop exactly once.
        self.writes: list[dict[str, Any]] = []
        self._observers: list[Observer] = []
        self._next_id = FIRST_ID
        self._last_stamp = datetime.min.replace(tzinfo=UTC)

    def observe(self, observer: Observer) -> None:
        self._observers.append(observer)

    def clear(self, *, subscriptions: bool = True) -> None:
        with self.lock:
            self.orders.clear()
            self._numbers.clear()
            self.products.clear()
            self.variants.clear()
            self.returns.clear()
            self.edit_sessions.clear()
            self.refund_keys.clear()
            self.markets.clear()
            self.writes.clear()
            if subscriptions:
                self.subscriptions.clear()

    def record_write(self, mutation: str, arguments: dict[str, Any]) -> None:
        with self.lock:
            self.writes.append({"mutation": mutation, "arguments": arguments, "at": self.clock()})

    # --- lookups ---------------------------------------------------------------------------

    def order(self, number: int) -> Order:
        order = self._numbers.get(number)
        if order is None:
            raise NotFound(f"no order #{number}")
        return order

    def order_by_gid(self, value: str) -> Order | None:
        number = parse_gid(value, "Order")
        return self.orders.get(number) if number is not None else None

    def return_by_gid(self, value: str) -> Return | None:
        number = parse_gid(value, "Return")
        return self.returns.get(number) if number is not None else None

    def find_return(self, key: str | int) -> Return:
        """A return by gid, id or name (#1001-R1)."""
        for found in self.returns.values():
            if key in (found.id, found.gid, found.name, str(found.id)):
                return found
        raise NotFound(f"no return {key!r}")

    def variant(self, key: str | int) -> ProductVariant:
        """A variant by id, gid or SKU."""
        number = parse_gid(key, "ProductVariant") if isinstance(key, str) else key
        if number is None and isinstance(key, str) and key.isdigit():
            number = int(key)
        found = self.variants.get(number) if number is not None else None
        found = found or next((v for v in self.variants.values() if v.sku == key), None)
        if found is None:
            raise NotFound(f"no variant {key!r}")
        return found

    def fulfillment_line(self, order: Order, line_id: int | None) -> FulfillmentLine | None:
        for fulfillment in order.fulfillments:
            for line in fulfillment.lines:
                if line.id == line_id:
                    return line
        return None

    def subscriptions_for(self, topic: str) -> list[WebhookSubscription]:
        with self.lock:
            wanted = topic_enum(topic)
            return [s for s in self.subscriptions.values() if s.topic == wanted]

    # --- orders ----------------------------------------------------------------------------

    def place_order(
        self,
        *,
        lines: Iterable[NewLine],
        email: str | None = None,
        phone: str | None = None,
        customer_locale: str | None = "en",
        currency: str | None = None,
        exchange_rate: Decimal = Decimal(1),
        shipping_address: Address | None = None,
        shipping_price: Decimal = Decimal(0),
        tax: Decimal = Decimal(0),
        tags: Iterable[str] = (),
        note: str | None = None,
        number: int | None = None,
        placed_at: datetime | None = None,
        financial_status: str = "PAID",
        location_name: str = "Shop location",
        gateway: str = DEFAULT_GATEWAY,
    ) -> Order:
        """A new order with one open fulfillment order holding all its lines. `placed_at` dates
        it in the past, as an imported order (created and processed then, updated now). A PAID
        order's payment is a SALE of its total through `gateway`, an AUTHORIZED one's an
        AUTHORIZATION; any other status has received nothing."""
        with self.lock:
            if number is None:
                number = max(self._numbers, default=FIRST_ORDER_NUMBER - 1) + 1
            elif number in self._numbers:
                raise NotAllowed(f"order #{number} already exists")
            order_id = self._new_id()
            items = [
                LineItem(
                    id=self._new_id(),
                    order_id=order_id,
                    title=line.title,
                    price=Decimal(line.price),
                    quantity=line.quantity,
                    sku=line.sku,
                    variant_title=line.variant_title,
                    product_id=line.product_id,
                    product_type=line.product_type,
                    product_tags=tuple(line.product_tags),
                    variant_id=line.variant_id,
                    image_url=line.image_url,
                    requires_shipping=line.requires_shipping,
                    fulfillable_quantity=line.quantity,
                )
                for line in lines
            ]
            if not items or any(item.quantity < 1 for item in items):
                raise NotAllowed("an order needs at least one line, each of quantity 1 or more")
            for item in items:
                self._know(item, Decimal(exchange_rate))
            country = shipping_address.country_code if shipping_address else None
            if country and currency and currency != self.shop.currency:
                self.markets.setdefault(country, (currency, Decimal(exchange_rate)))
            now = self._stamp()
            placed = placed_at or now
            order = Order(
                id=order_id,
                number=number,
                email=email,
                phone=phone,
                customer_locale=customer_locale,
                currency=currency or self.shop.currency,
                exchange_rate=Decimal(exchange_rate),
                lines=items,
                shipping_address=shipping_address,
                shipping_price=Decimal(shipping_price),
                tax=Decimal(tax),
                processed_at=placed,
                created_at=placed,
                updated_at=now,
                display_financial_status=financial_status,
                tags=normalized_tags(tags),
                note=note,
            )
            order.fulfillment_orders.append(
                FulfillmentOrder(
                    id=self._new_id(),
                    location_name=location_name,
                    line_ids={item.id: self._new_id() for item in items},
                    created_at=placed,
                    updated_at=now,
                )
            )
            opening = {"PAID": "SALE", "AUTHORIZED": "AUTHORIZATION"}.get(financial_status)
            if opening:
                self._transact(order, opening, order.total, gateway=gateway, at=placed)
            self.orders[order.id] = self._numbers[number] = order
            self._emit("orders/create", order, order)
            return order

    def start_preparing(self, order: Order) -> FulfillmentOrder:
        """Packing starts: the open fulfillment order goes IN_PROGRESS."""
        with self.lock:
            fulfillment_order = self._fulfillment_order_to_work_on(order)
            if fulfillment_order.status != "IN_PROGRESS":
                fulfillment_order.status = "IN_PROGRESS"
                fulfillment_order.updated_at = self._touch(order)
                self._emit("orders/updated", order, order)
            return fulfillment_order

    def fulfil(
        self,
        order: Order,
        *,
        lines: Mapping[int, int] | None = None,
        company: str | None = None,
        number: str | None = None,
        url: str | None = None,
        at: datetime | None = None,
    ) -> Fulfillment:
        """A parcel leaves with `lines` (line id -> quantity; everything left when None)."""
        with self.lock:
            self._open_fulfillment_order(order)
            # An order an edit added lines to has a fulfillment order for them too: each line
            # ships from its own, which must not be on hold.
            owners = {
                line.id: fo
                for fo in order.fulfillment_orders
                if fo.active
                for line in order.lines
                if line.id in fo.line_ids
            }
            wanted = dict(lines or {}) or {
                line.id: line.fulfillable_quantity
                for line in order.lines
                if line.fulfillable_quantity
                and line.id in owners
                and owners[line.id].status != "ON_HOLD"
            }
            by_id = {line.id: line for line in order.lines}
            for line_id, quantity in wanted.items():
                line = by_id.get(line_id)
                if line is None or not 0 < quantity <= line.fulfillable_quantity:
                    raise NotAllowed(f"{order.name} cannot ship {quantity} of line {line_id}")
                if line_id not in owners:
                    raise NotAllowed(f"{order.name} has no open fulfillment order for {line_id}")
                if owners[line_id].status == "ON_HOLD":
                    raise NotAllowed(f"{order.name} is on hold")
            if not wanted and any(fo.status == "ON_HOLD" for fo in owners.values()):
                raise NotAllowed(f"{order.name} is on hold")
            if not wanted:
                raise NotAllowed(f"{order.name} has nothing left to ship")
            stamp = self._touch(order)
            fulfillment = Fulfillment(
                id=self._new_id(),
                name=f"{order.name}.{len(order.fulfillments) + 1}",
                lines=[
                    FulfillmentLine(id=self._new_id(), line_item=by_id[line_id], quantity=quantity)
                    for line_id, quantity in wanted.items()
                ],
                created_at=at or stamp,
                updated_at=stamp,
                tracking_company=company,
                tracking_number=number,
                tracking_url=url,
            )
            for shipped in fulfillment.lines:
                shipped.line_item.fulfilled_quantity += shipped.quantity
                shipped.line_item.fulfillable_quantity -= shipped.quantity
            order.fulfillments.append(fulfillment)
            complete = all(line.fulfillable_quantity == 0 for line in order.lines)
            for fulfillment_order in {id(owners[i]): owners[i] for i in wanted}.values():
                done = all(by_id[i].fulfillable_quantity == 0 for i in fulfillment_order.line_ids)
                fulfillment_order.status = "CLOSED" if done else "IN_PROGRESS"
                fulfillment_order.updated_at = stamp
            self._emit("fulfillments/create", order, fulfillment)
            self._emit(
                "orders/fulfilled" if complete else "orders/partially_fulfilled", order, order
            )
            self._emit("orders/updated", order, order)
            return fulfillment

    def add_event(
        self,
        order: Order,
        fulfillment: Fulfillment,
        *,
        status: str,
        happened_at: datetime | None = None,
        message: str | None = None,
        city: str | None = None,
        province: str | None = None,
        country: str | None = None,
        zip: str | None = None,
        estimated_delivery_at: datetime | None = None,
    ) -> FulfillmentEvent:
        """A carrier scan. The shipment's status follows its newest scan. It changes the order
        (its updated_at moves, so reconciliation finds it) but Shopify sends no orders/updated."""
        with self.lock:
            stamp = self._touch(order)
            event = FulfillmentEvent(
                id=self._new_id(),
                status=status.upper(),
                happened_at=happened_at or stamp,
                created_at=stamp,
                message=message,
                city=city,
                province=province,
                country=country,
                zip=zip,
                estimated_delivery_at=estimated_delivery_at,
            )
            fulfillment.events.append(event)
            fulfillment.updated_at = stamp
            self._emit("fulfillment_events/create", order, event)
            self._emit("fulfillments/update", order, fulfillment)
            return event

    def cancel(
        self,
        order: Order,
        *,
        reason: str = "CUSTOMER",
        refund: bool = True,
        at: datetime | None = None,
    ) -> Order:
        """Cancel and close the order, as orderCancel does: its fulfillment orders close, nothing
        is left to ship, an authorization is voided, a payment refunded if `refund`."""
        with self.lock:
            if order.cancelled_at:
                raise NotAllowed("Cannot cancel an order that has already been canceled")
            if any(line.fulfilled_quantity for line in order.lines):
                raise NotAllowed("Cannot cancel an order that has fulfilled items")
            stamp = self._touch(order)
            order.cancelled_at = order.closed_at = at or stamp
            order.cancel_reason = reason.upper()
            if order.display_financial_status in ("AUTHORIZED", "PENDING"):
                order.display_financial_status = "VOIDED"
                for held in [t for t in order.transactions if t.uncaptured]:
                    self._transact(order, "VOID", held.amount, parent=held, at=stamp)
            elif order.display_financial_status == "PAID" and refund:
                order.display_financial_status = "REFUNDED"
                # The money goes back as a refund of each payment. Real orderCancel sends no
                # refunds/create the captures show; the sandbox sends none either.
                given_back = Refund(id=self._new_id(), order_id=order.id, created_at=stamp)
                for payment in order.transactions:
                    if payment.refundable > 0:
                        given_back.transactions.append(
                            self._transact(
                                order,
                                "REFUND",
                                payment.refundable,
                                gateway=payment.gateway,
                                parent=payment,
                                at=stamp,
                            )
                        )
                if given_back.transactions:
                    order.refunds.append(given_back)
            for line in order.lines:
                line.fulfillable_quantity = 0
            for fulfillment_order in order.fulfillment_orders:
                fulfillment_order.status = "CLOSED"
                fulfillment_order.updated_at = stamp
            self._emit("orders/cancelled", order, order)
            self._emit("orders/updated", order, order)
            return order

    def hold(
        self,
        order: Order,
        *,
        reason: str = "OTHER",
        handle: str | None = None,
        notes: str | None = None,
    ) -> FulfillmentHold:
        """Hold the order's fulfillment order (holds stack, as since 2025-01)."""
        with self.lock:
            fulfillment_order = self._open_fulfillment_order(order)
            hold = FulfillmentHold(
                id=self._new_id(), reason=reason.upper(), handle=handle, reason_notes=notes
            )
            if fulfillment_order.status != "ON_HOLD":
                fulfillment_order.status_before_hold = fulfillment_order.status
                fulfillment_order.status = "ON_HOLD"
            fulfillment_order.fulfillment_holds.append(hold)
            fulfillment_order.updated_at = self._touch(order)
            self._emit("fulfillment_orders/placed_on_hold", order, fulfillment_order)
            return hold

    def fulfillment_order_by_gid(self, value: str) -> tuple[Order, FulfillmentOrder] | None:
        number = value.rsplit("/", 1)[-1]
        for order in self.orders.values():
            for fulfillment_order in order.fulfillment_orders:
                if str(fulfillment_order.id) == number:
                    return order, fulfillment_order
        return None

    def hold_fulfillment_order(
        self,
        order: Order,
        fulfillment_order: FulfillmentOrder,
        *,
        reason: str,
        handle: str | None,
        notes: str | None,
    ) -> FulfillmentHold:
        """fulfillmentOrderHold on one fulfillment order; NotAllowed carries Shopify's code."""
        with self.lock:
            if fulfillment_order.status in ("CLOSED", "CANCELLED", "IN_PROGRESS"):
                raise NotAllowed("The fulfillment order is not in a splittable state.")
            if handle and any(h.handle == handle for h in fulfillment_order.fulfillment_holds):
                raise NotAllowed(
                    "The handle provided for the fulfillment hold is already in use by this "
                    "app for another hold on this fulfillment order."
                )
            if len(fulfillment_order.fulfillment_holds) >= 10:
                raise NotAllowed(
                    "The maximum number of fulfillment holds for this fulfillment order has "
                    "been reached for this app. An app can only have up to 10 holds on a "
                    "single fulfillment order at any one time."
                )
            hold = FulfillmentHold(
                id=self._new_id(), reason=reason.upper(), handle=handle, reason_notes=notes
            )
            if fulfillment_order.status != "ON_HOLD":
                fulfillment_order.status_before_hold = fulfillment_order.status
                fulfillment_order.status = "ON_HOLD"
            fulfillment_order.fulfillment_holds.append(hold)
            fulfillment_order.updated_at = self._touch(order)
            self._emit("fulfillment_orders/placed_on_hold", order, fulfillment_order)
            return hold

    def release_fulfillment_holds(
        self, order: Order, fulfillment_order: FulfillmentOrder, hold_ids: Iterable[int] | None
    ) -> FulfillmentOrder:
        """fulfillmentOrderReleaseHold: the given holds (all when None); the order goes back to
        work once none is left."""
        with self.lock:
            if fulfillment_order.status != "ON_HOLD":
                raise NotAllowed("The fulfillment order is not on hold.")
            wanted = None if hold_ids is None else set(hold_ids)
            fulfillment_order.fulfillment_holds = [
                hold
                for hold in fulfillment_order.fulfillment_holds
                if wanted is not None and hold.id not in wanted
            ]
            if not fulfillment_order.fulfillment_holds:
                fulfillment_order.status = fulfillment_order.status_before_hold or "OPEN"
            fulfillment_order.updated_at = self._touch(order)
            self._emit("fulfillment_orders/hold_released", order, fulfillment_order)
            return fulfillment_order

    def release_hold(self, order: Order) -> FulfillmentOrder:
        with self.lock:
            held = [fo for fo in order.fulfillment_orders if fo.status == "ON_HOLD"]
            if not held:
                raise NotAllowed(f"{order.name} is not on hold")
            stamp = self._touch(order)
            for fulfillment_order in held:
                fulfillment_order.status = fulfillment_order.status_before_hold or "OPEN"
                fulfillment_order.fulfillment_holds.clear()
                fulfillment_order.updated_at = stamp
                self._emit("fulfillment_orders/hold_released", order, fulfillment_order)
            return held[0]

    def update_order(
        self,
        order: Order,
        *,
        email: str | None | object = UNSET,
        phone: str | None | object = UNSET,
        note: str | None | object = UNSET,
        tags: Iterable[str] | None | object = UNSET,
        shipping_address: Address | None | object = UNSET,
    ) -> Order:
        """orderUpdate: each given field overwrites the order's (tags and address whole)."""
        with self.lock:
            changes = {
                "email": email,
                "phone": phone,
                "note": note,
                "shipping_address": shipping_address,
            }
            for name, value in changes.items():
                if value is not UNSET:
                    setattr(order, name, value)
            if tags is not UNSET:
                order.tags = normalized_tags(tags or ())  # type: ignore[arg-type]
            self._touch(order)
            self._emit("orders/updated", order, order)
            return order

    def add_tags(self, order: Order, tags: Iterable[str]) -> Order:
        """tagsAdd: the order keeps its tags and gains these."""
        with self.lock:
            order.tags = normalized_tags(tags, existing=order.tags)
            self._touch(order)
            self._emit("orders/updated", order, order)
            return order

    # --- payments and refunds ------------------------------------------------------------------
    # Refusals carry Shopify's words from the real refund-create captures (2025-01 and 2026-04);
    # where no capture shows a refusal the words are the sandbox's, and say so.

    def pay_balance(self, order: Order, *, gateway: str = DEFAULT_GATEWAY) -> Transaction:
        """The shopper pays what the order still owes (its payment page): a SALE of the amount
        due; the order is paid (orders/paid, orders/updated)."""
        with self.lock:
            if order.cancelled_at:
                raise NotAllowed(f"{order.name} is cancelled")
            due = order.amount_due
            if due <= 0:
                raise NotAllowed(f"{order.name} has nothing to pay")
            stamp = self._touch(order)
            sale = self._transact(order, "SALE", due, gateway=gateway, at=stamp)
            self._settle(order)
            self._emit("orders/paid", order, order)
            self._emit("orders/updated", order, order)
            return sale

    def refund_for_key(self, key: str) -> Refund | None:
        """The refund an @idempotent key already made, if any."""
        with self.lock:
            return self.refund_keys.get(key)

    def create_refund(
        self,
        order: Order,
        *,
        transactions: Iterable[NewRefundTransaction] = (),
        lines: Iterable[NewRefundLine] = (),
        store_credit: Decimal | None = None,
        note: str | None = None,
        currency: str | None = None,
        key: str | None = None,
    ) -> Refund:
        """refundCreate: money back to the payments it came from (a REFUND transaction against
        each parent, through the parent's gateway, whatever gateway was named, as a real
        capture shows) or as store credit, and the refunded units taken off the order. Never
        more than the net payment received, even when over-refunding is allowed (real 2025-01
        captures). Sends refunds/create and orders/updated."""
        with self.lock:
            asked = list(transactions)
            wanted = list(lines)
            problems: list[Problem] = []
            if currency and currency != order.currency:  # the sandbox's words
                message = "Currency must be the order's presentment currency."
                problems.append(Problem(["currency"], message))
            for new in asked:
                if new.kind != "REFUND":
                    message = f"Kind {new.kind.lower()} is not a valid transaction"
                    problems.append(Problem(None, message))
                    break
            by_id = {t.id: t for t in order.transactions}
            parents: list[Transaction] = []
            if not problems:
                for new in asked:
                    parent = by_id.get(new.parent_id) if new.parent_id is not None else None
                    if parent is None or parent.transaction_kind not in ("SALE", "CAPTURE"):
                        message = "Transactions require a parent_id associated with the order"
                        problems.append(Problem(["transactions"], message))
                        break
                    parents.append(parent)
            lines_by_id = {line.id: line for line in order.lines}
            taken: list[tuple[LineItem, NewRefundLine]] = []
            for index, new in enumerate(wanted):
                path = ["refundLineItems", str(index)]
                line = lines_by_id.get(new.line_id) if new.line_id is not None else None
                if line is None:  # the sandbox's words
                    problems.append(Problem([*path, "lineItemId"], "Line item does not exist."))
                elif new.quantity > line.current_quantity:
                    message = "Quantity cannot refund more items than were purchased"
                    problems.append(Problem([*path, "quantity"], message))
                elif new.quantity > 0:
                    taken.append((line, new))
            amount = sum((new.amount for new in asked), Decimal(0)) + (store_credit or 0)
            if not problems and amount > order.net_payment:
                problems.append(
                    Problem(
                        None,
                        f"Refund amount {money_text(amount, order.currency)} is greater than "
                        f"net payment received {money_text(order.net_payment, order.currency)}",
                    )
                )
            if not problems:
                owed: dict[int, Decimal] = {}
                for new, parent in zip(asked, parents, strict=True):
                    owed[parent.id] = owed.get(parent.id, Decimal(0)) + new.amount
                    if owed[parent.id] > parent.refundable:  # the sandbox's words
                        message = (
                            f"Refund amount {money_text(owed[parent.id], order.currency)} is "
                            f"greater than the {money_text(parent.refundable, order.currency)} "
                            "the parent transaction can refund"
                        )
                        problems.append(Problem(["transactions"], message))
                        break
            if problems:
                raise Refused(*problems)

            stamp = self._touch(order)
            refund = Refund(
                id=self._new_id(),
                order_id=order.id,
                created_at=stamp,
                note=note,
                idempotency_key=key,
            )
            for new, parent in zip(asked, parents, strict=True):
                refund.transactions.append(
                    self._transact(
                        order, "REFUND", new.amount, gateway=parent.gateway, parent=parent, at=stamp
                    )
                )
            if store_credit:
                refund.transactions.append(
                    self._transact(
                        order, "REFUND", store_credit, gateway=STORE_CREDIT_GATEWAY, at=stamp
                    )
                )
            for line, new in taken:
                line.removed_quantity += new.quantity
                unshipped = line.current_quantity - line.fulfilled_quantity
                line.fulfillable_quantity = max(0, min(line.fulfillable_quantity, unshipped))
                variant = self.variants.get(line.variant_id) if line.variant_id else None
                restocked = new.restock_type in RESTOCKING_TYPES and variant is not None
                if restocked and variant is not None:
                    variant.inventory_quantity += new.quantity
                refund.lines.append(
                    RefundLine(
                        id=self._new_id(),
                        line_item=line,
                        quantity=new.quantity,
                        restock_type=new.restock_type,
                        restocked=restocked,
                    )
                )
            self._close_finished(order, stamp)
            order.refunds.append(refund)
            if key is not None:
                self.refund_keys[key] = refund
            self._settle(order)
            self._emit("refunds/create", order, refund)
            self._emit("orders/updated", order, order)
            return refund

    def _transact(
        self,
        order: Order,
        kind: str,
        amount: Decimal,
        *,
        gateway: str = DEFAULT_GATEWAY,
        parent: Transaction | None = None,
        at: datetime | None = None,
        status: str = "SUCCESS",
    ) -> Transaction:
        made = Transaction(
            id=self._new_id(),
            order_id=order.id,
            transaction_kind=kind,
            status=status,
            gateway=gateway,
            amount=amount,
            created_at=at or self._stamp(),
            parent=parent,
        )
        order.transactions.append(made)
        if parent is not None:
            parent.children.append(made)
        return made

    def _settle(self, order: Order) -> None:
        """The financial status Shopify derives from the money: refunds make it (partially)
        refunded; a payment short of the current total partially paid (the order-edit-commit-
        derived-statuses capture), one that covers it paid. An order that received nothing
        keeps its status (pending, authorized, voided)."""
        received, refunded = order.received, order.refunded
        if refunded > 0:
            order.display_financial_status = (
                "REFUNDED" if refunded >= received else "PARTIALLY_REFUNDED"
            )
        elif received > 0:
            order.display_financial_status = (
                "PAID" if received >= order.current_total else "PARTIALLY_PAID"
            )

    def _close_finished(self, order: Order, stamp: datetime) -> None:
        """A fulfillment order with nothing left to ship (its lines shipped, removed or refunded)
        is closed."""
        for fulfillment_order in order.fulfillment_orders:
            lines = [line for line in order.lines if line.id in fulfillment_order.line_ids]
            if fulfillment_order.active and all(line.fulfillable_quantity == 0 for line in lines):
                fulfillment_order.status = "CLOSED"
                fulfillment_order.fulfillment_holds.clear()
                fulfillment_order.updated_at = stamp

    # --- order edits ---------------------------------------------------------------------------
    # orderEditBegin -> orderEditSetQuantity / orderEditAddVariant / orderEditAddLineItemDiscount
    # -> orderEditCommit. Shopify's words from the real 2026-04 captures (order-edit-*, orderEdit-
    # quantity-validation); the money as the order-edit-money-math capture shows it. Staging
    # changes nothing of the order; committing applies it all at once.

    def edit_session(self, value: str) -> EditSession | None:
        """An open edit by its CalculatedOrder (or OrderEditSession) gid: None once committed,
        or once another edit of the same order was committed (the sandbox's rule: what it
        staged no longer fits the order)."""
        with self.lock:
            number = parse_gid(value, "CalculatedOrder") or parse_gid(value, "OrderEditSession")
            session = self.edit_sessions.get(number) if number is not None else None
            if session is None or session.committed or session.stale:
                return None
            return session

    def begin_edit(self, order: Order) -> EditSession:
        """orderEditBegin: a calculated order as the order is now. Refused for an order the
        merchant cannot edit (cancelled, fulfilled), in a real capture's words."""
        with self.lock:
            if order.edit_refusals:
                raise Refused(Problem(None, "The order cannot be edited."))
            session = EditSession(
                id=self._new_id(),
                order=order,
                created_at=self._stamp(),
                lines=[self._calculated(order, line) for line in order.lines],
            )
            self.edit_sessions[session.id] = session
            return session

    def set_edit_quantity(
        self, session: EditSession, line: CalculatedLine, quantity: int, *, restock: bool = False
    ) -> CalculatedLine:
        """orderEditSetQuantity: 0 removes the units (the line stays, at 0; an added line goes).
        Only unfulfilled units can be edited: the words are from Shopify's docs, the refusal's
        form is the sandbox's."""
        with self.lock:
            if quantity < 0:
                raise Refused(Problem(["quantity"], "must be greater than or equal to 0"))
            if not line.added and quantity != line.quantity_before:
                fully_shipped = line.fulfilled and not line.editable_quantity_before_changes
                if quantity < line.fulfilled or fully_shipped:
                    message = "You can only edit unfulfilled line items."
                    raise Refused(Problem(["lineItemId"], message))
            line.quantity = quantity
            line.restock = bool(restock)
            if line.added and quantity == 0:
                session.added.remove(line)
            return line

    def add_edit_variant(
        self,
        session: EditSession,
        variant: ProductVariant,
        quantity: int,
        *,
        allow_duplicates: bool = False,
    ) -> CalculatedLine:
        """orderEditAddVariant: the variant at its price in the order's currency (the shop's
        price converted at the order's exchange rate)."""
        with self.lock:
            order = session.order
            product = self.products[variant.product_id]
            if quantity < 1:
                problems = [Problem(["quantity"], "must be greater than 0")]
                if quantity < 0:
                    problems.append(Problem(["quantity"], "must be greater than or equal to 0"))
                raise Refused(*problems)
            on_order = any(
                line.quantity and line.variant_id == variant.id for line in session.all_lines
            )
            if on_order and not allow_duplicates:
                message = f"{product.title} was not added because it's already on the order."
                raise Refused(Problem(["id"], message))
            added = CalculatedLine(
                id=str(uuid.uuid4()),
                order=order,
                title=product.title,
                variant_title=None if variant.title == DEFAULT_TITLE else variant.title,
                sku=variant.sku,
                price=rounded(variant.price * order.exchange_rate, order.currency),
                quantity=quantity,
                quantity_before=0,
                fulfilled=0,
                variant=variant,
            )
            session.added.append(added)
            return added

    def add_edit_discount(
        self,
        session: EditSession,
        line: CalculatedLine,
        *,
        description: str | None = None,
        percent: float | None = None,
        fixed: Decimal | None = None,
    ) -> StagedDiscount:
        """orderEditAddLineItemDiscount: a percentage of the unit price, or a fixed amount off
        each unit (the sandbox's reading; the captures discount single units), never more than
        the unit costs. The refusals' words are the sandbox's."""
        with self.lock:
            order = session.order
            if (percent is None) == (fixed is None):
                message = "Exactly one of percentValue or fixedValue is required."
                raise Refused(Problem(["discount"], message))
            if percent is not None and not 0 < percent <= 100:
                message = "must be greater than 0 and at most 100"
                raise Refused(Problem(["discount", "percentValue"], message))
            if fixed is not None and fixed <= 0:
                raise Refused(
                    Problem(["discount", "fixedValue", "amount"], "must be greater than 0")
                )
            if percent is not None:
                per_unit = rounded(line.price * Decimal(str(percent)) / 100, order.currency)
            else:
                per_unit = rounded(fixed or Decimal(0), order.currency)
            per_unit = min(per_unit, line.discounted_price)
            staged = StagedDiscount(
                id=str(uuid.uuid4()),
                change_id=self._new_id(),
                description=description or "",
                per_unit=per_unit,
            )
            line.discounts.append(staged)
            return staged

    def commit_edit(
        self, session: EditSession, *, notify: bool = False, staff_note: str | None = None
    ) -> list[str]:
        """orderEditCommit: the staged changes become the order's. Removed units leave the
        line's current quantity and what is left to ship (restocked if asked); added variants
        become new lines, in a new fulfillment order of their own (as the real order-edit-
        commit-history-and-fulfillment-orders capture shows); the totals follow, and the
        outstanding amount (negative: money owed back; committing never refunds). A closed
        order reopens. Sends orders/edited and orders/updated; answers Shopify's
        successMessages."""
        with self.lock:
            order = session.order
            if order.edit_refusals:
                raise Refused(Problem(None, "The order cannot be edited."))
            if not any(line.changed for line in session.all_lines):
                message = "There must be at least one change to be made."
                raise Refused(Problem(["id"], message))
            for calculated in session.lines:
                line = calculated.line
                assert line is not None
                if calculated.quantity < line.current_quantity - line.fulfillable_quantity:
                    message = "You can only edit unfulfilled line items."  # shipped since begun
                    raise Refused(Problem(["id"], message))

            stamp = self._touch(order)
            additions: list[tuple[int, int]] = []
            removals: list[tuple[int, int]] = []
            for calculated in session.lines:
                line = calculated.line
                assert line is not None
                delta = calculated.quantity - line.current_quantity
                if delta < 0:
                    line.removed_quantity -= delta
                    line.fulfillable_quantity = max(0, line.fulfillable_quantity + delta)
                    removals.append((line.id, -delta))
                    if calculated.restock and calculated.variant is not None:
                        calculated.variant.inventory_quantity -= delta
                elif delta > 0:
                    line.quantity += delta
                    line.fulfillable_quantity += delta
                    additions.append((line.id, delta))
                    if calculated.variant is not None:
                        calculated.variant.inventory_quantity -= delta
                if calculated.discounts:
                    line.discount = calculated.unit_discount
            created = []
            for calculated in session.added:
                variant = calculated.variant
                assert variant is not None
                product = self.products[variant.product_id]
                line = LineItem(
                    id=self._new_id(),
                    order_id=order.id,
                    title=calculated.title,
                    price=calculated.price,
                    quantity=calculated.quantity,
                    sku=calculated.sku,
                    variant_title=calculated.variant_title,
                    product_id=product.id,
                    variant_id=variant.id,
                    image_url=None,
                    requires_shipping=True,
                    fulfillable_quantity=calculated.quantity,
                    product_type=product.product_type,
                    product_tags=product.tags,
                    discount=calculated.unit_discount,
                )
                variant.inventory_quantity -= calculated.quantity
                order.lines.append(line)
                created.append(line)
                additions.append((line.id, calculated.quantity))
            if created:
                location = (
                    order.fulfillment_orders[0].location_name
                    if order.fulfillment_orders
                    else "Shop location"
                )
                order.fulfillment_orders.append(
                    FulfillmentOrder(
                        id=self._new_id(),
                        location_name=location,
                        line_ids={line.id: self._new_id() for line in created},
                        created_at=stamp,
                        updated_at=stamp,
                    )
                )
            self._close_finished(order, stamp)
            messages = ["Order updated"]
            if order.closed_at:
                order.closed_at = None
                messages.append("Order unarchived")
            self._settle(order)
            if notify:
                messages.append("Invoice sent" if order.amount_due > 0 else "Notification sent")
            session.committed = True
            for other in self.edit_sessions.values():
                if other.order is order and other is not session:
                    other.stale = True
            edit = OrderEdit(
                id=session.id,
                order_id=order.id,
                created_at=session.created_at,
                committed_at=stamp,
                notify_customer=notify,
                staff_note=staff_note or "",
                additions=additions,
                removals=removals,
            )
            order.edits.append(edit)
            self._emit("orders/edited", order, edit)
            self._emit("orders/updated", order, order)
            return messages

    def _calculated(self, order: Order, line: LineItem) -> CalculatedLine:
        return CalculatedLine(
            id=line.id,
            order=order,
            title=line.title,
            variant_title=line.variant_title,
            sku=line.sku,
            price=line.price,
            quantity=line.current_quantity,
            quantity_before=line.current_quantity,
            fulfilled=line.current_quantity - line.fulfillable_quantity,
            line=line,
            variant=self.variants.get(line.variant_id) if line.variant_id else None,
            discount_before=line.discount,
        )

    # --- the catalogue -------------------------------------------------------------------------

    def add_product(
        self,
        *,
        title: str,
        variants: Iterable[NewVariant],
        product_type: str = "",
        tags: Iterable[str] = (),
        id: int | None = None,
        image_url: str = "",
    ) -> Product:
        """A product and its variants, in the order given (their position)."""
        with self.lock:
            product = Product(
                id=id or self._new_id(),
                title=title,
                product_type=product_type,
                tags=tuple(tags),
                image_url=image_url,
            )
            if product.id in self.products:
                raise NotAllowed(f"product {product.id} already exists")
            for new in variants:
                self._add_variant(product, new)
            if not product.variants:
                raise NotAllowed("a product has at least one variant")
            self.products[product.id] = product
            return product

    def market_price(self, variant: ProductVariant, country: str | None) -> tuple[Decimal, str]:
        """What a shopper in `country` pays for the variant: its price converted at the
        market's rate and rounded as the currency is (the sandbox's reading of contextual
        pricing; Shopify may also round to the market's price endings)."""
        currency, rate = self.markets.get(country or "", (self.shop.currency, Decimal(1)))
        return rounded(variant.price * rate, currency), currency

    def set_stock(
        self, variant: ProductVariant, quantity: int, *, policy: str | None = None
    ) -> ProductVariant:
        """What the shop has of the variant now (and, if given, whether it sells past zero).
        Shopify would send inventory_levels/update; the portal does not subscribe to it."""
        with self.lock:
            variant.inventory_quantity = quantity
            if policy is not None:
                variant.inventory_policy = policy.upper()
            return variant

    def _add_variant(self, product: Product, new: NewVariant) -> ProductVariant:
        variant = ProductVariant(
            id=new.id or self._new_id(),
            product_id=product.id,
            title=new.title,
            price=Decimal(new.price),
            inventory_quantity=new.inventory_quantity,
            inventory_policy=new.inventory_policy.upper(),
            options=tuple(new.options.items()) or (("Title", new.title),),
            sku=new.sku,
        )
        if variant.id in self.variants:
            raise NotAllowed(f"variant {variant.id} already exists")
        product.variants.append(variant)
        self.variants[variant.id] = variant
        return variant

    def _know(self, line: LineItem, exchange_rate: Decimal) -> None:
        """An order's line is always one of the shop's variants. One the catalogue does not hold
        yet is added as the order describes it, with no stock (the sandbox's choice: a test
        that needs stock sets it)."""
        if line.product_id is None:
            return
        product = self.products.get(line.product_id)
        if product is None:
            product = Product(
                id=line.product_id,
                title=line.title,
                product_type=line.product_type,
                tags=line.product_tags,
            )
            self.products[product.id] = product
        if line.variant_id is not None and line.variant_id not in self.variants:
            title = line.variant_title or DEFAULT_TITLE
            self._add_variant(
                product,
                NewVariant(
                    id=line.variant_id,
                    title=title,
                    price=rounded(line.price / exchange_rate, self.shop.currency),
                    sku=line.sku,
                ),
            )

    # --- returns -------------------------------------------------------------------------------
    # Shopify's rules and words, from real 2026-04 captures (returnApprove-decline-state-
    # preconditions, returnClose-Reopen-Cancel-state-preconditions, return-quantity-validation).
    # None of these operations moves the order's updated_at: real reads after each show it
    # unchanged.

    def request_return(
        self,
        order: Order,
        *,
        lines: Iterable[NewReturnLine],
        shipping_fee: Decimal | None = None,
    ) -> Return:
        """returnRequest: the shopper asks (REQUESTED; returns/request)."""
        with self.lock:
            return self._new_return(order, lines, [], shipping_fee, status="REQUESTED")

    def create_return(
        self,
        order: Order,
        *,
        lines: Iterable[NewReturnLine],
        exchanges: Iterable[NewExchangeLine] = (),
        shipping_fee: Decimal | None = None,
    ) -> Return:
        """returnCreate: an approved return, straight to OPEN, with what the shopper takes in
        exchange; the exchange takes its stock now. Shopify's docs name no webhook for a return
        created open: the sandbox sends returns/approve, whose sample is an OPEN return."""
        with self.lock:
            return self._new_return(order, lines, list(exchanges), shipping_fee, status="OPEN")

    def approve_return(self, found: Return) -> Return:
        with self.lock:
            if found.status != "REQUESTED":
                raise Refused(
                    Problem(
                        ["id"],
                        "Return is not approvable. Only returns with status REQUESTED can be "
                        "approved.",
                        "INVALID_STATE",
                    )
                )
            found.status = "OPEN"
            found.request_approved_at = self._stamp()
            self._emit_return("returns/approve", found)
            return found

    def decline_return(self, found: Return, *, reason: str, note: str | None = None) -> Return:
        with self.lock:
            if found.status == "DECLINED":
                raise Refused(Problem(["id"], "The return is already declined.", "INVALID_STATE"))
            if found.status != "REQUESTED":
                raise Refused(
                    Problem(
                        ["id"],
                        "Return is not declinable. Only non-refunded returns with status "
                        "REQUESTED can be declined.",
                        "INVALID_STATE",
                    )
                )
            found.status = "DECLINED"
            found.decline = ReturnDecline(reason=reason.upper(), note=note)
            self._emit_return("returns/decline", found)
            return found

    def cancel_return(self, found: Return) -> Return:
        """Only before any work on it; canceling a canceled return answers it as it is."""
        with self.lock:
            if found.status == "CANCELED":
                return found
            if found.status not in ("REQUESTED", "OPEN") or found.processed:
                raise Refused(Problem(["id"], "Return is not cancelable.", "INVALID_STATE"))
            found.status = "CANCELED"
            for exchange in found.exchanges:  # the sandbox's choice: what it held goes back
                exchange.variant.inventory_quantity += exchange.quantity
            self._emit_return("returns/cancel", found)
            return found

    def close_return(self, found: Return) -> Return:
        """OPEN -> CLOSED; closing a closed return answers it as it is."""
        with self.lock:
            if found.status == "CLOSED":
                return found
            if found.status != "OPEN":
                raise Refused(Problem(["id"], "Return status is invalid.", "INVALID_STATE"))
            found.status = "CLOSED"
            found.closed_at = self._stamp()
            self._emit_return("returns/close", found)
            return found

    def reopen_return(self, found: Return) -> Return:
        """CLOSED -> OPEN; reopening an open return answers it as it is."""
        with self.lock:
            if found.status == "OPEN":
                return found
            if found.status != "CLOSED":
                raise Refused(Problem(["id"], "Return status is invalid.", "INVALID_STATE"))
            found.status = "OPEN"
            found.closed_at = None
            self._emit_return("returns/reopen", found)
            return found

    def process_return(self, found: Return) -> Return:
        """The merchant confirms every item came back (and every exchange went out). The
        return stays OPEN, as after a real returnProcess, until it is closed. Processing a
        return that is not OPEN is refused with returnClose's words (the sandbox's choice)."""
        with self.lock:
            if found.status != "OPEN":
                raise Refused(Problem(["id"], "Return status is invalid.", "INVALID_STATE"))
            for line in [*found.lines, *found.exchanges]:
                line.processed_quantity = line.quantity
            self._emit_return("returns/process", found)
            return found

    def _new_return(
        self,
        order: Order,
        lines: Iterable[NewReturnLine],
        exchanges: list[NewExchangeLine],
        shipping_fee: Decimal | None,
        *,
        status: str,
    ) -> Return:
        wanted = list(lines)
        problems: list[Problem] = []
        if not wanted:  # the sandbox's words: Shopify needs at least one line (FACTS.md)
            problems.append(
                Problem(["returnLineItems"], "Return line items can't be blank.", "BLANK")
            )
        held = self._held_back(order)
        picked: list[FulfillmentLine] = []
        for index, new in enumerate(wanted):
            shipped = self.fulfillment_line(order, new.fulfillment_line_id)
            if shipped is None:  # unknown, or another order's: not found in this one
                path = ["returnLineItems", str(index), "fulfillmentLineItemId"]
                problems.append(Problem(path, "Fulfillment Line Item was not found.", "NOT_FOUND"))
                continue
            left = shipped.quantity - held.get(shipped.id, 0)
            if not 0 < new.quantity <= left:
                path = ["returnLineItems", str(index), "quantity"]
                message = "Return line item has an invalid quantity."
                problems.append(Problem(path, message, "INVALID"))
                continue
            held[shipped.id] = held.get(shipped.id, 0) + new.quantity
            picked.append(shipped)
        taken: list[tuple[ProductVariant, int]] = []
        for index, new in enumerate(exchanges):
            path = ["exchangeLineItems", str(index)]
            variant = self.variants.get(new.variant_id) if new.variant_id else None
            if variant is None:  # the sandbox's words
                problems.append(Problem([*path, "variantId"], "Variant not found.", "NOT_FOUND"))
            elif new.quantity < 1:
                message = "Exchange line item has an invalid quantity."
                problems.append(Problem([*path, "quantity"], message, "INVALID"))
            elif not (variant.available_for_sale and variant.can_sell(new.quantity)):
                # The sandbox's assumption: Shopify's exact refusal of an exchange it has no
                # stock for is not recorded.
                message = "Variant is not available for sale."
                problems.append(Problem([*path, "variantId"], message, "INVALID"))
            else:
                taken.append((variant, new.quantity))
        if problems:
            raise Refused(*problems)

        stamp = self._stamp()
        fee = None
        if shipping_fee is not None:
            fee = Fee(id=self._new_id(), order_id=order.id, amount=Decimal(shipping_fee))
        made = Return(
            id=self._new_id(),
            order_id=order.id,
            name=f"{order.name}-R{len(order.returns) + 1}",
            status=status,
            created_at=stamp,
            request_approved_at=stamp if status == "OPEN" else None,
            shipping_fee=fee,
            lines=[
                ReturnLine(
                    id=self._new_id(),
                    fulfillment_line_item=shipped,
                    quantity=new.quantity,
                    return_reason=new.return_reason,
                    return_reason_note=new.return_reason_note,
                    customer_note=new.customer_note,
                    restocking_fee=self._restocking_fee(shipped, new),
                )
                for shipped, new in zip(picked, wanted, strict=True)
            ],
        )
        for variant, quantity in taken:
            variant.inventory_quantity -= quantity
            made.exchanges.append(
                ExchangeLine(id=self._new_id(), variant=variant, quantity=quantity)
            )
        order.returns.append(made)
        self.returns[made.id] = made
        self._emit_return("returns/request" if status == "REQUESTED" else "returns/approve", made)
        return made

    def _held_back(self, order: Order) -> dict[int, int]:
        """How many of each shipped line the order's live returns already hold."""
        held: dict[int, int] = {}
        for existing in order.returns:
            if existing.status in HOLDING_STATUSES:
                for line in existing.lines:
                    shipped = line.fulfillment_line_item.id
                    held[shipped] = held.get(shipped, 0) + line.quantity
        return held

    def _restocking_fee(self, shipped: FulfillmentLine, new: NewReturnLine) -> Fee | None:
        if new.restocking_fee_percentage is None:
            return None
        percentage = new.restocking_fee_percentage
        order = self.orders[shipped.line_item.order_id]
        base = shipped.line_item.price * new.quantity * Decimal(str(percentage)) / 100
        amount = rounded(base, order.currency)
        return Fee(id=self._new_id(), order_id=order.id, amount=amount, percentage=percentage)

    def _emit_return(self, topic: str, found: Return) -> None:
        order = self.orders[found.order_id]
        change = Change(topic=topic, order=order, subject=found, at=self._stamp())
        for observer in self._observers:
            observer(change)

    # --- webhook subscriptions ----------------------------------------------------------------

    def subscribe(
        self,
        *,
        topic: str,
        uri: str,
        format: str = "JSON",
        include_fields: Iterable[str] = (),
        filter: str | None = None,
    ) -> WebhookSubscription:
        with self.lock:
            now = self._stamp()
            subscription = WebhookSubscription(
                id=self._new_id(),
                topic=topic,
                uri=uri,
                created_at=now,
                updated_at=now,
                format=format,
                include_fields=list(include_fields),
                filter=filter,
            )
            self.subscriptions[subscription.id] = subscription
            return subscription

    def update_subscription(
        self, subscription: WebhookSubscription, **changes: object
    ) -> WebhookSubscription:
        with self.lock:
            for name, value in changes.items():
                if not hasattr(subscription, name) or name in ("id", "topic"):
                    raise AttributeError(name)
                setattr(subscription, name, value)
            subscription.updated_at = self._stamp()
            return subscription

    # --- internals ---------------------------------------------------------------------------

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _stamp(self) -> datetime:
        now = self.clock()
        if now <= self._last_stamp:
            now = self._last_stamp + timedelta(microseconds=1)
        self._last_stamp = now
        return now

    def _touch(self, order: Order) -> datetime:
        order.updated_at = self._stamp()
        return order.updated_at

    def _open_fulfillment_order(self, order: Order) -> FulfillmentOrder:
        if order.cancelled_at:
            raise NotAllowed(f"{order.name} is cancelled")
        for fulfillment_order in order.fulfillment_orders:
            if fulfillment_order.status not in ("CLOSED", "CANCELLED"):
                return fulfillment_order
        raise NotAllowed(f"{order.name} has no open fulfillment order")

    def _fulfillment_order_to_work_on(self, order: Order) -> FulfillmentOrder:
        fulfillment_order = self._open_fulfillment_order(order)
        if fulfillment_order.status == "ON_HOLD":
            raise NotAllowed(f"{order.name} is on hold")
        return fulfillment_order

    def _emit(self, topic: str, order: Order, subject: object) -> None:
        change = Change(topic=topic, order=order, subject=subject, at=order.updated_at)
        for observer in self._observers:
            observer(change)


# Shopify writes amounts in userErrors with the currency's symbol ("Refund amount $25.00 is greater
# than net payment received $15.00", a CAD shop's). Symbols of other currencies are the sandbox's.
CURRENCY_SYMBOLS = {
    "USD": "$", "CAD": "$", "AUD": "$", "NZD": "$", "SGD": "$", "HKD": "$", "MXN": "$",
    "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "¥", "INR": "₹", "KRW": "₩",
}  # fmt: skip


def money_text(amount: Decimal, currency: str) -> str:
    value = rounded(amount, currency)
    digits = f"{value:,.0f}" if currency in WHOLE_CURRENCIES else f"{value:,.2f}"
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{digits}" if symbol else f"{digits} {currency}"


def normalized_tags(tags: Iterable[str], *, existing: Iterable[str] = ()) -> list[str]:
    """An order's tags as Shopify keeps them (real 2025-01 tagsAdd captures): split at commas,
    trimmed, without duplicates ignoring case (the tag already there wins), sorted ignoring case."""
    kept: dict[str, str] = {}
    for tag in [*existing, *tags]:
        for part in tag.split(","):
            if part.strip():
                kept.setdefault(part.strip().lower(), part.strip())
    return sorted(kept.values(), key=str.lower)
