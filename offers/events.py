"""The offers' events, for the funnel: shown (once per order and offer), opened, accepted,
paid. Agents read them in the order's timeline; the shopper reads the item change they make.
Their subject is the offer, so that one offer's funnel is an indexed read."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from edits.models import ChangeRequest
from offers.models import Offer
from orders import events
from orders.actors import SYSTEM
from orders.events import Event
from orders.models import Order, OrderEvent

SHOWN = events.register("offers.shown", staff=_("Offer shown"))
OPENED = events.register("offers.opened", staff=_("Offer opened"))
ACCEPTED = events.register("offers.accepted", staff=_("Offer accepted"))
PAID = events.register("offers.paid", staff=_("Offer paid"))
FUNNEL = (SHOWN, OPENED, ACCEPTED, PAID)


def count_payment(event: Event) -> None:
    """An item change was made and paid for: if it was an accepted offer, the offer earned what
    the order grew by (in the order's currency, and in the shop's when Shopify said it). Counted
    once per change, whichever of its events comes first."""
    change = ChangeRequest.objects.filter(pk=event.subject_id).first()
    if change is None or not change.after.get("offer"):
        return
    if change.status != ChangeRequest.Status.APPLIED:
        return
    with transaction.atomic():
        order = Order.objects.locked(change.order_id)
        if OrderEvent.objects.filter(kind=PAID.name, order=order, data__change=change.pk).exists():
            return
        quote = change.after.get("quote") or {}
        offer = Offer.objects.filter(pk=change.after["offer"]).first()
        order.log(
            PAID,
            actor=SYSTEM,
            subject=offer,
            offer=change.after["offer"],
            change=change.pk,
            amount=str(max(Decimal(quote.get("difference") or 0), Decimal(0))),
            currency=quote.get("currency", order.currency),
            shop_amount=quote.get("shop_difference", ""),
            shop_currency=quote.get("shop_currency", ""),
        )
