"""The control API: a shop's story moved forward over HTTP, as the demo and benchmarks do it."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from sandbox import Sandbox
from tests.sandbox.conftest import ADMIN, Recorder

SANDBOX = ADMIN.split("/admin/")[0] + "/sandbox"
NEW_ORDER = {
    "number": 1050,
    "email": "chloe@example.com",
    "customer_locale": "fr-CA",
    "currency": "CAD",
    "exchange_rate": "1.5",
    "lines": [
        {"title": "Trail hoodie", "price": "118.50", "quantity": 1, "sku": "NW-HOODIE"},
        {"title": "Enamel camp mug", "price": 27, "quantity": 2, "sku": "NW-MUG"},
    ],
    "shipping_address": {
        "first_name": "Chloé",
        "last_name": "Tremblay",
        "city": "Montréal",
        "province_code": "QC",
        "zip": "H3B 4W5",
        "country": "Canada",
        "country_code": "CA",
    },
    "shipping_price": "10.35",
    "placed_at": "2026-11-01T08:00:00+00:00",
}


@pytest.fixture
def control(session: requests.Session) -> Any:
    def call(method: str, path: str, body: Any = None) -> requests.Response:
        return session.request(method, SANDBOX + path, json=body)

    return call


def test_an_order_told_over_http(control, hooks: Recorder) -> None:  # type: ignore[no-untyped-def]
    created = control("POST", "/orders", NEW_ORDER)
    assert created.status_code == 200
    assert created.json()["name"] == "#1050"
    assert created.json()["processed_at"] == "2026-11-01T09:00:00+01:00"

    assert control("POST", "/orders/1050/start").json()["fulfillment_orders"][0]["status"] == (
        "in_progress"
    )
    shipped = control(
        "POST",
        "/orders/1050/fulfil",
        {
            "lines": {"NW-MUG": 2},
            "company": "Canada Post",
            "tracking_number": "CP123",
            "tracking_url": "https://www.canadapost-postescanada.ca/track-reperage/en#/details/CP123",
        },
    ).json()
    assert shipped["fulfillment_status"] == "partial"
    assert shipped["fulfillments"][0]["name"] == "#1050.1"
    scanned = control(
        "POST", "/orders/1050/fulfillments/1/events", {"status": "in_transit", "city": "Toronto"}
    ).json()
    assert scanned["fulfillments"][0]["shipment_status"] == "in_transit"
    assert scanned["fulfillments"][0]["events"][0]["country"] == "CA"
    delivered = control("POST", "/orders/1050/fulfillments/1/deliver").json()
    assert delivered["fulfillments"][0]["shipment_status"] == "delivered"
    assert control("POST", "/orders/1050/cancel").status_code == 409  # something was shipped
    assert control("GET", "/orders/1050").json() == delivered
    assert hooks.topics() == [
        "orders/create",
        "orders/updated",
        "fulfillments/create",
        "orders/partially_fulfilled",
        "orders/updated",
        "fulfillment_events/create",
        "fulfillments/update",
        "fulfillment_events/create",
        "fulfillments/update",
    ]


def test_hold_release_and_cancel_over_http(control, hooks: Recorder) -> None:  # type: ignore[no-untyped-def]
    control("POST", "/orders", NEW_ORDER)
    held = control(
        "POST", "/orders/1050/hold", {"reason": "incorrect_address", "handle": "address-fix"}
    ).json()
    assert held["fulfillment_orders"][0]["status"] == "on_hold"
    assert held["fulfillment_orders"][0]["fulfillment_holds"][0]["reason"] == "incorrect_address"
    assert control("POST", "/orders/1050/fulfil", {}).status_code == 409  # held
    released = control("POST", "/orders/1050/release").json()
    assert released["fulfillment_orders"][0]["status"] == "open"
    cancelled = control("POST", "/orders/1050/cancel", {"reason": "customer"}).json()
    assert cancelled["cancel_reason"] == "customer"
    assert cancelled["financial_status"] == "refunded"
    assert hooks.topics()[-4:] == [
        "fulfillment_orders/placed_on_hold",
        "fulfillment_orders/hold_released",
        "orders/cancelled",
        "orders/updated",
    ]


def test_webhook_options_bucket_and_reset_over_http(
    control, sandbox: Sandbox, hooks: Recorder
) -> None:  # type: ignore[no-untyped-def]
    options = control("POST", "/webhooks", {"hold": True, "duplicates": 1}).json()
    assert (options["hold"], options["duplicates"], options["target"]) == (
        True,
        1,
        sandbox.webhooks.options.target,
    )
    control("POST", "/orders", NEW_ORDER)
    pending = control("GET", "/webhooks").json()["pending"]
    assert [delivery["topic"] for delivery in pending] == ["orders/create"]
    assert control("POST", "/webhooks/flush").json() == {"sent": 1, "failed": 0, "pending": 0}
    assert len(hooks.received) == 2  # sent twice, one webhook id

    bucket = control("POST", "/bucket", {"size": 1000, "restore_rate": 50, "available": 10}).json()
    assert bucket == {"maximumAvailable": 1000, "currentlyAvailable": 10, "restoreRate": 50}

    assert control("POST", "/reset", {"seed": "demo"}).json() == {"orders": 20}
    assert control("GET", "/bucket").json()["currentlyAvailable"] == 1000
    assert control("GET", "/orders").json()[0]["number"] == 1001


def test_what_the_control_api_cannot_do_is_said(control) -> None:  # type: ignore[no-untyped-def]
    assert control("GET", "/orders/4040").status_code == 404
    assert control("POST", "/orders/4040/start").status_code == 404
    assert control("POST", "/orders", {"lines": [{"title": "x"}]}).status_code == 400
    control("POST", "/orders", NEW_ORDER)
    assert control("POST", "/orders", NEW_ORDER).status_code == 409  # the number is taken
    assert control("POST", "/orders/1050/fulfil", {"lines": {"NW-SOCKS": 1}}).status_code == 400
    assert control("POST", "/orders/1050/fulfillments/2/deliver").status_code == 404
    assert control("PUT", "/orders/1050").status_code == 405
    assert control("POST", "/reset", {"seed": "everything"}).status_code == 400
    scan = {"status": "teleported"}
    control("POST", "/orders/1050/fulfil", {"company": "UPS", "tracking_number": "1Z1"})
    assert control("POST", "/orders/1050/fulfillments/1/events", scan).status_code == 400
    assert control("POST", "/webhooks", {"colour": "blue"}).status_code == 400
