"""What an offer did, from the order events: per day in the shop's time zone, the orders it was
shown to, opened by, accepted on and paid for (each order counted once a step, however often it
took the step: an offer accepted again after its change failed is one order that accepted), and
the revenue it brought (in each order's currency, and in the shop's). The acceptance rate comes
with its 95 % interval (Wilson's), so that two offers of an A/B test can be told apart, or not
yet."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count
from django.db.models.functions import TruncDate

from offers import events
from offers.models import Offer
from orders.models import OrderEvent

STEPS = {
    events.SHOWN.name: "shown",
    events.OPENED.name: "opened",
    events.ACCEPTED.name: "accepted",
    events.PAID.name: "paid",
}


@dataclass
class Day:
    day: date | None  # None: the totals
    shown: int = 0
    opened: int = 0
    accepted: int = 0
    paid: int = 0
    revenue: dict[str, Decimal] = field(default_factory=dict)  # order currency -> amount
    shop_revenue: Decimal = Decimal(0)


@dataclass
class Funnel:
    days: list[Day]  # newest first
    total: Day

    @property
    def rate(self) -> tuple[float, float, float] | None:
        """Accepted per order shown, with its 95 % interval; None before it was shown."""
        return wilson(self.total.accepted, self.total.shown)


def of(offer: Offer) -> Funnel:
    kind = ContentType.objects.get_for_model(Offer)
    zone = offer.shop.zone
    found = OrderEvent.objects.filter(subject_type=kind, subject_id=offer.pk, kind__in=list(STEPS))
    by_day: dict[date, Day] = {}
    total = Day(None)
    counts = (
        found.annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day", "kind")
        .annotate(n=Count("order_id", distinct=True))
    )
    for row in counts:
        day = by_day.setdefault(row["day"], Day(row["day"]))
        setattr(day, STEPS[row["kind"]], row["n"])
    for row in found.values("kind").annotate(n=Count("order_id", distinct=True)):
        setattr(total, STEPS[row["kind"]], row["n"])
    paid = found.filter(kind=events.PAID.name).values_list("created_at", "data")
    for at, data in paid:
        day = by_day.setdefault(at.astimezone(zone).date(), Day(at.astimezone(zone).date()))
        for bucket in (day, total):
            add(bucket, data)
    return Funnel(sorted(by_day.values(), key=lambda d: d.day, reverse=True), total)


def add(day: Day, data: dict[str, str]) -> None:
    try:
        amount = Decimal(data.get("amount") or 0)
        shop_amount = Decimal(data.get("shop_amount") or 0)
    except InvalidOperation:
        return
    currency = data.get("currency") or ""
    revenue: defaultdict[str, Decimal] = defaultdict(Decimal, day.revenue)
    revenue[currency] += amount
    day.revenue = dict(revenue)
    day.shop_revenue += shop_amount


def wilson(successes: int, trials: int, z: float = 1.96) -> tuple[float, float, float] | None:
    """The share of successes, and the Wilson score interval around it."""
    if trials <= 0:
        return None
    share = min(max(successes / trials, 0.0), 1.0)
    middle = (share + z * z / (2 * trials)) / (1 + z * z / trials)
    spread = (z * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials))) / (
        1 + z * z / trials
    )
    return share, max(0.0, middle - spread), min(1.0, middle + spread)
