"""The sandbox's schema is Shopify's (a subset of it), and it serves every document we send."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    parse,
    print_ast,
    specified_scalar_types,
    validate,
)

from sandbox import NewVariant, Sandbox
from sandbox.api import SCHEMA
from sandbox.resolvers import new_return_lines
from shopify.documents import DOCUMENTS
from tests.sandbox.conftest import place, shared


@pytest.fixture(scope="module")
def shopify_schema() -> GraphQLSchema:
    sdl = shared("admin-graphql/2026-07/schema.graphql").read_text()
    # Shopify's own schema fails graphql-core's validation (interface fields deprecated only in
    # their implementations), so it is built as Shopify publishes it, trusted.
    return build_schema(sdl, assume_valid=True)


def signature(argument: Any) -> tuple[str, str | None]:
    """An argument's type and default, as written in the SDL."""
    default = argument.ast_node.default_value if argument.ast_node else None
    return str(argument.type), print_ast(default) if default else None


def differences(ours: GraphQLSchema, theirs: GraphQLSchema) -> list[str]:
    found = []
    for name, kind in ours.type_map.items():
        if name.startswith("__") or name in specified_scalar_types:
            continue
        real = theirs.type_map.get(name)
        if type(real) is not type(kind):
            found.append(f"{name}: {type(kind).__name__}, Shopify's is {type(real).__name__}")
            continue
        if isinstance(kind, GraphQLObjectType):
            extra = {i.name for i in kind.interfaces} - {i.name for i in real.interfaces}  # type: ignore[union-attr]
            found += [f"{name} implements {interface}: Shopify's does not" for interface in extra]
        if isinstance(kind, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for field_name, field in kind.fields.items():
                real_field = real.fields.get(field_name)  # type: ignore[union-attr]
                if real_field is None:
                    found.append(f"{name}.{field_name}: not in Shopify's schema")
                    continue
                if str(field.type) != str(real_field.type):
                    found.append(f"{name}.{field_name}: {field.type}, Shopify's {real_field.type}")
                for arg_name, arg in getattr(field, "args", {}).items():
                    real_arg = real_field.args.get(arg_name)
                    if real_arg is None or signature(arg) != signature(real_arg):
                        found.append(f"{name}.{field_name}({arg_name}: {arg.type}) differs")
        if isinstance(kind, GraphQLEnumType):
            extra = set(kind.values) - set(real.values)  # type: ignore[union-attr]
            found += [f"{name}.{value}: not one of Shopify's values" for value in sorted(extra)]
    return found


def test_the_sandbox_schema_is_a_subset_of_shopifys(shopify_schema: GraphQLSchema) -> None:
    assert differences(SCHEMA, shopify_schema) == []
    assert SCHEMA.query_type.name == shopify_schema.query_type.name == "QueryRoot"
    assert SCHEMA.mutation_type.name == shopify_schema.mutation_type.name == "Mutation"


def test_the_subset_check_catches_a_field_shopify_types_differently(
    shopify_schema: GraphQLSchema,
) -> None:
    wrong = build_schema(
        "type QueryRoot { order(id: String): Order ordersCount(limit: Int = 10): Count }"
        "type Count { count: Int! } interface HasName { name: String! }"
        "type Order implements HasName { name: String number: Int! sandboxOnly: Int }"
        "enum CurrencyCode { EUR XXY }",
    )
    assert sorted(differences(wrong, shopify_schema)) == sorted(
        [
            "QueryRoot.order(id: String) differs",
            "QueryRoot.ordersCount(limit: Int) differs",
            "Order implements HasName: Shopify's does not",
            "Order.name: String, Shopify's String!",
            "Order.sandboxOnly: not in Shopify's schema",
            "HasName: GraphQLInterfaceType, Shopify's is NoneType",
            "CurrencyCode.XXY: not one of Shopify's values",
        ]
    )


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_every_client_document_validates_against_the_sandbox(name: str) -> None:
    assert validate(SCHEMA, parse(DOCUMENTS[name])) == []


def variables_for(name: str, sandbox: Sandbox) -> dict[str, Any]:
    """What the client would send with each document. A new document needs a line here."""
    order, unshipped = sandbox.store.order(1001), sandbox.store.order(1002)
    subscription = sandbox.store.subscribe(topic="ORDERS_CREATE", uri="https://portal.test/a")
    since = "updated_at:>='2026-11-01T00:00:00Z'"
    sandbox.hold(1002, handle="someone-else")
    held = unshipped.fulfillment_orders[0]
    shipped = order.fulfillments[0].lines[0].gid  # one of 1001's two T-shirts
    asked = {"fulfillmentLineItemId": shipped, "quantity": 1, "returnReason": "SIZE_TOO_SMALL"}
    requested: Any = None
    if name in ("ReturnState", "ReturnApproveRequest", "ReturnDeclineRequest", "ReturnCancel"):
        requested = sandbox.store.request_return(order, lines=new_return_lines([asked]))
    sandbox.set_stock(72, 3)
    session: Any = None
    if name in (
        "OrderEditSetQuantity",
        "OrderEditAddVariant",
        "OrderEditAddLineItemDiscount",
        "OrderEditCommit",
    ):
        session = sandbox.store.begin_edit(unshipped)
        if name == "OrderEditCommit":
            sandbox.store.set_edit_quantity(session, session.lines[0], 1, restock=True)
    if name == "OrderEditAddVariant":
        sandbox.add_product(
            title="Wool beanie", variants=[NewVariant("Default Title", Decimal("18.00"), 5)], id=81
        )
    added = sandbox.store.products.get(81)
    table = {
        "OrdersUpdatedSince": {"first": 2, "query": since},
        "OrdersCount": {"query": since},
        "Order": {"id": order.gid},
        "OrderState": {"id": order.gid},
        "OrderCancel": {
            "orderId": unshipped.gid,
            "restock": True,
            "reason": "CUSTOMER",
            "refundMethod": {"originalPaymentMethodsRefund": True},
            "notifyCustomer": False,
            "staffNote": "Asked by the shopper on the order page",
        },
        "TagsAdd": {"id": order.gid, "tags": ["address-changed"]},
        "Shop": {},
        "WebhookSubscriptions": {"first": 10},
        "WebhookSubscriptionCreate": {
            "topic": "ORDERS_UPDATED",
            "webhookSubscription": {"uri": "https://portal.test/shopify/webhooks"},
        },
        "WebhookSubscriptionUpdate": {
            "id": subscription.gid,
            "webhookSubscription": {"uri": "https://portal.test/b"},
        },
        "OrderUpdate": {"input": {"id": order.gid, "email": "emma.j@example.com"}},
        "FulfillmentOrderHold": {
            "id": unshipped.fulfillment_orders[0].gid,
            "fulfillmentHold": {"reason": "OTHER", "handle": "order-portal-window"},
        },
        "FulfillmentOrderReleaseHold": {"id": held.gid},
        "ReturnableItems": {"id": order.gid},
        "ReturnState": {"id": requested and requested.gid},
        "ReturnRequest": {"input": {"orderId": order.gid, "returnLineItems": [asked]}},
        "ReturnCreate": {
            "returnInput": {
                "orderId": order.gid,
                "returnLineItems": [asked],
                "exchangeLineItems": [
                    {"variantId": "gid://shopify/ProductVariant/72", "quantity": 1}
                ],
                "returnShippingFee": {"amount": {"amount": "4.50", "currencyCode": "USD"}},
            }
        },
        "ReturnApproveRequest": {"input": {"id": requested and requested.gid}},
        "ReturnDeclineRequest": {
            "input": {
                "id": requested and requested.gid,
                "declineReason": "FINAL_SALE",
                "declineNote": "Socks",
            }
        },
        "ReturnCancel": {"id": requested and requested.gid},
        "ProductVariants": {"id": "gid://shopify/Product/71"},
        "ProductsTagged": {"query": 'tag:"add-on"'},
        "PricedProduct": {"id": "gid://shopify/Product/71", "country": "GB"},
        "ProductList": {},
        "EditableOrder": {"id": order.gid},
        "OrderEditBegin": {"id": unshipped.gid},
        "OrderEditSetQuantity": {
            "id": session and session.gid,
            "lineItemId": session and session.lines[0].gid,
            "quantity": 1,
            "restock": True,
        },
        "OrderEditAddVariant": {
            "id": session and session.gid,
            "variantId": added and added.variants[0].gid,
            "quantity": 1,
        },
        "OrderEditAddLineItemDiscount": {
            "id": session and session.gid,
            "lineItemId": session and session.lines[0].gid,
            "discount": {
                "fixedValue": {"amount": "2.00", "currencyCode": unshipped.currency},
                "description": "What the customer paid for the size swapped",
            },
        },
        "OrderEditCommit": {
            "id": session and session.gid,
            "notifyCustomer": False,
            "staffNote": "Asked by the shopper on the order page",
        },
        "RefundCreate": {
            "input": {
                "orderId": order.gid,
                "currency": "USD",
                "note": "One T-shirt fewer",
                "notify": False,
                "transactions": [
                    {
                        "amount": "29.00",
                        "gateway": "manual",
                        "kind": "REFUND",
                        "orderId": order.gid,
                        "parentId": order.transactions[0].gid,
                    }
                ],
            },
            "key": "change-request-1",
        },
    }
    if name not in table:
        pytest.fail(f"{name} is a new document: add the variables the client sends with it")
    return table[name]


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_every_client_document_is_answered_without_errors(name, sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    place(sandbox, 1001)
    place(sandbox, 1002)
    sandbox.fulfil(1001, lines={"TEE": 1}, company="UPS", tracking_number="1Z999")
    sandbox.add_tracking_event(1001, 1, status="IN_TRANSIT", city="Newark")

    response = admin(DOCUMENTS[name], variables_for(name, sandbox))

    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body, body["errors"]
    (result,) = body["data"].values()
    assert result is not None
    if isinstance(result, dict) and "userErrors" in result:
        assert result["userErrors"] == []
    assert (
        body["extensions"]["cost"]["actualQueryCost"]
        <= (body["extensions"]["cost"]["requestedQueryCost"])
    )
