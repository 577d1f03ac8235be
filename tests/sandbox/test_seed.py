"""The demo store: the twenty orders of portal/demo.py, at the same stages."""

from __future__ import annotations

import pytest

from sandbox import Sandbox
from tests.sandbox.conftest import Recorder

# number: (country, locale, currency, email, order status, carrier statuses of its parcels)
STORY = {
    1001: ("US", "en", "USD", "emma@example.com", "FULFILLED", ["IN_TRANSIT"]),
    1002: ("DE", "de", "EUR", "lukas@example.com", "UNFULFILLED", []),
    1003: ("FR", "fr", "EUR", "camille@example.com", "IN_PROGRESS", []),
    1004: ("GB", "en-GB", "GBP", "oliver@example.com", "PARTIALLY_FULFILLED", ["IN_TRANSIT"]),
    1005: ("JP", "ja", "JPY", "hanako@example.com", "FULFILLED", ["OUT_FOR_DELIVERY"]),
    1006: ("NL", "nl", "EUR", "sanne@example.com", "FULFILLED", ["DELIVERED"]),
    1007: ("AE", "ar", "AED", "layla@example.com", "FULFILLED", ["ATTEMPTED_DELIVERY"]),
    1008: ("CA", "fr-CA", "CAD", "chloe@example.com", "FULFILLED", ["IN_TRANSIT", "IN_TRANSIT"]),
    1009: ("US", "es", "USD", "sofia@example.com", "CANCELLED", []),
    1010: ("ES", "es", "EUR", "lucia@example.com", "FULFILLED", ["DELIVERED"]),
    1011: ("DE", "de", "EUR", "jonas@example.com", "FULFILLED", ["DELAYED"]),
    1012: ("JP", "ja", "JPY", "kenji@example.com", "UNFULFILLED", []),
    1013: ("AE", "ar", "AED", "omar@example.com", "FULFILLED", ["DELIVERED"]),
    1014: ("US", "en", "USD", "james@example.com", "FULFILLED", ["FAILURE"]),
    1015: ("FR", "fr", "EUR", "lea@example.com", "FULFILLED", ["OUT_FOR_DELIVERY"]),
    1016: ("NL", "nl", "EUR", "daan@example.com", "PARTIALLY_FULFILLED", ["IN_TRANSIT"]),
    1017: ("CA", "en", "CAD", "liam@example.com", "IN_PROGRESS", []),
    1018: ("GB", "en", "GBP", "amelia@example.com", "FULFILLED", ["DELIVERED"] * 3),
    1019: ("US", "en", "USD", "ava@example.com", "FULFILLED", ["LABEL_PRINTED"]),
    1020: ("DE", "de", "EUR", "mia@example.com", "CANCELLED", []),
}


@pytest.fixture
def demo(sandbox: Sandbox) -> Sandbox:
    sandbox.seed_demo()
    return sandbox


def test_the_demo_has_the_twenty_orders_at_their_stages(demo: Sandbox) -> None:
    orders = sorted(demo.store.orders.values(), key=lambda order: order.number)
    assert [order.number for order in orders] == list(STORY)
    for order in orders:
        country, locale, currency, email, status, parcels = STORY[order.number]
        shown = (
            order.shipping_address.country_code,
            order.customer_locale,
            order.currency,
            order.email,
            "CANCELLED" if order.cancelled_at else order.display_fulfillment_status,
            [shipment.shipment_status for shipment in order.fulfillments],
        )
        assert shown == (country, locale, currency, email, status, parcels), order.name


def test_the_demo_keeps_its_shop_prices_and_carriers(demo: Sandbox) -> None:
    tokyo = demo.store.order(1005)
    assert [(line.sku, line.price, line.quantity) for line in tokyo.lines] == [
        ("NW-MUG", 2880, 2),
        ("NW-TEE", 4640, 1),
    ]
    shipment = tokyo.fulfillments[0]
    assert (shipment.name, shipment.tracking_company, shipment.tracking_number) == (
        "#1005.1",
        "Yamato",
        "YA1005017731",
    )
    assert shipment.estimated_delivery_at is not None
    delivered = demo.store.order(1006).fulfillments[0]
    assert delivered.delivered_at == delivered.latest_event.happened_at
    assert demo.store.order(1009).display_financial_status == "VOIDED"
    placed = [order.processed_at for order in demo.store.orders.values()]
    assert max(placed) < demo.clock()  # placed in the past, relative to now


def test_the_demo_story_goes_out_as_webhooks(sandbox: Sandbox, hooks: Recorder) -> None:
    sandbox.seed_demo()
    topics = hooks.topics()
    assert topics.count("orders/create") == 20
    assert topics.count("orders/cancelled") == 2
    assert topics.count("fulfillments/create") == 17  # parcels
    assert topics.count("orders/fulfilled") + topics.count("orders/partially_fulfilled") == 17


def test_a_reset_replaces_the_story_and_keeps_the_app_installed(sandbox: Sandbox) -> None:
    sandbox.store.subscribe(topic="ORDERS_UPDATED", uri="https://portal.test/hooks")
    sandbox.reset(seed="demo")
    sandbox.reset(seed="demo")
    assert len(sandbox.store.orders) == 20
    assert len(sandbox.store.subscriptions) == 1
    sandbox.reset(keep_subscriptions=False)
    assert sandbox.store.orders == {} and sandbox.store.subscriptions == {}


def test_each_demo_line_is_one_of_its_products_variants_with_stock_shown(demo: Sandbox) -> None:
    store = demo.store
    for order in store.orders.values():
        for line in order.lines:
            variant = store.variants[line.variant_id]
            assert variant in store.products[line.product_id].variants
            assert variant.title == (line.variant_title or "Default Title")
            assert variant.sku == line.sku
    tee = demo.product_state("NW-TEE")["variants"]
    assert [v["title"] for v in tee][:4] == ["S / Navy", "M / Navy", "L / Navy", "XL / Navy"]
    everything = [v for p in store.products.values() for v in p.variants]
    assert any(not v.available_for_sale for v in everything)
    assert any(v.inventory_quantity >= 25 for v in everything)
    assert len(demo.product_state("NW-SNEAKER")["variants"]) == 6
