"""Mutations: applied as Shopify applies them, refused in Shopify's words (real captures)."""

from __future__ import annotations

import copy

import pytest

from sandbox import Sandbox
from shopify.documents import DOCUMENTS
from tests.sandbox.conftest import Recorder, place, shared_json

UPDATE = DOCUMENTS["OrderUpdate"]
NEW_ADDRESS = {
    "firstName": "Emma",
    "lastName": "Johnson",
    "address1": "1 Main Street",
    "city": "Boston",
    "provinceCode": "MA",
    "countryCode": "US",
    "zip": "02108",
    "phone": "+16175550100",
}


def test_order_update_is_applied_and_sent_as_orders_updated(
    sandbox: Sandbox, admin, hooks: Recorder
) -> None:  # type: ignore[no-untyped-def]
    order = place(sandbox)
    hooks.received.clear()
    changes = {"email": "emma.j@example.com", "shippingAddress": NEW_ADDRESS, "tags": ["b", "A"]}

    body = admin(UPDATE, {"input": {"id": order.gid, **changes}}).json()

    assert body["data"]["orderUpdate"]["userErrors"] == []
    assert body["data"]["orderUpdate"]["order"]["id"] == order.gid
    state = sandbox.order_state(order.number)
    assert state["email"] == "emma.j@example.com"
    assert state["tags"] == "A, b"
    moved = {
        "address1": "1 Main Street",
        "city": "Boston",
        "province": "Massachusetts",  # named from its code, as Shopify does
        "province_code": "MA",
        "zip": "02108",
        "country": "United States",
        "country_code": "US",
    }
    assert {key: state["shipping_address"][key] for key in moved} == moved
    (delivery,) = hooks.received
    assert delivery.topic == "orders/updated"
    assert delivery.payload["email"] == "emma.j@example.com"
    assert delivery.payload["shipping_address"]["city"] == "Boston"
    assert delivery.payload["updated_at"] == state["updated_at"]


@pytest.fixture(scope="module")
def validation_capture() -> dict:
    return shared_json("captures/draft-proxy/2026-04/orders/orderUpdate-input-validation.json")


def test_refusals_are_shopifys_own_and_change_nothing(
    sandbox: Sandbox, admin, hooks: Recorder, validation_capture: dict
) -> None:  # type: ignore[no-untyped-def]
    """Replays a real orderUpdate capture (empty input, bad phone, a US address without a ZIP
    code or a last name and with a Canadian province, a note) and expects Shopify's answers."""
    order = place(sandbox)
    before = sandbox.order_state(order.number)
    hooks.received.clear()
    variables = copy.deepcopy(validation_capture["variables"])
    for value in variables.values():
        value["id"] = order.gid
    expected = validation_capture["mutation"]["response"]["data"]

    body = admin(validation_capture["document"], variables).json()

    assert "errors" not in body
    answered = body["data"]
    for alias in ("emptyInput", "invalidPhone", "badShippingAddress"):
        assert answered[alias]["userErrors"] == expected[alias]["userErrors"], alias
        assert answered[alias]["order"]["id"] == order.gid
    assert answered["happyNote"]["userErrors"] == []
    assert answered["happyNote"]["order"]["note"] == variables["happyNote"]["note"]
    after = sandbox.order_state(order.number)
    assert after["shipping_address"] == before["shipping_address"]
    assert after["phone"] == before["phone"]
    assert hooks.topics() == ["orders/updated"]  # the note, and nothing else


def test_a_missing_zip_code_is_refused_and_nothing_is_written(
    sandbox: Sandbox, admin, hooks: Recorder
) -> None:  # type: ignore[no-untyped-def]
    order = place(sandbox)
    before = sandbox.order_state(order.number)
    hooks.received.clear()
    address = {key: value for key, value in NEW_ADDRESS.items() if key != "zip"}

    body = admin(UPDATE, {"input": {"id": order.gid, "shippingAddress": address}}).json()

    assert body["data"]["orderUpdate"]["userErrors"] == [
        {"field": ["shippingAddress", "zip"], "message": "Enter a ZIP code"}
    ]
    assert sandbox.order_state(order.number) == before
    assert hooks.received == []


def test_an_address_in_a_country_without_postal_codes_needs_none(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    order = place(sandbox)
    dubai = {
        "lastName": "Haddad",
        "address1": "Sheikh Zayed Road",
        "city": "Dubai",
        "countryCode": "AE",
    }
    body = admin(UPDATE, {"input": {"id": order.gid, "shippingAddress": dubai}}).json()
    assert body["data"]["orderUpdate"]["userErrors"] == []
    assert sandbox.order_state(order.number)["shipping_address"]["country"] == (
        "United Arab Emirates"
    )


def test_updating_an_order_that_does_not_exist(admin) -> None:  # type: ignore[no-untyped-def]
    body = admin(UPDATE, {"input": {"id": "gid://shopify/Order/1", "email": "a@example.com"}})
    assert body.json()["data"]["orderUpdate"] == {
        "order": None,
        "userErrors": [{"field": ["id"], "message": "Order does not exist"}],
    }


@pytest.fixture(scope="module")
def cancel_capture() -> dict:
    return shared_json("captures/draft-proxy/2026-04/orders/orderCancel-error-messages.json")


@pytest.mark.parametrize(
    "case", ["staffNoteTooLong", "refundTrueAndRefundMethodConflict", "alreadyCancelled"]
)
def test_order_cancel_refuses_as_shopify_does(
    case: str, sandbox: Sandbox, admin, cancel_capture: dict
) -> None:  # type: ignore[no-untyped-def]
    order = place(sandbox)
    if case == "alreadyCancelled":
        sandbox.cancel(order.number)
    recorded = cancel_capture["expected"][case]
    variables = {**recorded["variables"], "orderId": order.gid}

    body = admin(recorded["query"], variables).json()

    assert body["data"] == recorded["response"]["payload"]["data"]


def test_order_cancel_cancels_refunds_and_closes(sandbox: Sandbox, admin, hooks: Recorder) -> None:  # type: ignore[no-untyped-def]
    order = place(sandbox)
    hooks.received.clear()
    variables = {
        "orderId": order.gid,
        "restock": True,
        "reason": "CUSTOMER",
        "refundMethod": {"originalPaymentMethodsRefund": True},
    }

    answer = admin(DOCUMENTS["OrderCancel"], variables).json()["data"]["orderCancel"]

    assert answer["userErrors"] == answer["orderCancelUserErrors"] == []
    assert answer["job"]["id"].startswith("gid://shopify/Job/")
    assert answer["job"]["done"] is False  # a real cancellation is a job still running
    state = sandbox.order_state(order.number)
    assert state["cancel_reason"] == "customer"
    assert state["cancelled_at"] == state["closed_at"] is not None
    assert state["financial_status"] == "refunded"
    assert state["current_total_price"] == "0.00"
    assert [fo["status"] for fo in state["fulfillment_orders"]] == ["closed"]
    assert hooks.topics() == ["orders/cancelled", "orders/updated"]


@pytest.fixture(scope="module")
def tags_capture() -> dict:
    return shared_json("captures/draft-proxy/2025-01/products/tags-add-multi-resource.json")


TAGS_ADD = """
mutation ($id: ID!, $tags: [String!]!) {
  tagsAdd(id: $id, tags: $tags) { node { id ... on Order { tags } } userErrors { field message } }
}
"""


@pytest.mark.parametrize(
    "case", ["commaStringAdd", "commaListElementAdd", "caseVariantAdd", "caseSortAdd"]
)
def test_tags_add_keeps_tags_as_shopify_does(
    case: str, sandbox: Sandbox, admin, tags_capture: dict
) -> None:  # type: ignore[no-untyped-def]
    """Real tagsAdd calls on an order tagged "Red": split at commas, the case of the tag already
    there kept, sorted ignoring case."""
    recorded = tags_capture["normalizationCases"]["order"][case]
    order = place(sandbox, tags=["Red"])

    body = admin(TAGS_ADD, {"id": order.gid, "tags": recorded["variables"]["tags"]}).json()

    expected = recorded["response"]["data"]["tagsAdd"]["node"]["tags"]
    assert body["data"]["tagsAdd"] == {
        "node": {"id": order.gid, "tags": expected},
        "userErrors": [],
    }


def test_tags_add_on_an_id_it_cannot_tag(admin, tags_capture: dict) -> None:  # type: ignore[no-untyped-def]
    expected = tags_capture["cases"]["unsupportedAdd"]["response"]
    body = admin(
        DOCUMENTS["TagsAdd"], {"id": "gid://shopify/SomethingUnsupported/1", "tags": ["x"]}
    )
    answered = body.json()
    assert answered["data"] == expected["data"]
    assert [(e["message"], e["extensions"], e["path"]) for e in answered["errors"]] == [
        (e["message"], e["extensions"], e["path"]) for e in expected["errors"]
    ]


def test_webhook_subscriptions_are_created_listed_and_moved(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    create = DOCUMENTS["WebhookSubscriptionCreate"]
    wanted = {"topic": "ORDERS_UPDATED", "webhookSubscription": {"uri": "https://portal.test/a"}}
    created = admin(create, wanted).json()["data"]["webhookSubscriptionCreate"]
    assert created["userErrors"] == []
    assert created["webhookSubscription"]["topic"] == "ORDERS_UPDATED"
    again = admin(create, wanted).json()["data"]["webhookSubscriptionCreate"]
    assert again == {
        "webhookSubscription": None,
        "userErrors": [
            {
                "field": ["webhookSubscription", "callbackUrl"],
                "message": "Address for this topic has already been taken",
            }
        ],
    }
    moved = admin(
        DOCUMENTS["WebhookSubscriptionUpdate"],
        {
            "id": created["webhookSubscription"]["id"],
            "webhookSubscription": {"uri": "https://portal.test/b"},
        },
    ).json()["data"]["webhookSubscriptionUpdate"]
    assert moved["webhookSubscription"]["uri"] == "https://portal.test/b"
    listed = admin(DOCUMENTS["WebhookSubscriptions"], {"first": 10}).json()
    assert listed["data"]["webhookSubscriptions"]["nodes"] == [moved["webhookSubscription"]]
