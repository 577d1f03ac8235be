"""The shopper's side of returns: for now, what may be sent back and until when, as a live part
of the order page (`orders.live`); the return flow itself comes next.

Like the changes part, it holds nothing of the visitor, so it is cached with the page, until the
next return window closes.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Prefetch, prefetch_related_objects
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone

from orders import page_cache
from orders.models import Fulfillment, Order, Stage
from returns import rules
from returns.models import ReturnPolicy


def render_returns(order: Order, policy: ReturnPolicy, *, now: datetime) -> tuple[str, int]:
    """The part, and for how many seconds it stays true."""
    if not order.shipments or order.stage == Stage.CANCELLED:
        return "", 600
    lines = rules.eligibility(order, policy, now=now)
    expires = 600
    for line in lines:
        if line.open_until:
            expires = min(expires, int((line.open_until - now).total_seconds()) + 1)
    html = render_to_string(
        "returns/_returns.html", {"order": order, "shop": order.shop, "lines": lines}
    )
    return html, expires


def returns_part(request: HttpRequest, order: Order) -> str:
    """Registered with `orders.live`: which items can go back, until when, or why not."""
    now = timezone.now()

    def render() -> tuple[str, int]:
        prefetch_related_objects(
            [order], "lines", Prefetch("fulfillments", queryset=Fulfillment.objects.all())
        )
        prefetch_related_objects(order.shipments, "lines")
        return render_returns(order, ReturnPolicy.for_shop(order.shop), now=now)

    return page_cache.fetch_part(order, request.LANGUAGE_CODE, "returns", render)
