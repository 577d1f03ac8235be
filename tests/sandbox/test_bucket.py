"""The leaky bucket: continuous refill up to its size, THROTTLED as Shopify answers it, and the
unused part of a query's cost given back."""

from __future__ import annotations

from sandbox import Sandbox
from sandbox.bucket import Bucket
from shopify.documents import DOCUMENTS
from tests.sandbox.conftest import Clock, place

# Shopify's own THROTTLED error (FACTS.md §2, from Shopify/cli #8317 and a community capture).
THROTTLED = {
    "message": "Throttled",
    "extensions": {
        "code": "THROTTLED",
        "documentation": "https://shopify.dev/api/usage/rate-limits",
    },
}


class Seconds:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_bucket_refills_at_its_restore_rate_up_to_its_size() -> None:
    seconds = Seconds()
    bucket = Bucket(size=2000, restore_rate=100, clock=seconds)
    assert bucket.take(1500)
    assert bucket.available == 500
    seconds.now += 2.5
    assert bucket.available == 750
    assert not bucket.take(751)  # refused, and nothing charged
    assert bucket.available == 750
    seconds.now += 60
    assert bucket.available == 2000
    assert bucket.throttle_status() == {
        "maximumAvailable": 2000,
        "currentlyAvailable": 2000,
        "restoreRate": 100,
    }


def test_size_and_restore_rate_are_configurable() -> None:
    seconds = Seconds()
    bucket = Bucket(size=1000, restore_rate=50, clock=seconds)
    assert bucket.take(1000) and not bucket.take(1)
    seconds.now += 1
    assert bucket.available == 50
    bucket.configure(size=20000, restore_rate=1000)
    seconds.now += 2
    assert bucket.available == 2050


def test_a_query_the_bucket_cannot_cover_is_throttled(
    sandbox: Sandbox, admin, clock: Clock
) -> None:  # type: ignore[no-untyped-def]
    order = place(sandbox)
    ask = lambda: admin(DOCUMENTS["Order"], {"id": order.gid})  # noqa: E731
    requested = ask().json()["extensions"]["cost"]["requestedQueryCost"]
    sandbox.bucket.configure(available=requested - 1)

    response = ask()

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"errors", "extensions"}  # no data at all
    assert body["errors"] == [THROTTLED]
    assert body["extensions"]["cost"] == {
        "requestedQueryCost": requested,
        "actualQueryCost": None,
        "throttleStatus": {
            "maximumAvailable": 2000,
            "currentlyAvailable": requested - 1,  # nothing charged
            "restoreRate": 100,
        },
    }
    clock.advance(0.01)  # 100 points a second: the missing point is back
    assert "data" in ask().json()


def test_what_a_query_did_not_use_is_given_back(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    place(sandbox)  # one order of two lines
    document = "{ orders(first: 40) { nodes { id lineItems(first: 20) { nodes { sku } } } } }"

    cost = admin(document).json()["extensions"]["cost"]

    assert cost["requestedQueryCost"] == 2 + 40 * (1 + 2 + 20 * 1)
    assert cost["actualQueryCost"] == 2 + 1 * (1 + 2 + 2 * 1)
    assert cost["throttleStatus"]["currentlyAvailable"] == 2000 - 7


def test_consecutive_queries_drain_the_bucket_by_their_actual_cost(
    sandbox: Sandbox, admin, clock: Clock
) -> None:  # type: ignore[no-untyped-def]
    order = place(sandbox)
    costs = [
        admin(DOCUMENTS["Order"], {"id": order.gid}).json()["extensions"]["cost"] for _ in range(3)
    ]
    actual = costs[0]["actualQueryCost"]
    assert [c["throttleStatus"]["currentlyAvailable"] for c in costs] == [
        2000 - actual,
        2000 - 2 * actual,
        2000 - 3 * actual,
    ]
    clock.advance(0.5)
    assert sandbox.bucket.throttle_status()["currentlyAvailable"] == 2000 - 3 * actual + 50
