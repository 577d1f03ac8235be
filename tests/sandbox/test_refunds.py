"""refundCreate as Shopify plays it: REFUND transactions against the payments they give back,
store credit, refunded units, the financial status it derives, Shopify's refusals word for word
(real 2026-04 and 2025-01 captures), the @idempotent key, and refunds/create."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from sandbox import NewLine, Sandbox
from sandbox.store import Order
from shopify.documents import DOCUMENTS
from tests.sandbox.conftest import Admin, Recorder, amount, captured, place, run, shared_json
from tests.sandbox.test_webhooks import extra_keys

CAPTURES = "captures/draft-proxy/"
TRANSACTIONS = CAPTURES + "2026-04/orders/refund-create-transactions-validation.json"
FULL = CAPTURES + "2025-01/orders/refund-create-full-parity.json"
OVER = CAPTURES + "2025-01/orders/refund-create-over-refund-user-errors.json"
QUANTITIES = CAPTURES + "2025-01/orders/refund-create-user-errors-and-quantities.json"

REFUND = DOCUMENTS["RefundCreate"]
# What the captures ask besides: the order the refund leaves, and the refund's transactions.
REFUND_WITH = """
mutation Refund($input: RefundInput!, $key: String!) {
  refundCreate(input: $input) @idempotent(key: $key) {
    refund {
      id note totalRefundedSet { presentmentMoney { amount currencyCode } }
      transactions(first: 5) {
        nodes { id kind status gateway amountSet { presentmentMoney { amount } }
                parentTransaction { id } }
      }
      refundLineItems(first: 5) { nodes { quantity restockType restocked lineItem { id } } }
    }
    order { id displayFinancialStatus totalRefundedSet { presentmentMoney { amount } } }
    userErrors { field message }
  }
}
"""
ORDER_MONEY = """
query Money($id: ID!) {
  order(id: $id) {
    displayFinancialStatus
    currentTotalPriceSet { presentmentMoney { amount } }
    totalReceivedSet { presentmentMoney { amount } }
    totalRefundedSet { presentmentMoney { amount } }
    netPaymentSet { presentmentMoney { amount } }
    totalOutstandingSet { presentmentMoney { amount } }
    lineItems(first: 5) { nodes { quantity currentQuantity refundableQuantity } }
    refunds { id totalRefundedSet { presentmentMoney { amount } } }
    transactions { id kind status gateway amountSet { presentmentMoney { amount } }
                   parentTransaction { id } }
  }
}
"""


def cad(sandbox: Sandbox, number: int, *lines: tuple[str, str, int], **details: Any) -> Order:
    """A paid order in Canadian dollars at par, as the captures' are."""
    details.setdefault("currency", "CAD")
    details.setdefault("exchange_rate", Decimal(1))
    details.setdefault("shipping_price", Decimal(0))
    given = [NewLine(title, Decimal(price), quantity) for title, price, quantity in lines]
    return place(sandbox, number, lines=given, **details)


def give_back(order: Order, amount_: str, parent: str | None = None, **more: Any) -> dict[str, Any]:
    transaction = {
        "amount": amount_,
        "gateway": "manual",
        "kind": "REFUND",
        "orderId": order.gid,
        "parentId": parent or order.transactions[0].gid,
    }
    return {"orderId": order.gid, "transactions": [transaction], **more}


def read(admin: Admin, order: Order) -> dict[str, Any]:
    return run(admin, ORDER_MONEY, {"id": order.gid})


# --- refunding a payment -------------------------------------------------------------------------


def test_a_refund_gives_back_part_of_the_payment(sandbox: Sandbox, admin, hooks: Recorder) -> None:  # type: ignore[no-untyped-def]
    order = cad(sandbox, 1500, ("Refundable transaction validation happy", "10.00", 1))
    (sale,) = order.transactions
    hooks.received.clear()

    answer = run(admin, REFUND_WITH, {"input": give_back(order, "1.00"), "key": "happy-1"})

    shopify = captured(TRANSACTIONS, "happyPath")
    assert answer["userErrors"] == shopify["userErrors"] == []
    assert answer["order"]["displayFinancialStatus"] == shopify["order"]["displayFinancialStatus"]
    assert (
        amount(answer["refund"]["totalRefundedSet"])
        == amount(shopify["refund"]["totalRefundedSet"])
        == "1.0"
    )
    (ours,), (real,) = (
        answer["refund"]["transactions"]["nodes"],
        shopify["refund"]["transactions"]["nodes"],
    )
    assert (ours["kind"], ours["status"], ours["gateway"]) == (
        real["kind"],
        real["status"],
        real["gateway"],
    )
    assert ours["parentTransaction"] == {"id": sale.gid}
    money = read(admin, order)
    assert [(t["kind"], amount(t["amountSet"])) for t in money["transactions"]] == [
        ("SALE", "10.0"),
        ("REFUND", "1.0"),
    ]
    assert (amount(money["netPaymentSet"]), amount(money["totalOutstandingSet"])) == ("9.0", "1.0")
    assert [write["mutation"] for write in sandbox.store.writes] == ["refundCreate"]
    assert hooks.topics() == ["refunds/create", "orders/updated"]


def test_the_refund_goes_through_the_payments_gateway(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    order = cad(
        sandbox, 1499, ("Refundable validation", "10.00", 1), gateway="bogus-parent-gateway"
    )

    answer = run(admin, REFUND_WITH, {"input": give_back(order, "1.00"), "key": "gateway-1"})

    shopify = captured(TRANSACTIONS, "mismatchedGateway")
    assert answer["userErrors"] == shopify["userErrors"] == []
    assert (
        [t["gateway"] for t in answer["refund"]["transactions"]["nodes"]]
        == [t["gateway"] for t in shopify["refund"]["transactions"]["nodes"]]
        == ["bogus-parent-gateway"]
    )
    assert answer["order"]["displayFinancialStatus"] == "PARTIALLY_REFUNDED"


def test_a_full_refund_makes_the_order_refunded(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    order = cad(
        sandbox, 1496, ("Hermes refundable full item", "10.00", 1), shipping_price=Decimal(5)
    )
    given = shared_json(FULL)["variables"]["input"]
    line = {**given["refundLineItems"][0], "lineItemId": order.lines[0].gid}
    refund = give_back(order, "15.00", note=given["note"], notify=False, refundLineItems=[line])

    answer = run(admin, REFUND_WITH, {"input": refund, "key": "full-1"})

    shopify = captured(FULL, "mutation")
    assert answer["userErrors"] == shopify["userErrors"] == []
    assert (
        answer["order"]["displayFinancialStatus"]
        == shopify["order"]["displayFinancialStatus"]
        == "REFUNDED"
    )
    assert answer["refund"]["note"] == shopify["refund"]["note"]
    ours, real = (
        answer["refund"]["refundLineItems"]["nodes"][0],
        shopify["refund"]["refundLineItems"]["nodes"][0],
    )
    assert (ours["quantity"], ours["restockType"], ours["restocked"]) == (
        real["quantity"],
        real["restockType"],
        real["restocked"],
    )
    assert [line["currentQuantity"] for line in read(admin, order)["lineItems"]["nodes"]] == [0]


def test_store_credit(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    order = place(sandbox, 1001)  # $89.59, paid
    credit = {"storeCreditRefund": {"amount": {"amount": "5.00", "currencyCode": "USD"}}}

    answer = run(
        admin,
        REFUND_WITH,
        {"input": {"orderId": order.gid, "refundMethods": [credit]}, "key": "credit-1"},
    )

    assert answer["userErrors"] == []
    assert answer["refund"]["totalRefundedSet"]["presentmentMoney"] == {
        "amount": "5.0",
        "currencyCode": "USD",
    }
    (given,) = answer["refund"]["transactions"]["nodes"]
    assert (given["kind"], given["gateway"], given["parentTransaction"]) == (
        "REFUND",
        "shopify_store_credit",
        None,
    )
    assert answer["order"]["displayFinancialStatus"] == "PARTIALLY_REFUNDED"


def test_refunded_units_leave_the_order(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    """#1498: two A and two B at $10, $5 shipping; one A refunded for $10."""
    order = cad(
        sandbox,
        1498,
        ("Refundable line A", "10.00", 2),
        ("Refundable line B", "10.00", 2),
        shipping_price=Decimal(5),
    )
    line = {"lineItemId": order.lines[0].gid, "quantity": 1, "restockType": "NO_RESTOCK"}

    answer = run(
        admin, REFUND, {"input": give_back(order, "10.00", refundLineItems=[line]), "key": "a-1"}
    )

    assert answer["userErrors"] == []
    money = read(admin, order)
    hydrated = shared_json(QUANTITIES)["upstreamCalls"][0]["response"]["body"]["data"]["order"]
    assert (
        money["displayFinancialStatus"]
        == hydrated["displayFinancialStatus"]
        == "PARTIALLY_REFUNDED"
    )
    for name in ("currentTotalPriceSet", "totalReceivedSet", "totalRefundedSet"):
        assert amount(money[name]) == amount(hydrated[name]), name
    assert [(n["quantity"], n["currentQuantity"]) for n in money["lineItems"]["nodes"]] == [
        (n["quantity"], n["currentQuantity"]) for n in hydrated["lineItems"]["nodes"]
    ]
    assert amount(money["totalOutstandingSet"]) == "0.0"


def test_money_owed_back_after_an_edit_is_refunded(
    sandbox: Sandbox, admin, hooks: Recorder
) -> None:  # type: ignore[no-untyped-def]
    order = place(sandbox, 1001)  # two T-shirts at $29 and a cap, paid in dollars
    calculated = run(admin, DOCUMENTS["OrderEditBegin"], {"id": order.gid})["calculatedOrder"]
    tee = f"gid://shopify/CalculatedLineItem/{order.lines[0].id}"  # numbered as the order's
    changed = run(
        admin,
        DOCUMENTS["OrderEditSetQuantity"],
        {"id": calculated["id"], "lineItemId": tee, "quantity": 1, "restock": True},
    )
    assert (changed["calculatedLineItem"]["id"], changed["calculatedLineItem"]["quantity"]) == (
        tee,
        1,
    )
    committed = run(admin, DOCUMENTS["OrderEditCommit"], {"id": calculated["id"]})
    assert committed["order"]["totalOutstandingSet"]["presentmentMoney"] == {
        "amount": "-29.0",
        "currencyCode": "USD",
    }
    assert committed["order"]["paymentCollectionDetails"] == {
        "additionalPaymentCollectionUrl": None
    }
    hooks.received.clear()

    answer = run(admin, REFUND, {"input": give_back(order, "29.00", currency="USD"), "key": "cr-7"})

    assert answer["refund"]["totalRefundedSet"]["presentmentMoney"] == {
        "amount": "29.0",
        "currencyCode": "USD",
    }
    money = read(admin, order)
    assert (money["displayFinancialStatus"], amount(money["totalOutstandingSet"])) == (
        "PARTIALLY_REFUNDED",
        "0.0",
    )
    assert hooks.topics() == ["refunds/create", "orders/updated"]
    payload = hooks.last("refunds/create").payload
    assert extra_keys(payload, shared_json("webhooks/refunds/create.json")) == []
    assert payload["order_id"] == order.id
    assert payload["admin_graphql_api_id"] == answer["refund"]["id"]
    (transaction,) = payload["transactions"]
    assert (transaction["kind"], transaction["status"], transaction["amount"]) == (
        "refund",
        "success",
        "29.00",
    )
    assert transaction["parent_id"] == order.transactions[0].id
    assert hooks.last("orders/updated").payload["financial_status"] == "partially_refunded"


# --- idempotency ---------------------------------------------------------------------------------


def test_the_same_key_refunds_once(sandbox: Sandbox, admin, hooks: Recorder) -> None:  # type: ignore[no-untyped-def]
    order = place(sandbox, 1001)
    variables = {"input": give_back(order, "10.00"), "key": "change-request-42"}
    first = run(admin, REFUND, variables)
    sent = len(hooks.received)

    again = run(admin, REFUND, variables)
    other_input = run(
        admin, REFUND, {"input": give_back(order, "20.00"), "key": "change-request-42"}
    )

    assert again == first == other_input
    assert len(order.refunds) == 1
    assert [t.transaction_kind for t in order.transactions] == ["SALE", "REFUND"]
    assert order.refunded == Decimal("10.00")
    assert [write["mutation"] for write in sandbox.store.writes] == ["refundCreate"]
    assert len(hooks.received) == sent
    another = run(admin, REFUND, {"input": give_back(order, "10.00"), "key": "change-request-43"})
    assert another["refund"]["id"] != first["refund"]["id"]


def test_a_refund_without_its_key_is_an_error(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    order = place(sandbox, 1001)
    document = REFUND.replace(" @idempotent(key: $key)", "").replace(", $key: String!", "")

    body = admin(document, {"input": give_back(order, "10.00")}).json()

    (error,) = body["errors"]
    assert (
        error["message"]
        == "The @idempotent directive is required for this mutation but was not provided."
    )
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert body["data"] == {"refundCreate": None}
    assert order.refunds == [] and sandbox.store.writes == []


# --- Shopify's refusals --------------------------------------------------------------------------


def test_a_refund_above_the_net_payment_is_refused(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    order = cad(sandbox, 1497, ("Refundable item", "10.00", 1), shipping_price=Decimal(5))

    answer = run(admin, REFUND_WITH, {"input": give_back(order, "25.00"), "key": "over-1"})

    shopify = captured(OVER, "mutation")
    assert answer["userErrors"] == shopify["userErrors"]
    assert answer["refund"] is shopify["refund"] is None
    assert (
        answer["order"]["displayFinancialStatus"]
        == shopify["order"]["displayFinancialStatus"]
        == "PAID"
    )
    assert order.refunds == [] and sandbox.store.writes == []


@pytest.mark.parametrize(
    "case", ["overRefundQuantityLineItem", "overRefundAmountNoAllow", "overRefundAllowed"]
)
def test_over_refunds_after_a_partial_refund(case: str, sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    order = cad(
        sandbox,
        1498,
        ("Refundable line A", "10.00", 2),
        ("Refundable line B", "10.00", 2),
        shipping_price=Decimal(5),
    )
    first = {"lineItemId": order.lines[0].gid, "quantity": 1, "restockType": "NO_RESTOCK"}
    run(
        admin,
        REFUND,
        {"input": give_back(order, "10.00", refundLineItems=[first]), "key": "initial"},
    )
    given = dict(shared_json(QUANTITIES)[case]["variables"]["input"])
    given["orderId"] = order.gid
    for line in given.get("refundLineItems", []):
        line["lineItemId"] = order.lines[0].gid
    for transaction in given.get("transactions", []):
        transaction.update(orderId=order.gid, parentId=order.transactions[0].gid)

    answer = run(admin, REFUND_WITH, {"input": given, "key": case})

    shopify = captured(QUANTITIES, case)
    assert answer["userErrors"] == shopify["userErrors"]
    assert answer["refund"] is shopify["refund"] is None
    assert answer["order"]["displayFinancialStatus"] == shopify["order"]["displayFinancialStatus"]
    assert amount(answer["order"]["totalRefundedSet"]) == amount(
        shopify["order"]["totalRefundedSet"], "shopMoney"
    )


@pytest.mark.parametrize("case", ["invalidKind", "missingParent"])
def test_bad_transactions_are_refused(case: str, sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    order = cad(sandbox, 1499, ("Refundable validation", "10.00", 1))
    given = shared_json(TRANSACTIONS)[case]["variables"]["input"]
    (transaction,) = given["transactions"]
    parent = (
        order.transactions[0].gid
        if case == "invalidKind"
        else "gid://shopify/OrderTransaction/999999999999"
    )
    refund = {
        "orderId": order.gid,
        "transactions": [{**transaction, "orderId": order.gid, "parentId": parent}],
    }

    answer = run(admin, REFUND_WITH, {"input": refund, "key": case})

    shopify = captured(TRANSACTIONS, case)
    assert answer["userErrors"] == shopify["userErrors"]
    assert answer["refund"] is shopify["refund"] is None
    assert answer["order"]["displayFinancialStatus"] == shopify["order"]["displayFinancialStatus"]


def test_an_unknown_order_is_refused(admin) -> None:  # type: ignore[no-untyped-def]
    given = shared_json(QUANTITIES)["unknownOrder"]["variables"]["input"]

    answer = run(admin, REFUND_WITH, {"input": given, "key": "unknown-1"})

    assert answer == {**captured(QUANTITIES, "unknownOrder"), "refund": None}
