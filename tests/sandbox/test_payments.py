"""Paying a balance: what an edit leaves owing, the payment page an order's
paymentCollectionDetails points to (in process and over real HTTP), the payment it records, the
webhooks it sends, and the AWAITING_PAYMENT hold the portal keeps meanwhile."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests

from sandbox import NewVariant, Sandbox
from sandbox.server import make_http_server
from sandbox.store import NotAllowed, Order
from shopify.documents import DOCUMENTS
from tests.sandbox.conftest import (
    ADMIN,
    DOMAIN,
    TOKEN,
    Admin,
    Recorder,
    amount,
    place,
    run,
    shared_json,
)
from tests.sandbox.test_webhooks import extra_keys

EDITABLE = DOCUMENTS["EditableOrder"]
SANDBOX = ADMIN.split("/admin/")[0] + "/sandbox"
HOLD_STATE = """
query Holds($id: ID!) {
  order(id: $id) {
    fulfillmentOrders(first: 5) { nodes { id status fulfillmentHolds { reason handle } } }
  }
}
"""


def owing(sandbox: Sandbox, admin: Admin) -> Order:
    """#1001, paid ($89.59 in dollars at 1.1), then a €18 beanie added: $19.80 to pay."""
    order = place(sandbox, 1001)
    beanie = sandbox.add_product(
        title="Wool beanie", variants=[NewVariant("Default Title", Decimal("18.00"), 4)]
    )
    calculated = run(admin, DOCUMENTS["OrderEditBegin"], {"id": order.gid})["calculatedOrder"]
    variables = {"id": calculated["id"], "variantId": beanie.variants[0].gid, "quantity": 1}
    run(admin, DOCUMENTS["OrderEditAddVariant"], variables)
    committed = run(admin, DOCUMENTS["OrderEditCommit"], {"id": calculated["id"]})
    assert committed["userErrors"] == []
    return order


def test_an_edit_that_leaves_a_balance_points_to_a_payment_page(
    sandbox: Sandbox, admin, session: requests.Session
) -> None:  # type: ignore[no-untyped-def]
    order = owing(sandbox, admin)

    read = run(admin, EDITABLE, {"id": order.gid})

    assert read["displayFinancialStatus"] == "PARTIALLY_PAID"
    assert read["totalOutstandingSet"]["presentmentMoney"] == {
        "amount": "19.8",
        "currencyCode": "USD",
    }
    url = read["paymentCollectionDetails"]["additionalPaymentCollectionUrl"]
    assert url == f"https://{DOMAIN}/sandbox/orders/1001/payment"
    page = session.get(url)
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<strong class="amount-due">$19.80</strong> (USD)' in page.text
    assert '<form method="post" action="/sandbox/orders/1001/pay">' in page.text
    assert [(t["kind"], t["status"], t["gateway"]) for t in read["transactions"]] == [
        ("SALE", "SUCCESS", "manual")
    ]


def test_paying_on_the_page_settles_the_order(
    sandbox: Sandbox, admin, session: requests.Session, hooks: Recorder
) -> None:  # type: ignore[no-untyped-def]
    order = owing(sandbox, admin)
    hooks.received.clear()

    paid = session.post(f"{SANDBOX}/orders/1001/pay", data={"pay": "1"})

    assert paid.status_code == 200
    assert "Thank you: $19.80 was paid." in paid.text
    read = run(admin, EDITABLE, {"id": order.gid})
    assert read["displayFinancialStatus"] == "PAID"
    assert amount(read["totalOutstandingSet"]) == "0.0"
    assert read["paymentCollectionDetails"] == {"additionalPaymentCollectionUrl": None}
    assert [(t["kind"], amount(t["amountSet"])) for t in read["transactions"]] == [
        ("SALE", "89.59"),
        ("SALE", "19.8"),
    ]
    assert hooks.topics() == ["orders/paid", "orders/updated"]
    payload = hooks.last("orders/paid").payload
    assert extra_keys(payload, shared_json("webhooks/orders/updated.json")) == []
    assert (payload["financial_status"], payload["total_outstanding"]) == ("paid", "0.00")
    assert payload["admin_graphql_api_id"] == order.gid
    assert "Nothing is owed on this order." in session.get(f"{SANDBOX}/orders/1001/payment").text


def test_paying_over_the_control_api_or_in_python(
    sandbox: Sandbox, admin, session: requests.Session
) -> None:  # type: ignore[no-untyped-def]
    owing(sandbox, admin)
    place(sandbox, 1002, financial_status="PENDING")  # nothing received: all of it is due

    state = session.post(f"{SANDBOX}/orders/1001/pay").json()
    sale = sandbox.pay_balance(1002)

    assert (state["financial_status"], state["amount_due"], state["total_outstanding"]) == (
        "paid",
        "0.00",
        "0.00",
    )
    assert [t["kind"] for t in state["transactions"]] == ["SALE", "SALE"]
    assert (sale.transaction_kind, sale.amount) == ("SALE", Decimal("89.59"))
    assert sandbox.store.order(1002).display_financial_status == "PAID"
    assert session.post(f"{SANDBOX}/orders/1002/pay").status_code == 409  # nothing left
    with pytest.raises(NotAllowed):
        sandbox.pay_balance(1002)


@pytest.fixture
def served() -> Iterator[tuple[Sandbox, str]]:
    sandbox = Sandbox(domain=DOMAIN, access_token=TOKEN)
    server = make_http_server(sandbox.app, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sandbox, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_payment_page_over_real_http(served: tuple[Sandbox, str]) -> None:
    sandbox, base = served

    def admin(document: str, variables: dict[str, Any]) -> requests.Response:
        return requests.post(
            f"{base}/admin/api/2026-07/graphql.json",
            json={"query": document, "variables": variables},
            headers={"X-Shopify-Access-Token": TOKEN},
            timeout=5,
        )

    order = owing(sandbox, admin)
    url = run(admin, EDITABLE, {"id": order.gid})["paymentCollectionDetails"][
        "additionalPaymentCollectionUrl"
    ]

    assert url == f"{base}/sandbox/orders/1001/payment"
    assert "$19.80" in requests.get(url, timeout=5).text
    paid = requests.post(url.replace("/payment", "/pay"), data={"pay": "1"}, timeout=5)
    assert "was paid" in paid.text
    assert sandbox.store.order(1001).display_financial_status == "PAID"


def test_the_portal_holds_fulfilment_awaiting_payment(
    sandbox: Sandbox, admin, hooks: Recorder
) -> None:  # type: ignore[no-untyped-def]
    """The portal's own hold (AWAITING_PAYMENT, under its handle) on each fulfillment order of
    an order that owes money, the added line's too; released once paid."""
    order = owing(sandbox, admin)
    holds = []
    for fulfillment_order in order.fulfillment_orders:
        variables = {
            "id": fulfillment_order.gid,
            "fulfillmentHold": {"reason": "AWAITING_PAYMENT", "handle": "order-portal-balance"},
        }
        held = run(admin, DOCUMENTS["FulfillmentOrderHold"], variables)
        assert held["userErrors"] == []
        assert held["fulfillmentHold"]["handle"] == "order-portal-balance"
        assert held["fulfillmentOrder"] == {"id": fulfillment_order.gid, "status": "ON_HOLD"}
        holds.append(held["fulfillmentHold"]["id"])

    read = run(admin, HOLD_STATE, {"id": order.gid})["fulfillmentOrders"]["nodes"]
    assert [(fo["status"], fo["fulfillmentHolds"]) for fo in read] == [
        ("ON_HOLD", [{"reason": "AWAITING_PAYMENT", "handle": "order-portal-balance"}])
    ] * 2
    placed = hooks.last("fulfillment_orders/placed_on_hold").payload
    assert placed["created_fulfillment_hold"]["reason"] == "awaiting_payment"
    assert [line["quantity"] for line in placed["held_fulfillment_order_line_items"]] == [1]

    sandbox.pay_balance(1001)
    for fulfillment_order, hold in zip(order.fulfillment_orders, holds, strict=True):
        variables = {"id": fulfillment_order.gid, "holdIds": [hold]}
        released = run(admin, DOCUMENTS["FulfillmentOrderReleaseHold"], variables)
        assert released == {
            "fulfillmentOrder": {"id": fulfillment_order.gid, "status": "OPEN"},
            "userErrors": [],
        }
    sandbox.fulfil(1001)
    assert order.display_fulfillment_status == "FULFILLED"
