"""The order mirror: what Shopify told us about shops and their orders, plus our audit log.

Shopify is the source of truth. Mirror fields are written only by ingest (and the demo loader);
everything the shopper sees that is not a Shopify fact is derived here, as a property, from the
rows below, never stored a second time.
"""

from __future__ import annotations

import functools
import zoneinfo
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from orders import branding, events, formatting
from orders.actors import Actor, ActorField
from orders.events import EventKind

SHIPPED_LANGUAGES = [code for code, _name in settings.LANGUAGES]

hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a colour like #1a73e8."))
shop_domain = RegexValidator(
    r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$", _("Use the shop's x.myshopify.com domain.")
)


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(_("%(zone)s is not a time zone."), params={"zone": value}) from None


def validate_locales(value: Any) -> None:
    if not isinstance(value, list) or not all(code in SHIPPED_LANGUAGES for code in value):
        raise ValidationError(
            _("Choose from the shipped languages: %(codes)s."),
            params={"codes": ", ".join(SHIPPED_LANGUAGES)},
        )


# Customer locales whose language the portal ships under another code: Chinese by its script,
# Portuguese in its Brazilian form, Hebrew by its old code.
SCRIPTS = {
    "zh": "zh-hans",
    "zh-cn": "zh-hans",
    "zh-sg": "zh-hans",
    "zh-hans-cn": "zh-hans",
    "pt": "pt-br",
    "iw": "he",
}


def default_locales() -> list[str]:
    return list(SHIPPED_LANGUAGES)


class Shop(models.Model):
    domain = models.CharField(max_length=255, unique=True, validators=[shop_domain])
    name = models.CharField(max_length=255)
    default_locale = models.CharField(max_length=10, default="en", choices=settings.LANGUAGES)
    enabled_locales = models.JSONField(
        default=default_locales,
        validators=[validate_locales],
        help_text=_('Language codes shoppers may switch to, e.g. ["en", "de"].'),
    )
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    currency = models.CharField(max_length=3, default="USD")
    logo_url = models.URLField(blank=True)
    brand_colour = models.CharField(max_length=7, default="#1f2937", validators=[hex_colour])
    accent_colour = models.CharField(max_length=7, default="#2563eb", validators=[hex_colour])
    support_email = models.EmailField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Part of every cached order page's key: a branding change shows at once.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    @classmethod
    def touch(cls, pk: int) -> None:
        """Say that something the shop's pages depend on changed (a policy): its cached order
        pages, keyed by `updated_at`, renew."""
        cls.objects.filter(pk=pk).update(updated_at=timezone.now())

    def __str__(self) -> str:
        return self.name or self.domain

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def brand_colour_shown(self) -> str:
        """The brand colour as the pages use it: readable under white text (`branding`)."""
        return branding.readable(self.brand_colour)

    @property
    def accent_colour_shown(self) -> str:
        return branding.readable(self.accent_colour)

    @property
    def languages(self) -> list[tuple[str, str]]:
        """(code, native name) of the languages a shopper of this shop may pick, in site order."""
        enabled = set(self.enabled_locales) | {self.default_locale}
        return [(code, name) for code, name in settings.LANGUAGES if code in enabled]

    def language_for(self, locale: str | None) -> str:
        """The enabled language closest to a Shopify customer locale ("fr-CA" -> "fr",
        "zh-CN" -> "zh-hans", "pt" -> "pt-br")."""
        enabled = {code for code, _name in self.languages}
        if locale:
            locale = locale.replace("_", "-").lower()
            base = locale.split("-")[0]
            for candidate in (locale, SCRIPTS.get(locale, ""), base, SCRIPTS.get(base, "")):
                if candidate in enabled:
                    return candidate
        return self.default_locale


class Stage(models.TextChoices):
    """Where an order is, as the shopper understands it. Derived by Order.stage."""

    CONFIRMED = "confirmed", pgettext_lazy("order stage", "Confirmed")
    PREPARING = "preparing", pgettext_lazy("order stage", "Preparing")
    PARTIALLY_SHIPPED = "partially_shipped", pgettext_lazy("order stage", "Partially shipped")
    SHIPPED = "shipped", pgettext_lazy("order stage", "Shipped")
    OUT_FOR_DELIVERY = "out_for_delivery", pgettext_lazy("order stage", "Out for delivery")
    DELIVERED = "delivered", pgettext_lazy("order stage", "Delivered")
    DELIVERY_PROBLEM = "delivery_problem", pgettext_lazy("order stage", "Delivery problem")
    CANCELLED = "cancelled", pgettext_lazy("order stage", "Cancelled")

    @property
    def is_settled(self) -> bool:
        """Nothing more will happen to the shipment: no need to keep watching."""
        return self in {Stage.DELIVERED, Stage.CANCELLED}

    @property
    def is_partial(self) -> bool:
        return self == Stage.PARTIALLY_SHIPPED

    @property
    def tone(self) -> str:
        """The badge colour family: ok, warn, muted or info."""
        return {
            "delivered": "ok",
            "delivery_problem": "warn",
            "cancelled": "muted",
        }.get(self.value, "info")


class OrderQuerySet(models.QuerySet["Order"]):
    def locked(self, pk: int) -> Order:
        """The order (with its shop), its row locked for the rest of the transaction: every write
        to one order, whoever makes it, happens one at a time."""
        return self.select_related("shop").select_for_update(of=("self",)).get(pk=pk)

    def at_stage(self, stage: str) -> OrderQuerySet:
        """The orders whose `Order.stage` is `stage`, decided in SQL so that the admin can filter
        a large mirror. tests/orders/test_stage.py holds this and the property to each other."""
        if stage == Stage.CANCELLED:
            return self.filter(cancelled_at__isnull=False)
        live = self.filter(cancelled_at__isnull=True)
        fulfillments = Fulfillment.objects.filter(order=models.OuterRef("pk"))
        active = fulfillments.filter(status=Fulfillment.Status.SUCCESS)
        shipped = models.Exists(active)
        problem = models.Exists(active.filter(shipment_status__in=Fulfillment.PROBLEMS))
        unshipped = models.Exists(
            LineItem.objects.filter(
                order=models.OuterRef("pk"), requires_shipping=True, fulfillable_quantity__gt=0
            )
        )
        undelivered = models.Exists(active.exclude(shipment_status__in=Fulfillment.DONE))
        out = models.Exists(
            active.filter(shipment_status=Fulfillment.ShipmentStatus.OUT_FOR_DELIVERY)
        )
        in_progress = models.Exists(
            FulfillmentOrder.objects.filter(
                order=models.OuterRef("pk"), status=FulfillmentOrder.Status.IN_PROGRESS
            )
        ) | models.Exists(fulfillments.filter(status__in=Fulfillment.IN_PREPARATION))
        complete = live.filter(shipped, ~problem, ~unshipped)
        return {
            Stage.CONFIRMED: live.filter(~shipped, ~in_progress),
            Stage.PREPARING: live.filter(~shipped, in_progress),
            Stage.DELIVERY_PROBLEM: live.filter(problem),
            Stage.PARTIALLY_SHIPPED: live.filter(shipped, ~problem, unshipped),
            Stage.DELIVERED: complete.filter(~undelivered),
            Stage.OUT_FOR_DELIVERY: complete.filter(undelivered, out),
            Stage.SHIPPED: complete.filter(undelivered, ~out),
        }[Stage(stage)]


class Order(models.Model):
    class FinancialStatus(models.TextChoices):
        PENDING = "pending", pgettext_lazy("payment", "Pending")
        AUTHORIZED = "authorized", pgettext_lazy("payment", "Authorized")
        PARTIALLY_PAID = "partially_paid", pgettext_lazy("payment", "Partially paid")
        PAID = "paid", pgettext_lazy("payment", "Paid")
        PARTIALLY_REFUNDED = "partially_refunded", pgettext_lazy("payment", "Partially refunded")
        REFUNDED = "refunded", pgettext_lazy("payment", "Refunded")
        VOIDED = "voided", pgettext_lazy("payment", "Voided")
        EXPIRED = "expired", pgettext_lazy("payment", "Expired")

    class FulfillmentStatus(models.TextChoices):
        UNFULFILLED = "unfulfilled", _("Unfulfilled")
        PARTIAL = "partial", _("Partially fulfilled")
        FULFILLED = "fulfilled", _("Fulfilled")
        RESTOCKED = "restocked", _("Restocked")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="orders")
    shopify_id = models.BigIntegerField()
    name = models.CharField(max_length=64, help_text=_("Shopify's order name, e.g. #1001."))
    number = models.PositiveBigIntegerField(help_text=_("Shopify's order_number, e.g. 1001."))
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    customer_locale = models.CharField(max_length=16, blank=True)
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal(0))
    shipping = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal(0))
    tax = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal(0))
    discounts = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal(0))
    total = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal(0))
    # Units of the order's currency per unit of the shop's (Shopify's two totals of the order):
    # what turns the merchant's amounts (fees, thresholds) into the order's and back.
    exchange_rate = models.DecimalField(max_digits=24, decimal_places=10, null=True, blank=True)
    # What the shopper paid at checkout (the totals above are the order as it stands now: a
    # cancelled order's are zero), and every refund Shopify made: {"id", "at", "amount"}.
    original_total = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    refunds = models.JSONField(default=list, blank=True)
    financial_status = models.CharField(
        max_length=24, choices=FinancialStatus, default=FinancialStatus.PAID
    )
    fulfillment_status = models.CharField(
        max_length=24, choices=FulfillmentStatus, default=FulfillmentStatus.UNFULFILLED
    )
    placed_at = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=32, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Shopify's REST address shape: first_name, last_name, company, address1, address2, city,
    # province, province_code, zip, country, country_code, phone.
    shipping_address = models.JSONField(default=dict, blank=True)
    tags = models.JSONField(default=list, blank=True)
    shopify_updated_at = models.DateTimeField(
        help_text=_("Shopify's updated_at: older payloads never overwrite newer ones.")
    )
    # Bumping this revokes every link already sent for the order.
    link_version = models.PositiveIntegerField(default=1)
    # Bumped by every write to the order or the rows below it that a shopper can see (ingest,
    # actions, shopper-visible events): the order page is cached under it.
    revision = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-placed_at"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "shopify_id"], name="order_unique_per_shop"),
        ]
        indexes = [
            models.Index(fields=["shop", "number"]),
            models.Index(fields=["email"]),
            models.Index(fields=["-placed_at"]),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def language(self) -> str:
        return self.shop.language_for(self.customer_locale)

    @cached_property
    def refunded(self) -> list[tuple[datetime, Decimal]]:
        """Every refund: when, and how much, in the order's currency."""
        found = []
        for refund in self.refunds or []:
            at = parse_datetime(str(refund.get("at") or ""))
            if at is not None:
                found.append((at, Decimal(str(refund.get("amount") or 0))))
        return found

    @property
    def paid_in_the_end(self) -> Decimal | None:
        """What the shopper paid at checkout, less every refund; None when unknown."""
        if self.original_total is None:
            return None
        return self.original_total - sum((amount for _at, amount in self.refunded), Decimal(0))

    def from_shop_currency(self, amount: Decimal) -> Decimal | None:
        """A merchant's amount (in the shop's currency) in the order's, rounded as the order's
        currency is; None when the rate is not known."""
        if self.currency == self.shop.currency:
            return amount
        if not self.exchange_rate:
            return None
        return formatting.rounded(amount * self.exchange_rate, self.currency)

    def in_shop_currency(self, amount: Decimal) -> Decimal | None:
        """An amount of the order (in its currency) in the shop's; None when the rate is not
        known."""
        if self.currency == self.shop.currency:
            return amount
        if not self.exchange_rate:
            return None
        return formatting.rounded(amount / self.exchange_rate, self.shop.currency)

    @property
    def country_code(self) -> str:
        return (self.shipping_address or {}).get("country_code", "")

    @property
    def postal_code(self) -> str:
        return (self.shipping_address or {}).get("zip") or ""

    @property
    def unshipped_quantity(self) -> int:
        return sum(line.fulfillable_quantity for line in self.lines.all() if line.requires_shipping)

    @property
    def has_payment(self) -> bool:
        """Money was taken (and not all of it given back): a cancellation refunds it."""
        paid = {
            Order.FinancialStatus.PAID,
            Order.FinancialStatus.PARTIALLY_PAID,
            Order.FinancialStatus.PARTIALLY_REFUNDED,
        }
        return self.financial_status in paid

    @property
    def payment(self) -> str:
        """What became of the money once the order was cancelled: "refunded", "voided" (an
        authorisation released: nothing charged) or "kept"."""
        if self.financial_status in (
            Order.FinancialStatus.REFUNDED,
            Order.FinancialStatus.PARTIALLY_REFUNDED,
        ):
            return "refunded"
        return "voided" if self.financial_status == Order.FinancialStatus.VOIDED else "kept"

    @property
    def warehouse_started(self) -> bool:
        """The warehouse is working on the order, or has shipped part of it: from here on, what
        was ordered and where it goes is the warehouse's business. (A closed fulfilment order
        alone says nothing: Shopify closes one whose items an order edit took away.)"""
        return any(
            fo.status == FulfillmentOrder.Status.IN_PROGRESS for fo in self.fulfillment_orders.all()
        ) or any(
            f.status in Fulfillment.IN_PREPARATION or f.is_shipped for f in self.fulfillments.all()
        )

    @property
    def shipments(self) -> list[Fulfillment]:
        """Parcels that left: not the ones a fulfilment service still works on (pending, open),
        nor cancelled or failed ones."""
        return [f for f in self.fulfillments.all() if f.is_shipped]

    @property
    def stage(self) -> Stage:
        """The one place the shopper-facing stage is decided.

        A problem with any parcel wins over the others' progress, because that is what the
        shopper has to act on. The order counts as fully shipped only when nothing that needs
        shipping is left to fulfil.
        """
        if self.is_cancelled:
            return Stage.CANCELLED
        shipments = self.shipments
        if not shipments:
            working = any(
                fo.status == FulfillmentOrder.Status.IN_PROGRESS
                for fo in self.fulfillment_orders.all()
            ) or any(f.status in Fulfillment.IN_PREPARATION for f in self.fulfillments.all())
            return Stage.PREPARING if working else Stage.CONFIRMED
        if any(shipment.has_problem for shipment in shipments):
            return Stage.DELIVERY_PROBLEM
        if self.unshipped_quantity > 0:
            return Stage.PARTIALLY_SHIPPED
        if all(shipment.is_delivered for shipment in shipments):
            return Stage.DELIVERED
        if any(s.shipment_status == Fulfillment.ShipmentStatus.OUT_FOR_DELIVERY for s in shipments):
            return Stage.OUT_FOR_DELIVERY
        return Stage.SHIPPED

    def bump_revision(self) -> None:
        """Say that what the shopper sees of this order changed (its cached page is stale)."""
        Order.objects.filter(pk=self.pk).update(revision=models.F("revision") + 1)
        self.refresh_from_db(fields=["revision"])

    def log(
        self,
        kind: EventKind,
        *,
        actor: Actor,
        subject: models.Model | None = None,
        at: datetime | None = None,
        **data: Any,
    ) -> OrderEvent:
        """Append to the audit log, the event stream: subscribers hear of it after commit.
        `subject` is what the event is about (a change, a return, a shipment); `at` is for facts
        that happened earlier (ingest, demo).

        An event the shopper sees changes the order page, so it moves the order's revision on.
        """
        event = OrderEvent.objects.create(
            order=self,
            kind=kind.name,
            actor=actor,
            visible_to_shopper=kind.visible_to_shopper,
            subject_type=ContentType.objects.get_for_model(subject) if subject else None,
            subject_id=subject.pk if subject else None,
            created_at=at or timezone.now(),
            data=data,
        )
        if (
            kind.visible_to_shopper
        ):  # after the write: a page cached under the new revision shows it
            self.bump_revision()
        events.publish(event)
        return event


class LineItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    shopify_id = models.BigIntegerField()
    position = models.PositiveIntegerField(default=0)
    product_id = models.BigIntegerField(null=True, blank=True)
    variant_id = models.BigIntegerField(null=True, blank=True)
    sku = models.CharField(max_length=255, blank=True)
    title = models.CharField(max_length=255)
    variant_title = models.CharField(max_length=255, blank=True)
    # Shopify's CDN URL; the demo store uses paths under /static/.
    image_url = models.CharField(max_length=1000, blank=True)
    quantity = models.PositiveIntegerField()
    fulfillable_quantity = models.PositiveIntegerField()
    price = models.DecimalField(
        max_digits=14, decimal_places=3, help_text=_("Unit price in the order's currency.")
    )
    # What one unit cost the shopper after every discount (what a return gives back).
    paid_price = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    requires_shipping = models.BooleanField(default=True)
    # The product's type and tags, which return rules look at (a "final-sale" tag). Only the
    # Admin API tells them: webhooks' line items do not carry them.
    product_type = models.CharField(max_length=255, blank=True)
    product_tags = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["order", "shopify_id"], name="line_unique_per_order"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.title}"

    @property
    def total(self) -> Decimal:
        return self.price * self.quantity

    @property
    def unit_paid(self) -> Decimal:
        """What one unit cost after discounts: the value a return gives back."""
        return self.price if self.paid_price is None else self.paid_price


class FulfillmentOrder(models.Model):
    """Shopify's unit of work for a location: in progress means the warehouse has started."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("fulfillment order", "Open")
        IN_PROGRESS = "in_progress", _("In progress")
        SCHEDULED = "scheduled", _("Scheduled")
        ON_HOLD = "on_hold", _("On hold")
        INCOMPLETE = "incomplete", _("Incomplete")
        CLOSED = "closed", pgettext_lazy("fulfillment order", "Closed")
        CANCELLED = "cancelled", pgettext_lazy("fulfillment order", "Cancelled")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="fulfillment_orders")
    shopify_id = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=Status, default=Status.OPEN)
    location_name = models.CharField(max_length=255, blank=True)
    hold_reasons = models.JSONField(default=list, blank=True)
    shopify_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "shopify_id"], name="fulfillment_order_unique_per_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order} / {self.get_status_display()}"


class Fulfillment(models.Model):
    """A shipment: what left the warehouse together, with its carrier tracking."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("fulfillment", "Pending")
        OPEN = "open", pgettext_lazy("fulfillment", "Open")
        SUCCESS = "success", pgettext_lazy("fulfillment", "Success")
        CANCELLED = "cancelled", pgettext_lazy("fulfillment", "Cancelled")
        ERROR = "error", pgettext_lazy("fulfillment", "Error")
        FAILURE = "failure", pgettext_lazy("fulfillment", "Failure")

    class ShipmentStatus(models.TextChoices):
        """Shopify's shipment statuses (FulfillmentEventStatus), worded for the shopper."""

        LABEL_PURCHASED = "label_purchased", _("Label created")
        LABEL_PRINTED = "label_printed", _("Label printed")
        CONFIRMED = "confirmed", _("Confirmed by the carrier")
        CARRIER_PICKED_UP = "carrier_picked_up", _("Picked up by the carrier")
        READY_FOR_PICKUP = "ready_for_pickup", _("Ready for pickup")
        IN_TRANSIT = "in_transit", _("In transit")
        DELAYED = "delayed", _("Delayed")
        OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
        ATTEMPTED_DELIVERY = "attempted_delivery", _("Delivery attempted")
        DELIVERED = "delivered", _("Delivered")
        PICKED_UP = "picked_up", _("Picked up")
        FAILURE = "failure", _("Delivery failed")

    # Shopify's fulfilment statuses: pending and open mean a fulfilment service has the request
    # and is working on it; only success means the parcel left.
    IN_PREPARATION = frozenset({Status.PENDING, Status.OPEN})
    PROBLEMS = frozenset({ShipmentStatus.ATTEMPTED_DELIVERY, ShipmentStatus.FAILURE})
    DONE = frozenset({ShipmentStatus.DELIVERED, ShipmentStatus.PICKED_UP})

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="fulfillments")
    shopify_id = models.BigIntegerField()
    name = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.SUCCESS)
    shipment_status = models.CharField(max_length=24, choices=ShipmentStatus, blank=True)
    tracking_company = models.CharField(max_length=255, blank=True)
    tracking_numbers = models.JSONField(default=list, blank=True)
    tracking_urls = models.JSONField(default=list, blank=True)
    shipped_at = models.DateTimeField()
    estimated_delivery_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    shopify_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["shipped_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "shopify_id"], name="fulfillment_unique_per_order"
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"{self.order} / {self.tracking_company}"

    @property
    def is_shipped(self) -> bool:
        return self.status == self.Status.SUCCESS

    @property
    def is_delivered(self) -> bool:
        return self.shipment_status in self.DONE

    @property
    def has_problem(self) -> bool:
        return self.shipment_status in self.PROBLEMS

    @property
    def is_delayed(self) -> bool:
        return self.shipment_status == self.ShipmentStatus.DELAYED

    @property
    def tone(self) -> str:
        if self.has_problem or self.is_delayed:
            return "warn"
        if self.is_delivered:
            return "ok"
        return "info"

    @property
    def estimate_outdated(self) -> bool:
        """The delivery estimate no longer holds: the carrier reported a delay after it was
        given (and gave no new date), or the day passed without a delivery."""
        estimate = self.estimated_delivery_at
        if estimate is None or self.is_delivered:
            return False
        latest = self.latest_event
        if self.is_delayed and latest is not None and latest.estimated_delivery_at is None:
            return True
        return estimate < timezone.now()

    @property
    def tracking(self) -> list[tuple[str, str]]:
        """(number, carrier URL) pairs; the URL is empty when Shopify has none."""
        urls = list(self.tracking_urls)
        return [
            (number, urls[i] if i < len(urls) else "")
            for i, number in enumerate(self.tracking_numbers)
        ]

    @cached_property
    def timeline(self) -> list[TrackingEvent]:
        """Carrier events, newest first (prefetched in ascending order)."""
        return sorted(self.events.all(), key=lambda event: event.happened_at, reverse=True)

    @property
    def latest_event(self) -> TrackingEvent | None:
        timeline = self.timeline
        return timeline[0] if timeline else None


class FulfillmentLine(models.Model):
    """Which line items, and how many of each, travel in a shipment."""

    fulfillment = models.ForeignKey(Fulfillment, on_delete=models.CASCADE, related_name="lines")
    line_item = models.ForeignKey(LineItem, on_delete=models.CASCADE, related_name="shipped_in")
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["fulfillment", "line_item"], name="fulfillment_line_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.line_item.title}"


class TrackingEvent(models.Model):
    fulfillment = models.ForeignKey(Fulfillment, on_delete=models.CASCADE, related_name="events")
    shopify_id = models.BigIntegerField()
    status = models.CharField(max_length=24, choices=Fulfillment.ShipmentStatus)
    happened_at = models.DateTimeField()
    message = models.CharField(max_length=500, blank=True)
    city = models.CharField(max_length=255, blank=True)
    province = models.CharField(max_length=255, blank=True)
    country_code = models.CharField(max_length=2, blank=True)
    estimated_delivery_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["happened_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["fulfillment", "shopify_id"], name="tracking_event_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_status_display()} @ {self.happened_at:%Y-%m-%d %H:%M}"

    @property
    def carrier_words(self) -> str:
        """What the carrier wrote, when it says more than the status (shown, translated, above
        it): "Picked up by the carrier" again is left out."""
        said = " ".join(self.message.split()).strip(" .").casefold()
        label = english_status_labels().get(self.status, "")
        same = {label, self.status.casefold(), self.status.replace("_", " ").casefold()}
        return "" if not said or said in same else self.message


@functools.cache
def english_status_labels() -> dict[str, str]:
    """The shipment statuses' English words, folded: what a carrier's message repeats."""
    with translation.override("en"):
        return {value: str(label).casefold() for value, label in Fulfillment.ShipmentStatus.choices}


class OrderEvent(models.Model):
    """The audit log and the event stream: who did what to an order, about what, and whether
    its shopper sees it. Kinds are namespaced text that each app registers (`orders.events`)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=64, db_index=True)
    actor = ActorField()
    # What the event is about: a change request, a return, a shipment.
    subject_type = models.ForeignKey(
        ContentType, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    subject_id = models.PositiveBigIntegerField(null=True, blank=True)
    subject = GenericForeignKey("subject_type", "subject_id")
    data = models.JSONField(default=dict, blank=True)
    visible_to_shopper = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["subject_type", "subject_id"])]

    def __str__(self) -> str:
        return f"{self.order} {self.kind}"

    @property
    def label(self) -> str:
        """What agents read, in the active language."""
        return str(events.kind(self.kind).label)

    @property
    def shopper_label(self) -> str:
        """What the shopper reads on the order page, in the active language."""
        registered = events.kind(self.kind)
        return str(registered.shopper or registered.label)


# The mirror's own events: what Shopify told us happened, and who opened the order.
PLACED = events.register("orders.placed", shopper=_("Order placed"))
CANCELLED = events.register("orders.cancelled", shopper=_("Order cancelled"))
SHIPPED = events.register("orders.shipped", shopper=_("A shipment is on its way"))
DELIVERED = events.register("orders.delivered", shopper=_("A shipment was delivered"))
DELIVERY_PROBLEM = events.register(
    "orders.delivery_problem", shopper=_("The carrier reported a delivery problem")
)
LINKS_REVOKED = events.register("orders.links_revoked", staff=_("Order links revoked"))
LOOKUP_GRANTED = events.register("orders.lookup_granted", staff=_("Order opened by lookup"))
