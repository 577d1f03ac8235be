"""What every kind of change asks of an order before it may change: how far fulfilment has gone
(`Progress`, from the mirror or freshly from Shopify), and the refusals that say so, in the
shopper's language. Each kind's own rule (`kinds.base.ChangeKind.decide`) applies the merchant's
`EditPolicy` with these.

Nothing here writes or calls Shopify; `actions.py` asks the rule again under the order's row lock
before it writes, so a page that was open for an hour cannot sneak a change past a closed window.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from orders.decisions import Decision
from orders.models import Order, Stage
from orders.requests import explain

if TYPE_CHECKING:
    from shopify.calls import OrderState


@dataclass(frozen=True)
class Progress:
    """How far fulfilment has gone: from the mirror, or freshly from Shopify before a push."""

    cancelled: bool
    warehouse_started: bool
    shipped: bool  # a parcel left
    delivered: bool  # everything arrived
    everything_shipped: bool = False  # nothing is left to ship
    problem: bool = False  # the carrier could not deliver a parcel

    @classmethod
    def of(cls, order: Order) -> Progress:
        stage = order.stage
        return cls(
            cancelled=order.is_cancelled,
            warehouse_started=order.warehouse_started,
            shipped=bool(order.shipments),
            delivered=stage == Stage.DELIVERED,
            everything_shipped=bool(order.shipments) and order.unshipped_quantity == 0,
            problem=stage == Stage.DELIVERY_PROBLEM,
        )

    @classmethod
    def of_state(cls, state: OrderState) -> Progress:
        return cls(
            cancelled=state.cancelled,
            warehouse_started=state.warehouse_started,
            shipped=state.shipped,
            delivered=state.delivered,
            everything_shipped=state.shipped and not state.holdable() and not state.delivered,
        )

    @property
    def furthest(self) -> str:
        """The furthest step the order has reached, as a refusal's code: what a shopper is told
        when a change comes too late, whichever step the policy stops at."""
        if self.cancelled:
            return "cancelled"
        if self.delivered:
            return "delivered"
        if self.problem:
            return "delivery_problem"
        if self.shipped:
            return "shipped" if self.everything_shipped else "partly_shipped"
        return "warehouse_started"


REFUSALS = {
    "cancelled": _("This order was cancelled."),
    "warehouse_started": _("Your order is already being packed."),
    "partly_shipped": _("Part of your order has already shipped."),
    "shipped": _("Your order has already shipped."),
    "delivery_problem": _(
        "Your order is with the carrier, who could not deliver it. Please contact us."
    ),
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


# The events that say the shopper checked the delivery address: "Everything is right", or an
# address change that reached the shop.
ADDRESS_CONFIRMED = ("edits.confirmed", "edits.address.applied")


def address_confirmed(order: Order) -> bool:
    """Has the shopper confirmed where the order goes?"""
    return order.events.filter(kind__in=ADDRESS_CONFIRMED).exists()
