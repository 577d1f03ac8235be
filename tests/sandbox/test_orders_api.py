"""Reading orders through the Admin API: cursors, Shopify's search syntax, and updatedAt."""

from __future__ import annotations

from datetime import datetime

from sandbox import Sandbox
from shopify.documents import DOCUMENTS
from tests.sandbox.conftest import Clock, place

PAGE = """
query ($first: Int, $after: String, $last: Int, $before: String, $query: String,
       $sortKey: OrderSortKeys = UPDATED_AT, $reverse: Boolean = false) {
  orders(first: $first, after: $after, last: $last, before: $before, query: $query,
         sortKey: $sortKey, reverse: $reverse) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes { name updatedAt }
  }
}
"""


def names(body: dict) -> list[str]:
    return [node["name"] for node in body["data"]["orders"]["nodes"]]


def five_orders(sandbox: Sandbox, clock: Clock) -> None:
    for number in range(1001, 1006):
        place(sandbox, number)
        clock.advance(60)


def test_pages_follow_each_other_by_cursor(sandbox: Sandbox, admin, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    five_orders(sandbox, clock)
    seen, after, pages = [], None, 0
    while True:
        body = admin(PAGE, {"first": 2, "after": after}).json()
        seen += names(body)
        pages += 1
        info = body["data"]["orders"]["pageInfo"]
        assert info["hasPreviousPage"] is (after is not None)
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert seen == ["#1001", "#1002", "#1003", "#1004", "#1005"]
    assert pages == 3


def test_an_order_changed_while_paging_comes_again_at_the_end(
    sandbox: Sandbox, admin, clock: Clock
) -> None:  # type: ignore[no-untyped-def]
    five_orders(sandbox, clock)
    first = admin(PAGE, {"first": 2}).json()
    sandbox.start_preparing(1001)  # already read, now newer than everything
    rest = admin(PAGE, {"first": 10, "after": first["data"]["orders"]["pageInfo"]["endCursor"]})
    assert names(first) + names(rest.json()) == [
        "#1001",
        "#1002",
        "#1003",
        "#1004",
        "#1005",
        "#1001",
    ]


def test_last_before_and_reverse(sandbox: Sandbox, admin, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    five_orders(sandbox, clock)
    assert names(admin(PAGE, {"last": 2}).json()) == ["#1004", "#1005"]
    newest = admin(PAGE, {"first": 2, "reverse": True}).json()
    assert names(newest) == ["#1005", "#1004"]
    cursor = newest["data"]["orders"]["pageInfo"]["endCursor"]
    assert names(admin(PAGE, {"first": 5, "after": cursor, "reverse": True}).json()) == [
        "#1003",
        "#1002",
        "#1001",
    ]
    assert names(admin(PAGE, {"last": 1, "before": cursor, "reverse": True}).json()) == ["#1005"]
    by_number = admin(PAGE, {"first": 2, "sortKey": "ORDER_NUMBER", "reverse": True}).json()
    assert names(by_number) == ["#1005", "#1004"]


def test_a_connection_without_first_or_last_is_an_error(admin) -> None:  # type: ignore[no-untyped-def]
    body = admin(PAGE).json()
    assert body["errors"][0]["message"] == "you must provide one of first or last"


def test_updated_at_search_keeps_the_orders_changed_since(
    sandbox: Sandbox, admin, clock: Clock
) -> None:  # type: ignore[no-untyped-def]
    five_orders(sandbox, clock)
    third = sandbox.store.order(1003).updated_at.strftime("%Y-%m-%dT%H:%M:%SZ")

    def matching(query: str) -> list[str]:
        return names(admin(PAGE, {"first": 10, "query": query}).json())

    assert matching(f"updated_at:>='{third}'") == ["#1003", "#1004", "#1005"]
    assert matching(f"updated_at:>'{third}'") == ["#1004", "#1005"]
    assert matching(f"updated_at:>={third}") == ["#1003", "#1004", "#1005"]  # quotes optional
    assert matching(f'updated_at:>"{third}"') == ["#1004", "#1005"]
    assert matching(f"updated_at:<'{third}'") == ["#1001", "#1002"]
    assert matching(f"updated_at:>='{third}' AND updated_at:<='{third}'") == ["#1003"]
    assert matching("updated_at:>='2026-11-02T10:02:00+01:00'") == ["#1003", "#1004", "#1005"]


def test_a_search_term_shopify_would_not_understand_is_ignored_with_a_warning(
    sandbox: Sandbox, admin
) -> None:  # type: ignore[no-untyped-def]
    place(sandbox)
    body = admin(PAGE, {"first": 10, "query": "colour:blue"}).json()
    assert names(body) == ["#1001"]
    assert body["extensions"]["search"] == [
        {
            "path": ["orders"],
            "query": "colour:blue",
            "warnings": [{"field": "colour", "message": "Invalid search field for this query."}],
        }
    ]


def test_orders_count_counts_what_the_search_keeps(sandbox: Sandbox, admin, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    five_orders(sandbox, clock)
    since = sandbox.store.order(1004).updated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    counted = admin(DOCUMENTS["OrdersCount"], {"query": f"updated_at:>='{since}'"}).json()
    assert counted["data"]["ordersCount"] == {"count": 2, "precision": "EXACT"}
    capped = admin("{ ordersCount(limit: 3) { count precision } }").json()
    assert capped["data"]["ordersCount"] == {"count": 3, "precision": "AT_LEAST"}


def test_every_change_moves_updated_at_strictly_forward(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    # The clock stands still: every change still gets a later updatedAt than the one before.
    order = place(sandbox, 1001)
    other = place(sandbox, 1002)
    document = "query ($id: ID!) { order(id: $id) { updatedAt } }"

    def updated(order_id: str) -> datetime:
        value = admin(document, {"id": order_id}).json()["data"]["order"]["updatedAt"]
        return datetime.fromisoformat(value)

    stamps = [updated(order.gid)]
    for change in (
        lambda: sandbox.start_preparing(1001),
        lambda: sandbox.hold(1001, reason="INCORRECT_ADDRESS"),
        lambda: sandbox.release_hold(1001),
        lambda: sandbox.fulfil(1001, lines={"TEE": 1}, company="UPS", tracking_number="1Z1"),
        lambda: sandbox.add_tracking_event(1001, 1, status="IN_TRANSIT"),
        lambda: sandbox.deliver(1001, 1),
    ):
        change()
        stamps.append(updated(order.gid))
    assert stamps == sorted(set(stamps))
    assert updated(other.gid) < stamps[1]
