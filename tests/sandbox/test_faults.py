"""Every fault switch, as our client meets it: through `requests` and the in-process adapter."""

from __future__ import annotations

import pytest
import requests

from sandbox import Sandbox
from shopify.documents import DOCUMENTS
from tests.sandbox.conftest import ADMIN, Recorder, place, shared_json

SHOP = DOCUMENTS["Shop"]
UPDATE = DOCUMENTS["OrderUpdate"]


def email_change(order_gid: str, email: str = "new@example.com") -> dict:
    return {"input": {"id": order_gid, "email": email}}


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_for_the_next_requests(status: int, sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    sandbox.faults.http(status, times=2)
    assert [admin(SHOP).status_code for _ in range(3)] == [status, status, 200]


def test_429_says_when_to_retry(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    sandbox.faults.http(429, retry_after=3)
    response = admin(SHOP)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3.0"
    assert "errors" in response.json()
    assert admin(SHOP).status_code == 200


def test_a_read_timeout_happens_after_the_change_was_made(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    order = place(sandbox)
    sandbox.faults.timeout(seconds=30)
    with pytest.raises(requests.exceptions.ReadTimeout):
        admin(UPDATE, email_change(order.gid), timeout=(1, 5))
    # The client never heard back, but Shopify did the work: a retry must be harmless.
    assert sandbox.order_state(order.number)["email"] == "new@example.com"


def test_a_connect_timeout_happens_before_anything_is_done(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    order = place(sandbox)
    sandbox.faults.timeout(seconds=30, connect=True)
    with pytest.raises(requests.exceptions.ConnectTimeout):
        admin(UPDATE, email_change(order.gid), timeout=(1, 5))
    assert sandbox.order_state(order.number)["email"] == "emma@example.com"
    assert admin(UPDATE, email_change(order.gid)).status_code == 200  # the fault was used up


def test_a_slow_answer_within_the_callers_patience_arrives(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    sandbox.faults.timeout(seconds=3)
    assert admin(SHOP, timeout=(1, 5)).json()["data"]["shop"]["myshopifyDomain"]


def test_forced_user_errors_wait_for_a_mutation_and_change_nothing(
    sandbox: Sandbox, admin, hooks: Recorder
) -> None:  # type: ignore[no-untyped-def]
    order = place(sandbox)
    hooks.received.clear()
    refusal = [{"field": ["input", "email"], "message": "Email has already been taken"}]
    sandbox.faults.user_errors(refusal)

    assert "errors" not in admin(SHOP).json()  # a query passes, the fault stays
    body = admin(UPDATE, email_change(order.gid)).json()

    assert body["data"]["orderUpdate"] == {"order": None, "userErrors": refusal}
    assert sandbox.order_state(order.number)["email"] == "emma@example.com"
    assert hooks.received == []
    again = admin(UPDATE, email_change(order.gid)).json()
    assert again["data"]["orderUpdate"]["userErrors"] == []


def test_forced_user_errors_fill_every_user_errors_list(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    order = place(sandbox)
    sandbox.faults.user_errors()
    variables = {"orderId": order.gid, "restock": False, "reason": "OTHER"}
    answer = admin(DOCUMENTS["OrderCancel"], variables).json()["data"]["orderCancel"]
    assert answer["job"] is None
    assert answer["userErrors"] and answer["orderCancelUserErrors"]
    assert sandbox.store.order(order.number).cancelled_at is None


def test_forced_throttling_answers_throttled_with_a_full_bucket(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    sandbox.faults.throttled()
    body = admin(SHOP).json()
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert "data" not in body
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 2000
    assert admin(SHOP).json()["data"]


def test_access_denied_has_shopifys_shape(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    capture = shared_json(
        "captures/draft-proxy/2026-04/orders/orderCreateManualPayment-access-denied-parity.json"
    )["mutation"]["response"]
    (real,) = capture["errors"]
    order = place(sandbox)
    sandbox.faults.access_denied()

    body = admin(UPDATE, email_change(order.gid)).json()

    (error,) = body["errors"]
    assert set(error) == set(real)
    assert set(error["extensions"]) == set(real["extensions"])
    assert error["extensions"]["code"] == "ACCESS_DENIED"
    assert error["message"] == (
        "Access denied for orderUpdate field. Required access: `write_orders` access scope."
    )
    assert error["path"] == ["orderUpdate"]
    assert body["data"] == {"orderUpdate": None}
    assert body["extensions"]["cost"]["actualQueryCost"] == 10
    assert sandbox.order_state(order.number)["email"] == "emma@example.com"


def test_faults_queue_up_in_order(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    sandbox.faults.http(503)
    sandbox.faults.throttled()
    assert admin(SHOP).status_code == 503
    assert admin(SHOP).json()["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert "data" in admin(SHOP).json()


def test_faults_are_switched_through_the_control_api(sandbox: Sandbox, session, admin) -> None:  # type: ignore[no-untyped-def]
    control = ADMIN.split("/admin/")[0] + "/sandbox/faults"
    response = session.post(control, json={"kind": "http", "status": 503, "times": 2})
    assert response.status_code == 200
    assert session.get(control).json()[0]["times"] == 2
    assert admin(SHOP).status_code == 503
    assert session.delete(control).json() == []
    assert admin(SHOP).status_code == 200
    assert session.post(control, json={"kind": "flood"}).status_code == 400


def test_a_wrong_token_is_401_in_shopifys_words(admin) -> None:  # type: ignore[no-untyped-def]
    response = admin(SHOP, token="shpat_wrong")
    assert response.status_code == 401
    assert response.json() == {
        "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
    }


def test_a_body_that_is_not_json_is_400(session) -> None:  # type: ignore[no-untyped-def]
    response = session.post(
        ADMIN, data=b"{query", headers={"X-Shopify-Access-Token": "shpat_test_token"}
    )
    assert response.status_code == 400


def test_a_document_that_does_not_validate_is_answered_200_with_its_errors(admin) -> None:  # type: ignore[no-untyped-def]
    response = admin("{ shop { name colour } }")
    assert response.status_code == 200
    assert response.json()["errors"][0]["message"] == (
        "Cannot query field 'colour' on type 'Shop'."
    )
