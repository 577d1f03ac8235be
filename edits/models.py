"""Order changes the shopper asks for before fulfilment (address, contact details, cancellation),
and the merchant's rules for them.

A `ChangeRequest` moves through a small state machine (`ChangeRequest.NEXT`); only `actions.py`
moves it. Its `before` and `after` keep both sides of the change, so agents can compare them and
the audit log never depends on the mirror's current state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.models import Order, Shop
from orders.requests import Request
from shopify import refusals


class Until(models.TextChoices):
    """The latest point of fulfilment at which a change is still allowed."""

    WAREHOUSE_STARTS = "warehouse_starts", _("until the warehouse starts on the order")
    FIRST_SHIPMENT = "first_shipment", _("until the first parcel ships")
    DELIVERY = "delivery", _("until everything is delivered")


class Approval(models.TextChoices):
    NEVER = "never", _("never: applied at once")
    ALWAYS = "always", _("always: an agent decides")
    CONDITIONAL = "conditional", _("when a condition below holds")


class RefundMethod(models.TextChoices):
    ORIGINAL = "original", _("to the original payment")
    STORE_CREDIT = "store_credit", _("as store credit")


@dataclass(frozen=True)
class ActionRule:
    """One action's switches, read off the policy."""

    enabled: bool
    window: timedelta
    until: str
    approval: str


class EditPolicy(models.Model):
    """What a shop's shoppers may change themselves, and when. One per shop."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="edit_policy")

    address_enabled = models.BooleanField(_("address changes"), default=True)
    address_window_minutes = models.PositiveIntegerField(
        _("address window (minutes after the order)"), default=12 * 60
    )
    address_until = models.CharField(max_length=24, choices=Until, default=Until.WAREHOUSE_STARTS)
    address_approval = models.CharField(max_length=16, choices=Approval, default=Approval.NEVER)
    allow_country_change = models.BooleanField(
        _("allow a different destination country"), default=False
    )
    approval_when_country_changes = models.BooleanField(default=True)

    contact_enabled = models.BooleanField(_("contact changes"), default=True)
    contact_window_minutes = models.PositiveIntegerField(
        _("contact window (minutes after the order)"), default=7 * 24 * 60
    )
    contact_until = models.CharField(max_length=24, choices=Until, default=Until.DELIVERY)
    contact_approval = models.CharField(max_length=16, choices=Approval, default=Approval.NEVER)

    cancel_enabled = models.BooleanField(_("cancellations"), default=True)
    cancel_window_minutes = models.PositiveIntegerField(
        _("cancellation window (minutes after the order)"), default=2 * 60
    )
    cancel_until = models.CharField(max_length=24, choices=Until, default=Until.WAREHOUSE_STARTS)
    cancel_approval = models.CharField(max_length=16, choices=Approval, default=Approval.NEVER)
    cancel_refund = models.BooleanField(_("refund to the original payment"), default=True)
    cancel_restock = models.BooleanField(_("restock the items"), default=True)
    cancel_notify = models.BooleanField(_("Shopify emails the customer"), default=True)
    cancel_staff_note = models.CharField(
        max_length=255, default="Cancelled by the customer in the order portal", blank=True
    )

    # Off until the merchant switches it on: an item change moves money (a payment to collect,
    # a refund), which a shop should choose knowingly.
    items_enabled = models.BooleanField(
        _("item changes (sizes, colours, quantities)"), default=False
    )
    items_window_minutes = models.PositiveIntegerField(
        _("item changes window (minutes after the order)"), default=12 * 60
    )
    items_until = models.CharField(max_length=24, choices=Until, default=Until.WAREHOUSE_STARTS)
    items_approval = models.CharField(max_length=16, choices=Approval, default=Approval.NEVER)
    items_swap = models.BooleanField(_("swap a variant of the same product"), default=True)
    items_quantity = models.BooleanField(_("change quantities and remove items"), default=True)
    items_same_price_only = models.BooleanField(
        _("only changes that keep the total as it is"), default=False
    )
    items_locked_tags = models.JSONField(
        default=list,
        blank=True,
        help_text=_('Products with any of these tags cannot be changed, e.g. ["made-to-order"].'),
    )
    items_add_tag = models.CharField(
        _("products with this tag may be added"),
        max_length=255,
        blank=True,
        validators=[RegexValidator(r'^[^"\\]*$', _("A tag cannot hold quotes or backslashes."))],
        help_text=_("For example add-on. Empty: nothing can be added."),
    )
    items_max_increase_percent = models.PositiveIntegerField(
        _("largest increase of the order total (%)"), null=True, blank=True
    )
    items_max_decrease_percent = models.PositiveIntegerField(
        _("largest decrease of the order total (%)"), null=True, blank=True
    )
    items_refund_method = models.CharField(
        _("money owed back goes"),
        max_length=16,
        choices=RefundMethod,
        default=RefundMethod.ORIGINAL,
    )
    items_payment_hours = models.PositiveIntegerField(
        _("hours to pay a difference before an agent looks"),
        default=48,
        validators=[MinValueValidator(1)],
    )

    approval_above_total = models.DecimalField(
        _("conditional approval: order total above"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
    )
    blocked_tags = models.JSONField(
        default=list,
        blank=True,
        help_text=_(
            'Orders with any of these Shopify tags are not self-service, e.g. ["no-self-service"].'
        ),
    )
    max_changes_per_order = models.PositiveIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(50)]
    )
    applied_tags = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Shopify tags added to an order when a change is applied."),
    )
    # The warehouse's import limits: an edited address must never break it.
    address_line_max_length = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(10)]
    )
    latin_only = models.BooleanField(_("Latin characters only (transliterate)"), default=False)
    hold_during_window = models.BooleanField(
        _("hold new orders' fulfilment during the address window"), default=False
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("edit policy")
        verbose_name_plural = _("edit policies")

    def __str__(self) -> str:
        return str(self.shop)

    @classmethod
    def for_shop(cls, shop: Shop) -> EditPolicy:
        """The shop's policy; until a merchant saves one, the defaults (unsaved: reading the
        order page never writes)."""
        policy = cls.objects.filter(shop=shop).first()
        if policy is None:
            policy = cls(
                shop=shop, blocked_tags=["no-self-service"], applied_tags=["portal-edited"]
            )
        return policy

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        # The order pages, and their parts that say what may be changed, are cached under the
        # shop's `updated_at`: a new policy must show at once.
        Shop.touch(self.shop_id)

    def rule(self, kind: str) -> ActionRule:
        return ActionRule(
            enabled=getattr(self, f"{kind}_enabled"),
            window=timedelta(minutes=getattr(self, f"{kind}_window_minutes")),
            until=getattr(self, f"{kind}_until"),
            approval=getattr(self, f"{kind}_approval"),
        )


class ChangeRequest(Request):
    """One change the shopper (or an agent for them) asked for. What it changes is its kind's
    business (`edits.kinds`: its words too, through the `change_kinds` template filters); how it
    reaches Shopify is the outbox's (`Request`)."""

    class Status(models.TextChoices):
        AWAITING_APPROVAL = "awaiting_approval", _("Waiting for approval")
        QUEUED = "queued", _("Being applied")
        APPLIED = "applied", _("Applied")
        FAILED = "failed", _("Could not be applied")
        REJECTED = "rejected", _("Not approved")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        # The shop made the same change in Shopify before ours arrived (a cancellation).
        BY_SHOP = "by_shop", _("Done by the shop")
        # Made in Shopify; the order now owes the difference, and waits for the shopper's payment.
        AWAITING_PAYMENT = "awaiting_payment", _("Waiting for your payment")

    # The state machine (DESIGN.md): where each status may go next.
    NEXT: ClassVar[dict[str, set[str]]] = {
        Status.AWAITING_APPROVAL: {
            Status.QUEUED,
            Status.REJECTED,
            Status.WITHDRAWN,
            Status.BY_SHOP,
        },
        Status.QUEUED: {Status.APPLIED, Status.FAILED, Status.BY_SHOP, Status.AWAITING_PAYMENT},
        Status.AWAITING_PAYMENT: {Status.APPLIED},
        Status.FAILED: {Status.QUEUED},
        Status.APPLIED: set(),
        Status.REJECTED: set(),
        Status.WITHDRAWN: set(),
        Status.BY_SHOP: set(),
    }
    TONES: ClassVar[dict[str, str]] = {
        Status.APPLIED: "ok",
        Status.BY_SHOP: "ok",
        Status.FAILED: "warn",
        Status.REJECTED: "warn",
        Status.WITHDRAWN: "muted",
        Status.AWAITING_PAYMENT: "warn",
    }
    OPEN = (Status.AWAITING_APPROVAL, Status.QUEUED, Status.AWAITING_PAYMENT)

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="change_requests")
    kind = models.CharField(max_length=24)  # a code of `edits.kinds`
    status = models.CharField(max_length=24, choices=Status)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    # Shown to the shopper: why an agent said no.
    rejection_reason = models.TextField(blank=True)
    # The fields of ours that Shopify refused (`shopify.refusals`), for the shopper to correct.
    refused_fields = models.JSONField(default=list, blank=True)
    # What Shopify did, when the shopper needs to know (the shop cancelled first: refunded?).
    shopify_result = models.JSONField(default=dict, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("change request")
        constraints = [
            # One open request per order and kind: a double submission cannot make two.
            models.UniqueConstraint(
                fields=["order", "kind"],
                condition=Q(status__in=["awaiting_approval", "queued", "awaiting_payment"]),
                name="one_open_change_per_order_and_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order} {self.kind} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def is_settled(self) -> bool:
        return not self.NEXT[self.status] or self.status == self.Status.FAILED

    @property
    def field_hints(self) -> dict[str, str]:
        """Our fields that Shopify refused, each with what the shopper reads on it."""
        return {name: refusals.hint(name) for name in self.refused_fields}

    def changed_fields(self) -> list[tuple[str, Any, Any]]:
        """(field, before, after) for every field that differs."""
        keys = list(dict.fromkeys([*self.before, *self.after]))
        return [
            (key, self.before.get(key), self.after.get(key))
            for key in keys
            if self.before.get(key) != self.after.get(key)
        ]


class WarehouseHold(models.Model):
    """Our hold on one of an order's fulfilment orders: while its address may still change
    (`EditPolicy.hold_during_window`: the warehouse waits, the shopper fixes, then it ships), or
    while it owes the difference of an item change (until the shopper has paid)."""

    class Reason(models.TextChoices):
        ADDRESS_WINDOW = "address_window", _("the address may still change")
        AWAITING_PAYMENT = "awaiting_payment", _("a difference is still to be paid")

    class Release(models.TextChoices):
        WINDOW_ENDED = "window_ended", _("the address window ended")
        CHANGE_APPLIED = "change_applied", _("a change was applied")
        CONFIRMED = "confirmed", _("the shopper confirmed the order")
        CANCELLED = "cancelled", _("the order was cancelled")
        PAID = "paid", _("the difference was paid")
        NO_LONGER_OWED = "no_longer_owed", _("the difference is no longer owed")
        SETTLED = "settled", _("an agent settled the difference")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="warehouse_holds")
    reason = models.CharField(max_length=24, choices=Reason, default=Reason.ADDRESS_WINDOW)
    fulfillment_order_gid = models.CharField(max_length=128)
    hold_gid = models.CharField(max_length=128)
    placed_at = models.DateTimeField(default=timezone.now)
    # When the scheduler lets the warehouse go on (the address window's end); never for payment.
    release_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    released_at = models.DateTimeField(null=True, blank=True)
    released_because = models.CharField(max_length=24, choices=Release, blank=True)

    class Meta:
        verbose_name = _("warehouse hold")
        constraints = [
            models.UniqueConstraint(
                fields=["order", "fulfillment_order_gid", "reason"],
                condition=Q(released_at__isnull=True),
                name="one_active_hold_per_fulfillment_order_and_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order} {self.fulfillment_order_gid}"
