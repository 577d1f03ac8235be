"""Webhook deliveries: signed like Shopify's, shaped like its samples, and unreliable on demand."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from sandbox import Sandbox
from sandbox.webhooks import MAX_ATTEMPTS, sign
from tests.sandbox.conftest import DOMAIN, HOOKS, SECRET, Recorder, place, shared, shared_json

# What our ingest reads of each payload (shopify/ingest.py): the sandbox must send all of it.
ORDER_KEYS = {
    "id",
    "admin_graphql_api_id",
    "name",
    "order_number",
    "email",
    "phone",
    "customer_locale",
    "currency",
    "presentment_currency",
    "current_subtotal_price",
    "current_subtotal_price_set",
    "current_total_price",
    "current_total_price_set",
    "current_total_tax_set",
    "current_total_discounts_set",
    "total_shipping_price_set",
    "financial_status",
    "fulfillment_status",
    "processed_at",
    "created_at",
    "updated_at",
    "cancelled_at",
    "cancel_reason",
    "closed_at",
    "tags",
    "shipping_address",
    "line_items",
    "fulfillments",
}
LINE_KEYS = {
    "id",
    "admin_graphql_api_id",
    "current_quantity",
    "fulfillable_quantity",
    "price_set",
    "requires_shipping",
    "product_id",
    "variant_id",
    "sku",
    "title",
    "variant_title",
    "quantity",
}
FULFILLMENT_KEYS = {
    "id",
    "admin_graphql_api_id",
    "order_id",
    "name",
    "status",
    "shipment_status",
    "tracking_company",
    "tracking_numbers",
    "tracking_urls",
    "line_items",
    "created_at",
    "updated_at",
}
EVENT_KEYS = {
    "id",
    "fulfillment_id",
    "order_id",
    "status",
    "happened_at",
    "message",
    "city",
    "province",
    "country",
    "estimated_delivery_at",
}


def extra_keys(ours: Any, sample: Any, path: str = "") -> list[str]:
    """Keys of `ours` that Shopify's sample does not have, at any depth."""
    if isinstance(ours, dict) and isinstance(sample, dict):
        found = [f"{path}.{key}" for key in ours if key not in sample]
        for key in ours.keys() & sample.keys():
            found += extra_keys(ours[key], sample[key], f"{path}.{key}")
        return found
    if isinstance(ours, list) and isinstance(sample, list) and ours and sample:
        return [k for item in ours for k in extra_keys(item, sample[0], f"{path}[]")]
    return []


@pytest.fixture
def shipped(sandbox: Sandbox, clock) -> Sandbox:  # type: ignore[no-untyped-def]
    place(sandbox, 1001)
    clock.advance(3600)
    sandbox.fulfil(
        1001,
        lines={"TEE": 2},
        company="UPS",
        tracking_number="1Z999",
        tracking_url="https://www.ups.com/track?tracknum=1Z999",
    )
    sandbox.add_tracking_event(1001, 1, status="IN_TRANSIT", message="Arrived", city="Newark")
    return sandbox


def test_the_signature_is_shopifys_over_the_exact_bytes(shipped: Sandbox, hooks: Recorder) -> None:
    assert hooks.received
    for delivery in hooks.received:
        digest = hmac.new(SECRET.encode(), delivery.body, hashlib.sha256).digest()
        assert delivery.headers["X-Shopify-Hmac-Sha256"] == base64.b64encode(digest).decode()


def test_signing_matches_the_published_vectors() -> None:
    body = b'{"id":1234567890,"email":"customer@example.com","total_price":"123.45"}'
    assert sign(body, "test-webhook-secret") == "QNyObTlKbMx2qDlPF/ZOZcBqg5OgPg+2oky3zldc0Gw="
    redact = shared("webhooks/customers/redact.json").read_bytes()
    assert sign(redact, "test-webhook-secret") == "PKbD9d09CnTuf655/PB4gMSRu9GsKTLaaktVsqgkAHA="


def test_headers_are_shopifys(shipped: Sandbox, hooks: Recorder) -> None:
    delivery = hooks.last("fulfillments/create")
    assert delivery.url == HOOKS
    headers = delivery.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Shopify-Topic"] == "fulfillments/create"
    assert headers["X-Shopify-Shop-Domain"] == DOMAIN
    assert headers["X-Shopify-API-Version"] == "2026-07"
    assert headers["X-Shopify-Triggered-At"] == "2026-11-02T10:00:00.000000Z"
    ids = [d.headers["X-Shopify-Webhook-Id"] for d in hooks.received]
    assert len(set(ids)) == len(ids)
    events = {d.headers["X-Shopify-Event-Id"] for d in hooks.received}
    assert len(events) == len(ids)


def test_an_operation_sends_what_shopify_would(shipped: Sandbox, hooks: Recorder) -> None:
    assert hooks.topics() == [
        "orders/create",
        "fulfillments/create",
        "orders/partially_fulfilled",
        "orders/updated",
        "fulfillment_events/create",
        "fulfillments/update",
    ]


@pytest.mark.parametrize("topic", ["orders/create", "orders/updated", "orders/partially_fulfilled"])
def test_order_payloads_have_the_samples_keys_and_ours_need(
    topic: str, shipped: Sandbox, hooks: Recorder
) -> None:
    payload = hooks.last(topic).payload
    sample = shared_json(f"webhooks/{topic}.json")
    sample["fulfillments"] = [shared_json("webhooks/fulfillments/create.json")]
    assert extra_keys(payload, sample) == []
    assert payload.keys() >= ORDER_KEYS
    assert payload["line_items"][0].keys() >= LINE_KEYS
    assert set(payload["current_total_price_set"]) == {"shop_money", "presentment_money"}


def test_an_order_payload_says_what_the_order_is(shipped: Sandbox, hooks: Recorder) -> None:
    order = shipped.store.order(1001)
    payload = hooks.last("orders/updated").payload
    assert payload["admin_graphql_api_id"] == order.gid
    assert (payload["id"], payload["name"], payload["order_number"]) == (order.id, "#1001", 1001)
    assert payload["tags"] == ""
    assert payload["fulfillment_status"] == "partial"
    assert payload["financial_status"] == "paid"
    assert payload["currency"] == "EUR"
    assert payload["presentment_currency"] == "USD"
    assert payload["current_subtotal_price_set"] == {
        "shop_money": {"amount": "74.55", "currency_code": "EUR"},
        "presentment_money": {"amount": "82.00", "currency_code": "USD"},
    }
    assert payload["created_at"] == "2026-11-02T10:00:00+01:00"  # the shop's time zone
    tee, cap = payload["line_items"]
    assert (tee["current_quantity"], tee["fulfillable_quantity"], tee["fulfillment_status"]) == (
        2,
        0,
        "fulfilled",
    )
    assert (cap["fulfillable_quantity"], cap["fulfillment_status"]) == (1, None)
    (shipment,) = payload["fulfillments"]
    assert shipment["line_items"][0]["quantity"] == 2


def test_shipment_and_carrier_payloads_have_the_samples_keys(
    shipped: Sandbox, hooks: Recorder
) -> None:
    for topic, required in (
        ("fulfillments/create", FULFILLMENT_KEYS),
        ("fulfillments/update", FULFILLMENT_KEYS),
        ("fulfillment_events/create", EVENT_KEYS),
    ):
        payload = hooks.last(topic).payload
        assert extra_keys(payload, shared_json(f"webhooks/{topic}.json")) == [], topic
        assert required <= payload.keys(), topic
    update = hooks.last("fulfillments/update").payload
    assert update["shipment_status"] == "in_transit"
    assert update["tracking_numbers"] == ["1Z999"]
    event = hooks.last("fulfillment_events/create").payload
    assert (event["status"], event["city"], event["country"]) == ("in_transit", "Newark", "US")
    assert event["fulfillment_id"] == update["id"]
    assert event["order_id"] == update["order_id"] == shipped.store.order(1001).id


def test_hold_payloads_have_the_samples_keys(sandbox: Sandbox, hooks: Recorder) -> None:
    place(sandbox, 1001)
    sandbox.hold(1001, reason="INCORRECT_ADDRESS", handle="address-fix", notes="Shopper asked")
    sandbox.release_hold(1001)
    held = hooks.last("fulfillment_orders/placed_on_hold").payload
    assert extra_keys(held, shared_json("webhooks/fulfillment_orders/placed_on_hold.json")) == []
    assert held["fulfillment_order"]["status"] == "on_hold"
    assert held["created_fulfillment_hold"]["reason"] == "incorrect_address"
    assert sum(line["quantity"] for line in held["held_fulfillment_order_line_items"]) == 3
    released = hooks.last("fulfillment_orders/hold_released").payload
    assert released == {
        "fulfillment_order": {"id": held["fulfillment_order"]["id"], "status": "open"}
    }


def test_a_duplicate_keeps_the_webhook_id(sandbox: Sandbox, hooks: Recorder) -> None:
    sandbox.webhooks.configure(duplicates=2)
    place(sandbox)
    first, second, third = hooks.received
    assert first.headers == second.headers == third.headers
    assert first.body == second.body == third.body


def test_reorder_sends_held_deliveries_in_reverse(sandbox: Sandbox, hooks: Recorder) -> None:
    sandbox.webhooks.configure(hold=True, reorder=True)
    place(sandbox, 1001)
    sandbox.start_preparing(1001)
    sandbox.cancel(1001)
    assert hooks.received == []
    report = sandbox.webhooks.flush()
    assert (report.sent, report.failed, report.pending) == (4, 0, 0)
    assert hooks.topics() == [
        "orders/updated",
        "orders/cancelled",
        "orders/updated",
        "orders/create",
    ]


def test_held_deliveries_wait_for_the_flush(sandbox: Sandbox, hooks: Recorder) -> None:
    sandbox.webhooks.configure(hold=True)
    place(sandbox, 1001)
    sandbox.start_preparing(1001)
    assert hooks.received == []
    assert [d.topic for d in sandbox.webhooks.pending()] == ["orders/create", "orders/updated"]
    sandbox.webhooks.flush()
    assert hooks.topics() == ["orders/create", "orders/updated"]
    # Rendered when they happened: the first still shows the order as it was placed.
    created = hooks.last("orders/create").payload
    assert created["updated_at"] < hooks.last("orders/updated").payload["updated_at"]


def test_a_failed_delivery_is_kept_for_the_next_flush(sandbox: Sandbox, hooks: Recorder) -> None:
    hooks.failing = True
    order = place(sandbox)  # does not raise
    (waiting,) = sandbox.webhooks.pending()
    assert waiting.attempts == 1
    hooks.failing = False
    sandbox.start_preparing(order.number)  # new deliveries go out; the failed one waits
    assert hooks.topics() == ["orders/updated"]
    sandbox.webhooks.flush()
    assert hooks.topics() == ["orders/updated", "orders/create"]
    assert hooks.last("orders/create").headers["X-Shopify-Webhook-Id"] == waiting.webhook_id
    assert sandbox.webhooks.pending() == []


def test_a_delivery_answered_with_an_error_status_counts_as_failed(sandbox: Sandbox) -> None:
    sandbox.webhooks.transport = lambda url, body, headers: 302
    place(sandbox)
    for _ in range(MAX_ATTEMPTS):
        sandbox.webhooks.flush()
    assert sandbox.webhooks.pending() == []
    assert sandbox.webhooks.abandoned == 1  # after Shopify's eight retries


def test_deliveries_go_to_the_subscriptions_of_their_topic(
    sandbox: Sandbox, hooks: Recorder
) -> None:
    sandbox.webhooks.configure(target=None)
    store = sandbox.store
    store.subscribe(topic="ORDERS_CREATE", uri="https://portal.test/a")
    store.subscribe(topic="ORDERS_CREATE", uri="https://other.test/b", include_fields=["id"])
    store.subscribe(topic="ORDERS_CANCELLED", uri="https://portal.test/c")
    order = place(sandbox)
    assert [(d.url, d.topic) for d in hooks.received] == [
        ("https://portal.test/a", "orders/create"),
        ("https://other.test/b", "orders/create"),
    ]
    first, second = hooks.received
    assert second.payload == {"id": order.id}
    assert first.headers["X-Shopify-Event-Id"] == second.headers["X-Shopify-Event-Id"]
    assert first.headers["X-Shopify-Webhook-Id"] != second.headers["X-Shopify-Webhook-Id"]


def test_payload_bytes_are_compact_utf8_json(sandbox: Sandbox, hooks: Recorder) -> None:
    place(sandbox, note="Ça va très bien")
    body = hooks.last("orders/create").body
    assert "Ça va très bien".encode() in body
    assert json.loads(body)["note"] == "Ça va très bien"
