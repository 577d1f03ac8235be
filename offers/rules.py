"""May an order be offered more to add, now? The shop proposes, so the shopper's own switches
for item changes do not apply; what does is what keeps the warehouse safe and the money simple:
the order is not cancelled, not marked for agents only, paid (owing nothing), not yet started by
the warehouse, not too long for one order edit, has no item change on its way, has not had as
many offers accepted as the shop allows, and its delivery address was confirmed ("validate
first, then offer").

Pure: the order's lines, fulfilment orders, shipments and change requests are read from what is
loaded; whether the address was confirmed is passed in. `views` asks before showing a card and
before staging the edit; the edit is written under the order's lock with the rule asked again.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from edits.kinds import items
from edits.models import ChangeRequest, EditPolicy
from edits.rules import Progress, refusal
from orders.decisions import Decision
from orders.models import Order

CLOSED = _("This offer is no longer available for your order.")


def accepted_on(order: Order) -> list[ChangeRequest]:
    """The offers accepted on the order that stand: on their way, waiting for the payment, or
    made."""
    standing = (*ChangeRequest.OPEN, ChangeRequest.Status.APPLIED)
    return [
        request
        for request in order.change_requests.all()
        if request.kind == items.ITEMS.code
        and request.after.get("offer")
        and request.status in standing
    ]


def can_offer(order: Order, policy: EditPolicy, *, confirmed: bool) -> Decision:
    """Whether the order may be offered something to add now, and if not why (a stable code,
    and the shopper's words for a link followed too late)."""
    progress = Progress.of(order)
    if progress.cancelled:
        return refusal("cancelled")
    if {tag.casefold() for tag in order.tags} & {tag.casefold() for tag in policy.blocked_tags}:
        return Decision.no("blocked_tag", CLOSED)
    if order.financial_status not in items.SETTLED:
        return Decision.no("payment_pending", items.PAYMENT_PENDING)
    if progress.shipped or progress.warehouse_started:
        return refusal(progress.furthest)
    if len(order.lines.all()) >= items.MAX_LINES:
        return Decision.no("too_many_lines", CLOSED)
    if any(r.kind == items.ITEMS.code and r.is_open for r in order.change_requests.all()):
        return Decision.no("change_open", _("Please finish the change of items on its way first."))
    if len(accepted_on(order)) >= settings.OFFERS_ACCEPTED_PER_ORDER:
        return Decision.no("enough_accepted", CLOSED)
    if not confirmed:
        return Decision.no("address_unconfirmed", _("Please confirm your delivery address first."))
    return Decision.yes()
