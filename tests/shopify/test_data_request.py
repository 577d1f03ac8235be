"""customers/data_request: the customer's data, assembled for the merchant to download."""

from __future__ import annotations

import json

from django.contrib.auth.models import User
from django.urls import reverse

from orders.models import Shop
from shopify.models import DataRequest
from tests.factories import add_line, make_order, ship
from tests.shopify.conftest import sample


def test_the_request_assembles_the_customers_orders(
    deliver, run_jobs, connected_shop: Shop
) -> None:  # type: ignore[no-untyped-def]
    payload = json.loads(sample("customers/data_request"))
    mine = make_order(connected_shop, number=1001, email="john@example.com")
    add_line(mine, title="Trail hoodie")
    ship(mine, tracking_numbers=["1Z999"])
    by_id = make_order(connected_shop, number=1002, email="", shopify_id=299938)
    make_order(connected_shop, number=1003, email="someone.else@example.com")

    response = deliver("customers/data_request", payload)
    assert response.status_code == 200
    run_jobs()

    request = DataRequest.objects.get()
    assert request.shopify_request_id == "9999"
    assert request.customer_email == "john@example.com"
    orders = {order["name"]: order for order in request.export["orders"]}
    assert set(orders) == {mine.name, by_id.name}  # by email, and by the ids Shopify names
    assert orders[mine.name]["items"][0]["title"] == "Trail hoodie"
    assert orders[mine.name]["shipments"][0]["tracking_numbers"] == ["1Z999"]


def test_the_merchant_downloads_the_export(client, connected_shop: Shop) -> None:  # type: ignore[no-untyped-def]
    request = DataRequest.objects.create(
        shop=connected_shop, customer_email="john@example.com", export={"orders": [{"a": 1}]}
    )
    url = reverse("admin:shopify_datarequest_download", args=[request.pk])
    assert client.get(url).status_code == 302  # to the login page

    staff_without_permission = User.objects.create_user("temp", password="x", is_staff=True)
    client.force_login(staff_without_permission)
    assert client.get(url).status_code == 403

    client.force_login(User.objects.create_superuser("owner", password="x"))
    response = client.get(url)
    assert response.status_code == 200
    assert (
        response["Content-Disposition"] == f'attachment; filename="customer-data-{request.pk}.json"'
    )
    assert json.loads(response.content) == {"orders": [{"a": 1}]}
