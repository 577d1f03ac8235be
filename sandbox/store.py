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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import ClassVar

Clock = Callable[[], datetime]

FIRST_ID = 6_100_000_000_000  # the size of Shopify's ids in 2026 (13 digits)
FIRST_ORDER_NUMBER = 1001
UNSET: object = object()
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

    @property
    def name(self) -> str:
        return f"{self.title} - {self.variant_title}" if self.variant_title else self.title

    @property
    def current_quantity(self) -> int:
        return self.quantity  # the sandbox never edits an order's lines

    @property
    def unfulfilled_quantity(self) -> int:
        return self.fulfillable_quantity


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

    @property
    def name(self) -> str:
        return f"#{self.number}"

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    def in_shop_currency(self, amount: Decimal, shop_currency: str) -> Decimal:
        return rounded(amount / self.exchange_rate, shop_currency)

    @property
    def subtotal(self) -> Decimal:
        return sum((line.price * line.quantity for line in self.lines), Decimal(0))

    @property
    def discounts(self) -> Decimal:
        return Decimal(0)

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.shipping_price + self.tax - self.discounts

    def current(self, amount: Decimal) -> Decimal:
        """An amount as it stands now (Shopify's current_*): a cancelled order's is 0, as real
        2026-04 reads after orderCancel show."""
        return Decimal(0) if self.cancelled_at else amount

    @property
    def display_fulfillment_status(self) -> str:
        shipped = sum(line.fulfilled_quantity for line in self.lines)
        if self.lines and all(line.fulfilled_quantity >= line.quantity for line in self.lines):
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
        self._observers: list[Observer] = []
        self._next_id = FIRST_ID
        self._last_stamp = datetime.min.replace(tzinfo=UTC)

    def observe(self, observer: Observer) -> None:
        self._observers.append(observer)

    def clear(self, *, subscriptions: bool = True) -> None:
        with self.lock:
            self.orders.clear()
            self._numbers.clear()
            if subscriptions:
                self.subscriptions.clear()

    # --- lookups ---------------------------------------------------------------------------

    def order(self, number: int) -> Order:
        order = self._numbers.get(number)
        if order is None:
            raise NotFound(f"no order #{number}")
        return order

    def order_by_gid(self, value: str) -> Order | None:
        number = parse_gid(value, "Order")
        return self.orders.get(number) if number is not None else None

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
    ) -> Order:
        """A new order with one open fulfillment order holding all its lines. `placed_at` dates
        it in the past, as an imported order (created and processed then, updated now)."""
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
            fulfillment_order = self._fulfillment_order_to_work_on(order)
            wanted = lines or {
                line.id: line.fulfillable_quantity
                for line in order.lines
                if line.fulfillable_quantity
            }
            by_id = {line.id: line for line in order.lines}
            for line_id, quantity in wanted.items():
                line = by_id.get(line_id)
                if line is None or not 0 < quantity <= line.fulfillable_quantity:
                    raise NotAllowed(f"{order.name} cannot ship {quantity} of line {line_id}")
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
            fulfillment_order.status = "CLOSED" if complete else "IN_PROGRESS"
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
            elif order.display_financial_status == "PAID" and refund:
                order.display_financial_status = "REFUNDED"
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


def normalized_tags(tags: Iterable[str], *, existing: Iterable[str] = ()) -> list[str]:
    """An order's tags as Shopify keeps them (real 2025-01 tagsAdd captures): split at commas,
    trimmed, without duplicates ignoring case (the tag already there wins), sorted ignoring case."""
    kept: dict[str, str] = {}
    for tag in [*existing, *tags]:
        for part in tag.split(","):
            if part.strip():
                kept.setdefault(part.strip().lower(), part.strip())
    return sorted(kept.values(), key=str.lower)
