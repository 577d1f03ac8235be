"""Asking for a return: the rules asked again under the lock, quantities, reasons and photos,
the resolutions a destination allows, automatic approval, and the state machine."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.actors import Actor
from orders.models import Order, Shop
from returns import actions, events
from returns.actions import ReturnItem
from returns.models import ReturnPolicy, ReturnReason, ReturnRequest
from tests.factories import add_line, make_order, make_shop, ship

DANA = Actor(Actor.AGENT, "dana")


@pytest.fixture
def shop(db: None) -> Shop:
    return make_shop()


@pytest.fixture
def policy(shop: Shop) -> ReturnPolicy:
    policy = ReturnPolicy.for_shop(shop)
    policy.save()
    ReturnReason.objects.create(policy=policy, code="too-small", labels={"en": "Too small"})
    ReturnReason.objects.create(
        policy=policy, code="damaged", labels={"en": "Arrived damaged"}, photo_required=True,
        auto_approved=True,
    )  # fmt: skip
    return policy


@pytest.fixture
def order(shop: Shop) -> Order:
    order = make_order(shop)
    add_line(order, quantity=2, price=Decimal("40.00"))
    ship(order, shipment_status="delivered", delivered_at=timezone.now() - timedelta(days=2))
    return order


def item(order: Order, **overrides) -> ReturnItem:  # type: ignore[no-untyped-def]
    values = {
        "line_id": order.lines.get().pk,
        "quantity": 1,
        "reason": "too-small",
        "resolution": "exchange",
        "exchange_variant_id": 7001,
        "exchange_variant_title": "L",
        "exchange_price": Decimal("40.00"),
    }
    values.update(overrides)
    return ReturnItem(**values)


def test_a_return_is_requested_numbered_and_logged(order: Order, policy: ReturnPolicy) -> None:
    first = actions.request_return(order=order, items=[item(order)])
    assert first.number == f"R{order.number}-1" and first.status == "requested"
    (line,) = first.lines.all()
    assert line.quantity == 1 and line.reason_code == "too-small"
    assert line.reason_label == "Too small"  # as the shopper read it
    assert line.exchange_variant_title == "L"
    assert order.events.filter(kind=events.REQUESTED.name).exists()
    second = actions.request_return(order=order, items=[item(order)])
    assert second.number == f"R{order.number}-2"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"quantity": 3}, "quantity"),
        ({"quantity": 0}, "quantity"),
        ({"reason": "bored"}, "reason"),
        ({"reason": "damaged"}, "photo"),
        ({"resolution": "cash"}, "resolution"),
        ({"line_id": 999_999}, "unknown_item"),
        ({"exchange_variant_id": None}, "exchange"),
    ],
)
def test_a_wrong_request_is_refused_and_changes_nothing(
    order: Order, policy: ReturnPolicy, overrides: dict, code: str
) -> None:
    with pytest.raises(actions.NotAllowed) as refused:
        actions.request_return(order=order, items=[item(order, **overrides)])
    assert refused.value.decision.code == code
    assert not ReturnRequest.objects.exists()


def test_what_was_asked_back_cannot_be_asked_again(order: Order, policy: ReturnPolicy) -> None:
    actions.request_return(order=order, items=[item(order, quantity=2)])
    with pytest.raises(actions.NotAllowed) as refused:
        actions.request_return(order=order, items=[item(order)])
    # Asked back, not yet received: said as it is, not "already returned".
    assert refused.value.decision.code == "already_in_a_return"


def test_a_country_override_limits_the_resolutions(order: Order, policy: ReturnPolicy) -> None:
    policy.country_overrides = {"US": {"resolutions": ["refund"]}}
    policy.save()
    with pytest.raises(actions.NotAllowed):
        actions.request_return(order=order, items=[item(order, resolution="exchange")])
    assert actions.request_return(order=order, items=[item(order, resolution="refund")])


@pytest.mark.parametrize(
    ("auto", "under", "reason", "approved"),
    [
        ("none", None, "too-small", False),
        ("all", None, "too-small", True),
        ("under_amount", "50.00", "too-small", True),  # one item at 40
        ("under_amount", "40.00", "too-small", False),
        ("reasons", None, "damaged", True),
        ("reasons", None, "too-small", False),
    ],
)
def test_automatic_approval(
    order: Order, policy: ReturnPolicy, auto: str, under: str | None, reason: str, approved: bool
) -> None:
    order.exchange_rate = Decimal(1)  # dollars and the shop's euros at par, to keep it simple
    order.save()
    policy.auto_approval = auto
    policy.auto_approval_under = Decimal(under) if under else None
    policy.save()
    request = actions.request_return(
        order=order, items=[item(order, reason=reason, photo="returns/photos/x.jpg")]
    )
    assert (request.status == "approved") is approved
    assert order.events.filter(kind=events.APPROVED.name).exists() is approved


@pytest.mark.parametrize(
    ("rate", "under", "approved"),
    [
        ("0.85", "47.10", True),  # 40 pounds are 47.06 euros
        ("0.85", "47.06", False),
        (None, "1000.00", False),  # the rate not known yet: an agent decides
    ],
)
def test_the_approval_threshold_is_in_the_shops_currency(
    order: Order, policy: ReturnPolicy, rate: str | None, under: str, approved: bool
) -> None:
    order.currency, order.exchange_rate = "GBP", Decimal(rate) if rate else None
    order.save()
    policy.auto_approval, policy.auto_approval_under = "under_amount", Decimal(under)
    policy.save()
    request = actions.request_return(order=order, items=[item(order)])
    assert (request.status == "approved") is approved


def test_the_state_machine(order: Order, policy: ReturnPolicy) -> None:
    request = actions.request_return(order=order, items=[item(order)])
    declined = actions.decline(request=request, actor=DANA, reason="Worn")
    assert declined.status == "declined" and declined.decline_reason == "Worn"
    with pytest.raises(actions.WrongState):
        actions.approve(request=declined, actor=DANA)
    # A declined return gives its items back to the shopper.
    again = actions.request_return(order=order, items=[item(order, quantity=2)])
    actions.approve(request=again, actor=DANA)
    assert actions.cancel(request=again).status == "cancelled"


def test_an_order_with_nothing_shipped_has_nothing_to_return(policy: ReturnPolicy) -> None:
    other = make_order(make_shop())
    add_line(other)
    with pytest.raises(actions.NotAllowed):
        actions.request_return(order=other, items=[item(other)])


def test_without_merchant_reasons_the_built_in_ones_apply(order: Order) -> None:
    request = actions.request_return(
        order=order, items=[item(order, reason="too_large", resolution="refund")], language="de"
    )
    (line,) = request.lines.all()
    assert (line.reason_code, line.reason_label) == ("too_large", "Zu groß")
    with pytest.raises(actions.NotAllowed) as refused:
        actions.request_return(order=order, items=[item(order, reason="damaged")])
    assert refused.value.decision.code == "photo"


def test_the_amounts_agreed_are_kept_with_the_return(order: Order, policy: ReturnPolicy) -> None:
    policy.restocking_fee_percent = Decimal("10")
    policy.return_shipping_fee = Decimal("4.50")
    policy.store_credit_bonus_percent = Decimal("10")
    policy.save()
    request = actions.request_return(
        order=order, items=[item(order, quantity=2, resolution="store_credit")]
    )
    # 80.00 + 10% bonus = 88.00, less 8.00 restocking and 4.50 shipping.
    assert request.quote["credit"] == "75.50"
    assert request.quote["credit_bonus"] == "8.00"
    assert (request.quote["restocking_fee"], request.quote["shipping_fee"]) == ("8.00", "4.50")


def test_refunded_items_are_counted_once(order: Order, policy: ReturnPolicy) -> None:
    """A settled return's items leave through Shopify's refund (the line's current quantity),
    not twice through the return as well."""
    request = actions.request_return(order=order, items=[item(order, resolution="refund")])
    with pytest.raises(actions.NotAllowed):
        actions.request_return(order=order, items=[item(order, quantity=2)])
    actions.approve(request=request, actor=DANA)
    actions.follow_shopify(request=request, shopify_status="OPEN", processed=True)
    order.lines.update(quantity=1)  # Shopify refunded one: current quantity 1
    assert actions.request_return(order=order, items=[item(order, quantity=1)])
    order.lines.update(quantity=0)
    with pytest.raises(actions.NotAllowed) as refused:
        actions.request_return(order=order, items=[item(order, quantity=1)])
    assert refused.value.decision.code in ("refunded", "already_returned")


def test_return_numbers_are_per_order_and_shops_share_order_numbers(policy: ReturnPolicy) -> None:
    """Every shop counts its orders from #1001."""
    numbers = []
    for shop in (make_shop(), make_shop()):
        twin = make_order(shop, number=1001)
        add_line(twin, quantity=1, price=Decimal("10.00"))
        ship(twin, shipment_status="delivered", delivered_at=timezone.now())
        chosen = item(twin, reason="too_small")  # these shops have the built-in reasons
        numbers.append(actions.request_return(order=twin, items=[chosen]).number)
    assert numbers == ["R1001-1", "R1001-1"]


def test_a_return_closed_without_a_refund_still_holds_its_items(
    order: Order, policy: ReturnPolicy
) -> None:
    request = actions.request_return(order=order, items=[item(order, quantity=2)])
    actions.follow_shopify(request=request, shopify_status="CLOSED")  # approved, then closed
    request.refresh_from_db()
    assert request.status == "closed"
    with pytest.raises(actions.NotAllowed) as refused:
        actions.request_return(order=order, items=[item(order, quantity=1)])
    assert refused.value.decision.code == "already_returned"


@pytest.mark.parametrize(
    ("shopify", "processed", "path"),
    [
        ("OPEN", False, ["approved"]),
        ("OPEN", True, ["approved", "resolved"]),
        ("CLOSED", False, ["approved", "closed"]),
        ("CLOSED", True, ["approved", "resolved", "closed"]),
        ("DECLINED", False, ["declined"]),
        ("CANCELED", False, ["cancelled"]),
        ("REQUESTED", False, []),
    ],
)
def test_a_waiting_return_walks_to_where_shopify_is(
    order: Order, policy: ReturnPolicy, shopify: str, processed: bool, path: list[str]
) -> None:
    """Webhooks come late: what Shopify's admin did in several steps is followed step by step,
    each step in the audit log."""
    request = actions.request_return(order=order, items=[item(order)])
    followed = actions.follow_shopify(request=request, shopify_status=shopify, processed=processed)
    assert followed.status == (path[-1] if path else "requested")
    by_shopify = order.events.filter(kind__startswith="returns.", actor="shopify")
    kinds = list(by_shopify.exclude(kind=events.OPENED.name).values_list("kind", flat=True))
    assert kinds == [f"returns.{status}" for status in path]
    # Once Shopify has it open (and the slip is good to use), that is logged too: the shopper
    # hears of it with the slip.
    opened = by_shopify.filter(kind=events.OPENED.name).exists()
    assert opened is (followed.status == "approved" and shopify == "OPEN")


def test_a_discounted_item_gives_back_what_was_paid(order: Order, policy: ReturnPolicy) -> None:
    """40.00 each before a 25 % discount: a refund is worth 30.00, not the list price."""
    order.lines.update(paid_price=Decimal("30.00"))
    request = actions.request_return(
        order=order, items=[item(order, quantity=2, resolution="refund")]
    )
    assert request.quote["refund"] == "60.00"


def test_fees_an_exchange_does_not_cover_are_shown_as_to_pay(
    order: Order, policy: ReturnPolicy
) -> None:
    policy.fees_waived_for_exchanges = False
    policy.return_shipping_fee = Decimal("5.00")
    policy.save()
    request = actions.request_return(order=order, items=[item(order)])
    assert (request.quote["refund"], request.quote["credit"]) == ("0.00", "0.00")
    assert request.quote["fees_due"] == "5.00"
