"""Returns and exchanges as Shopify plays them: the Returns API's states and refusals (held to real
2026-04 captures, word for word), variants and their stock, and the returns/* webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import requests

from sandbox import NewVariant, Sandbox
from sandbox.store import Order, Refused
from shopify.documents import DOCUMENTS
from tests.sandbox.conftest import SECRET, Recorder, place, shared_json

CAPTURES = "captures/draft-proxy/2026-04/orders/"
STATES = CAPTURES + "returnApprove-decline-state-preconditions.json"
CLOSE_REOPEN_CANCEL = CAPTURES + "returnClose-Reopen-Cancel-state-preconditions.json"
QUANTITIES = CAPTURES + "return-quantity-validation.json"
SHIPPING_FEE = CAPTURES + "return-shipping-fee-recorded.json"

# Not in the client's documents (the merchant closes and reopens in Shopify's admin), but the
# sandbox answers them as the captures do.
RETURN_CLOSE = "mutation ReturnClose($id: ID!) { returnClose(id: $id) { %s } }"
RETURN_REOPEN = "mutation ReturnReopen($id: ID!) { returnReopen(id: $id) { %s } }"
OUTCOME = "return { id status closedAt } userErrors { field message code }"
SHIPPING_FEES = """
query ReturnFees($id: ID!) {
  return(id: $id) {
    returnShippingFees { id amountSet { shopMoney { amount currencyCode }
                                        presentmentMoney { amount currencyCode } } }
    returnLineItems(first: 5) {
      nodes { ... on ReturnLineItem { customerNote returnReason
        restockingFee { percentage amountSet { presentmentMoney { amount currencyCode } } } } }
    }
  }
}
"""

Admin = Callable[..., requests.Response]


def run(admin: Admin, document: str, variables: dict[str, Any]) -> Any:
    response = admin(document, variables)
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body, body["errors"]
    (result,) = body["data"].values()
    return result


def captured(relative: str, *path: str) -> Any:
    """What Shopify answered at `path` of a capture: the mutation's payload."""
    step = shared_json(relative)
    for key in path:
        step = step[key]
    response = step["response"]
    (payload,) = response.get("payload", response)["data"].values()
    return payload


def shipped(sandbox: Sandbox, number: int = 1001, **details: Any) -> Order:
    """#1001 (two T-shirts and a cap), all shipped."""
    place(sandbox, number, **details)
    sandbox.fulfil(number)
    return sandbox.store.order(number)


def shipped_line(order: Order, sku: str) -> str:
    return next(
        line.gid for f in order.fulfillments for line in f.lines if line.line_item.sku == sku
    )


def request(admin: Admin, order: Order, quantity: int = 1, sku: str = "TEE", **extra: Any) -> Any:
    line = {"fulfillmentLineItemId": shipped_line(order, sku), "quantity": quantity}
    line["returnReason"] = "SIZE_TOO_SMALL"
    return run(
        admin,
        DOCUMENTS["ReturnRequest"],
        {"input": {"orderId": order.gid, "returnLineItems": [line], **extra}},
    )


def create(admin: Admin, order: Order, quantity: int = 1, **extra: Any) -> Any:
    line = {"fulfillmentLineItemId": shipped_line(order, "TEE"), "quantity": quantity}
    return run(
        admin,
        DOCUMENTS["ReturnCreate"],
        {"returnInput": {"orderId": order.gid, "returnLineItems": [line], **extra}},
    )


def approve(admin: Admin, return_id: str) -> Any:
    return run(admin, DOCUMENTS["ReturnApproveRequest"], {"input": {"id": return_id}})


def decline(admin: Admin, return_id: str, reason: str = "OTHER", note: str | None = None) -> Any:
    given = {"id": return_id, "declineReason": reason, "declineNote": note}
    return run(admin, DOCUMENTS["ReturnDeclineRequest"], {"input": given})


def cancel(admin: Admin, return_id: str) -> Any:
    return run(admin, DOCUMENTS["ReturnCancel"], {"id": return_id})


def state(admin: Admin, return_id: str) -> Any:
    return run(admin, DOCUMENTS["ReturnState"], {"id": return_id})


def tee_with_sizes(sandbox: Sandbox) -> None:
    """The T-shirt `place` sells (product 71, variant 72) in three sizes: L is the last one."""
    sandbox.add_product(
        id=71,
        title="Organic cotton T-shirt",
        product_type="Apparel",
        variants=[
            NewVariant("M", Decimal("26.36"), 5, options={"Size": "M"}, id=72, sku="TEE"),
            NewVariant("L", Decimal("26.36"), 1, options={"Size": "L"}, id=73),
            NewVariant("XL", Decimal("26.36"), 0, options={"Size": "XL"}, id=74),
        ],
    )


def signed(delivery: Any) -> bool:
    digest = hmac.new(SECRET.encode(), delivery.body, hashlib.sha256).digest()
    return hmac.compare_digest(
        base64.b64encode(digest).decode(), delivery.headers["X-Shopify-Hmac-Sha256"]
    )


# --- the lifecycle ---------------------------------------------------------------------------


def test_a_requested_return_is_approved_processed_and_closed(sandbox, admin, hooks) -> None:  # type: ignore[no-untyped-def]
    order = shipped(sandbox)

    asked = request(admin, order, 2)
    assert asked["userErrors"] == []
    made = asked["return"]
    assert (made["name"], made["status"], made["totalQuantity"]) == ("#1001-R1", "REQUESTED", 2)
    line = made["returnLineItems"]["nodes"][0]
    assert line["fulfillmentLineItem"]["id"] == shipped_line(order, "TEE")

    assert approve(admin, made["id"])["return"]["status"] == "OPEN"
    sandbox.process_return(made["id"])
    sandbox.close_return("#1001-R1")

    now = state(admin, made["id"])
    assert now["status"] == "CLOSED"
    assert now["order"] == {"id": order.gid}
    assert [(n["quantity"], n["processedQuantity"]) for n in now["returnLineItems"]["nodes"]] == [
        (2, 2)
    ]
    assert sandbox.return_state(made["id"])["closed_at"] is not None
    returns = [d.topic for d in hooks.received if d.topic.startswith("returns/")]
    assert returns == ["returns/request", "returns/approve", "returns/process", "returns/close"]


def test_a_requested_return_is_declined_with_its_reason_and_note(sandbox, admin, hooks) -> None:  # type: ignore[no-untyped-def]
    order = shipped(sandbox)
    made = request(admin, order)["return"]

    answer = decline(admin, made["id"], "FINAL_SALE", "Socks are a final sale.")

    assert answer["userErrors"] == []
    assert answer["return"]["status"] == "DECLINED"
    assert answer["return"]["decline"] == {
        "reason": "FINAL_SALE",
        "note": "Socks are a final sale.",
    }
    sent = hooks.last("returns/decline").payload
    assert sent["decline"] == {"reason": "final_sale", "note": "Socks are a final sale."}
    assert sent["status"] == "declined"


def test_a_requested_return_is_canceled_and_canceling_again_changes_nothing(
    sandbox, admin, hooks
) -> None:  # type: ignore[no-untyped-def]
    order = shipped(sandbox)
    made = request(admin, order)["return"]

    first = cancel(admin, made["id"])
    again = cancel(admin, made["id"])

    assert first == again
    assert first["return"]["status"] == "CANCELED"
    assert [d.topic for d in hooks.received].count("returns/cancel") == 1
    # As captured: canceling a canceled return answers it, no error.
    real = captured(CLOSE_REOPEN_CANCEL, "cancelableCase", "returnCancelIdempotent")
    assert (real["return"]["status"], real["userErrors"]) == ("CANCELED", [])


def test_returns_are_numbered_per_order_and_listed_on_it(sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    order = shipped(sandbox)
    shipped(sandbox, 1002)
    first = request(admin, order)["return"]
    decline(admin, first["id"])
    second = request(admin, order, sku="CAP")["return"]
    other = request(admin, sandbox.store.order(1002))["return"]

    read = run(admin, DOCUMENTS["ReturnableItems"], {"id": order.gid})
    again = run(admin, DOCUMENTS["ReturnableItems"], {"id": order.gid})

    assert (first["name"], second["name"], other["name"]) == ("#1001-R1", "#1001-R2", "#1002-R1")
    assert [(r["name"], r["status"]) for r in read["returns"]["nodes"]] == [
        ("#1001-R1", "DECLINED"),
        ("#1001-R2", "REQUESTED"),
    ]
    assert read == again  # fulfillment line items keep their ids from one read to the next
    shipped_ids = {n["id"] for n in read["fulfillments"][0]["fulfillmentLineItems"]["nodes"]}
    returned = {
        n["fulfillmentLineItem"]["id"]
        for r in read["returns"]["nodes"]
        for n in r["returnLineItems"]["nodes"]
    }
    assert returned <= shipped_ids


# --- exchanges and stock ------------------------------------------------------------------------


def test_variants_show_their_stock_and_whether_they_sell(sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    tee_with_sizes(sandbox)
    sandbox.set_stock(74, 0, policy="CONTINUE")

    product = run(admin, DOCUMENTS["ProductVariants"], {"id": "gid://shopify/Product/71"})

    assert [
        (v["title"], v["inventoryQuantity"], v["availableForSale"], v["selectedOptions"])
        for v in product["variants"]["nodes"]
    ] == [
        ("M", 5, True, [{"name": "Size", "value": "M"}]),
        ("L", 1, True, [{"name": "Size", "value": "L"}]),
        ("XL", 0, True, [{"name": "Size", "value": "XL"}]),  # sold on at zero
    ]
    assert product["variants"]["nodes"][0]["price"] == "26.36"


def test_a_created_return_opens_at_once_and_its_exchange_takes_the_stock(
    sandbox, admin, hooks
) -> None:  # type: ignore[no-untyped-def]
    tee_with_sizes(sandbox)
    order = shipped(sandbox)
    exchange = [{"variantId": "gid://shopify/ProductVariant/73", "quantity": 1}]

    answer = create(admin, order, exchangeLineItems=exchange)

    assert answer["userErrors"] == []
    assert answer["return"]["status"] == "OPEN"
    assert (
        answer["return"]["exchangeLineItems"]["nodes"][0]["variantId"] == exchange[0]["variantId"]
    )
    variants = sandbox.product_state(71)["variants"]
    assert [(v["title"], v["inventory_quantity"], v["available_for_sale"]) for v in variants][
        1
    ] == ("L", 0, False)
    sent = hooks.last("returns/approve").payload
    assert sent["total_exchange_line_items"] == 1
    assert sent["exchange_line_items"][0]["admin_graphql_api_id"].startswith(
        "gid://shopify/ExchangeLineItem/"
    )


def test_an_exchange_for_a_variant_sold_out_since_it_was_chosen_is_refused(
    sandbox, admin, hooks
) -> None:  # type: ignore[no-untyped-def]
    tee_with_sizes(sandbox)
    order = shipped(sandbox)
    shown = run(admin, DOCUMENTS["ProductVariants"], {"id": "gid://shopify/Product/71"})
    assert shown["variants"]["nodes"][1]["availableForSale"] is True
    sandbox.set_stock("gid://shopify/ProductVariant/73", 0)  # someone else bought the last L

    answer = create(
        admin,
        order,
        exchangeLineItems=[{"variantId": shown["variants"]["nodes"][1]["id"], "quantity": 1}],
    )

    assert answer["return"] is None
    assert answer["userErrors"] == [
        {
            "field": ["returnInput", "exchangeLineItems", "0", "variantId"],
            "message": "Variant is not available for sale.",  # the sandbox's words
            "code": "INVALID",
        }
    ]
    assert order.returns == []
    assert not any(d.topic.startswith("returns/") for d in hooks.received)


# --- refusals, word for word as Shopify's --------------------------------------------------------


def _open(admin: Admin, order: Order) -> str:
    made = request(admin, order)["return"]
    approve(admin, made["id"])
    return made["id"]


def _declined(admin: Admin, order: Order) -> str:
    made = request(admin, order)["return"]
    decline(admin, made["id"])
    return made["id"]


def _processed(admin: Admin, order: Order, sandbox: Sandbox) -> str:
    made = _open(admin, order)
    sandbox.process_return(made)
    return made


def _requested(admin: Admin, order: Order) -> str:
    return request(admin, order)["return"]["id"]


MISSING = "gid://shopify/Return/999999999999999"
PRECONDITIONS = {
    "approve an open return": (_open, approve, STATES, ("openCase", "approveOpenInvalid")),
    "decline an open return": (_open, decline, STATES, ("openCase", "declineOpenInvalid")),
    "approve a declined return": (
        _declined,
        approve,
        STATES,
        ("declinedCase", "approveDeclinedInvalid"),
    ),
    "decline a declined return": (
        _declined,
        decline,
        STATES,
        ("declinedCase", "declineDeclinedInvalid"),
    ),
    "approve an unknown return": (None, approve, STATES, ("unknownIdCase", "approveMissing")),
    "decline an unknown return": (None, decline, STATES, ("unknownIdCase", "declineMissing")),
    "cancel a processed return": (
        _processed,
        cancel,
        CLOSE_REOPEN_CANCEL,
        ("processedCase", "returnCancelInvalid"),
    ),
    "cancel an unknown return": (
        None,
        cancel,
        CLOSE_REOPEN_CANCEL,
        ("notFoundCase", "returnCancel"),
    ),
    "close a requested return": (
        _requested,
        lambda admin, rid: run(admin, RETURN_CLOSE % OUTCOME, {"id": rid}),
        CLOSE_REOPEN_CANCEL,
        ("requestedCase", "returnCloseInvalid"),
    ),
    "reopen a requested return": (
        _requested,
        lambda admin, rid: run(admin, RETURN_REOPEN % OUTCOME, {"id": rid}),
        CLOSE_REOPEN_CANCEL,
        ("requestedCase", "returnReopenInvalid"),
    ),
    "close a declined return": (
        _declined,
        lambda admin, rid: run(admin, RETURN_CLOSE % OUTCOME, {"id": rid}),
        CLOSE_REOPEN_CANCEL,
        ("declinedCase", "returnCloseInvalid"),
    ),
    "close an unknown return": (
        None,
        lambda admin, rid: run(admin, RETURN_CLOSE % OUTCOME, {"id": rid}),
        CLOSE_REOPEN_CANCEL,
        ("notFoundCase", "returnClose"),
    ),
    "reopen an unknown return": (
        None,
        lambda admin, rid: run(admin, RETURN_REOPEN % OUTCOME, {"id": rid}),
        CLOSE_REOPEN_CANCEL,
        ("notFoundCase", "returnReopen"),
    ),
}


@pytest.mark.parametrize("case", list(PRECONDITIONS), ids=list(PRECONDITIONS))
def test_each_refusal_is_shopifys(case: str, sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    arrange, act, capture, path = PRECONDITIONS[case]
    order = shipped(sandbox)
    if arrange is None:
        return_id = MISSING
    elif arrange is _processed:
        return_id = arrange(admin, order, sandbox)
    else:
        return_id = arrange(admin, order)

    answer = act(admin, return_id)

    real = captured(capture, *path)
    assert real["return"] is None
    assert answer == {"return": None, "userErrors": real["userErrors"]}


def test_closing_and_reopening_twice_answer_as_shopify_does(sandbox, admin, hooks) -> None:  # type: ignore[no-untyped-def]
    order = shipped(sandbox)
    return_id = _open(admin, order)

    closed = run(admin, RETURN_CLOSE % OUTCOME, {"id": return_id})
    closed_again = run(admin, RETURN_CLOSE % OUTCOME, {"id": return_id})
    reopened = run(admin, RETURN_REOPEN % OUTCOME, {"id": return_id})
    reopened_again = run(admin, RETURN_REOPEN % OUTCOME, {"id": return_id})

    case = ("openCloseReopenCase",)
    for ours, step in (
        (closed, "returnClose"),
        (closed_again, "returnCloseIdempotent"),
        (reopened, "returnReopen"),
        (reopened_again, "returnReopenIdempotent"),
    ):
        real = captured(CLOSE_REOPEN_CANCEL, *case, step)
        assert ours["userErrors"] == real["userErrors"] == []
        assert ours["return"]["status"] == real["return"]["status"]
        assert (ours["return"]["closedAt"] is None) == (real["return"]["closedAt"] is None)
    assert closed["return"]["closedAt"] == closed_again["return"]["closedAt"]
    topics = [d.topic for d in hooks.received]
    assert (topics.count("returns/close"), topics.count("returns/reopen")) == (1, 1)


def test_the_facade_refuses_as_the_api_does(sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    order = shipped(sandbox)
    return_id = _declined(admin, order)

    with pytest.raises(Refused) as refused:
        sandbox.close_return(return_id)

    assert [(p.message, p.code) for p in refused.value.problems] == [
        ("Return status is invalid.", "INVALID_STATE")
    ]


# --- quantities -------------------------------------------------------------------------------


def test_what_open_returns_hold_cannot_be_asked_back_again(sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    order = shipped(sandbox)  # two T-shirts shipped, as in the capture's quantity-cap order
    assert create(admin, order, 1)["return"]["status"] == "OPEN"

    asked = request(admin, order, 2)
    created = create(admin, order, 2)

    assert asked == captured(QUANTITIES, "returnRequestQuantityCap")
    assert created == captured(QUANTITIES, "returnCreateQuantityCap")
    assert request(admin, order, 1)["userErrors"] == []  # the second one still can go back


def test_declined_and_canceled_returns_give_their_items_back(sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    order = shipped(sandbox)
    declined = request(admin, order, 2)["return"]
    decline(admin, declined["id"])
    canceled = request(admin, order, 2)["return"]
    cancel(admin, canceled["id"])

    assert request(admin, order, 2)["userErrors"] == []
    assert request(admin, order, 1)["userErrors"][0]["code"] == "INVALID"


def test_a_line_not_shipped_on_this_order_is_not_found(sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    order = shipped(sandbox)
    elsewhere = shipped(sandbox, 1002)
    real = captured(QUANTITIES, "returnRequestMixedValidMissing")
    missing = shared_json(QUANTITIES)["returnRequestMixedValidMissing"]["variables"]["input"][
        "returnLineItems"
    ][1]["fulfillmentLineItemId"]

    for other in (missing, shipped_line(elsewhere, "CAP")):
        lines = [
            {"fulfillmentLineItemId": shipped_line(order, "TEE"), "quantity": 1},
            {"fulfillmentLineItemId": other, "quantity": 1},
        ]
        answer = run(
            admin,
            DOCUMENTS["ReturnRequest"],
            {"input": {"orderId": order.gid, "returnLineItems": lines}},
        )
        assert answer == real


# --- fees --------------------------------------------------------------------------------------


def test_the_return_shipping_fee_and_restocking_fee_are_recorded(sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    order = shipped(sandbox)  # paid in USD, as the capture's order
    real = captured(SHIPPING_FEE, "returnCreate")["return"]["returnShippingFees"]
    given = shared_json(SHIPPING_FEE)["returnCreate"]["variables"]["returnInput"]
    line = {
        "fulfillmentLineItemId": shipped_line(order, "TEE"),
        "quantity": 1,
        "returnReason": "UNWANTED",
        "returnReasonNote": "Changed my mind",
        "restockingFee": {"percentage": 10.0},
    }
    made = run(
        admin,
        DOCUMENTS["ReturnCreate"],
        {
            "returnInput": {
                "orderId": order.gid,
                "returnLineItems": [line],
                "returnShippingFee": given["returnShippingFee"],
            }
        },
    )["return"]

    fees = run(admin, SHIPPING_FEES, {"id": made["id"]})
    (fee,) = fees["returnShippingFees"]
    assert fee["id"].startswith("gid://shopify/Fee/") and real[0]["id"].startswith(
        "gid://shopify/Fee/"
    )
    assert fee["amountSet"]["presentmentMoney"] == real[0]["amountSet"]["presentmentMoney"]
    assert fee["amountSet"]["shopMoney"] == {"amount": "6.82", "currencyCode": "EUR"}  # at 1.1
    (returned,) = fees["returnLineItems"]["nodes"]
    assert returned["restockingFee"] == {
        "percentage": 10.0,
        "amountSet": {"presentmentMoney": {"amount": "2.9", "currencyCode": "USD"}},
    }
    shipping = [f["price"]["presentment_money"] for f in _last_payload(sandbox, "returns/approve")]
    assert shipping == [{"amount": "7.5", "currency_code": "USD"}]


def _last_payload(sandbox: Sandbox, topic: str) -> Any:
    recorder: Recorder = sandbox.webhooks.transport  # type: ignore[assignment]
    return recorder.last(topic).payload["return_shipping_fees"]


# --- webhooks --------------------------------------------------------------------------------


def test_every_transition_sends_its_signed_webhook_shaped_like_shopifys(
    sandbox, admin, hooks
) -> None:  # type: ignore[no-untyped-def]
    order = shipped(sandbox)
    declined = request(admin, order)["return"]["id"]
    decline(admin, declined, "RETURN_PERIOD_ENDED", "Too late")
    canceled = request(admin, order)["return"]["id"]
    cancel(admin, canceled)
    kept = request(admin, order)["return"]["id"]
    sandbox.approve_return(kept)
    sandbox.process_return(kept)
    sandbox.close_return(kept)
    sandbox.reopen_return(kept)

    sent = {d.topic: d for d in hooks.received if d.topic.startswith("returns/")}
    assert sorted(sent) == sorted(
        f"returns/{t}"
        for t in ("request", "decline", "cancel", "approve", "process", "close", "reopen")
    )
    for topic, delivery in sent.items():
        assert signed(delivery), topic
        sample = shared_json(f"webhooks/{topic}.json") or shared_json("webhooks/returns/close.json")
        assert set(delivery.payload) == set(sample), topic
        assert delivery.payload["admin_graphql_api_id"].startswith("gid://shopify/Return/")
    kept_id = int(kept.rsplit("/", 1)[1])
    assert sent["returns/process"].payload == {
        "id": kept_id,
        "admin_graphql_api_id": kept,
        "order_id": order.id,
        "status": "open",
    }
    line = sent["returns/request"].payload["return_line_items"][0]
    assert line["fulfillment_line_item"]["admin_graphql_api_id"] == shipped_line(order, "TEE")
    assert line["return_reason"] == "size_too_small"


def test_the_app_can_subscribe_to_returns_topics(sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    sandbox.webhooks.configure(target=None)
    for topic in ("RETURNS_REQUEST", "RETURNS_APPROVE", "RETURNS_PROCESS"):
        answer = run(
            admin,
            DOCUMENTS["WebhookSubscriptionCreate"],
            {"topic": topic, "webhookSubscription": {"uri": "https://portal.test/hooks"}},
        )
        assert answer["userErrors"] == []
    order = shipped(sandbox)

    request(admin, order)

    recorder: Recorder = sandbox.webhooks.transport  # type: ignore[assignment]
    assert recorder.last("returns/request").url == "https://portal.test/hooks"


# --- the control API -------------------------------------------------------------------------


def test_the_control_api_sets_stock_and_acts_on_returns(sandbox, session, admin) -> None:  # type: ignore[no-untyped-def]
    tee_with_sizes(sandbox)
    order = shipped(sandbox)
    made = request(admin, order)["return"]
    base = "https://northwind-test.myshopify.com/sandbox"

    stock = session.post(f"{base}/variants/72/stock", json={"quantity": 0}, timeout=5)
    declined = session.post(
        f"{base}/returns/1001-R1/decline", json={"reason": "final_sale", "note": "No"}, timeout=5
    )
    refused = session.post(f"{base}/returns/{made['id'].rsplit('/', 1)[1]}/approve", timeout=5)
    read = session.get(f"{base}/returns/1001-R1", timeout=5)

    assert stock.json()["available_for_sale"] is False
    assert declined.json()["status"] == "DECLINED"
    assert declined.json()["decline"] == {"reason": "FINAL_SALE", "note": "No"}
    assert refused.status_code == 409
    assert refused.json()["user_errors"][0]["code"] == "INVALID_STATE"
    assert read.json()["name"] == "#1001-R1"
    assert session.get(f"{base}/returns/1001-R9", timeout=5).status_code == 404
