"""The merchant's offers: a product a shopper may add to an order already placed, at a
discount, and who is offered it.

An offer is shown after the shopper has confirmed the delivery address, while the order can
still be changed (`rules.can_offer`), to the orders it targets (`targeting`). Accepting it is
an item change of `edits` that adds one unit of the variant at the offer's discount; what the
offer brought in is counted from the order events (`funnel`).
"""

from __future__ import annotations

from decimal import Decimal

from django.core.cache import cache
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from orders.models import Shop


class Discount(models.TextChoices):
    PERCENT = "percent", _("a percentage off")
    AMOUNT = "amount", _("an amount off, in the shop's currency")


class Offer(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="offers")
    name = models.CharField(
        _("name"),
        max_length=120,
        help_text=_("For you and your team. Shoppers see the product's own title and picture."),
    )
    active = models.BooleanField(_("active"), default=True)

    # What is offered.
    product_id = models.BigIntegerField(_("product"))
    product_title = models.CharField(max_length=255, blank=True, editable=False)
    variant_ids = models.JSONField(_("variants"), default=list, blank=True)
    discount = models.CharField(
        _("discount"), max_length=16, choices=Discount.choices, default=Discount.PERCENT
    )
    discount_value = models.DecimalField(
        _("discount value"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_(
            "Type 15 for 15 %; for an amount off, the amount off each item in the shop's currency."
        ),
    )

    # Who is offered it: every condition given must hold; an empty one holds for every order.
    for_products = models.JSONField(_("orders holding one of these products"), default=list)
    for_product_types = models.JSONField(
        _("orders holding one of these product types"), default=list
    )
    for_order_tags = models.JSONField(_("orders with one of these tags"), default=list)
    min_total = models.DecimalField(
        _("order total at least"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    max_total = models.DecimalField(
        _("order total at most"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    countries = models.JSONField(_("delivered to"), default=list)
    languages = models.JSONField(_("shoppers reading"), default=list)

    # When, how often, before which others.
    priority = models.IntegerField(
        _("priority"), default=0, help_text=_("Higher first, when more offers fit an order.")
    )
    starts_at = models.DateTimeField(_("from"), null=True, blank=True)
    ends_at = models.DateTimeField(_("until"), null=True, blank=True)
    daily_cap = models.PositiveIntegerField(
        _("accepted at most, per day"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Empty: no limit. Counted per day in the shop's time zone."),
    )
    experiment = models.CharField(
        _("A/B test"),
        max_length=60,
        blank=True,
        help_text=_(
            "Offers with the same test name split the orders between them: each order is "
            "shown one of them, so that their acceptance rates can be compared."
        ),
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        ordering = ["-priority", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(discount="amount") | Q(discount_value__lte=100, discount_value__gt=0),
                name="offer_percent_at_most_100",
            ),
            models.CheckConstraint(
                condition=Q(min_total=None)
                | Q(max_total=None)
                | Q(min_total__lte=models.F("max_total")),
                name="offer_total_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        super().save(*args, **kwargs)  # type: ignore[arg-type]
        Shop.touch(self.shop_id)  # cached order pages show the offer as it is now

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        shop = self.shop_id
        deleted = super().delete(*args, **kwargs)  # type: ignore[arg-type]
        Shop.touch(shop)
        return deleted

    def percent_off(self, shop_price: Decimal) -> Decimal:
        """The discount as a percentage of a unit's price (the way Shopify applies a line's
        discount to each unit, in whatever currency the order is): an amount off is taken as
        the same share of the variant's price in the shop's currency."""
        if self.discount == Discount.PERCENT:
            return min(self.discount_value, Decimal(100))
        if shop_price <= 0:
            return Decimal(0)
        share = self.discount_value * 100 / shop_price
        return min(share, Decimal(100)).quantize(Decimal("0.000001"))


def active_offers(shop: Shop) -> list[Offer]:
    """The shop's active offers, cached until one is saved (saving moves `Shop.updated_at`):
    the order page of a shop without offers asks the database nothing more."""
    key = f"offers:active:{shop.pk}:{shop.updated_at.timestamp()}"
    found = cache.get(key)
    if found is None:
        found = list(Offer.objects.filter(shop=shop, active=True))
        cache.set(key, found, 3600)
    return found
