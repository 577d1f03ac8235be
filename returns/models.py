"""Returns and exchanges after delivery: the merchant's rules, and the shopper's requests.

A `ReturnRequest` follows Shopify's return statuses (REQUESTED, OPEN, DECLINED, CLOSED, CANCELED)
and adds what the shopper needs to see (DESIGN.md); only `actions.py` moves it along
`ReturnRequest.NEXT`. Each `ReturnLine` says how many of an order line come back, why, and what
the shopper wants instead: an exchange first, then store credit, then a refund.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from orders.models import LineItem, Order, Shop
from orders.requests import Request


class Resolution(models.TextChoices):
    """What the shopper gets for an item, in the order the flow offers them."""

    EXCHANGE = "exchange", _("Exchange for another size or colour")
    STORE_CREDIT = "store_credit", _("Store credit")
    REFUND = "refund", _("Refund to the original payment")


class ShopifyReason(models.TextChoices):
    """Shopify's `ReturnReason` enum: how a reason is reported on the return in Shopify."""

    SIZE_TOO_SMALL = "SIZE_TOO_SMALL", _("Size too small")
    SIZE_TOO_LARGE = "SIZE_TOO_LARGE", _("Size too large")
    UNWANTED = "UNWANTED", _("Unwanted")
    NOT_AS_DESCRIBED = "NOT_AS_DESCRIBED", _("Not as described")
    WRONG_ITEM = "WRONG_ITEM", _("Wrong item")
    DEFECTIVE = "DEFECTIVE", _("Defective")
    STYLE = "STYLE", _("Style")
    COLOR = "COLOR", _("Colour")
    OTHER = "OTHER", _("Other")


class AutoApproval(models.TextChoices):
    NONE = "none", _("never: an agent decides every return")
    ALL = "all", _("always")
    UNDER_AMOUNT = "under_amount", _("when the items are worth less than an amount")
    REASONS = "reasons", _("for the reasons chosen below")


def validate_overrides(value: Any) -> None:
    """{"US": {"window_days": 45, "resolutions": ["refund"]}, ...}"""
    if not isinstance(value, dict):
        raise ValidationError(_('Use an object like {"US": {"window_days": 45}}.'))
    for country, override in value.items():
        if not (isinstance(country, str) and len(country) == 2 and country.isupper()):
            raise ValidationError(
                _("%(key)s is not a two-letter country code."), params={"key": country}
            )
        if not isinstance(override, dict) or set(override) - {"window_days", "resolutions"}:
            raise ValidationError(
                _("%(key)s: only window_days and resolutions can be overridden."),
                params={"key": country},
            )
        days = override.get("window_days", 0)
        if not isinstance(days, int) or days < 0:
            raise ValidationError(
                _("%(key)s: window_days must be a whole number of days."), params={"key": country}
            )
        if not set(override.get("resolutions", [])) <= set(Resolution.values):
            raise ValidationError(_("%(key)s: unknown resolution."), params={"key": country})


class ReturnsFrom(models.TextChoices):
    """From when a parcel's items may be sent back."""

    DELIVERY = (
        "delivery",
        _("once the parcel is delivered (or has shipped, when its carrier reports nothing)"),
    )
    SHIPPING = "shipping", _("as soon as the parcel ships")


class ReturnPolicy(models.Model):
    """What a shop's shoppers may return, until when, and for what. One per shop."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="return_policy")
    enabled = models.BooleanField(_("returns through the portal"), default=True)
    returns_from = models.CharField(
        _("items can be returned"),
        max_length=16,
        choices=ReturnsFrom,
        default=ReturnsFrom.DELIVERY,
    )
    window_days = models.PositiveIntegerField(
        _("return window (days after delivery)"),
        default=30,
        help_text=_("Counted from delivery, or from shipping when no delivery date is known."),
    )
    excluded_tags = models.JSONField(
        default=list,
        blank=True,
        help_text=_('Product tags that cannot be returned, e.g. ["final-sale"].'),
    )
    excluded_product_types = models.JSONField(default=list, blank=True)
    resolutions = models.JSONField(
        default=list,
        blank=True,
        help_text=_('Offered, in this order: "exchange", "store_credit", "refund".'),
    )
    store_credit_bonus_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("0"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )  # fmt: skip
    restocking_fee_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("0"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )  # fmt: skip
    return_shipping_fee = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(0)]
    )
    fees_waived_for_exchanges = models.BooleanField(default=True)
    auto_approval = models.CharField(max_length=16, choices=AutoApproval, default=AutoApproval.NONE)
    auto_approval_under = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True
    )
    country_overrides = models.JSONField(default=dict, blank=True, validators=[validate_overrides])
    return_address = models.TextField(
        _("return address"),
        blank=True,
        help_text=_(
            "Where returned parcels go, as it is written on a parcel: printed on the return "
            "slip. Empty: the slip says the shop will tell the shopper."
        ),
    )
    slip_instructions = models.TextField(
        blank=True,
        help_text=_("Printed on the return slip: how to pack and send the parcel."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("return policy")
        verbose_name_plural = _("return policies")

    def __str__(self) -> str:
        return str(self.shop)

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        # Order pages (and what they offer) are cached under the shop's `updated_at`.
        Shop.touch(self.shop_id)

    @classmethod
    def for_shop(cls, shop: Shop) -> ReturnPolicy:
        """The shop's policy, or the defaults (unsaved: reading never writes)."""
        return cls.objects.filter(shop=shop).first() or cls(
            shop=shop,
            excluded_tags=["final-sale"],
            resolutions=[Resolution.EXCHANGE, Resolution.STORE_CREDIT, Resolution.REFUND],
        )

    def window_days_for(self, country_code: str) -> int:
        override = self.country_overrides.get(country_code.upper(), {})
        return int(override.get("window_days", self.window_days))

    def resolutions_for(self, country_code: str) -> list[str]:
        override = self.country_overrides.get(country_code.upper(), {})
        allowed = override.get("resolutions", self.resolutions)
        return [r for r in Resolution.values if r in allowed]


class ReturnReason(models.Model):
    """One of the merchant's return reasons, with its label in each language."""

    policy = models.ForeignKey(ReturnPolicy, on_delete=models.CASCADE, related_name="reasons")
    code = models.SlugField(max_length=64)
    labels = models.JSONField(
        default=dict,
        help_text=_('The label in each language, e.g. {"en": "Too small", "de": "Zu klein"}.'),
    )
    photo_required = models.BooleanField(default=False)
    auto_approved = models.BooleanField(
        default=False, help_text=_("Approved without an agent when the policy says so.")
    )
    shopify_reason = models.CharField(
        max_length=32,
        choices=ShopifyReason,
        default=ShopifyReason.OTHER,
        help_text=_("How the reason is reported to Shopify."),
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "code"], name="return_reason_code_unique")
        ]

    def __str__(self) -> str:
        return self.code

    def label(self, language: str) -> str:
        """In `language`, else its base language, else English, else the code."""
        return (
            self.labels.get(language)
            or self.labels.get(language.split("-")[0])
            or self.labels.get("en")
            or self.code
        )


class ShopifyStatus(models.TextChoices):
    REQUESTED = "REQUESTED"
    OPEN = "OPEN"
    DECLINED = "DECLINED"
    CLOSED = "CLOSED"
    CANCELED = "CANCELED"


class ReturnRequest(Request):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        IN_TRANSIT = "in_transit", _("On its way back")
        RECEIVED = "received", pgettext_lazy("return", "Received")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", pgettext_lazy("return", "Closed")
        DECLINED = "declined", _("Declined")
        CANCELLED = "cancelled", pgettext_lazy("return", "Cancelled")

    # DESIGN.md's state machine: where each status may go next.
    NEXT: ClassVar[dict[str, set[str]]] = {
        Status.REQUESTED: {Status.APPROVED, Status.DECLINED, Status.CANCELLED},
        # Shopify may process or close an open return at any point (its own admin).
        Status.APPROVED: {
            Status.IN_TRANSIT,
            Status.RECEIVED,
            Status.RESOLVED,
            Status.CLOSED,
            Status.CANCELLED,
        },
        # Shopify may also cancel a return it still considers untouched.
        Status.IN_TRANSIT: {Status.RECEIVED, Status.RESOLVED, Status.CLOSED, Status.CANCELLED},
        Status.RECEIVED: {Status.RESOLVED, Status.CLOSED, Status.CANCELLED},
        Status.RESOLVED: {Status.CLOSED},
        Status.CLOSED: {Status.APPROVED},  # reopened in Shopify
        Status.DECLINED: set(),
        Status.CANCELLED: set(),
    }
    TONES: ClassVar[dict[str, str]] = {
        Status.REQUESTED: "info",
        Status.DECLINED: "warn",
        Status.CANCELLED: "muted",
    }
    TONE = "ok"  # every other status: the return goes ahead
    # Items in these returns are not held by them: declined and cancelled returns give them back.
    SPENT = (Status.DECLINED, Status.CANCELLED)
    # Approved and not settled yet: Shopify must have it open.
    UNDER_WAY = (Status.APPROVED, Status.IN_TRANSIT, Status.RECEIVED)

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="return_requests")
    number = models.CharField(max_length=32)  # R1001-1: unique within the order
    status = models.CharField(max_length=16, choices=Status, default=Status.REQUESTED)
    # Shopify's side: the return's id and name there, and the last status Shopify confirmed.
    # What still has to reach Shopify follows from `status` and `shopify_status` (`shopify_step`).
    shopify_return_id = models.BigIntegerField(null=True, blank=True, unique=True)
    shopify_name = models.CharField(max_length=64, blank=True)
    shopify_status = models.CharField(max_length=16, choices=ShopifyStatus, blank=True)
    # The amounts the shopper saw and agreed to (`rules.Quote.as_json`).
    quote = models.JSONField(default=dict, blank=True)
    decline_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("return")
        constraints = [
            # Every shop numbers its orders from #1001: a return number is the order's.
            models.UniqueConstraint(fields=["order", "number"], name="return_number_per_order")
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def tone(self) -> str:
        return self.TONES.get(self.status, self.TONE)

    @property
    def has_exchange(self) -> bool:
        return any(line.resolution == Resolution.EXCHANGE for line in self.lines.all())

    @property
    def slip_available(self) -> bool:
        """The return slip is for parcels on their way back: once approved and open in Shopify
        (the parcel must not travel to a return Shopify does not know), until received."""
        return (
            self.status in (self.Status.APPROVED, self.Status.IN_TRANSIT)
            and self.shopify_status == ShopifyStatus.OPEN
        )

    @property
    def shopify_step(self) -> str | None:
        """What Shopify has to hear next about this return, if anything (`Step`).

        Shopify's `returnRequest` takes no exchange items; only `returnCreate` (which opens the
        return at once) does. So a return waiting for an agent reaches Shopify as a request
        when it holds no exchange, and a return with an exchange when it is approved."""
        status, seen = self.status, self.shopify_status
        if not seen:
            if status == self.Status.REQUESTED:
                return None if self.has_exchange else Step.REQUEST
            if status in self.UNDER_WAY:
                return Step.CREATE
            # Declined or cancelled before Shopify confirmed it had the return: an attempt whose
            # answer was lost may have made it there, and it would hold the items.
            return Step.ADOPT if self.attempts else None
        if seen == ShopifyStatus.REQUESTED:
            if status in self.UNDER_WAY:
                return Step.APPROVE
            return {self.Status.DECLINED: Step.DECLINE, self.Status.CANCELLED: Step.CANCEL}.get(
                status
            )
        if seen == ShopifyStatus.OPEN and status == self.Status.CANCELLED:
            return Step.CANCEL
        return None


class Step:
    """What the returns sync tells Shopify (`ReturnRequest.shopify_step`)."""

    REQUEST, CREATE, APPROVE, DECLINE, CANCEL = "request", "create", "approve", "decline", "cancel"
    ADOPT = "adopt"  # find the return a lost attempt made, to decline or cancel it


class Condition(models.TextChoices):
    """How an item came back, as the agent who opens the parcel judges it."""

    AS_NEW = "as_new", _("As new, can be resold")
    OPENED = "opened", _("Opened or worn")
    DAMAGED = "damaged", _("Damaged")
    MISSING = "missing", _("Not in the parcel")


class ReturnLine(models.Model):
    request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="lines")
    line_item = models.ForeignKey(LineItem, on_delete=models.CASCADE, related_name="return_lines")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    # The reason's code, and its label as the shopper read it (the merchant may rename it later).
    reason_code = models.CharField(max_length=64, blank=True, db_index=True)
    reason_label = models.CharField(max_length=255, blank=True)
    comment = models.TextField(blank=True)
    # Checked and re-encoded by `photos.store` before it is kept (no metadata, no location).
    photo = models.FileField(upload_to="returns/%Y/%m/", blank=True)
    resolution = models.CharField(max_length=16, choices=Resolution)
    exchange_variant_id = models.BigIntegerField(null=True, blank=True)
    exchange_variant_title = models.CharField(max_length=255, blank=True)
    exchange_price = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    condition = models.CharField(
        max_length=16, choices=Condition, blank=True, help_text=_("Set when the parcel arrives.")
    )

    def __str__(self) -> str:
        return f"{self.quantity} × {self.line_item.title}"
