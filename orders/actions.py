"""Writes to the order mirror that are ours, not Shopify's.

Invariants: every write here runs in one transaction with the order row locked, and leaves an
OrderEvent behind, so the audit log always tells who did what.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from orders.actors import SHOPPER, Actor
from orders.models import LINKS_REVOKED, LOOKUP_GRANTED, Order, OrderEvent


@transaction.atomic
def revoke_links(*, order: Order, actor: Actor) -> Order:
    """Invalidate every link and session grant for `order` (an email went to the wrong person,
    a shopper asks us to). New links made afterwards work as usual."""
    locked = Order.objects.locked(order.pk)
    Order.objects.filter(pk=locked.pk).update(link_version=F("link_version") + 1)
    locked.refresh_from_db(fields=["link_version"])
    locked.log(LINKS_REVOKED, actor=actor, link_version=locked.link_version)
    return locked


@transaction.atomic
def record_lookup(*, order: Order) -> OrderEvent:
    """A shopper opened the order by looking it up: agents see it in the audit log."""
    return order.log(LOOKUP_GRANTED, actor=SHOPPER)
