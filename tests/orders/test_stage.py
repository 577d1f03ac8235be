"""The shopper-facing stage, over realistic fulfilment and tracking combinations.

Each case also checks Order.objects.at_stage(), the admin's SQL version of the same decision, so
the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.utils import timezone

from orders.models import Order, Shop, Stage
from tests.factories import add_fulfillment_order, add_line, make_order, ship


@dataclass
class Case:
    expected: Stage
    lines: int = 1
    shipments: list[tuple[list[int], str, str]] = field(default_factory=list)
    # (indices of the lines shipped, shipment status, fulfillment status)
    fulfillment_order: str = "open"
    cancelled: bool = False
    digital_lines: int = 0  # lines that need no shipping and stay unfulfilled


CASES = {
    "nothing shipped, warehouse not started": Case(Stage.CONFIRMED),
    "on hold is still only confirmed": Case(Stage.CONFIRMED, fulfillment_order="on_hold"),
    "warehouse picking": Case(Stage.PREPARING, fulfillment_order="in_progress"),
    "label printed counts as shipped": Case(
        Stage.SHIPPED, shipments=[([0], "label_printed", "success")]
    ),
    "no carrier status yet": Case(Stage.SHIPPED, shipments=[([0], "", "success")]),
    "in transit": Case(Stage.SHIPPED, shipments=[([0], "in_transit", "success")]),
    "delayed is not a problem yet": Case(Stage.SHIPPED, shipments=[([0], "delayed", "success")]),
    "out for delivery": Case(
        Stage.OUT_FOR_DELIVERY, shipments=[([0], "out_for_delivery", "success")]
    ),
    "delivered": Case(Stage.DELIVERED, shipments=[([0], "delivered", "success")]),
    "picked up at a pickup point": Case(Stage.DELIVERED, shipments=[([0], "picked_up", "success")]),
    "one of two lines shipped": Case(
        Stage.PARTIALLY_SHIPPED, lines=2, shipments=[([0], "in_transit", "success")]
    ),
    "one of two lines delivered, other waiting": Case(
        Stage.PARTIALLY_SHIPPED, lines=2, shipments=[([0], "delivered", "success")]
    ),
    "two parcels, one delivered, one out": Case(
        Stage.OUT_FOR_DELIVERY,
        lines=2,
        shipments=[([0], "delivered", "success"), ([1], "out_for_delivery", "success")],
    ),
    "two parcels, one delivered, one in transit": Case(
        Stage.SHIPPED,
        lines=2,
        shipments=[([0], "delivered", "success"), ([1], "in_transit", "success")],
    ),
    "two parcels both delivered": Case(
        Stage.DELIVERED,
        lines=2,
        shipments=[([0], "delivered", "success"), ([1], "delivered", "success")],
    ),
    "attempted delivery": Case(
        Stage.DELIVERY_PROBLEM, shipments=[([0], "attempted_delivery", "success")]
    ),
    "carrier failure": Case(Stage.DELIVERY_PROBLEM, shipments=[([0], "failure", "success")]),
    "a problem wins over partial shipping": Case(
        Stage.DELIVERY_PROBLEM, lines=2, shipments=[([0], "failure", "success")]
    ),
    "a problem wins over another parcel's delivery": Case(
        Stage.DELIVERY_PROBLEM,
        lines=2,
        shipments=[([0], "delivered", "success"), ([1], "attempted_delivery", "success")],
    ),
    "a cancelled shipment does not count": Case(
        Stage.CONFIRMED, shipments=[([0], "in_transit", "cancelled")]
    ),
    "a cancelled shipment while the warehouse works again": Case(
        Stage.PREPARING,
        fulfillment_order="in_progress",
        shipments=[([0], "in_transit", "cancelled")],
    ),
    "a fulfilment service still working on it": Case(
        Stage.PREPARING, shipments=[([0], "", "pending")]
    ),
    "a fulfilment service has accepted it": Case(Stage.PREPARING, shipments=[([0], "", "open")]),
    "a failed fulfilment does not count": Case(
        Stage.CONFIRMED, shipments=[([0], "in_transit", "failure")]
    ),
    "digital lines do not hold back delivered": Case(
        Stage.DELIVERED, digital_lines=1, shipments=[([0], "delivered", "success")]
    ),
    "cancelled before shipping": Case(Stage.CANCELLED, cancelled=True),
    "cancelled wins over a shipment": Case(
        Stage.CANCELLED, cancelled=True, shipments=[([0], "in_transit", "success")]
    ),
}


def build(shop: Shop, case: Case) -> Order:
    order = make_order(shop, cancelled_at=timezone.now() if case.cancelled else None)
    lines = [add_line(order, title=f"Line {i}") for i in range(case.lines)]
    for i in range(case.digital_lines):
        add_line(order, title=f"Gift card {i}", requires_shipping=False)
    add_fulfillment_order(order, status=case.fulfillment_order)
    for indices, shipment_status, status in case.shipments:
        ship(order, [lines[i] for i in indices], shipment_status=shipment_status, status=status)
    return order


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_stage(shop: Shop, case: Case) -> None:
    order = build(shop, case)
    fresh = Order.objects.prefetch_related("lines", "fulfillments", "fulfillment_orders").get(
        pk=order.pk
    )
    assert fresh.stage == case.expected
    matching = {
        stage for stage in Stage if Order.objects.at_stage(stage).filter(pk=order.pk).exists()
    }
    assert matching == {case.expected}


def test_stage_table_covers_every_stage() -> None:
    assert {case.expected for case in CASES.values()} == set(Stage)
