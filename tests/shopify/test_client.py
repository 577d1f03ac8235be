"""The Admin API client under every answer Shopify gives: success, throttling, refusals, faults,
and the real recorded `userErrors` and `ACCESS_DENIED` answers."""

from __future__ import annotations

import json

import pytest
import requests

from shopify import documents
from shopify.bucket import RedisBucket
from shopify.client import (
    Client,
    Permanent,
    RateLimited,
    Throttled,
    Transient,
    UserError,
    UserErrors,
)
from tests.shopify.replay import Replay, capture, throttled

DOMAIN = "northwind.myshopify.com"


class FakeTime:
    """A clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def bucket(fake_time: FakeTime) -> RedisBucket:
    bucket = RedisBucket(DOMAIN, clock=fake_time.clock)
    bucket.redis.delete(bucket.key)
    yield bucket
    bucket.redis.delete(bucket.key)


@pytest.fixture
def replay() -> Replay:
    return Replay()


@pytest.fixture
def client(replay: Replay, bucket: RedisBucket, fake_time: FakeTime) -> Client:
    session = requests.Session()
    session.mount("https://", replay)
    return Client(DOMAIN, "shpat_test", session=session, bucket=bucket, sleep=fake_time.sleep)


def ok(data: dict, *, requested: int = 10, available: int = 1990) -> dict:
    return {
        "data": data,
        "extensions": {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": requested,
                "throttleStatus": {
                    "maximumAvailable": 2000,
                    "currentlyAvailable": available,
                    "restoreRate": 100,
                },
            }
        },
    }


def test_a_query_is_posted_the_way_shopify_expects(client: Client, replay: Replay) -> None:
    replay.answer(ok({"shop": {"name": "Northwind"}}, requested=1))
    assert client.query(documents.SHOP) == {"shop": {"name": "Northwind"}}
    (request,) = replay.sent
    assert request.method == "POST"
    assert request.url == f"https://{DOMAIN}/admin/api/2026-07/graphql.json"
    assert request.headers["X-Shopify-Access-Token"] == "shpat_test"
    body = json.loads(request.body)
    assert body["operationName"] == "Shop"
    assert body["query"] == documents.SHOP


def test_throttled_is_waited_out_with_the_restore_rate_then_sent_again(
    client: Client, replay: Replay, fake_time: FakeTime
) -> None:
    replay.answer(throttled(requested=752, available=52))
    replay.answer(ok({"shop": {"name": "Northwind"}}, requested=752, available=1248))
    assert client.query(documents.SHOP) == {"shop": {"name": "Northwind"}}
    assert len(replay.sent) == 2
    # 752 points were wanted and 52 were there: 700 more at 100 per second.
    assert fake_time.slept == [pytest.approx(7.0)]


def test_throttled_too_often_gives_up_as_throttled(client: Client, replay: Replay) -> None:
    for _ in range(6):
        replay.answer(throttled(requested=752, available=0))
    with pytest.raises(Throttled) as raised:
        client.query(documents.SHOP)
    assert isinstance(raised.value, Transient)  # the outbox tries again later
    assert len(replay.sent) == 6


def test_the_bucket_makes_a_query_wait_instead_of_being_refused(
    client: Client, replay: Replay, fake_time: FakeTime
) -> None:
    # Shopify reports an almost empty bucket; the next mutation (10 points) must wait 0.1 s.
    replay.answer(ok({"orderUpdate": {"userErrors": []}}, requested=10, available=0))
    replay.answer(ok({"orderUpdate": {"userErrors": []}}, requested=10, available=0))
    variables = {"input": {"id": "gid://shopify/Order/1"}}
    client.mutate(documents.ORDER_UPDATE, variables, payload="orderUpdate")
    assert fake_time.slept == []
    client.mutate(documents.ORDER_UPDATE, variables, payload="orderUpdate")
    assert fake_time.slept == [pytest.approx(0.1)]


def test_workers_share_one_bucket_in_redis(fake_time: FakeTime, bucket: RedisBucket) -> None:
    other_worker = RedisBucket(DOMAIN, clock=fake_time.clock)
    assert bucket.reserve(1500) == 0
    # The other worker sees what the first reserved: 500 left, so 800 must wait 3 s.
    assert other_worker.reserve(800) == pytest.approx(3.0)
    fake_time.now += 3
    bucket.settle(1500, None)
    other_worker.settle(800, None)
    assert bucket.reserve(0) == 0


def test_429_honours_retry_after(client: Client, replay: Replay, fake_time: FakeTime) -> None:
    replay.answer({"errors": "Exceeded"}, status=429, headers={"Retry-After": "2.5"})
    replay.answer(ok({"shop": {"name": "Northwind"}}))
    assert client.query(documents.SHOP) == {"shop": {"name": "Northwind"}}
    assert fake_time.slept == [2.5]


def test_503_is_transient_and_not_resent(client: Client, replay: Replay) -> None:
    # Unlike a 429, a 503 may come after the mutation ran: the job decides, after re-reading.
    replay.answer({"errors": "Unavailable"}, status=503, headers={"Retry-After": "1"})
    with pytest.raises(Transient):
        client.query(documents.ORDER_UPDATE, {"input": {"id": "gid://shopify/Order/1"}})
    assert len(replay.sent) == 1


def test_shopifys_internal_error_at_http_200_is_transient(client: Client, replay: Replay) -> None:
    replay.answer(
        {"errors": [{"message": "Internal error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]}
    )
    with pytest.raises(Transient):
        client.query(documents.SHOP)


def test_retry_after_is_bounded(client: Client, replay: Replay) -> None:
    for _ in range(4):
        replay.answer({"errors": "Exceeded"}, status=429)
    with pytest.raises(RateLimited) as raised:
        client.query(documents.SHOP)
    assert isinstance(raised.value, Transient)  # the outbox tries again later
    assert len(replay.sent) == 4


@pytest.mark.parametrize(
    "failure",
    [
        requests.ConnectTimeout("connect timed out"),
        requests.ReadTimeout("read timed out"),
        requests.ConnectionError("connection refused"),
    ],
)
def test_network_faults_are_transient_and_not_resent(
    client: Client, replay: Replay, failure: Exception
) -> None:
    replay.fail(failure)
    with pytest.raises(Transient):
        client.mutate(
            documents.ORDER_UPDATE, {"input": {"id": "gid://x/Order/1"}}, payload="orderUpdate"
        )
    # A mutation may have run before the timeout: the client never sends it twice by itself.
    assert len(replay.sent) == 1


@pytest.mark.parametrize("status", [500, 502, 504])
def test_server_errors_are_transient(client: Client, replay: Replay, status: int) -> None:
    replay.answer({"errors": "Internal error"}, status=status)
    with pytest.raises(Transient):
        client.query(documents.SHOP)


@pytest.mark.parametrize("status", [401, 402, 403, 404, 423])
def test_client_errors_are_permanent(client: Client, replay: Replay, status: int) -> None:
    replay.answer({"errors": "[API] Invalid API key or access token"}, status=status)
    with pytest.raises(Permanent):
        client.query(documents.SHOP)
    assert len(replay.sent) == 1


def test_a_body_that_is_not_json_is_transient(client: Client, replay: Replay) -> None:
    replay.answer(b"<html>502 Bad Gateway</html>", status=200)
    with pytest.raises(Transient):
        client.query(documents.SHOP)


def test_real_access_denied_is_permanent_with_its_code(client: Client, replay: Replay) -> None:
    answer = capture("2026-04/orders/orderCreateManualPayment-access-denied-parity.json")
    replay.answer(answer["mutation"]["response"])
    with pytest.raises(Permanent) as raised:
        client.query(documents.ORDER_UPDATE, {"input": {"id": "gid://shopify/Order/1"}})
    assert raised.value.codes == ("ACCESS_DENIED",)
    assert "write_orders" in str(raised.value)


def test_real_user_errors_are_surfaced_with_their_fields(client: Client, replay: Replay) -> None:
    recorded = capture("2026-04/orders/orderUpdate-input-validation.json")["mutation"]["response"]
    # The capture ran four aliased mutations; Shopify's answer to the bad address is one of them.
    answer = {"data": {"orderUpdate": recorded["data"]["badShippingAddress"]}}
    answer["extensions"] = recorded["extensions"]
    replay.answer(answer)
    with pytest.raises(UserErrors) as raised:
        client.mutate(
            documents.ORDER_UPDATE,
            {"input": {"id": "gid://shopify/Order/8882366284082"}},
            payload="orderUpdate",
        )
    assert raised.value.errors == [
        UserError(field=("shippingAddress", "lastName"), message="Enter a last name"),
        UserError(field=("shippingAddress", "zip"), message="Enter a ZIP code"),
        UserError(
            field=("shippingAddress", "province"),
            message="State is not a valid state in United States",
        ),
    ]


def test_a_user_error_without_field_is_kept(client: Client, replay: Replay) -> None:
    recorded = capture("2026-04/orders/orderUpdate-input-validation.json")["mutation"]["response"]
    replay.answer({"data": {"orderUpdate": recorded["data"]["emptyInput"]}})
    with pytest.raises(UserErrors) as raised:
        client.mutate(
            documents.ORDER_UPDATE, {"input": {"id": "gid://x/Order/1"}}, payload="orderUpdate"
        )
    assert raised.value.errors == [
        UserError(field=(), message="No valid update parameters have been provided")
    ]


def test_the_real_success_returns_the_payload(client: Client, replay: Replay) -> None:
    recorded = capture("2026-04/orders/orderUpdate-input-validation.json")["mutation"]["response"]
    replay.answer({"data": {"orderUpdate": recorded["data"]["happyNote"]}})
    result = client.mutate(
        documents.ORDER_UPDATE, {"input": {"id": "gid://x/Order/1"}}, payload="orderUpdate"
    )
    assert result["order"]["name"] == "#1640"
