"""The events of order changes: "edits.<kind>.<step>" for each kind of change
(`edits.address.applied`), and the warehouse's hold. Agents read the first label; the shopper
reads the second."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from orders import events
from orders.events import EventKind

STEPS = {
    "requested": (_("Change requested"), _("You asked for a change")),
    "approved": (_("Change approved"), _("Your change was approved")),
    "rejected": (_("Change rejected"), _("Your change was not approved")),
    "withdrawn": (_("Change withdrawn by the shopper"), _("You withdrew a change")),
    "applied": (_("Change made in Shopify"), _("Your change was made")),
    "failed": (_("Change could not be made"), _("A change could not be made")),
    "retried": (_("Change sent to Shopify again"), None),
    "by_shop": (_("The shop had already done it in Shopify"), _("The shop had already done it")),
    # Item changes that make the order dearer.
    "awaiting_payment": (
        _("Change made in Shopify; the difference is to be paid"),
        _("Your change was made: please pay the difference"),
    ),
    "paid": (_("Difference paid"), _("You paid the difference")),
    "payment_overdue": (_("The difference was not paid in time"), None),
    "payment_closed": (_("The difference is no longer owed, and was not paid"), None),
    "payment_settled": (_("An agent settled the difference"), None),
    # Item changes that make the order cheaper.
    "refund_failed": (_("The refund could not be made: an agent makes it"), None),
    "refund_made": (_("An agent made the refund"), _("Your refund was made")),
}


def register_kind(code: str) -> None:
    """The events of one change kind."""
    for step, (staff, shopper) in STEPS.items():
        events.register(f"edits.{code}.{step}", staff=staff, shopper=shopper)


def of(code: str, step: str) -> EventKind:
    """The event of `step` for the change kind `code`."""
    if step not in STEPS:
        raise ValueError(f"no such step of a change: {step}")
    return events.kind(f"edits.{code}.{step}")


CONFIRMED = events.register(
    "edits.confirmed",
    staff=_("The shopper confirmed the order"),
    shopper=_("You confirmed that everything is right"),
)
HOLD_PLACED = events.register("edits.hold.placed", staff=_("The warehouse was asked to wait"))
HOLD_RELEASED = events.register("edits.hold.released", staff=_("The warehouse may go on"))
