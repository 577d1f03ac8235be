"""May the shopper change this order, and if not, why not: the merchant's `EditPolicy` applied
to the mirror, as pure functions, the same for every kind of change. A kind adds its own checks
on top (`kinds.base.ChangeKind.decide`: an address needs a destination, a parcel that left cannot
be cancelled).

Each answer is a `Decision` with a stable code and a message in the active language. Nothing
here writes or calls Shopify; `actions.py` asks again under the order's row lock before it
writes, so a page that was open for an hour cannot sneak a change past a closed window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

from edits.models import Approval, ChangeRequest, EditPolicy, Until
from orders.decisions import Decision
from orders.formatting import moment
from orders.models import Order, Stage
from orders.requests import explain

if TYPE_CHECKING:
    from edits.kinds.base import ChangeKind
    from shopify.calls import OrderState


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

    @classmethod
    def of_state(cls, state: OrderState) -> Progress:
        return cls(
            cancelled=state.cancelled,
            warehouse_started=state.warehouse_started,
            shipped=state.shipped,
            delivered=state.delivered,
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
# A change that failed because the order moved on says so, in the shopper's language.
for _code, _message in REFUSALS.items():
    explain(f"conflict:{_code}", _message)


def refusal(code: str) -> Decision:
    return Decision.no(code, REFUSALS[code])


def decide(kind: ChangeKind, order: Order, policy: EditPolicy, *, now: datetime) -> Decision:
    """What every kind of change asks: switched on, self-service, not asked already, within
    the limit, fulfilment not too far, and the window open."""
    rule = policy.rule(kind.code)
    if order.is_cancelled:
        return refusal("cancelled")
    if not rule.enabled:
        return Decision.no("switched_off", kind.contact_us)
    if {tag.casefold() for tag in order.tags} & {tag.casefold() for tag in policy.blocked_tags}:
        return Decision.no("blocked_tag", kind.contact_us)
    requests = list(order.change_requests.all())
    if any(r.kind == kind.code and r.is_open for r in requests):
        return Decision.no(
            "already_requested", _("You have already asked for this change. We are on it.")
        )
    counted = [r for r in requests if r.is_open or r.status == ChangeRequest.Status.APPLIED]
    if len(counted) >= policy.max_changes_per_order:
        return Decision.no(
            "limit_reached",
            _("This order has been changed as often as we can allow. Please contact us."),
        )
    fulfilment = kind.progress_refusal(policy, Progress.of(order))
    if fulfilment is not None:
        return fulfilment
    closing = closes_at(kind, order, policy)
    if now >= closing:
        return Decision.no(
            "window_closed", kind.closed_at % {"time": moment(closing, order.shop.zone, "short")}
        )
    return Decision.yes()


def closes_at(kind: ChangeKind, order: Order, policy: EditPolicy) -> datetime:
    return order.placed_at + policy.rule(kind.code).window


def progress_refusal(kind: ChangeKind, policy: EditPolicy, progress: Progress) -> Decision | None:
    """Has fulfilment gone further than the policy allows for this change? Asked of the mirror
    when the shopper asks, and of Shopify's fresh answer just before the change is sent."""
    until = policy.rule(kind.code).until
    if progress.cancelled:
        return refusal("cancelled")
    if until == Until.WAREHOUSE_STARTS and progress.warehouse_started:
        return refusal("warehouse_started")
    if until == Until.FIRST_SHIPMENT and progress.shipped:
        return refusal("shipped")
    if until == Until.DELIVERY and progress.delivered:
        return refusal("delivered")
    return None


def needs_approval(
    kind: ChangeKind, order: Order, policy: EditPolicy, *, after: dict[str, Any]
) -> bool:
    """Whether an agent decides before the change is sent: the policy's setting for the kind,
    and, when conditional, the order's total (the kind may add conditions of its own)."""
    approval = policy.rule(kind.code).approval
    if approval != Approval.CONDITIONAL:
        return approval == Approval.ALWAYS
    return policy.approval_above_total is not None and order.total > policy.approval_above_total
