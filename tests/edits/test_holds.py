"""The warehouse waits while the address may change (off by default): our own hold on a new
order, released when the window ends, a change is applied, or the shopper confirms; nobody
else's hold is touched."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from edits import holds
from edits.models import EditPolicy, WarehouseHold
from orders import access
from orders.models import Order, Shop
from sandbox import Address, NewLine, Sandbox
from tests.sandbox_link import WEBHOOK_URL


def place_order(shopify: Sandbox, capture, run_jobs) -> Order:  # type: ignore[no-untyped-def]
    shopify.webhooks.configure(target=WEBHOOK_URL)
    with capture(execute=True):
        shopify.create_order(
            lines=[NewLine(title="Daypack 20 L", price=Decimal("95.00"), sku="PACK")],
            email="alice@example.com",
            currency="EUR",
            shipping_address=Address(
                first_name="Alice",
                last_name="Walker",
                address1="Torstraße 101",
                city="Berlin",
                zip="10119",
                country_code="DE",
            ),  # fmt: skip
        )
    with capture(execute=True):
        run_jobs()  # ingest; the edits handler asks for a hold on commit
    run_jobs()  # the hold
    return Order.objects.get()


def fulfillment_order(shopify: Sandbox, order: Order) -> dict:
    return shopify.order_state(order.number)["fulfillment_orders"][0]


@pytest.fixture
def holding(connected_shop: Shop) -> EditPolicy:
    policy = EditPolicy.for_shop(connected_shop)
    policy.hold_during_window = True
    policy.save()
    return policy


def test_off_by_default_no_hold(
    connected_shop: Shop, shopify: Sandbox, django_capture_on_commit_callbacks, run_jobs
) -> None:  # type: ignore[no-untyped-def]
    order = place_order(shopify, django_capture_on_commit_callbacks, run_jobs)
    assert fulfillment_order(shopify, order)["status"] == "open"
    assert not WarehouseHold.objects.exists()


def test_a_new_order_waits_and_the_shopper_is_told_until_when(
    holding: EditPolicy,
    client: Client,
    shopify: Sandbox,
    django_capture_on_commit_callbacks,
    run_jobs,
) -> None:  # type: ignore[no-untyped-def]
    order = place_order(shopify, django_capture_on_commit_callbacks, run_jobs)
    held = fulfillment_order(shopify, order)
    assert held["status"] == "on_hold"
    assert [h["handle"] for h in held["fulfillment_holds"]] == [
        holds.HANDLES[WarehouseHold.Reason.ADDRESS_WINDOW][0]
    ]
    hold = WarehouseHold.objects.get()
    assert hold.release_due_at == order.placed_at + timedelta(minutes=12 * 60)
    assert holds.place(order.pk) == 1  # idempotent: held once, not again
    assert WarehouseHold.objects.count() == 1
    assert len(fulfillment_order(shopify, order)["fulfillment_holds"]) == 1
    html = client.get(f"/o/{access.link_token(order)}/").content.decode()
    assert "waits at the warehouse until" in html and 'href="confirm/"' in html


def test_the_shoppers_confirmation_releases_only_our_hold(
    holding: EditPolicy,
    client: Client,
    shopify: Sandbox,
    django_capture_on_commit_callbacks,
    run_jobs,
) -> None:  # type: ignore[no-untyped-def]
    order = place_order(shopify, django_capture_on_commit_callbacks, run_jobs)
    shopify.hold(order.number, reason="HIGH_RISK_OF_FRAUD", handle="fraud-app")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/o/{access.link_token(order)}/confirm/")
    assert response.status_code == 302
    run_jobs()
    remaining = fulfillment_order(shopify, order)["fulfillment_holds"]
    assert [h["handle"] for h in remaining] == ["fraud-app"]  # the other app's hold stays
    hold = WarehouseHold.objects.get()
    assert hold.released_because == "confirmed" and hold.released_at is not None


def test_an_applied_address_change_releases_the_hold(
    holding: EditPolicy,
    client: Client,
    shopify: Sandbox,
    django_capture_on_commit_callbacks,
    run_jobs,
) -> None:  # type: ignore[no-untyped-def]
    order = place_order(shopify, django_capture_on_commit_callbacks, run_jobs)
    data = {
        "first_name": "Alice", "last_name": "Walker", "address1": "Torstraße 101",
        "address2": "Hinterhaus", "city": "Berlin", "zip": "10119", "step": "confirm",
    }  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/o/{access.link_token(order)}/change/address/", data)
    with django_capture_on_commit_callbacks(execute=True):
        run_jobs()  # the push, which asks for the release on commit
    run_jobs()
    state = shopify.order_state(order.number)
    assert state["shipping_address"]["address2"] == "Hinterhaus"
    assert state["fulfillment_orders"][0]["status"] == "open"
    assert WarehouseHold.objects.get().released_because == "change_applied"


def test_the_hold_ends_with_the_window(
    holding: EditPolicy, shopify: Sandbox, django_capture_on_commit_callbacks, run_jobs
) -> None:  # type: ignore[no-untyped-def]
    order = place_order(shopify, django_capture_on_commit_callbacks, run_jobs)
    with django_capture_on_commit_callbacks(execute=True):
        assert holds.release_due() == 0  # not yet
    WarehouseHold.objects.update(release_due_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert holds.release_due() == 1
    run_jobs()
    assert fulfillment_order(shopify, order)["status"] == "open"
    assert WarehouseHold.objects.get().released_because == "window_ended"
