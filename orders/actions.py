"""Writes to the order mirror that are ours, not Shopify's.

Invariants: every write here runs in one transaction with the order row locked, and leaves an
OrderEvent behind, so the audit log always tells who did what.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from orders.models import Order, OrderEvent


@transaction.atomic
def revoke_links(*, order: Order, actor: str) -> Order:
    """Invalidate every link and session grant for `order` (an email went to the wrong person,
    a shopper asks us to). New links made afterwards work as usual."""
    locked = Order.objects.locked(order.pk)
    Order.objects.filter(pk=locked.pk).update(link_version=F("link_version") + 1)
    locked.refresh_from_db(fields=["link_version"])
    locked.log(OrderEvent.Kind.LINK_REVOKED, actor=actor, link_version=locked.link_version)
    return locked


@transaction.atomic
def record_lookup(*, order: Order) -> OrderEvent:
    """A shopper opened the order by looking it up: agents see it in the audit log."""
    return order.log(OrderEvent.Kind.LOOKUP_GRANTED, actor="shopper")
