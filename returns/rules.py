"""Which items of an order may be returned, how many, until when, and if not, why not: the
merchant's `ReturnPolicy` applied to the mirror, as pure functions (no writes, no HTTP).

The window is counted per shipment, in the shop's time zone: from the day a parcel was
delivered (from the day it shipped when no delivery date is known), it stays open to the end of
the last day. Items of one line that travelled in two parcels may so have two windows; what was
already asked back is taken off what is returnable, whichever parcel it came in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from orders.decisions import Decision
from orders.formatting import moment
from orders.models import Fulfillment, LineItem, Order
from returns.models import (
    Resolution,
    ReturnLine,
    ReturnPolicy,
    ReturnRequest,
    ReturnsFrom,
    ShopifyReason,
)
from shopify.calls import Variant


@dataclass(frozen=True)
class LineEligibility:
    line: LineItem
    decision: Decision
    returnable: int = 0  # how many of the line may be asked back now
    last_day: date | None = None  # the last day of the latest open window
    open_until: datetime | None = None  # the first moment after it


def _window_end(day: date, policy: ReturnPolicy, order: Order) -> datetime:
    """The first moment after the window, in the shop's time zone."""
    days = policy.window_days_for(order.country_code or "")
    return datetime.combine(day + timedelta(days=days + 1), time.min, tzinfo=order.shop.zone)


def asked_back(order: Order, requests: list[ReturnRequest] | None = None) -> dict[int, int]:
    """How many of each line are in returns that still count: from `requests` when the caller
    loaded them (with their lines), else in one query."""
    if requests is not None:
        counted = [
            (line.line_item_id, line.quantity)
            for request in requests
            if request.status not in ReturnRequest.SPENT
            for line in request.lines.all()
        ]
    else:
        counted = list(
            ReturnLine.objects.filter(line_item__order=order)
            .exclude(request__status__in=ReturnRequest.SPENT)
            .values_list("line_item_id", "quantity")
        )
    totals: dict[int, int] = {}
    for line_id, quantity in counted:
        totals[line_id] = totals.get(line_id, 0) + quantity
    return totals


# Refusals that only mean "not yet": the items are not with the shopper.
NOT_YET = frozenset({"not_shipped", "not_delivered", "delivery_problem"})


def arrived(shipment: Fulfillment, policy: ReturnPolicy) -> bool:
    """Does the shopper have the parcel, as far as returns go? Delivered (or collected); or,
    when the policy allows returns from shipping, shipped and not stuck with a problem; a
    parcel whose carrier reports nothing at all counts from shipping either way."""
    if shipment.is_delivered or not shipment.shipment_status:
        return True
    return policy.returns_from == ReturnsFrom.SHIPPING and not shipment.has_problem


def waiting(order: Order) -> set[int]:
    """The lines in a return the shop has not received yet: asked back, not yet returned."""
    received = {
        ReturnRequest.Status.RECEIVED,
        ReturnRequest.Status.RESOLVED,
        ReturnRequest.Status.CLOSED,
    }
    return {
        line.line_item_id
        for request in order.return_requests.all()
        if request.status not in ReturnRequest.SPENT and request.status not in received
        for line in request.lines.all()
    }


def line_eligibility(
    order: Order,
    line: LineItem,
    policy: ReturnPolicy,
    *,
    now: datetime,
    returned: dict[int, int] | None = None,
) -> LineEligibility:
    if not policy.enabled:
        return LineEligibility(
            line,
            Decision.no("switched_off", _("Please contact us to return items from this order.")),
        )
    if order.is_cancelled:
        return LineEligibility(line, Decision.no("cancelled", _("This order was cancelled.")))
    if set(line.product_tags) & set(policy.excluded_tags) or (
        line.product_type and line.product_type in policy.excluded_product_types
    ):
        return LineEligibility(line, Decision.no("final_sale", _("Final sale")))
    if line.quantity <= 0:  # Shopify's current quantity: refunded or removed
        return LineEligibility(line, Decision.no("refunded", _("Already refunded")))
    if not line.requires_shipping:
        return LineEligibility(
            line, Decision.no("not_returnable", _("This item cannot be returned."))
        )
    sent = [
        (shipment, part.quantity)
        for shipment in order.shipments
        for part in shipment.lines.all()
        if part.line_item_id == line.pk
    ]
    if not sent:
        return LineEligibility(
            line, Decision.no("not_shipped", _("This item has not shipped yet."))
        )
    parcels = [(shipment, quantity) for shipment, quantity in sent if arrived(shipment, policy)]
    shipped = sum(quantity for _shipment, quantity in parcels)
    if not shipped:
        if any(shipment.has_problem for shipment, _quantity in sent):
            return LineEligibility(
                line,
                Decision.no(
                    "delivery_problem",
                    _("The carrier could not deliver this item. Please contact us."),
                ),
            )
        return LineEligibility(
            line,
            Decision.no(
                "not_delivered", _("This item can be returned once it has been delivered.")
            ),
        )
    if returned is None:
        returned = asked_back(order)
    # What Shopify refunded is off the line's current quantity; what returns hold (settled or
    # not: a return closed without a refund still had the items) is off what shipped.
    left = min(line.quantity, shipped - returned.get(line.pk, 0))
    if left <= 0:
        if line.pk in waiting(order):
            return LineEligibility(
                line, Decision.no("already_in_a_return", _("Already in one of your returns"))
            )
        return LineEligibility(line, Decision.no("already_returned", _("Already returned")))
    zone = order.shop.zone
    open_quantity, open_until, closed_on = 0, None, None
    for shipment, quantity in parcels:
        start = (shipment.delivered_at or shipment.shipped_at).astimezone(zone).date()
        end = _window_end(start, policy, order)
        if now < end:
            open_quantity += quantity
            open_until = max(open_until or end, end)
        else:
            day = end.date() - timedelta(days=1)
            closed_on = max(closed_on or day, day)
    returnable = min(left, open_quantity)
    if returnable <= 0:
        return LineEligibility(
            line,
            Decision.no(
                "window_closed",
                _("The return window closed on %(date)s.")
                % {"date": moment(closed_on, zone, "long_date")},
            ),
            last_day=closed_on,
        )
    return LineEligibility(
        line,
        Decision.yes(),
        returnable=returnable,
        last_day=open_until.date() - timedelta(days=1),
        open_until=open_until,
    )


def eligibility(
    order: Order,
    policy: ReturnPolicy,
    *,
    now: datetime,
    requests: list[ReturnRequest] | None = None,
) -> list[LineEligibility]:
    """Every line of the order, returnable or not, with its reason."""
    returned = asked_back(order, requests)
    return [
        line_eligibility(order, line, policy, now=now, returned=returned)
        for line in order.lines.all()
    ]


def can_return(order: Order, policy: ReturnPolicy, *, now: datetime) -> Decision:
    """May the shopper start a return at all? The first line's refusal explains a no."""
    lines = eligibility(order, policy, now=now)
    if any(item.decision for item in lines):
        return Decision.yes()
    if not lines:
        return Decision.no("nothing_to_return", _("This order has nothing to return."))
    return lines[0].decision


def resolutions(order: Order, policy: ReturnPolicy) -> list[str]:
    """The resolutions offered for this order's destination, exchange first."""
    return policy.resolutions_for(order.country_code or "")


@dataclass(frozen=True)
class Reason:
    """A return reason as the flow offers it: the merchant's own, or the built-in ones."""

    code: str
    label: str
    photo_required: bool = False
    auto_approved: bool = False
    shopify_reason: str = ShopifyReason.OTHER


# Offered until a merchant writes their own list in the admin.
DEFAULT_REASONS = (
    ("too_small", _("Too small"), False, ShopifyReason.SIZE_TOO_SMALL),
    ("too_large", _("Too large"), False, ShopifyReason.SIZE_TOO_LARGE),
    ("not_as_described", _("Not as described"), False, ShopifyReason.NOT_AS_DESCRIBED),
    ("damaged", _("Arrived damaged or faulty"), True, ShopifyReason.DEFECTIVE),
    ("wrong_item", _("Wrong item sent"), False, ShopifyReason.WRONG_ITEM),
    ("changed_mind", _("Changed my mind"), False, ShopifyReason.UNWANTED),
)


def reasons(policy: ReturnPolicy, language: str) -> list[Reason]:
    """The reasons a shopper chooses from, labelled in `language`."""
    own = list(policy.reasons.all()) if policy.pk else []
    if own:
        return [
            Reason(r.code, r.label(language), r.photo_required, r.auto_approved, r.shopify_reason)
            for r in own
        ]
    with translation.override(language):
        return [
            Reason(code, str(label), photo, False, shopify)
            for code, label, photo, shopify in DEFAULT_REASONS
        ]


def exchange_price(
    order: Order, line: LineItem, own: Variant | None, other: Variant
) -> Decimal | None:
    """What another variant of the line's product costs the shopper, in the order's currency,
    to compare with the line's price: the line's own price when both cost the same in the
    shop; otherwise the line's price and the gap between the two as Shopify prices them for the
    order's market (`Variant.market_price`), or in the shop's currency when the order is in
    it. None when it cannot be said in the order's currency: not offered, rather than offered
    at a wrong price."""
    if own is not None and other.price == own.price:
        return line.price
    market = other.market_price
    own_market = own.market_price if own is not None else None
    if market is not None and market.currency == order.currency:
        if own_market is not None and own_market.currency == order.currency:
            return line.price + market.amount - own_market.amount
        if own is None:
            return market.amount
    if order.currency == order.shop.currency and own is not None:
        return line.price + other.price - own.price
    return None


@dataclass(frozen=True)
class QuoteLine:
    line: LineItem
    quantity: int
    resolution: str
    exchange_price: Decimal | None = None

    @property
    def value(self) -> Decimal:
        return self.line.unit_paid * self.quantity

    @property
    def difference(self) -> Decimal:
        """What an exchange costs more (positive) or less (negative) than the item."""
        if self.resolution != Resolution.EXCHANGE or self.exchange_price is None:
            return Decimal("0")
        return (self.exchange_price - self.line.price) * self.quantity


@dataclass(frozen=True)
class Quote:
    """What the shopper gets back, estimated before they submit (Shopify settles the money)."""

    refund: Decimal  # to the original payment, after fees
    credit: Decimal  # store credit, bonus included, after what fees the refund did not cover
    credit_bonus: Decimal
    restocking_fee: Decimal
    shipping_fee: Decimal
    exchange_difference: Decimal  # to pay (positive) or to get back (negative)
    currency: str
    fees_due: Decimal = Decimal("0")  # fees neither the refund nor the credit covers: to pay
    value: Decimal = Decimal("0")  # what the items cost the shopper (auto-approval reads it)

    def as_json(self) -> dict[str, str]:
        return {
            key: (str(value) if isinstance(value, Decimal) else value)
            for key, value in self.__dict__.items()
        }

    @property
    def fees(self) -> Decimal:
        return self.restocking_fee + self.shipping_fee


CENT = Decimal("0.01")


def quote(order: Order, policy: ReturnPolicy, lines: list[QuoteLine]) -> Quote:
    """Fees come off the refund first, then off the store credit; exchanges are free of fees
    when the policy waives them."""

    def waived(item: QuoteLine) -> bool:
        return item.resolution == Resolution.EXCHANGE and policy.fees_waived_for_exchanges

    charged = [item for item in lines if not waived(item)]
    restocking = sum((item.value for item in charged), Decimal("0"))
    restocking = (restocking * policy.restocking_fee_percent / 100).quantize(CENT)
    # The fee is the merchant's, in the shop's currency: charged in the order's. (An order whose
    # rate Shopify has not told yet is charged none rather than a wrong amount.)
    fee = order.from_shop_currency(policy.return_shipping_fee) or Decimal("0")
    shipping = fee if charged else Decimal("0")
    refund = sum((i.value for i in lines if i.resolution == Resolution.REFUND), Decimal("0"))
    credit = sum((i.value for i in lines if i.resolution == Resolution.STORE_CREDIT), Decimal("0"))
    bonus = (credit * policy.store_credit_bonus_percent / 100).quantize(CENT)
    fees = restocking + shipping
    from_refund = min(fees, refund)
    from_credit = min(fees - from_refund, credit + bonus)
    return Quote(
        refund=(refund - from_refund).quantize(CENT),
        credit=(credit + bonus - from_credit).quantize(CENT),
        credit_bonus=bonus,
        restocking_fee=restocking,
        shipping_fee=shipping.quantize(CENT),
        exchange_difference=sum((i.difference for i in lines), Decimal("0")).quantize(CENT),
        currency=order.currency,
        fees_due=(fees - from_refund - from_credit).quantize(CENT),
        value=sum((i.value for i in lines), Decimal("0")).quantize(CENT),
    )
