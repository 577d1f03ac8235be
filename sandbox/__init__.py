"""A stand-in Shopify store for the demo, the tests and the benchmarks.

No machine here reaches Shopify, so `Sandbox` plays one shop: the Admin GraphQL API our client
uses (the subset in `schema.graphql`, Shopify's own types), its calculated query cost and leaky
bucket, fault switches, and signed webhooks that can come twice, late or out of order. It imports
nothing of the project's: our client reaches it over HTTP (`manage.py sandbox`) or in process:

    sandbox = Sandbox(domain="shop.myshopify.com", access_token="shpat_x", client_secret="s")
    session.mount("https://shop.myshopify.com/", WSGIAdapter(sandbox.app))

Its story moves forward through the operations below (by order number, #1001 -> 1001), in Python
or over the control API, JSON in and out, each answering with the order's state. Webhooks go to
the subscriptions the app made with webhookSubscriptionCreate, or all to `target` if one is set.
What the app does goes through the Admin API: order edits (orderEditBegin ... orderEditCommit),
refunds (refundCreate @idempotent), holds; the shopper pays a balance on the payment page.
An order placed PAID carries a SALE for its total, one placed AUTHORIZED an AUTHORIZATION:

    POST   /sandbox/reset                       {"seed": "empty"|"demo", "keep_subscriptions": true}
    GET    /sandbox/orders                      numbers, ids, updated_at, status of every order
    POST   /sandbox/orders                      {"lines": [{"title", "price", "quantity", "sku",
                                                 "variant_title", "product_id", "variant_id",
                                                 "image_url", "requires_shipping"}], "email",
                                                 "phone", "customer_locale", "currency",
                                                 "exchange_rate", "shipping_address": {REST keys},
                                                 "shipping_price", "tax", "tags", "note", "number",
                                                 "placed_at", "financial_status", "location_name",
                                                 "gateway"}
    GET    /sandbox/orders/<n>                  the order's state (REST shape + fulfillment orders
                                                 + each shipment's events + transactions, refunds
                                                 and the amount due)
    POST   /sandbox/orders/<n>/start            packing starts (fulfillment order IN_PROGRESS)
    POST   /sandbox/orders/<n>/fulfil           {"lines": {"<sku|line gid>": quantity} or null for
                                                 all, "company", "tracking_number", "tracking_url",
                                                 "at"}
    POST   /sandbox/orders/<n>/fulfillments/<i>/events   {"status": "in_transit", "happened_at",
                                                 "message", "city", "province", "country", "zip",
                                                 "estimated_delivery_at"}
    POST   /sandbox/orders/<n>/fulfillments/<i>/deliver  {"at", "message", "city"}
    POST   /sandbox/orders/<n>/cancel           {"reason": "customer", "refund": true, "at"}
    POST   /sandbox/orders/<n>/hold             {"reason": "incorrect_address", "handle", "notes"}
    POST   /sandbox/orders/<n>/release
    GET    /sandbox/orders/<n>/payment          the shopper's payment page (HTML) for what the
                                                 order still owes: where its paymentCollection-
                                                 Details.additionalPaymentCollectionUrl points
    POST   /sandbox/orders/<n>/pay              the shopper pays it: a SALE of the amount due,
                                                 the order PAID (orders/paid, orders/updated);
                                                 a form post gets a page, else the order's state
    GET    /sandbox/products                    the catalogue: each product's variants and stock
    POST   /sandbox/products                    {"title", "product_type", "tags", "id", "variants":
                                                 [{"title", "price", "inventory_quantity",
                                                 "inventory_policy", "options": {"Size": "M"},
                                                 "sku", "id"}]}
    POST   /sandbox/variants/<id|sku>/stock     {"quantity", "policy": "DENY"|"CONTINUE"}
    GET    /sandbox/returns/<id|1001-R1>        the return's state
    POST   /sandbox/returns/<id|1001-R1>/<action>   what the merchant does in Shopify's admin:
                                                 approve, decline {"reason", "note"}, cancel,
                                                 close, reopen, process (everything received)
    GET    /sandbox/writes                      every mutation the app made that Shopify accepted:
                                                 {"mutation", "arguments", "at"}, in order
    GET|POST|DELETE /sandbox/faults             {"kind": "http"|"timeout"|"throttled"|
                                                 "access_denied"|"user_errors", "times", "status",
                                                 "retry_after", "seconds", "connect", "user_errors"}
    GET|POST /sandbox/bucket                    {"size", "restore_rate", "available"}
    GET|POST /sandbox/webhooks                  {"target", "duplicates", "reorder", "hold"}
    POST   /sandbox/webhooks/flush
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from sandbox import payloads
from sandbox.api import SCHEMA, AdminAPI
from sandbox.bucket import STANDARD_RESTORE_RATE, STANDARD_SIZE, Bucket
from sandbox.faults import Faults
from sandbox.seed import SHOP, SHOP_ID, load_demo
from sandbox.server import SandboxApp
from sandbox.store import (
    Address,
    Change,
    Clock,
    Fulfillment,
    FulfillmentEvent,
    FulfillmentHold,
    NewLine,
    NewVariant,
    Order,
    Product,
    ProductVariant,
    Return,
    Shop,
    Store,
    Transaction,
    utc_now,
)
from sandbox.webhooks import Target, Transport, WebhookSender

__all__ = ["Address", "NewLine", "NewVariant", "Sandbox"]

API_VERSION = "2026-07"


class Sandbox:
    def __init__(
        self,
        *,
        domain: str = SHOP["domain"],
        name: str = SHOP["name"],
        currency: str = SHOP["currency"],
        iana_timezone: str = SHOP["iana_timezone"],
        contact_email: str = SHOP["contact_email"],
        access_token: str = "shpat_sandbox",
        client_secret: str = "sandbox-client-secret",
        api_version: str = API_VERSION,
        restore_rate: float = STANDARD_RESTORE_RATE,
        bucket_size: float = STANDARD_SIZE,
        clock: Clock | None = None,
        transport: Transport | None = None,
    ) -> None:
        self.access_token = access_token
        self.api_version = api_version
        self.clock = clock or utc_now
        shop = Shop(
            id=SHOP_ID,
            domain=domain,
            name=name,
            currency=shopify_value("CurrencyCode", currency),
            iana_timezone=iana_timezone,
            contact_email=contact_email,
        )
        self.store = Store(shop, clock=self.clock)
        # A test's clock drives the bucket too, so that moving time refills it.
        seconds: Callable[[], float] = time.monotonic
        if clock is not None:
            start = clock()
            seconds = lambda: (clock() - start).total_seconds()  # noqa: E731
        self.bucket = Bucket(size=bucket_size, restore_rate=restore_rate, clock=seconds)
        self.faults = Faults()
        self.webhooks = WebhookSender(
            domain=domain,
            client_secret=client_secret,
            api_version=api_version,
            targets=self._subscribers,
            transport=transport,
        )
        self.store.observe(self._changed)
        self.api = AdminAPI(self.store, self.bucket)
        self.app = SandboxApp(self)

    # --- the whole shop -----------------------------------------------------------------------

    def reset(self, seed: str = "empty", *, keep_subscriptions: bool = True) -> None:
        """Forget the orders, faults, waiting deliveries and spent points; keep the app's webhook
        subscriptions unless told not to (the app stays installed); then seed `demo` if asked."""
        if seed not in ("empty", "demo"):
            raise ValueError(f"unknown seed {seed!r}: empty or demo")
        self.store.clear(subscriptions=not keep_subscriptions)
        self.faults.clear()
        self.webhooks.reset()
        self.bucket.configure(available=self.bucket.size)
        if seed == "demo":
            self.seed_demo()

    def seed_demo(self, now: datetime | None = None) -> list[Order]:
        """The demo shop's twenty orders (#1001-#1020), told through the store's operations."""
        orders = load_demo(self.store, now=now)
        self.webhooks.dispatch()
        return orders

    def order_state(self, number: int) -> dict[str, Any]:
        with self.store.lock:
            return payloads.order_state(self.store.order(number), self.store.shop)

    # --- the story of an order ----------------------------------------------------------------

    def create_order(self, *, lines: Iterable[NewLine], **details: Any) -> Order:
        """Place an order (orders/create); see `Store.place_order` for the details."""
        for name, enum in (("currency", "CurrencyCode"),
                           ("financial_status", "OrderDisplayFinancialStatus")):  # fmt: skip
            if details.get(name):
                details[name] = shopify_value(enum, details[name])
        return self._then_deliver(lambda: self.store.place_order(lines=lines, **details))

    def start_preparing(self, number: int) -> Order:
        """Packing starts (orders/updated)."""
        order = self.store.order(number)
        self._then_deliver(lambda: self.store.start_preparing(order))
        return order

    def fulfil(
        self,
        number: int,
        *,
        lines: Mapping[str | int, int] | None = None,
        company: str | None = None,
        tracking_number: str | None = None,
        tracking_url: str | None = None,
        at: datetime | None = None,
    ) -> Fulfillment:
        """A parcel leaves with `lines` (SKU, line id or gid -> quantity; None: all that is left).
        Sends fulfillments/create, orders/fulfilled or /partially_fulfilled, orders/updated."""
        order = self.store.order(number)
        with self.store.lock:
            wanted = {order.line(key).id: quantity for key, quantity in (lines or {}).items()}
        return self._then_deliver(
            lambda: self.store.fulfil(
                order,
                lines=wanted or None,
                company=company,
                number=tracking_number,
                url=tracking_url,
                at=at,
            )
        )

    def add_tracking_event(
        self, number: int, fulfillment: int = 1, *, status: str, **details: Any
    ) -> FulfillmentEvent:
        """A carrier scan on the order's `fulfillment`-th shipment (fulfillment_events/create,
        fulfillments/update)."""
        order = self.store.order(number)
        shipment = order.fulfillment(fulfillment)
        status = shopify_value("FulfillmentEventStatus", status)
        if "country" not in details and order.shipping_address:
            details["country"] = order.shipping_address.country_code
        return self._then_deliver(
            lambda: self.store.add_event(order, shipment, status=status, **details)
        )

    def deliver(
        self,
        number: int,
        fulfillment: int = 1,
        *,
        at: datetime | None = None,
        message: str = "Delivered",
        city: str | None = None,
    ) -> FulfillmentEvent:
        address = self.store.order(number).shipping_address
        return self.add_tracking_event(
            number,
            fulfillment,
            status="DELIVERED",
            happened_at=at,
            message=message,
            city=city or (address.city if address else None),
        )

    def cancel(
        self,
        number: int,
        *,
        reason: str = "CUSTOMER",
        refund: bool = True,
        at: datetime | None = None,
    ) -> Order:
        """Cancel the order (orders/cancelled, orders/updated)."""
        order = self.store.order(number)
        reason = shopify_value("OrderCancelReason", reason)
        return self._then_deliver(
            lambda: self.store.cancel(order, reason=reason, refund=refund, at=at)
        )

    def hold(
        self,
        number: int,
        *,
        reason: str = "OTHER",
        handle: str | None = None,
        notes: str | None = None,
    ) -> FulfillmentHold:
        """Hold the order's fulfillment (fulfillment_orders/placed_on_hold)."""
        order = self.store.order(number)
        reason = shopify_value("FulfillmentHoldReason", reason)
        return self._then_deliver(
            lambda: self.store.hold(order, reason=reason, handle=handle, notes=notes)
        )

    def release_hold(self, number: int) -> Order:
        """Release it (fulfillment_orders/hold_released)."""
        order = self.store.order(number)
        self._then_deliver(lambda: self.store.release_hold(order))
        return order

    def pay_balance(self, number: int) -> Transaction:
        """The shopper pays what the order still owes, on its payment page: a SALE of the amount
        due; the order is PAID (orders/paid, orders/updated). NotAllowed if nothing is owed."""
        order = self.store.order(number)
        return self._then_deliver(lambda: self.store.pay_balance(order))

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
        """A product and its variants (sizes, colours), each with its stock, and its picture."""
        variants = list(variants)
        for variant in variants:
            variant.inventory_policy = shopify_value(
                "ProductVariantInventoryPolicy", variant.inventory_policy
            )
        return self.store.add_product(
            title=title,
            variants=variants,
            product_type=product_type,
            tags=tags,
            id=id,
            image_url=image_url,
        )

    def set_stock(
        self, variant: int | str, quantity: int, *, policy: str | None = None
    ) -> ProductVariant:
        """What the shop has now of `variant` (id, gid or SKU); `policy` CONTINUE sells on at
        zero, DENY (the default) stops selling."""
        if policy is not None:
            policy = shopify_value("ProductVariantInventoryPolicy", policy)
        with self.store.lock:
            return self.store.set_stock(self.store.variant(variant), quantity, policy=policy)

    def product_state(self, product: int | str) -> dict[str, Any]:
        """A product (id or gid, or the id, gid or SKU of one of its variants) and its stock."""
        with self.store.lock:
            found = self.store.products.get(product) if isinstance(product, int) else None
            if found is None and isinstance(product, str) and product.startswith("gid://"):
                number = product.rsplit("/", 1)[-1]
                found = self.store.products.get(int(number)) if number.isdigit() else None
            if found is None:
                found = self.store.products[self.store.variant(product).product_id]
            return payloads.product_state(found)

    # --- returns, as the merchant handles them in Shopify's admin -------------------------------
    # Each takes the return's gid, id or name (#1001-R1), sends its returns/* webhook and raises
    # store.Refused (a NotAllowed, with Shopify's userErrors) where Shopify would refuse.

    def approve_return(self, key: str | int) -> Return:
        return self._on_return(key, self.store.approve_return)

    def decline_return(
        self, key: str | int, *, reason: str = "OTHER", note: str | None = None
    ) -> Return:
        reason = shopify_value("ReturnDeclineReason", reason)
        return self._on_return(
            key, lambda found: self.store.decline_return(found, reason=reason, note=note)
        )

    def cancel_return(self, key: str | int) -> Return:
        return self._on_return(key, self.store.cancel_return)

    def close_return(self, key: str | int) -> Return:
        return self._on_return(key, self.store.close_return)

    def reopen_return(self, key: str | int) -> Return:
        return self._on_return(key, self.store.reopen_return)

    def process_return(self, key: str | int) -> Return:
        """Everything came back (and every exchange went out): processedQuantity = quantity."""
        return self._on_return(key, self.store.process_return)

    def return_state(self, key: str | int) -> dict[str, Any]:
        with self.store.lock:
            found = self.store.find_return(key)
            return payloads.return_state(found, self.store.orders[found.order_id])

    # --- internals ---------------------------------------------------------------------------

    def _on_return(self, key: str | int, operation: Callable[[Return], Return]) -> Return:
        with self.store.lock:
            found = self.store.find_return(key)
        return self._then_deliver(lambda: operation(found))

    def _then_deliver(self, operation: Callable[[], Any]) -> Any:
        result = operation()
        self.webhooks.dispatch()  # after the store's lock is released: receivers may call back
        return result

    def _changed(self, change: Change) -> None:
        payload = payloads.render(change, self.store.shop)
        self.webhooks.trigger(change.topic, payload, at=change.at)

    def _subscribers(self, topic: str) -> list[Target]:
        return [
            Target(subscription.uri, tuple(subscription.include_fields))
            for subscription in self.store.subscriptions_for(topic)
        ]


def shopify_value(enum: str, value: str) -> str:
    """`value` (in any case) as a value of Shopify's `enum`; ValueError if it is none of them."""
    values = SCHEMA.type_map[enum].values  # type: ignore[union-attr]
    if value.upper() not in values:
        raise ValueError(f"{value!r} is not a {enum}: one of {', '.join(values)}")
    return value.upper()
