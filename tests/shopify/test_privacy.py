"""Privacy webhooks really erase: afterwards the database holds no trace of the customer."""

from __future__ import annotations

import json

from django.apps import apps
from django.core import serializers

from edits.models import ChangeRequest
from orders.models import Order, Shop
from shopify.models import DataRequest, WebhookDelivery
from tests.factories import add_line, make_order
from tests.shopify.conftest import sample


def everything_stored() -> str:
    """Every row of every model of ours, as text."""
    labels = ("orders", "shopify", "edits", "returns")
    models = [m for label in labels for m in apps.get_app_config(label).get_models()]
    return "".join(serializers.serialize("json", m.objects.all()) for m in models)


def test_customer_redaction_leaves_no_trace(deliver, run_jobs, connected_shop: Shop) -> None:  # type: ignore[no-untyped-def]
    order_payload = json.loads(sample("orders/updated"))
    deliver("orders/updated")
    run_jobs()
    order = Order.objects.get()
    other = make_order(
        connected_shop,
        email="someone.else@example.com",
        shipping_address={"first_name": "Zed", "country_code": "FR"},
    )
    add_line(other)
    # The customer once asked to change the address: the request holds it, both sides.
    ChangeRequest.objects.create(
        order=order,
        kind="address",
        status="applied",
        before=order.shipping_address,
        after={**order.shipping_address, "address2": "Apt 9, Shippington Heights"},
    )
    stored = everything_stored()
    personal = [
        "jon@example.com",
        "Steve",
        "Shipper",
        "123 Shipping Street",
        "555-555-SHIP",
        "Shippington",
    ]
    assert all(value in stored for value in personal)  # the test can fail

    # The customer asked for their data first: the export holds it too, and must go with it.
    data_request = json.loads(sample("customers/data_request"))
    data_request["customer"]["email"] = "jon@example.com"
    deliver("customers/data_request", data_request)
    run_jobs()
    assert DataRequest.objects.get().export["orders"][0]["email"] == "jon@example.com"

    redact = json.loads(sample("customers/redact"))
    redact["customer"]["email"] = "jon@example.com"
    redact["orders_to_redact"] = [order.shopify_id]
    deliver("customers/redact", redact)
    run_jobs()

    stored = everything_stored()
    for value in [*personal, "john@example.com", "555-625-1199"]:
        assert value not in stored, value
    order.refresh_from_db()
    assert order.name == order_payload["name"] and order.total > 0  # anonymous facts stay
    assert order.shipping_address == {"country_code": "US"}
    assert order.lines.count() == len(order_payload["line_items"])
    other.refresh_from_db()
    assert other.email == "someone.else@example.com"  # nobody else is touched
    assert WebhookDelivery.objects.count() == 3  # that deliveries happened is kept
    assert not DataRequest.objects.exists()


def test_shop_redaction_deletes_everything_of_the_shop(
    deliver, run_jobs, connected_shop: Shop
) -> None:  # type: ignore[no-untyped-def]
    deliver("orders/create")
    run_jobs()
    keeper = Shop.objects.create(domain="other.myshopify.com", name="Other")
    make_order(keeper)
    deliver("shop/redact")
    run_jobs()
    assert not Shop.objects.filter(pk=connected_shop.pk).exists()
    assert not Order.objects.filter(shop_id=connected_shop.pk).exists()
    assert not WebhookDelivery.objects.exists()
    assert Order.objects.filter(shop=keeper).count() == 1
