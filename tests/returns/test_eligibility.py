"""Return eligibility, table-driven: the window's last day in the shop's time zone, delivery vs
shipping dates, partial quantities, lines returned before, several shipments, exclusions and
country overrides."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from orders.models import LineItem, Order, Shop
from returns import rules
from returns.models import ReturnLine, ReturnPolicy, ReturnRequest
from tests.factories import add_line, make_order, make_shop, ship

TOKYO = ZoneInfo("Asia/Tokyo")
# Delivered at 23:30 on 1 November in Tokyo (14:30 UTC): the 1st counts, not UTC's date.
DELIVERED = datetime(2026, 11, 1, 23, 30, tzinfo=TOKYO)


@pytest.fixture
def shop(db: None) -> Shop:
    return make_shop(time_zone="Asia/Tokyo")


@pytest.fixture
def policy(shop: Shop) -> ReturnPolicy:
    policy = ReturnPolicy.for_shop(shop)
    policy.window_days = 30
    return policy


def delivered_order(shop: Shop, *, quantity: int = 2, **line) -> tuple[Order, LineItem]:  # type: ignore[no-untyped-def]
    order = make_order(shop, placed_at=DELIVERED - timedelta(days=3))
    item = add_line(order, quantity=quantity, **line)
    ship(
        order,
        shipment_status="delivered",
        shipped_at=DELIVERED - timedelta(days=2),
        delivered_at=DELIVERED,
    )
    return order, item


def decide(
    order: Order, item: LineItem, policy: ReturnPolicy, now: datetime
) -> rules.LineEligibility:
    order = Order.objects.get(pk=order.pk)
    item = order.lines.get(pk=item.pk)
    return rules.line_eligibility(order, item, policy, now=now)


@pytest.mark.parametrize(
    ("now", "code"),
    [
        (datetime(2026, 12, 1, 23, 59, 59, tzinfo=TOKYO), "ok"),  # the 30th day, to its end
        (datetime(2026, 12, 2, 0, 0, tzinfo=TOKYO), "window_closed"),
        (datetime(2026, 12, 1, 14, 59, tzinfo=ZoneInfo("UTC")), "ok"),  # 23:59 in Tokyo
        (datetime(2026, 12, 1, 15, 0, tzinfo=ZoneInfo("UTC")), "window_closed"),
    ],
)
def test_the_window_ends_with_its_last_day_in_the_shops_time_zone(
    shop: Shop, policy: ReturnPolicy, now: datetime, code: str
) -> None:
    order, item = delivered_order(shop)
    assert decide(order, item, policy, now).decision.code == code


def test_a_closed_window_says_when_it_closed(shop: Shop, policy: ReturnPolicy) -> None:
    order, item = delivered_order(shop)
    with translation.override("en"):
        result = decide(order, item, policy, DELIVERED + timedelta(days=40))
        assert str(result.decision.message) == "The return window closed on Dec 1, 2026."


@pytest.mark.parametrize(
    ("shipment_status", "returns_from", "code"),
    [
        ("in_transit", "delivery", "not_delivered"),  # the shopper does not have it yet
        ("out_for_delivery", "delivery", "not_delivered"),
        ("failure", "delivery", "delivery_problem"),
        ("attempted_delivery", "shipping", "delivery_problem"),  # never, whatever the policy
        ("in_transit", "shipping", "ok"),  # the policy allows returns from shipping
        ("", "delivery", "ok"),  # a carrier that reports nothing: counted from shipping
    ],
)
def test_what_the_shopper_has_can_be_returned(
    shop: Shop, policy: ReturnPolicy, shipment_status: str, returns_from: str, code: str
) -> None:
    policy.returns_from = returns_from
    order = make_order(shop)
    item = add_line(order)
    ship(order, shipment_status=shipment_status, shipped_at=DELIVERED, delivered_at=None)
    assert decide(order, item, policy, DELIVERED + timedelta(days=1)).decision.code == code


def test_without_a_delivery_date_the_window_counts_from_shipping(
    shop: Shop, policy: ReturnPolicy
) -> None:
    policy.returns_from = "shipping"
    order = make_order(shop)
    item = add_line(order)
    ship(order, shipment_status="in_transit", shipped_at=DELIVERED, delivered_at=None)
    assert decide(order, item, policy, DELIVERED + timedelta(days=30)).decision
    assert not decide(order, item, policy, DELIVERED + timedelta(days=31)).decision


def test_partial_quantities_and_earlier_returns(shop: Shop, policy: ReturnPolicy) -> None:
    order, item = delivered_order(shop, quantity=3)
    now = DELIVERED + timedelta(days=1)
    assert decide(order, item, policy, now).returnable == 3
    earlier = ReturnRequest.objects.create(order=order, number="R1", status="approved")
    ReturnLine.objects.create(request=earlier, line_item=item, quantity=2, resolution="refund")
    assert decide(order, item, policy, now).returnable == 1
    declined = ReturnRequest.objects.create(order=order, number="R2", status="declined")
    ReturnLine.objects.create(request=declined, line_item=item, quantity=1, resolution="refund")
    assert decide(order, item, policy, now).returnable == 1  # a declined return gives back
    ReturnLine.objects.create(request=earlier, line_item=item, quantity=1, resolution="refund")
    assert decide(order, item, policy, now).decision.code == "already_in_a_return"
    ReturnRequest.objects.filter(pk=earlier.pk).update(status="received")
    decision = decide(order, item, policy, now).decision
    assert (decision.code, decision.message) == ("already_returned", "Already returned")


def test_two_parcels_two_windows(shop: Shop, policy: ReturnPolicy) -> None:
    order = make_order(shop)
    item = add_line(order, quantity=2)
    first = ship(
        order,
        [],
        shipped_at=DELIVERED - timedelta(days=20),
        delivered_at=DELIVERED - timedelta(days=20),
        shipment_status="delivered",
    )  # noqa: E501
    second = ship(
        order, [], shipped_at=DELIVERED, delivered_at=DELIVERED, shipment_status="delivered"
    )  # noqa: E501
    first.lines.create(line_item=item, quantity=1)
    second.lines.create(line_item=item, quantity=1)
    # Day 15 after the second parcel: the first's window (day 35) has closed.
    result = decide(order, item, policy, DELIVERED + timedelta(days=15))
    assert result.returnable == 1
    assert result.last_day == DELIVERED.date() + timedelta(days=30)


def test_an_unshipped_line_is_not_returnable_yet(shop: Shop, policy: ReturnPolicy) -> None:
    order = make_order(shop)
    item = add_line(order)
    assert decide(order, item, policy, DELIVERED).decision.code == "not_shipped"


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ({"product_tags": ["final-sale"]}, "final_sale"),
        ({"product_tags": ["Final-Sale-2"]}, "ok"),
        ({"product_type": "Gift card"}, "final_sale"),
        ({"product_type": "Apparel"}, "ok"),
    ],
)
def test_exclusions(shop: Shop, policy: ReturnPolicy, line: dict, code: str) -> None:
    policy.excluded_product_types = ["Gift card"]
    order, item = delivered_order(shop, **line)
    assert decide(order, item, policy, DELIVERED).decision.code == code


def test_a_country_override_changes_the_window_and_the_resolutions(
    shop: Shop, policy: ReturnPolicy
) -> None:
    order, item = delivered_order(shop)  # ships to the US
    policy.country_overrides = {"US": {"window_days": 60, "resolutions": ["refund"]}}
    assert decide(order, item, policy, DELIVERED + timedelta(days=45)).decision
    assert rules.resolutions(order, policy) == ["refund"]
    policy.country_overrides = {"CA": {"window_days": 60}}
    assert not decide(order, item, policy, DELIVERED + timedelta(days=45)).decision
    assert rules.resolutions(order, policy) == ["exchange", "store_credit", "refund"]


def test_switched_off_and_cancelled(shop: Shop, policy: ReturnPolicy) -> None:
    order, item = delivered_order(shop)
    policy.enabled = False
    assert decide(order, item, policy, DELIVERED).decision.code == "switched_off"
    policy.enabled = True
    Order.objects.filter(pk=order.pk).update(cancelled_at=DELIVERED)
    assert decide(order, item, policy, DELIVERED).decision.code == "cancelled"


def test_can_return_explains_the_first_refusal(shop: Shop, policy: ReturnPolicy) -> None:
    order, item = delivered_order(shop, product_tags=["final-sale"])
    assert (
        rules.can_return(Order.objects.get(pk=order.pk), policy, now=DELIVERED).code == "final_sale"
    )
    add_line(order)  # not shipped
    assert not rules.can_return(Order.objects.get(pk=order.pk), policy, now=DELIVERED)


def test_the_policy_refuses_an_unknown_country_override(shop: Shop) -> None:
    from django.core.exceptions import ValidationError

    policy = ReturnPolicy.for_shop(shop)
    for bad in ({"usa": {}}, {"US": {"days": 3}}, {"US": {"resolutions": ["cash"]}}, ["US"]):
        policy.country_overrides = bad
        with pytest.raises(ValidationError):
            policy.full_clean()
