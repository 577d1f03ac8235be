from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest

from orders.models import CANCELLED, PLACED, Fulfillment, Order, Shop
from shopify import credentials
from shopify.models import WebhookDelivery
from tests.factories import add_line, make_order, ship
from tests.shopify.conftest import WEBHOOKS, sample

TOPICS = sorted(
    str(path.relative_to(WEBHOOKS).with_suffix("")) for path in WEBHOOKS.glob("*/*.json")
)


def test_the_real_material_is_there() -> None:
    assert len(TOPICS) >= 25, "../shared/shopify/webhooks is missing or incomplete"


def test_missing_or_wrong_signature_leaves_no_trace(deliver, connected_shop: Shop) -> None:  # type: ignore[no-untyped-def]
    assert deliver("orders/create", signature="").status_code == 401
    assert deliver("orders/create", secret="not-the-secret").status_code == 401
    assert deliver("orders/create", domain="someone-else.myshopify.com").status_code == 401
    assert not WebhookDelivery.objects.exists()
    assert not Order.objects.exists()


def test_body_that_is_not_json_is_400(deliver, connected_shop: Shop) -> None:  # type: ignore[no-untyped-def]
    assert deliver("orders/create", b"<xml/>").status_code == 400
    assert deliver("orders/create", b"[1, 2]").status_code == 400
    assert not WebhookDelivery.objects.exists()


def test_oversized_body_is_413(deliver, connected_shop: Shop, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SHOPIFY_WEBHOOK_MAX_BYTES = 2048
    assert deliver("orders/create", {"padding": "x" * 4096}).status_code == 413
    assert not WebhookDelivery.objects.exists()


def test_rotated_secret_is_accepted_alongside_the_new_one(deliver, connected_shop: Shop) -> None:  # type: ignore[no-untyped-def]
    creds = connected_shop.credentials
    creds.sealed_previous_client_secret = creds.sealed_client_secret
    creds.sealed_client_secret = credentials.seal("the-new-secret")
    creds.save()
    assert deliver("orders/create", secret="test-webhook-secret").status_code == 200
    assert deliver("orders/updated", secret="the-new-secret").status_code == 200


def test_unprefixed_headers_of_event_deliveries(client, connected_shop: Shop) -> None:  # type: ignore[no-untyped-def]
    from shopify.signatures import sign

    body = sample("orders/create")
    response = client.post(
        "/shopify/webhooks",
        body,
        content_type="application/json",
        HTTP_SHOPIFY_TOPIC="orders/create",
        HTTP_SHOPIFY_SHOP_DOMAIN="northwind.myshopify.com",
        HTTP_SHOPIFY_WEBHOOK_ID="evt-1",
        HTTP_SHOPIFY_HMAC_SHA256=sign(body, "test-webhook-secret"),
    )
    assert response.status_code == 200
    assert WebhookDelivery.objects.get().topic == "orders/create"


def test_delivery_is_recorded_then_processed(deliver, run_jobs, connected_shop: Shop) -> None:  # type: ignore[no-untyped-def]
    response = deliver("orders/create", webhook_id="abc-1")
    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert (delivery.webhook_id, delivery.topic, delivery.api_version) == (
        "abc-1",
        "orders/create",
        "2026-07",
    )
    assert delivery.triggered_at.isoformat() == "2026-11-20T10:00:00+00:00"
    assert delivery.status == WebhookDelivery.Status.RECEIVED  # acknowledged before any work

    assert run_jobs() == 1
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PROCESSED
    assert delivery.attempts == 1


def test_delivered_three_times_processed_once(deliver, run_jobs, connected_shop: Shop) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        assert deliver("orders/create", webhook_id="same-delivery").status_code == 200
    assert run_jobs() == 1
    assert WebhookDelivery.objects.count() == 1
    order = Order.objects.get()
    assert order.events.filter(kind=PLACED.name).count() == 1


def test_unknown_topic_is_recorded_and_ignored(deliver, run_jobs, connected_shop: Shop) -> None:  # type: ignore[no-untyped-def]
    assert deliver("products/create", {"id": 1, "title": "Hat"}).status_code == 200
    run_jobs()
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.IGNORED


@pytest.mark.parametrize("topic", TOPICS)
def test_every_real_sample_verifies_and_is_recorded(
    deliver, run_jobs, connected_shop: Shop, topic: str
) -> None:  # type: ignore[no-untyped-def]
    assert deliver(topic).status_code == 200
    assert WebhookDelivery.objects.get(topic=topic).payload == json.loads(sample(topic))
    run_jobs()
    if topic == "shop/redact":  # the shop is erased, and its deliveries with it
        assert not WebhookDelivery.objects.exists()
        return
    delivery = WebhookDelivery.objects.get(topic=topic)
    assert delivery.status in {WebhookDelivery.Status.PROCESSED, WebhookDelivery.Status.IGNORED}
    if topic == "customers/redact":  # who asked to be forgotten is not kept either
        assert delivery.payload == {"redacted": True}


@pytest.mark.parametrize(
    "topic",
    [
        "orders/create",
        "orders/updated",
        "orders/cancelled",
        "orders/fulfilled",
        "orders/partially_fulfilled",
    ],
)
def test_real_order_samples_land_in_the_mirror(
    deliver, run_jobs, connected_shop: Shop, topic: str
) -> None:  # type: ignore[no-untyped-def]
    deliver(topic)
    run_jobs()
    payload = json.loads(sample(topic))
    order = Order.objects.get(shop=connected_shop)
    # The gid is exact where the docs' numeric id was rounded (SOURCES.md, quirk 1).
    assert order.shopify_id == 820982911946154508
    assert order.name == payload["name"] == "#9999"
    assert order.number == payload["order_number"]
    assert order.email == "jon@example.com"
    assert order.customer_locale == "en"
    assert order.currency == "USD"
    assert order.total == Decimal(payload["current_total_price_set"]["presentment_money"]["amount"])
    assert order.financial_status == "voided"
    assert order.is_cancelled and order.cancel_reason == "customer"
    assert order.tags == ["tag1", "tag2"]
    assert order.shipping_address["city"] == "Shippington"
    assert order.shipping_address["province_code"] == "KY"
    assert [line.title for line in order.lines.all()] == [
        line["title"] for line in payload["line_items"]
    ]
    assert order.lines.first().sku == "SKU2006-001"
    kinds = list(order.events.values_list("kind", flat=True))
    assert kinds == [PLACED.name, CANCELLED.name]


def test_real_fulfillment_and_carrier_event_samples(
    deliver, run_jobs, connected_shop: Shop
) -> None:  # type: ignore[no-untyped-def]
    fulfillment_payload = json.loads(sample("fulfillments/create"))
    order = make_order(connected_shop, shopify_id=fulfillment_payload["order_id"])
    add_line(order, shopify_id=487817672276298554)  # the sample's first line, by its exact gid
    deliver("fulfillments/create")
    run_jobs()
    shipment = Fulfillment.objects.get(order=order)
    assert shipment.tracking_company == "UPS"
    assert shipment.tracking_numbers == fulfillment_payload["tracking_numbers"]
    assert shipment.lines.get().line_item.shopify_id == 487817672276298554

    event_payload = json.loads(sample("fulfillment_events/create"))
    Fulfillment.objects.filter(pk=shipment.pk).update(shopify_id=event_payload["fulfillment_id"])
    deliver("fulfillment_events/create")
    run_jobs()
    shipment.refresh_from_db()
    event = shipment.events.get()
    assert (event.status, event.message, event.country_code) == (
        "in_transit",
        "Item is now in transit",
        "CA",
    )
    assert shipment.shipment_status == "in_transit"


def test_out_of_order_deliveries_keep_the_newer_state(
    deliver, run_jobs, connected_shop: Shop
) -> None:  # type: ignore[no-untyped-def]
    payload = json.loads(sample("orders/updated"))
    newer = {**payload, "updated_at": "2026-11-20T12:00:00+00:00", "email": "new@example.com"}
    older = {**payload, "updated_at": "2026-11-20T11:00:00+00:00", "email": "old@example.com"}
    deliver("orders/updated", newer)
    deliver("orders/updated", older)
    run_jobs()
    order = Order.objects.get()
    assert order.email == "new@example.com"
    assert WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PROCESSED).count() == 2


def test_ingest_renews_the_cached_order_page(
    deliver, run_jobs, connected_shop: Shop, client
) -> None:  # type: ignore[no-untyped-def]
    from orders import access

    payload = json.loads(sample("orders/updated"))
    payload = {**payload, "cancelled_at": None, "updated_at": "2026-11-20T11:00:00+00:00"}
    deliver("orders/updated", payload)
    run_jobs()
    order = Order.objects.get()
    link = f"/o/{access.link_token(order)}/"
    client.cookies["django_language"] = "en"
    assert "This order was cancelled." not in client.get(link).text
    deliver(
        "orders/cancelled",
        {
            **payload,
            "cancelled_at": "2026-11-20T12:00:00+00:00",
            "updated_at": "2026-11-20T12:00:00+00:00",
        },
    )
    run_jobs()
    assert "This order was cancelled." in client.get(link).text


def test_app_uninstalled_deactivates_the_shop(deliver, run_jobs, connected_shop: Shop) -> None:  # type: ignore[no-untyped-def]
    order = make_order(connected_shop)
    ship(order, [])
    deliver("app/uninstalled")
    run_jobs()
    connected_shop.refresh_from_db()
    assert not connected_shop.is_active


def test_redis_down_at_intake_then_up_nothing_lost(
    deliver, run_jobs, connected_shop: Shop, monkeypatch, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    import django_rq
    from redis.exceptions import ConnectionError as RedisDown

    from shopify.jobs import sweep_deliveries

    def down(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RedisDown("Connection refused")

    with monkeypatch.context() as patch:
        patch.setattr(django_rq, "get_queue", down)
        assert deliver("orders/create").status_code == 200  # Shopify still gets its 200
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.RECEIVED
    assert run_jobs() == 0  # nothing reached the queue

    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_deliveries() == 0  # too recent: perhaps a worker has it right now
    WebhookDelivery.objects.update(received_at=delivery.received_at - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_deliveries() == 1
    assert run_jobs() == 1
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PROCESSED
    assert Order.objects.filter(shop=connected_shop).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_deliveries() == 0  # done is done


def test_a_lines_discounts_make_what_was_paid(deliver, run_jobs, connected_shop: Shop) -> None:  # type: ignore[no-untyped-def]
    """The real orders/create sample, with a 10.00 discount shared by the line's units: what a
    unit cost the shopper is what a return gives back."""
    from orders.models import LineItem

    payload = json.loads(sample("orders/create"))
    line = payload["line_items"][0]
    line["quantity"] = 2
    line["discount_allocations"] = [
        {"amount": "10.00", "amount_set": {
            "shop_money": {"amount": "10.00", "currency_code": payload["currency"]},
            "presentment_money": {"amount": "10.00", "currency_code": payload["currency"]}}}
    ]  # fmt: skip
    deliver("orders/create", payload)
    run_jobs()
    mirrored = LineItem.objects.get(order__shop=connected_shop, position=0)
    assert mirrored.unit_paid == mirrored.price - Decimal("5.00")
