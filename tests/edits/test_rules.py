"""The merchant's rules, table-driven: every switch, the window's edge in the shop's time zone,
each fulfilment state, blocked tags and the change limit."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from edits import kinds
from edits.kinds.address import ADDRESS
from edits.kinds.cancellation import CANCELLATION
from edits.kinds.contact import CONTACT
from edits.models import Approval, ChangeRequest, EditPolicy, Until
from edits.rules import REFUSALS
from orders.decisions import Decision
from orders.models import Order, Shop
from tests.factories import add_fulfillment_order, add_line, make_order, make_shop, ship

TOKYO = ZoneInfo("Asia/Tokyo")
# Placed at 09:00 in Tokyo: the shop's clock, whatever the server's.
PLACED = datetime(2026, 11, 20, 9, 0, tzinfo=TOKYO)
# Every kind of change, by its code (the policy's fields are named after it).
KINDS = [ADDRESS.code, CONTACT.code, CANCELLATION.code]


@pytest.fixture
def shop(db: None) -> Shop:
    return make_shop(time_zone="Asia/Tokyo")


@pytest.fixture
def policy(shop: Shop) -> EditPolicy:
    return EditPolicy.for_shop(shop)


def fresh_order(shop: Shop, **overrides) -> Order:  # type: ignore[no-untyped-def]
    order = make_order(shop, placed_at=PLACED, **overrides)
    add_line(order)
    add_fulfillment_order(order)
    return order


def decide(kind: str, order: Order, policy: EditPolicy, now: datetime) -> Decision:
    order = Order.objects.get(pk=order.pk)  # nothing cached from earlier writes
    return kinds.get(kind).decide(order, policy, now=now)


@pytest.mark.parametrize("kind", KINDS)
def test_a_fresh_order_may_be_changed(shop: Shop, policy: EditPolicy, kind: str) -> None:
    decision = decide(kind, fresh_order(shop), policy, PLACED + timedelta(minutes=5))
    assert decision and decision.code == "ok"


@pytest.mark.parametrize("kind", KINDS)
def test_the_window_closes_on_the_minute_in_the_shops_time_zone(
    shop: Shop, policy: EditPolicy, kind: str
) -> None:
    setattr(policy, f"{kind}_window_minutes", 125)
    order = fresh_order(shop)
    closing = PLACED + timedelta(minutes=125)  # 11:05 in Tokyo
    assert decide(kind, order, policy, closing - timedelta(seconds=1))
    with translation.override("en"):
        closed = decide(kind, order, policy, closing)
    assert not closed and closed.code == "window_closed"
    assert "11:05" in str(closed.message)  # the shop's local time, not UTC (02:05)


def test_the_closing_time_is_said_in_the_shoppers_language(shop: Shop, policy: EditPolicy) -> None:
    order = fresh_order(shop)
    late = PLACED + timedelta(days=2)
    with translation.override("de"):
        message = str(decide(ADDRESS.code, order, policy, late).message)
    assert message.startswith("Adressänderungen") and "21:00" in message


@pytest.mark.parametrize("kind", KINDS)
def test_a_switched_off_action_says_to_contact_us(
    shop: Shop, policy: EditPolicy, kind: str
) -> None:
    setattr(policy, f"{kind}_enabled", False)
    decision = decide(kind, fresh_order(shop), policy, PLACED)
    assert not decision and decision.code == "switched_off"
    assert "contact us" in str(decision.message)


@pytest.mark.parametrize("kind", KINDS)
def test_a_blocked_tag_closes_self_service(shop: Shop, policy: EditPolicy, kind: str) -> None:
    policy.blocked_tags = ["no-self-service", "high-risk"]
    decision = decide(kind, fresh_order(shop, tags=["vip", "High-Risk"]), policy, PLACED)
    assert decision.code == "blocked_tag"
    assert decide(kind, fresh_order(shop, tags=["vip"]), policy, PLACED)


@pytest.mark.parametrize("kind", KINDS)
def test_a_cancelled_order_cannot_be_changed(shop: Shop, policy: EditPolicy, kind: str) -> None:
    order = fresh_order(shop, cancelled_at=PLACED + timedelta(minutes=1))
    assert decide(kind, order, policy, PLACED + timedelta(minutes=2)).code == "cancelled"


# (fulfilment state, until, expected code): what each policy setting allows at each state, and
# the refusal names the state the order is really in, whichever limit it passed.
PROGRESS = [
    ("open", Until.WAREHOUSE_STARTS, "ok"),
    ("in_progress", Until.WAREHOUSE_STARTS, "warehouse_started"),
    ("in_progress", Until.FIRST_SHIPMENT, "ok"),
    ("partly_shipped", Until.WAREHOUSE_STARTS, "partly_shipped"),
    ("partly_shipped", Until.FIRST_SHIPMENT, "partly_shipped"),
    ("shipped", Until.WAREHOUSE_STARTS, "shipped"),
    ("shipped", Until.FIRST_SHIPMENT, "shipped"),
    ("shipped", Until.DELIVERY, "ok"),
    ("failed_delivery", Until.WAREHOUSE_STARTS, "delivery_problem"),
    ("delivered", Until.WAREHOUSE_STARTS, "delivered"),
    ("delivered", Until.FIRST_SHIPMENT, "delivered"),
    ("delivered", Until.DELIVERY, "delivered"),
]


def advance(order: Order, state: str) -> None:
    if state == "in_progress":
        order.fulfillment_orders.update(status="in_progress")
    elif state == "partly_shipped":
        add_line(order, title="Cap", sku="CAP")
        ship(order, [order.lines.get(sku="TEE-M")])
    elif state in ("shipped", "delivered", "failed_delivery"):
        order.fulfillment_orders.update(status="closed")
        status = {"shipped": "in_transit", "delivered": "delivered"}.get(state, "failure")
        ship(order, shipment_status=status)


@pytest.mark.parametrize(("state", "until", "code"), PROGRESS)
@pytest.mark.parametrize("kind", [ADDRESS.code, CONTACT.code])
def test_each_fulfilment_state_against_each_limit(
    shop: Shop, policy: EditPolicy, kind: str, state: str, until: str, code: str
) -> None:
    setattr(policy, f"{kind}_until", until)
    order = fresh_order(shop)
    advance(order, state)
    decision = decide(kind, order, policy, PLACED + timedelta(minutes=1))
    assert decision.code == code
    if code in REFUSALS:
        assert decision.message == REFUSALS[code]


def test_a_shipped_order_is_never_cancelled_whatever_the_policy(
    shop: Shop, policy: EditPolicy
) -> None:
    policy.cancel_until = Until.DELIVERY
    order = fresh_order(shop)
    advance(order, "shipped")
    assert decide(CANCELLATION.code, order, policy, PLACED).code == "shipped"


def test_one_open_request_per_kind(shop: Shop, policy: EditPolicy) -> None:
    order = fresh_order(shop)
    ChangeRequest.objects.create(order=order, kind=ADDRESS.code, status="queued")
    assert decide(ADDRESS.code, order, policy, PLACED).code == "already_requested"
    assert decide(CONTACT.code, order, policy, PLACED)


def test_the_change_limit_counts_applied_and_open_requests(shop: Shop, policy: EditPolicy) -> None:
    policy.max_changes_per_order = 2
    order = fresh_order(shop)
    ChangeRequest.objects.create(order=order, kind=CONTACT.code, status="applied")
    ChangeRequest.objects.create(order=order, kind=CONTACT.code, status="rejected")
    ChangeRequest.objects.create(order=order, kind=CONTACT.code, status="withdrawn")
    assert decide(ADDRESS.code, order, policy, PLACED)
    ChangeRequest.objects.create(order=order, kind=CONTACT.code, status="applied")
    assert decide(ADDRESS.code, order, policy, PLACED).code == "limit_reached"


def test_a_country_change_follows_the_policy(shop: Shop, policy: EditPolicy) -> None:
    order = fresh_order(shop)  # ships to the US
    assert ADDRESS.check(order, policy, {"country_code": "us"})
    refused = ADDRESS.check(order, policy, {"country_code": "CA"})
    assert refused.code == "country_change"
    assert "another country" in str(refused.message)
    policy.allow_country_change = True
    assert ADDRESS.check(order, policy, {"country_code": "CA"})


@pytest.mark.parametrize(
    ("approval", "total", "country", "expected"),
    [
        (Approval.NEVER, "10", "US", False),
        (Approval.ALWAYS, "10", "US", True),
        (Approval.CONDITIONAL, "10", "US", False),
        (Approval.CONDITIONAL, "10", "CA", True),  # the destination country changes
        (Approval.CONDITIONAL, "500.01", "US", True),  # above the amount
        (Approval.CONDITIONAL, "500.00", "US", False),
    ],
)
def test_when_an_agent_must_approve(
    shop: Shop, policy: EditPolicy, approval: str, total: str, country: str, expected: bool
) -> None:
    policy.address_approval = approval
    policy.approval_above_total = Decimal("500")
    order = fresh_order(shop, total=Decimal(total))
    after = {"country_code": country}
    assert ADDRESS.needs_approval(order, policy, after=after) is expected
