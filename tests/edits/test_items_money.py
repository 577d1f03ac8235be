"""The money of item changes, as a shop's payments really are: only a paid order changes; the
shopper confirms the total they saw, or sees it again; a refund Shopify refuses after the commit
goes to an agent, never back to "failed"; the payment hold joins other holds, survives a lost
answer and ends when the order is cancelled (without thanks for a payment never made); an agent
settles a difference; a discounted line keeps its discount when its size is swapped; stock
limits what more a shopper may ask for."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.utils import timezone

from edits import events
from edits.kinds import items
from edits.kinds.items import ITEMS
from edits.models import ChangeRequest, EditPolicy, WarehouseHold
from orders import access
from orders.models import Order
from sandbox import Sandbox
from shopify import calls, sync
from shopify.calls import EditableOrder, Money, Transaction
from shopify.client import Client as AdminClient
from shopify.client import Permanent, Transient, UserError, UserErrors
from tests.edits.conftest import fail_on, push_failing, variant
from tests.edits.test_items import (
    ask,
    choose,
    made,
    page_of,
    pay,
    push,
    quoted,
    writes,
)

HANDLE = "order-portal-awaiting-payment"


def signed_in(name: str) -> Client:
    """An agent, signed in to the admin."""
    admin = Client()
    admin.force_login(User.objects.create_superuser(name, password="x"))
    return admin


def our_holds(shopify: Sandbox, order: Order) -> list[list[str]]:
    return [
        [hold["handle"] for hold in fo["fulfillment_holds"]]
        for fo in shopify.order_state(order.number)["fulfillment_orders"]
        if fo["status"] != "closed"
    ]


def awaiting(client, order, shopify, capture, run_jobs, **choice) -> ChangeRequest:  # type: ignore[no-untyped-def]
    """A dearer change made in Shopify, waiting for its payment."""
    _preview, request = ask(client, order, capture, **choice)
    with capture(execute=True):
        push(request.pk)
    with capture(execute=True):
        run_jobs()
    request.refresh_from_db()
    assert request.status == "awaiting_payment", (request.failure_code, request.failure_detail)
    return request


def test_an_order_not_yet_paid_is_not_offered_item_changes(client: Client, ordered: Order) -> None:
    Order.objects.filter(pk=ordered.pk).update(financial_status="authorized")
    html = client.get(f"/o/{access.link_token(ordered)}/").content.decode()
    assert "The items can be changed once your payment is complete." in html
    decision = ITEMS.decide(
        Order.objects.get(pk=ordered.pk), EditPolicy.for_shop(ordered.shop), now=timezone.now()
    )
    assert not decision and decision.code == "payment_pending"


def test_an_order_owing_money_in_shopify_is_not_edited(
    client: Client, ordered: Order, shopify: Sandbox, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    _preview, request = ask(
        client, ordered, django_capture_on_commit_callbacks, variant=variant(shopify, "S")
    )
    # Meanwhile the merchant adds a third hoodie in Shopify's admin: the order owes €79.
    admin = AdminClient.for_shop(ordered.shop)
    line = ordered.lines.get()
    edit = calls.stage_edit(
        admin, ordered.shopify_id, quantities={line.shopify_id: 3}, additions=[]
    )
    calls.commit_edit(admin, edit.id, notify=False, staff_note="")

    push(request.pk)

    request.refresh_from_db()
    assert (request.status, request.failure_code) == ("failed", "conflict:payment_pending")
    assert request.failure_text == "The items can be changed once your payment is complete."
    assert writes(shopify, "orderEditCommit") == 1  # the merchant's only
    assert writes(shopify, "refundCreate") == 0


def test_a_partly_refunded_order_may_still_change_its_items(
    client: Client,
    ordered: Order,
    shopify: Sandbox,
    django_capture_on_commit_callbacks,
    run_jobs,
) -> None:  # type: ignore[no-untyped-def]
    # The shop took one hoodie off in its admin and refunded it: €79 of €158 is left paid.
    admin = AdminClient.for_shop(ordered.shop)
    line = ordered.lines.get()
    edit = calls.stage_edit(
        admin, ordered.shopify_id, quantities={line.shopify_id: 1}, additions=[]
    )
    calls.commit_edit(admin, edit.id, notify=False, staff_note="")
    state = calls.editable_order(admin, ordered.shopify_id)
    sale = state.payment_for(Decimal("79"))
    assert sale is not None
    back = Money(Decimal("79.00"), "EUR")
    calls.refund(admin, ordered.shopify_id, amount=back, key="shop", to_payment=sale)
    state = calls.editable_order(admin, ordered.shopify_id)
    assert state.settled and state.financial_status == "PARTIALLY_REFUNDED"
    assert state.payment_for(Decimal("79")) == sale and state.payment_for(Decimal("80")) is None
    with django_capture_on_commit_callbacks(execute=True):
        run_jobs()
    sync.refresh_order(ordered.shop, ordered.shopify_id)
    ordered.refresh_from_db()
    assert ordered.financial_status == "partially_refunded"

    preview, request = made(
        client, ordered, django_capture_on_commit_callbacks, variant=variant(shopify, "S")
    )
    assert "Nothing to pay" in preview
    assert request.status == "applied", (request.failure_code, request.failure_detail)


def test_the_refund_goes_to_a_payment_with_enough_left() -> None:
    def money(amount: str) -> Money:
        return Money(Decimal(amount), "EUR")

    first, second = (
        Transaction("gid://shopify/OrderTransaction/1", "SALE", "SUCCESS", "manual", money("50")),
        Transaction("gid://shopify/OrderTransaction/2", "SALE", "SUCCESS", "manual", money("100")),
    )
    refund = Transaction(
        "gid://shopify/OrderTransaction/3", "REFUND", "SUCCESS", "manual", money("40"), first.id
    )
    order = EditableOrder(
        cancelled=False,
        warehouse_started=False,
        shipped=False,
        delivered=False,
        editable=True,
        not_editable_because=(),
        financial_status="PARTIALLY_REFUNDED",
        received=money("110"),
        outstanding=money("0"),
        payment_url="",
        lines={},
        transactions=(first, second, refund),
    )
    assert order.payment_for(Decimal("10")) == first
    assert order.payment_for(Decimal("30")) == second
    assert order.payment_for(Decimal("101")) is None
    assert order.settled


def test_a_refund_shopify_refuses_after_the_commit_goes_to_an_agent(
    client: Client,
    ordered: Order,
    shopify: Sandbox,
    monkeypatch,
    django_capture_on_commit_callbacks,
    run_jobs,
) -> None:  # type: ignore[no-untyped-def]
    _preview, request = ask(client, ordered, django_capture_on_commit_callbacks, quantity=1)
    refused = UserErrors(
        [UserError.from_payload({"field": ["transactions"], "message": "Gateway declined"})]
    )
    with monkeypatch.context() as patched:
        fail_on(patched, "RefundCreate", refused)
        with django_capture_on_commit_callbacks(execute=True):
            push(request.pk)
    with django_capture_on_commit_callbacks(execute=True):
        run_jobs()

    request.refresh_from_db()
    assert request.status == "applied"  # Shopify has the change: it stands
    assert request.shopify_result["refund_failed"] == "refused"
    assert "Gateway declined" in request.shopify_result["refund_detail"]
    assert writes(shopify, "orderEditCommit") == 1 and writes(shopify, "refundCreate") == 0
    assert ordered.events.filter(kind=events.of("items", "refund_failed").name).exists()
    page = client.get(f"/o/{access.link_token(ordered)}/").content.decode()
    assert "You are owed €79.00: we will contact you about the refund." in page
    assert "Gateway declined" not in page
    made = [m for m in mail.outbox if "was made" in m.subject]
    assert len(made) == 1 and "we will contact you about the refund" in made[0].body

    admin = signed_in("dana")
    queue = admin.get("/admin/edits/changerequest/?queue=refund")
    assert list(queue.context["cl"].result_list) == [request]
    detail = admin.get(f"/admin/edits/changerequest/{request.pk}/change/").content.decode()
    assert "refund not made" in detail and "€79.00" in detail
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(
            "/admin/edits/changerequest/",
            {"action": "refund_made_selected", "_selected_action": [request.pk]},
        )
    run_jobs()
    request.refresh_from_db()
    assert request.shopify_result["refund_made_by"] == "agent:dana"
    assert not admin.get("/admin/edits/changerequest/?queue=refund").context["cl"].result_list
    assert any("Your refund for order" in m.subject for m in mail.outbox)
    page = client.get(f"/o/{access.link_token(ordered)}/").content.decode()
    assert "The refund of €79.00 was made." in page


def test_a_failure_after_the_commit_never_fails_the_change(
    client: Client,
    ordered: Order,
    shopify: Sandbox,
    monkeypatch,
    django_capture_on_commit_callbacks,
) -> None:  # type: ignore[no-untyped-def]
    _preview, request = ask(
        client, ordered, django_capture_on_commit_callbacks, variant=variant(shopify, "L")
    )
    push_failing(monkeypatch, request, "FulfillmentOrderHold", Permanent("access denied"))

    request.refresh_from_db()
    assert request.status == "awaiting_payment"  # not "failed": Shopify has the edit
    assert request.shopify_result["held"] is False
    assert Decimal(request.shopify_result["to_pay"]) == Decimal("10.00")
    page = client.get(f"/o/{access.link_token(ordered)}/").content.decode()
    assert "Please pay the difference of €10.00." in page
    assert "waits at the warehouse" not in page  # nothing holds it


def test_the_payment_hold_joins_another_apps_hold_and_leaves_it(
    client: Client,
    ordered: Order,
    shopify: Sandbox,
    django_capture_on_commit_callbacks,
    run_jobs,
) -> None:  # type: ignore[no-untyped-def]
    shopify.hold(ordered.number, reason="HIGH_RISK_OF_FRAUD", handle="fraud-app")
    request = awaiting(
        client, ordered, shopify, django_capture_on_commit_callbacks, run_jobs, quantity=3
    )
    assert request.shopify_result["held"] is True
    assert our_holds(shopify, ordered) == [["fraud-app", HANDLE]]

    pay(shopify, ordered, django_capture_on_commit_callbacks, run_jobs)
    request.refresh_from_db()
    assert request.status == "applied" and request.shopify_result["paid"] is True
    assert our_holds(shopify, ordered) == [["fraud-app"]]


def test_a_hold_whose_answer_was_lost_is_found_not_placed_again(
    client: Client,
    ordered: Order,
    shopify: Sandbox,
    monkeypatch,
    django_capture_on_commit_callbacks,
) -> None:  # type: ignore[no-untyped-def]
    _preview, request = ask(client, ordered, django_capture_on_commit_callbacks, quantity=3)
    push_failing(
        monkeypatch, request, "FulfillmentOrderHold", Transient("no answer in time"), after=True
    )
    request.refresh_from_db()
    assert request.status == "queued" and request.shopify_result["committed"] is True
    ChangeRequest.objects.filter(pk=request.pk).update(next_attempt_at=timezone.now())

    push(request.pk)

    request.refresh_from_db()
    assert request.status == "awaiting_payment" and request.shopify_result["held"] is True
    assert writes(shopify, "orderEditCommit") == 1
    assert writes(shopify, "fulfillmentOrderHold") == 1
    assert our_holds(shopify, ordered) == [[HANDLE]]
    hold = WarehouseHold.objects.get(order=ordered)
    fulfillment_order = shopify.order_state(ordered.number)["fulfillment_orders"][0]
    assert hold.hold_gid == fulfillment_order["fulfillment_holds"][0]["id"]


def test_an_order_cancelled_while_its_difference_waits_is_closed_without_thanks(
    client: Client,
    ordered: Order,
    shopify: Sandbox,
    django_capture_on_commit_callbacks,
    run_jobs,
) -> None:  # type: ignore[no-untyped-def]
    request = awaiting(
        client,
        ordered,
        shopify,
        django_capture_on_commit_callbacks,
        run_jobs,
        variant=variant(shopify, "L"),
    )
    subjects_before = [m.subject for m in mail.outbox]

    with django_capture_on_commit_callbacks(execute=True):
        shopify.cancel(ordered.number)
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            run_jobs()

    request.refresh_from_db()
    assert request.status == "applied"
    assert request.shopify_result["payment_closed"] == "order_cancelled"
    assert "paid" not in request.shopify_result
    new = [m.subject for m in mail.outbox][len(subjects_before) :]
    assert not [s for s in new if "was made" in s or "is paid" in s], new
    hold = WarehouseHold.objects.get(order=ordered)
    assert hold.released_because == "cancelled"
    assert ordered.events.filter(kind=events.of("items", "payment_closed").name).exists()


def test_a_difference_the_shop_takes_away_is_closed_not_paid(
    client: Client,
    ordered: Order,
    shopify: Sandbox,
    django_capture_on_commit_callbacks,
    run_jobs,
) -> None:  # type: ignore[no-untyped-def]
    request = awaiting(
        client, ordered, shopify, django_capture_on_commit_callbacks, run_jobs, quantity=3
    )
    # The merchant takes the third hoodie off again in Shopify's admin: nothing is owed.
    admin = AdminClient.for_shop(ordered.shop)
    line = ordered.lines.get()
    edit = calls.stage_edit(
        admin, ordered.shopify_id, quantities={line.shopify_id: 2}, additions=[]
    )
    with django_capture_on_commit_callbacks(execute=True):
        calls.commit_edit(admin, edit.id, notify=False, staff_note="")
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            run_jobs()

    request.refresh_from_db()
    assert request.status == "applied"
    assert request.shopify_result["payment_closed"] == "no_longer_owed"
    assert WarehouseHold.objects.get(order=ordered).released_because == "no_longer_owed"
    assert our_holds(shopify, ordered) == [[]]


def test_an_agent_settles_a_difference_and_the_warehouse_goes_on(
    client: Client,
    ordered: Order,
    shopify: Sandbox,
    django_capture_on_commit_callbacks,
    run_jobs,
) -> None:  # type: ignore[no-untyped-def]
    request = awaiting(
        client, ordered, shopify, django_capture_on_commit_callbacks, run_jobs, quantity=3
    )
    admin = signed_in("dana")
    assert list(admin.get("/admin/edits/changerequest/?queue=payment").context["cl"].result_list)
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(
            "/admin/edits/changerequest/",
            {"action": "settle_payment_selected", "_selected_action": [request.pk]},
        )
    run_jobs()

    request.refresh_from_db()
    assert request.status == "applied" and request.shopify_result["settled_by"] == "agent:dana"
    assert our_holds(shopify, ordered) == [[]]
    page = client.get(f"/o/{access.link_token(ordered)}/").content.decode()
    assert "The difference is settled" in page


def test_the_total_changing_after_the_preview_is_shown_again_before_anything_is_asked(
    client: Client, ordered: Order, shopify: Sandbox
) -> None:
    data = choose(ordered, variant=variant(shopify, "L"))
    preview = client.post(page_of(ordered), {**data, "step": "preview"})
    assert "You pay €10.00 more." in preview.content.decode()
    with shopify.store.lock:
        shopify.store.variant(variant(shopify, "L")).price = Decimal("89.00")

    again = client.post(page_of(ordered), {**data, "step": "confirm", "quoted": quoted(preview)})

    assert again.status_code == 409
    html = again.content.decode()
    assert "The total changed since you looked." in html and "You pay €20.00 more." in html
    assert not ChangeRequest.objects.exists()
    confirmed = client.post(page_of(ordered), {**data, "step": "confirm", "quoted": quoted(again)})
    assert confirmed.status_code == 302
    request = ChangeRequest.objects.get()
    assert request.after["quote"]["total"] in ("178.00", "178.0", "178")


def test_a_forged_total_is_not_confirmed(client: Client, ordered: Order, shopify: Sandbox) -> None:
    data = choose(ordered, variant=variant(shopify, "L"))
    forged = client.post(page_of(ordered), {**data, "step": "confirm", "quoted": "a:b:c"})
    assert forged.status_code == 409 and not ChangeRequest.objects.exists()


def test_stock_limits_what_more_a_shopper_may_ask_for(
    client: Client, ordered: Order, shopify: Sandbox
) -> None:
    line = ordered.lines.get()
    field = f"quantity_{line.pk}"
    html = client.get(page_of(ordered)).content.decode()
    assert '<option value="7">' in html and '<option value="8">' not in html  # 2 + 5 more
    shopify.set_stock("HOOD-M", 1)
    from django.core.cache import cache

    cache.clear()  # the catalogue is cached for a minute
    html = client.get(page_of(ordered)).content.decode()
    assert '<option value="3">' in html and '<option value="4">' not in html
    too_many = client.post(page_of(ordered), {**choose(ordered), field: "4", "step": "preview"})
    assert too_many.status_code == 422

    shopify.set_stock("HOOD-L", 1)
    cache.clear()
    swap = client.post(
        page_of(ordered), {**choose(ordered, variant=variant(shopify, "L")), "step": "preview"}
    )
    assert swap.status_code == 422
    assert "We do not have that many in stock." in swap.content.decode()


def test_stock_sold_meanwhile_commits_no_larger_quantity(
    client: Client, ordered: Order, shopify: Sandbox, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    _preview, request = ask(client, ordered, django_capture_on_commit_callbacks, quantity=4)
    shopify.set_stock("HOOD-M", 1)
    push(request.pk)
    request.refresh_from_db()
    assert (request.status, request.failure_code) == ("failed", "conflict:sold_out")
    assert writes(shopify, "orderEditCommit") == 0


def test_agents_see_the_lines_that_change_and_the_totals(
    client: Client, ordered: Order, shopify: Sandbox, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    _preview, request = ask(
        client, ordered, django_capture_on_commit_callbacks, variant=variant(shopify, "L")
    )
    rows = ITEMS.compare(request)
    assert rows == [
        ("Trail hoodie · M", 2, 0),
        ("Trail hoodie · L", 0, 2),
        ("total", "€158.00", "€168.00"),
    ]


def discounted(order: Order, shopify: Sandbox, capture, run_jobs) -> None:  # type: ignore[no-untyped-def]
    """The shop took €10 off each hoodie after the order (a line discount), and refunded it."""
    store = shopify.store
    with store.lock:
        session = store.begin_edit(store.order(order.number))
        store.add_edit_discount(session, session.lines[0], description="Sorry", fixed=Decimal(10))
        store.commit_edit(session, notify=False, staff_note=None)
    admin = AdminClient.for_shop(order.shop)
    state = calls.editable_order(admin, order.shopify_id)
    calls.refund(
        admin,
        order.shopify_id,
        amount=Money(Decimal("20.00"), "EUR"),
        key="sorry",
        to_payment=state.payment_for(Decimal(20)),
    )
    with capture(execute=True):
        run_jobs()
    sync.refresh_order(order.shop, order.shopify_id)
    line = order.lines.get()
    assert (line.price, line.unit_paid) == (Decimal("79.00"), Decimal("69.00"))


def test_a_discounted_line_swapped_at_the_same_price_costs_nothing_more(
    client: Client,
    ordered: Order,
    shopify: Sandbox,
    django_capture_on_commit_callbacks,
    run_jobs,
) -> None:  # type: ignore[no-untyped-def]
    discounted(ordered, shopify, django_capture_on_commit_callbacks, run_jobs)

    preview, request = made(
        client, ordered, django_capture_on_commit_callbacks, variant=variant(shopify, "S")
    )
    assert "Nothing to pay" in preview
    assert request.status == "applied", (request.failure_code, request.failure_detail)
    assert writes(shopify, "refundCreate") == 1  # the shop's "sorry" only
    assert "to_pay" not in request.shopify_result and "refunded" not in request.shopify_result
    small = [
        line for line in shopify.order_state(ordered.number)["line_items"]
        if line["variant_title"] == "S"
    ]  # fmt: skip
    assert [Decimal(str(line["price"])) for line in small] == [Decimal("79.00")]


@pytest.fixture(autouse=True)
def _fresh_catalogue() -> None:
    from django.core.cache import cache

    cache.clear()


def test_redis_down_when_the_shopper_confirms_loses_nothing_and_charges_once(
    client: Client,
    ordered: Order,
    shopify: Sandbox,
    monkeypatch,
    django_capture_on_commit_callbacks,
    run_jobs,
) -> None:  # type: ignore[no-untyped-def]
    import django_rq
    from redis.exceptions import ConnectionError as RedisConnectionError

    from shopify import outbox

    real = django_rq.get_queue

    def down(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RedisConnectionError("Redis is down")

    data = choose(ordered, variant=variant(shopify, "L"))
    preview = client.post(page_of(ordered), {**data, "step": "preview"})
    monkeypatch.setattr(django_rq, "get_queue", down)
    with django_capture_on_commit_callbacks(execute=True):  # the push finds Redis down
        confirmed = client.post(
            page_of(ordered), {**data, "step": "confirm", "quoted": quoted(preview)}
        )
    assert confirmed.status_code == 302
    request = ChangeRequest.objects.get()
    assert request.status == "queued"  # saved: the shopper's change is not lost
    monkeypatch.setattr(django_rq, "get_queue", real)
    ChangeRequest.objects.filter(pk=request.pk).update(
        next_attempt_at=timezone.now() - timedelta(minutes=5)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.sweep() == 1
    with django_capture_on_commit_callbacks(execute=True):
        run_jobs()
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.sweep() == 0  # nothing left to send: the edit is not made again
    request.refresh_from_db()
    assert request.status == "awaiting_payment"
    assert writes(shopify, "orderEditCommit") == 1
    assert writes(shopify, "fulfillmentOrderHold") == 1


def test_items_added_to_a_swapped_size_do_not_take_its_discount(
    client: Client,
    ordered: Order,
    shopify: Sandbox,
    django_capture_on_commit_callbacks,
    run_jobs,
) -> None:  # type: ignore[no-untyped-def]
    discounted(ordered, shopify, django_capture_on_commit_callbacks, run_jobs)
    hoodie = ordered.lines.get().product_id
    with shopify.store.lock:
        shopify.store.products[hoodie].tags = ("add-on",)
    EditPolicy.objects.filter(shop=ordered.shop).update(items_add_tag="add-on")
    small = variant(shopify, "S")
    data = {**choose(ordered, variant=small), "add_variant": str(small), "add_quantity": "1"}

    preview = client.post(page_of(ordered), {**data, "step": "preview"})

    # Two at what was paid (€69), one more at the price (€79): €138 -> €217.
    html = preview.content.decode()
    assert preview.status_code == 200, html[:2000]
    assert "You pay €79.00 more." in html
    with django_capture_on_commit_callbacks(execute=False):
        client.post(page_of(ordered), {**data, "step": "confirm", "quoted": quoted(preview)})
    request = ChangeRequest.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        push(request.pk)
    request.refresh_from_db()
    assert request.status == "awaiting_payment", (request.failure_code, request.failure_detail)
    prices = sorted(
        (Decimal(str(line["price"])), line["current_quantity"])
        for line in shopify.order_state(ordered.number)["line_items"]
        if line["variant_title"] == "S"
    )
    assert prices == [(Decimal("79.00"), 1), (Decimal("79.00"), 2)]


def test_the_shops_own_identical_change_is_not_taken_for_ours(
    client: Client, ordered: Order, shopify: Sandbox, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    _preview, request = ask(client, ordered, django_capture_on_commit_callbacks, quantity=1)
    # Before the request is sent, the merchant removes the hoodie and refunds it themselves.
    admin = AdminClient.for_shop(ordered.shop)
    line = ordered.lines.get()
    edit = calls.stage_edit(
        admin, ordered.shopify_id, quantities={line.shopify_id: 1}, additions=[]
    )
    calls.commit_edit(admin, edit.id, notify=False, staff_note="")
    state = calls.editable_order(admin, ordered.shopify_id)
    back = Money(Decimal("79.00"), "EUR")
    calls.refund(
        admin,
        ordered.shopify_id,
        amount=back,
        key="shop",
        to_payment=state.payment_for(back.amount),
    )

    push(request.pk)

    request.refresh_from_db()
    assert (request.status, request.failure_code) == ("failed", "conflict:changed_meanwhile")
    assert writes(shopify, "refundCreate") == 1  # the merchant's only: no second refund


def test_a_commit_answer_lost_on_the_last_attempt_is_not_called_a_failure_of_the_change(
    client: Client,
    ordered: Order,
    shopify: Sandbox,
    monkeypatch,
    django_capture_on_commit_callbacks,
) -> None:  # type: ignore[no-untyped-def]
    from shopify import outbox

    _preview, request = ask(client, ordered, django_capture_on_commit_callbacks, quantity=1)
    ChangeRequest.objects.filter(pk=request.pk).update(attempts=outbox.MAX_ATTEMPTS - 1)
    push_failing(
        monkeypatch, request, "OrderEditCommit", Transient("no answer in time"), after=True
    )
    request.refresh_from_db()
    assert (request.status, request.failure_code) == ("failed", "unconfirmed")
    assert "could not confirm" in request.failure_text

    admin = signed_in("dana")
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(
            "/admin/edits/changerequest/",
            {"action": "retry_selected", "_selected_action": [request.pk]},
        )
    push(request.pk)
    request.refresh_from_db()
    assert request.status == "applied"
    assert Decimal(request.shopify_result["refunded"]) == Decimal("79.00")
    assert writes(shopify, "orderEditCommit") == 1 and writes(shopify, "refundCreate") == 1


def test_a_refund_answer_lost_on_the_last_attempt_asks_agents_to_check_first(
    client: Client,
    ordered: Order,
    shopify: Sandbox,
    monkeypatch,
    django_capture_on_commit_callbacks,
) -> None:  # type: ignore[no-untyped-def]
    from shopify import outbox

    _preview, request = ask(client, ordered, django_capture_on_commit_callbacks, quantity=1)
    with monkeypatch.context() as patched:
        fail_on(patched, "RefundCreate", Transient("no answer in time"), after=True)
        push(request.pk)
        ChangeRequest.objects.filter(pk=request.pk).update(
            attempts=outbox.MAX_ATTEMPTS, next_attempt_at=timezone.now()
        )
        push(request.pk)
    request.refresh_from_db()
    assert request.status == "applied"
    assert request.shopify_result["refund_failed"] == "unconfirmed"
    rows = {what: after for what, _before, after in ITEMS.compare(request)}
    assert rows["refund not confirmed: check Shopify"] == "€79.00"
    assert writes(shopify, "refundCreate") == 1


def test_a_hold_never_recorded_is_released_when_the_difference_is_settled(
    client: Client,
    ordered: Order,
    shopify: Sandbox,
    monkeypatch,
    django_capture_on_commit_callbacks,
    run_jobs,
) -> None:  # type: ignore[no-untyped-def]
    from shopify import outbox

    _preview, request = ask(client, ordered, django_capture_on_commit_callbacks, quantity=3)
    ChangeRequest.objects.filter(pk=request.pk).update(attempts=outbox.MAX_ATTEMPTS - 1)
    push_failing(
        monkeypatch, request, "FulfillmentOrderHold", Transient("no answer in time"), after=True
    )
    request.refresh_from_db()
    assert request.status == "awaiting_payment" and request.shopify_result["held"] is False
    assert our_holds(shopify, ordered) == [[HANDLE]]  # in Shopify, not recorded

    from edits import actions
    from orders.actors import Actor

    with django_capture_on_commit_callbacks(execute=True):
        actions.settle_payment(request=request, actor=Actor(Actor.AGENT, "dana"))
    run_jobs()
    assert our_holds(shopify, ordered) == [[]]


def test_a_payment_hold_whose_release_was_lost_is_released_by_the_scheduler(
    client: Client,
    ordered: Order,
    shopify: Sandbox,
    django_capture_on_commit_callbacks,
    run_jobs,
) -> None:  # type: ignore[no-untyped-def]
    from edits import actions, holds

    request = awaiting(
        client, ordered, shopify, django_capture_on_commit_callbacks, run_jobs, quantity=3
    )
    shopify.pay_balance(ordered.number)
    actions.mark_paid(request=request)  # its release job lost (not run: no commit callbacks)
    assert our_holds(shopify, ordered) == [[HANDLE]]

    with django_capture_on_commit_callbacks(execute=True):
        assert holds.release_due() == 1
    run_jobs()

    assert our_holds(shopify, ordered) == [[]]
    assert WarehouseHold.objects.get(order=ordered).released_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        assert holds.release_due() == 0


def test_a_confirmation_holds_for_the_plan_previewed_only(
    client: Client, ordered: Order, shopify: Sandbox
) -> None:
    from django.core import signing

    from edits.kinds import items

    data = choose(ordered, variant=variant(shopify, "S"))
    preview = client.post(page_of(ordered), {**data, "step": "preview"})
    shown = signing.loads(quoted(preview), salt=items.QUOTE_SALT)
    other = signing.dumps({**shown, "plan": f"{ordered.pk}:[]:[]"}, salt=items.QUOTE_SALT)
    response = client.post(page_of(ordered), {**data, "step": "confirm", "quoted": other})
    assert response.status_code == 409 and not ChangeRequest.objects.exists()


@pytest.mark.parametrize("ordered", [("GBP", Decimal("0.85"))], indirect=True)
def test_an_order_in_another_currency_than_the_shops_pays_in_its_own(
    client: Client,
    ordered: Order,
    shopify: Sandbox,
    django_capture_on_commit_callbacks,
    run_jobs,
) -> None:  # type: ignore[no-untyped-def]
    # The shop sells in euros (L is €5 dearer); the order was paid in pounds at 0.85.
    preview, request = ask(
        client, ordered, django_capture_on_commit_callbacks, variant=variant(shopify, "L")
    )
    assert "You pay £8.50 more." in preview and "€" not in preview.split("<main")[-1]
    with django_capture_on_commit_callbacks(execute=True):
        push(request.pk)
    with django_capture_on_commit_callbacks(execute=True):
        run_jobs()
    request.refresh_from_db()
    assert request.status == "awaiting_payment", (request.failure_code, request.failure_detail)
    assert (request.shopify_result["to_pay"], request.shopify_result["currency"]) in (
        ("8.50", "GBP"),
        ("8.5", "GBP"),
    )
    page = client.get(f"/o/{access.link_token(ordered)}/").content.decode()
    assert "Pay £8.50 now" in page


def test_an_order_of_a_hundred_and_twenty_lines_changes_its_last(
    client: Client,
    connected_shop,
    shopify: Sandbox,
    django_capture_on_commit_callbacks,
    run_jobs,
) -> None:  # type: ignore[no-untyped-def]
    from sandbox import NewLine
    from tests.sandbox_link import WEBHOOK_URL

    EditPolicy.objects.create(shop=connected_shop, items_enabled=True)
    shopify.webhooks.configure(target=WEBHOOK_URL)
    lines = [
        NewLine(title=f"Sticker {n}", price=Decimal("2.00"), quantity=2, sku=f"ST-{n}")
        for n in range(1, 121)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        shopify.create_order(lines=lines, email="bulk@example.com", currency="EUR")
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            run_jobs()
    order = Order.objects.get(shop=connected_shop)
    assert order.lines.count() == 120
    last = order.lines.get(sku="ST-120")

    data = {f"quantity_{line.pk}": str(line.quantity) for line in order.lines.all()}
    data[f"quantity_{last.pk}"] = "1"
    preview = client.post(page_of(order), {**data, "step": "preview"})
    assert preview.status_code == 200, preview.content[:2000]
    assert "€2.00 goes back to your original payment method." in preview.content.decode()
    with django_capture_on_commit_callbacks(execute=False):
        client.post(page_of(order), {**data, "step": "confirm", "quoted": quoted(preview)})
    request = ChangeRequest.objects.get()
    push(request.pk)

    request.refresh_from_db()
    assert request.status == "applied", (request.failure_code, request.failure_detail)
    assert Decimal(request.shopify_result["refunded"]) == Decimal("2.00")
    state = shopify.order_state(order.number)
    assert [line["current_quantity"] for line in state["line_items"]][-2:] == [2, 1]


def test_an_order_of_more_lines_than_shopify_answers_at_once_is_left_to_agents(
    ordered: Order,
) -> None:
    from tests.factories import add_line

    for n in range(items.MAX_LINES):
        add_line(ordered, title=f"Sticker {n}", quantity=1)
    decision = ITEMS.decide(
        Order.objects.get(pk=ordered.pk), EditPolicy.for_shop(ordered.shop), now=timezone.now()
    )
    assert not decision and decision.code == "too_many_lines"
