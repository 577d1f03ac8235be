"""Calculated query cost, by Shopify's published rules, computed by hand here."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse
from graphql.execution.values import get_variable_values
from graphql.utilities import get_operation_ast

from sandbox import Sandbox, cost
from sandbox.api import SCHEMA
from shopify.documents import DOCUMENTS
from tests.sandbox.conftest import place

# One order with most of what the mirror reads, priced field by field:
#   order 1, shippingAddress 1, currentTotalPriceSet 1 + presentmentMoney 1     =   4
#   lineItems(first: 30): 2 + 30 x (node 1 + product 1 + originalUnitPriceSet 2) = 122
#   fulfillments(first: 5): 2 + 5 x (node 1 + trackingInfo 1
#       + fulfillmentLineItems(first: 10): 2 + 10 x (node 1 + lineItem 1)  = 22
#       + events(first: 5): 2 + 5 x 1                                     =  7) = 157
#                                                                        total 283
EDITABLE = DOCUMENTS["EditableOrder"]
ORDER = """
query ($id: ID!) {
  order(id: $id) {
    id name tags
    shippingAddress { city zip }
    currentTotalPriceSet { presentmentMoney { amount } }
    lineItems(first: 30) {
      pageInfo { hasNextPage }
      nodes { id sku product { id } originalUnitPriceSet { presentmentMoney { amount } } }
    }
    fulfillments(first: 5) {
      id
      trackingInfo { number }
      fulfillmentLineItems(first: 10) { edges { cursor node { quantity lineItem { id } } } }
      events(first: 5) { nodes { status } }
    }
  }
}
"""


def requested(document: str, variables: dict[str, Any] | None = None) -> int:
    parsed = parse(document)
    operation = get_operation_ast(parsed)
    coerced = get_variable_values(SCHEMA, operation.variable_definitions or [], variables or {})
    return cost.requested_cost(SCHEMA, parsed, operation, coerced)


@pytest.mark.parametrize(
    ("document", "variables", "points"),
    [
        (DOCUMENTS["Shop"], {}, 1),  # one object; its scalars are free
        (DOCUMENTS["WebhookSubscriptions"], {"first": 10}, 2 + 10 * 1),
        (DOCUMENTS["WebhookSubscriptions"], {"first": 100}, 2 + 100 * 1),
        (DOCUMENTS["OrderUpdate"], {"input": {"id": "gid://shopify/Order/1"}}, 10),
        (
            "mutation { a: tagsAdd(id: 1, tags: []) { node { id } } b: tagsAdd(id: 2, tags: []) "
            "{ userErrors { field } } }",
            {},
            2 * 10,
        ),
        (ORDER, {"id": "gid://shopify/Order/1"}, 283),
        (
            "{ orders(first: 3) { edges { node { id "
            "lineItems(first: 4) { nodes { product { id } } } } } } }",
            {},
            2 + 3 * (1 + 2 + 4 * (1 + 1)),
        ),
        ("{ ordersCount { count } shop { name } }", {}, 1 + 1),
        # order 1, totalOutstandingSet 2, totalReceivedSet 2, paymentCollectionDetails 1,
        # lineItems(first: 250): 2 + 250 x (node 1 + variant 1), fulfillmentOrders(first: 10)
        # and fulfillments(first: 10): 2 + 10 x 1 each, transactions(first: 20): a list given
        # first, priced as a connection: 2 + 20 x (node 1 + parentTransaction 1 + amountSet 1
        # + presentmentMoney 1)
        (EDITABLE, {"id": "gid://shopify/Order/1"}, 1 + 2 + 2 + 1 + 502 + 12 + 12 + 82),
        (DOCUMENTS["OrderEditBegin"], {"id": "gid://shopify/Order/1"}, 10),
        (
            DOCUMENTS["RefundCreate"],
            {"input": {"orderId": "gid://shopify/Order/1"}, "key": "k"},
            10,
        ),
    ],
    ids=[
        "shop",
        "subscriptions-10",
        "subscriptions-100",
        "mutation",
        "two-mutations",
        "order",
        "nested-connections",
        "two-roots",
        "editable-order",
        "order-edit-begin",
        "refund-create",
    ],
)
def test_requested_cost_follows_shopifys_rules(document: str, variables: dict, points: int) -> None:
    assert requested(document, variables) == points


def test_requested_cost_is_what_the_answer_reports(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    order = place(sandbox)
    cost = admin(ORDER, {"id": order.gid}).json()["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 283


def test_actual_cost_counts_what_came_back(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    order = place(sandbox)  # two lines
    sandbox.fulfil(order.number, lines={"TEE": 2}, company="UPS", tracking_number="1Z1")
    sandbox.add_tracking_event(order.number, 1, status="IN_TRANSIT")
    sandbox.add_tracking_event(order.number, 1, status="OUT_FOR_DELIVERY")

    cost = admin(ORDER, {"id": order.gid}).json()["extensions"]["cost"]

    lines = 2 + 2 * (1 + 1 + 2)
    shipments = 2 + 1 * (1 + 1 + (2 + 1 * (1 + 1)) + (2 + 2 * 1))
    assert cost["actualQueryCost"] == 4 + lines + shipments == 26


def test_an_object_that_comes_back_null_still_costs_one(admin) -> None:  # type: ignore[no-untyped-def]
    body = admin(ORDER, {"id": "gid://shopify/Order/404"}).json()
    assert body["data"] == {"order": None}
    assert body["extensions"]["cost"]["requestedQueryCost"] == 283
    assert body["extensions"]["cost"]["actualQueryCost"] == 1


def test_a_query_over_1000_points_is_refused_before_it_runs(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    place(sandbox)
    points = 2 + 250 * (1 + 2 + 10 * 1)
    document = "{ orders(first: 250) { nodes { id lineItems(first: 10) { nodes { id } } } } }"

    response = admin(document)

    assert response.status_code == 200
    body = response.json()
    assert "data" not in body
    (error,) = body["errors"]
    assert error["message"].startswith(
        f"Query cost is {points}, which exceeds the single query max cost limit (1000)."
    )
    assert error["extensions"] == {
        "code": "MAX_COST_EXCEEDED",
        "cost": points,
        "maxCost": 1000,
        "documentation": "https://shopify.dev/api/usage/limits#rate-limits",
    }
    assert body["extensions"]["cost"]["actualQueryCost"] is None
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 2000  # no charge


def test_a_sync_page_costs_one_order_per_slot() -> None:
    per_order = requested(DOCUMENTS["Order"], {"id": "gid://shopify/Order/1"})
    for page in (1, 2, 10):
        assert requested(DOCUMENTS["OrdersUpdatedSince"], {"first": page}) == 2 + page * per_order


def test_the_editable_order_costs_what_came_back(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    order = place(sandbox)  # two lines (a T-shirt variant, a cap without one), one payment

    cost = admin(EDITABLE, {"id": order.gid}).json()["extensions"]["cost"]

    lines = 2 + 2 * (1 + 1)  # a variant that came back null still costs its lookup
    assert cost["requestedQueryCost"] == 614
    assert cost["actualQueryCost"] == 1 + 2 + 2 + 1 + lines + (2 + 1) + 2 + (2 + 1 * 4) == 23
