"""May the shopper change this order, and if not, why not: the merchant's `EditPolicy` applied
to the mirror, as pure functions.

Each answer is a `Decision` with a stable code and a message in the active language. Nothing
here writes or calls Shopify; `actions.py` asks again under the order's row lock before it
writes, so a page that was open for an hour cannot sneak a change past a closed window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext_lazy as _

from edits.models import Approval, ChangeRequest, EditPolicy, Kind, Until
from orders.decisions import Decision
from orders.formatting import moment
from orders.models import Order, Stage

# Why a switched-off or closed action is not offered, per action.
CONTACT_US = {
    Kind.ADDRESS: _("Please contact us to change the delivery address."),
    Kind.CONTACT: _("Please contact us to change your contact details."),
    Kind.CANCEL: _("Please contact us to cancel this order."),
}
CLOSED_AT = {
    Kind.ADDRESS: _("Address changes closed at %(time)s."),
    Kind.CONTACT: _("Changes to your contact details closed at %(time)s."),
    Kind.CANCEL: _("Cancellation closed at %(time)s."),
}


def can_change_address(order: Order, policy: EditPolicy, *, now: datetime) -> Decision:
    if not order.country_code:  # nothing ships (a gift card, a download), or nowhere known
        return Decision.no("no_address", _("This order has no delivery address."))
    return _decide(Kind.ADDRESS, order, policy, now=now)


def can_change_contact(order: Order, policy: EditPolicy, *, now: datetime) -> Decision:
    return _decide(Kind.CONTACT, order, policy, now=now)


def can_cancel(order: Order, policy: EditPolicy, *, now: datetime) -> Decision:
    return _decide(Kind.CANCEL, order, policy, now=now)


DECIDE = {
    Kind.ADDRESS: can_change_address,
    Kind.CONTACT: can_change_contact,
    Kind.CANCEL: can_cancel,
}


def closes_at(kind: str, order: Order, policy: EditPolicy) -> datetime:
    return order.placed_at + policy.rule(kind).window


def _decide(kind: str, order: Order, policy: EditPolicy, *, now: datetime) -> Decision:
    rule = policy.rule(kind)
    if order.is_cancelled:
        return refusal("cancelled")
    if not rule.enabled:
        return Decision.no("switched_off", CONTACT_US[kind])
    if {tag.casefold() for tag in order.tags} & {tag.casefold() for tag in policy.blocked_tags}:
        return Decision.no("blocked_tag", CONTACT_US[kind])
    requests = list(order.change_requests.all())
    if any(r.kind == kind and r.is_open for r in requests):
        return Decision.no(
            "already_requested", _("You have already asked for this change. We are on it.")
        )
    counted = [r for r in requests if r.is_open or r.status == ChangeRequest.Status.APPLIED]
    if len(counted) >= policy.max_changes_per_order:
        return Decision.no(
            "limit_reached",
            _("This order has been changed as often as we can allow. Please contact us."),
        )
    fulfilment = progress_refusal(kind, policy, Progress.of(order))
    if fulfilment is not None:
        return fulfilment
    closing = closes_at(kind, order, policy)
    if now >= closing:
        return Decision.no(
            "window_closed", CLOSED_AT[kind] % {"time": moment(closing, order.shop.zone, "short")}
        )
    return Decision.yes()


@dataclass(frozen=True)
class Progress:
    """How far fulfilment has gone: from the mirror, or freshly from Shopify before a push."""

    cancelled: bool
    warehouse_started: bool
    shipped: bool
    delivered: bool

    @classmethod
    def of(cls, order: Order) -> Progress:
        return cls(
            cancelled=order.is_cancelled,
            warehouse_started=order.warehouse_started,
            shipped=bool(order.shipments),
            delivered=order.stage == Stage.DELIVERED,
        )


REFUSALS = {
    "cancelled": _("This order was cancelled."),
    "warehouse_started": _("Your order is already being packed."),
    "shipped": _("Part of your order has already shipped."),
    "delivered": _("Your order has been delivered."),
    "changed_meanwhile": _(
        "The shop changed this order in the meantime. Please check it and ask again."
    ),
}


def refusal(code: str) -> Decision:
    return Decision.no(code, REFUSALS[code])


def progress_refusal(kind: str, policy: EditPolicy, progress: Progress) -> Decision | None:
    """Has fulfilment gone further than the policy allows for this change? Asked of the mirror
    when the shopper asks, and of Shopify's fresh answer just before the change is sent."""
    until = policy.rule(kind).until
    if progress.cancelled:
        return refusal("cancelled")
    if kind == Kind.CANCEL and progress.shipped:
        # Whatever the policy says: a cancellation cannot take back a parcel that left.
        return refusal("shipped")
    if until == Until.WAREHOUSE_STARTS and progress.warehouse_started:
        return refusal("warehouse_started")
    if until == Until.FIRST_SHIPMENT and progress.shipped:
        return refusal("shipped")
    if until == Until.DELIVERY and progress.delivered:
        return refusal("delivered")
    return None


def can_ship_to(order: Order, policy: EditPolicy, *, country_code: str) -> Decision:
    """A new address in another country than the order's."""
    if country_code.upper() == order.country_code.upper() or policy.allow_country_change:
        return Decision.yes()
    return Decision.no(
        "country_change",
        _("Please contact us to change an order shipping to another country."),
    )


def needs_approval(kind: str, order: Order, policy: EditPolicy, *, after: dict[str, Any]) -> bool:
    """Whether an agent decides before the change is sent to Shopify."""
    approval = policy.rule(kind).approval
    if approval != Approval.CONDITIONAL:
        return approval == Approval.ALWAYS
    if policy.approval_above_total is not None and order.total > policy.approval_above_total:
        return True
    new_country = (after.get("country_code") or "").upper()
    return (
        kind == Kind.ADDRESS
        and policy.approval_when_country_changes
        and bool(new_country)
        and new_country != order.country_code.upper()
    )
