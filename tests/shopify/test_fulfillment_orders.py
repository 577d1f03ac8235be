"""fulfillment_orders/* webhooks: the warehouse's holds reach the mirror, in order."""

from __future__ import annotations

import json

from orders.models import FulfillmentOrder, Shop
from tests.factories import make_order
from tests.shopify.conftest import sample


def test_a_hold_on_a_known_fulfilment_order_lands(deliver, run_jobs, connected_shop: Shop) -> None:  # type: ignore[no-untyped-def]
    order = make_order(connected_shop)
    FulfillmentOrder.objects.create(order=order, shopify_id=1, status="open")
    revision = order.revision

    deliver("fulfillment_orders/placed_on_hold", triggered_at="2026-11-20T10:00:00Z")
    run_jobs()

    held = FulfillmentOrder.objects.get(order=order, shopify_id=1)
    assert held.status == FulfillmentOrder.Status.ON_HOLD
    assert held.hold_reasons == ["other", "inventory_out_of_stock"]
    # The hold split the fulfilment order: the remainder is known now too.
    assert FulfillmentOrder.objects.get(order=order, shopify_id=2).status == "open"
    order.refresh_from_db()
    assert order.revision > revision


def test_an_older_release_does_not_undo_a_newer_hold(
    deliver, run_jobs, connected_shop: Shop
) -> None:  # type: ignore[no-untyped-def]
    order = make_order(connected_shop)
    FulfillmentOrder.objects.create(order=order, shopify_id=1, status="open")
    deliver("fulfillment_orders/placed_on_hold", triggered_at="2026-11-20T10:00:00Z")
    deliver("fulfillment_orders/hold_released", triggered_at="2026-11-20T09:00:00Z")
    run_jobs()
    assert FulfillmentOrder.objects.get(shopify_id=1).status == "on_hold"

    deliver("fulfillment_orders/hold_released", triggered_at="2026-11-20T11:00:00Z")
    run_jobs()
    released = FulfillmentOrder.objects.get(shopify_id=1)
    assert released.status == "open" and released.hold_reasons == []


def test_an_unknown_fulfilment_order_is_left_to_reconciliation(
    deliver, run_jobs, connected_shop: Shop
) -> None:  # type: ignore[no-untyped-def]
    payload = json.loads(sample("fulfillment_orders/placed_on_hold"))
    deliver("fulfillment_orders/placed_on_hold", payload)
    run_jobs()
    assert not FulfillmentOrder.objects.exists()
