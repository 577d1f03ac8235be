"""Item changes reach Shopify as one order edit (the sandbox store, in process): a swap at the
same price, a dearer one paid on Shopify's payment page while the warehouse waits, a cheaper one
refunded once; the warehouse, the price or the stock moving between the preview and the commit;
an answer lost after the commit; the merchant's limits."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone

from edits import actions, events
from edits.kinds.items import ITEMS
from edits.models import ChangeRequest, EditPolicy, WarehouseHold
from orders import access
from orders.models import Order
from sandbox import Sandbox
from shopify import outbox, sync
from shopify.client import Transient
from tests.edits.conftest import fail_on, push_failing, variant

CHANNEL = "edits.change"


def page_of(order: Order) -> str:
    return f"/o/{access.link_token(order)}/change/items/"


def choose(order: Order, **choice: object) -> dict[str, str]:
    """The form as a browser sends it: every line as it is, but for `variant`/`quantity`."""
    line = order.lines.get()
    data = {f"quantity_{line.pk}": str(line.quantity), f"variant_{line.pk}": str(line.variant_id)}
    if "variant" in choice:
        data[f"variant_{line.pk}"] = str(choice["variant"])
    if "quantity" in choice:
        data[f"quantity_{line.pk}"] = str(choice["quantity"])
    return data


def ask(
    client: Client, order: Order, capture: Callable, **choice: object
) -> tuple[str, ChangeRequest]:  # type: ignore[type-arg]
    """Preview, then confirm; the preview's page and the request made."""
    data = choose(order, **choice)
    preview = client.post(page_of(order), {**data, "step": "preview"})
    assert preview.status_code == 200, preview.content[:2000]
    with capture(execute=False):
        confirmed = client.post(
            page_of(order), {**data, "step": "confirm", "quoted": quoted(preview)}
        )
    assert confirmed.status_code == 302, confirmed.content[:2000]
    return preview.content.decode(), ChangeRequest.objects.get(order=order, kind="items")


def made(
    client: Client, order: Order, capture: Callable, **choice: object
) -> tuple[str, ChangeRequest]:  # type: ignore[type-arg]
    """Asked, and sent to Shopify by the outbox."""
    preview, request = ask(client, order, capture, **choice)
    with capture(execute=True):
        push(request.pk)
    request.refresh_from_db()
    return preview, request


def quoted(preview: HttpResponse) -> str:
    """The sums the preview showed, signed, as its form sends them back."""
    found = re.search(r'name="quoted" value="([^"]+)"', preview.content.decode())
    assert found, "the preview carries what it showed"
    return found.group(1)


def push(pk: int) -> None:
    outbox.run(CHANNEL, pk)


def send(pk: int, capture: Callable, run_jobs: Callable) -> None:
    """The worker sends the request; what it queued (the hold, the emails) runs too."""
    with capture(execute=True):
        push(pk)
    with capture(execute=True):
        run_jobs()


def pay(shopify: Sandbox, order: Order, capture: Callable, run_jobs: Callable) -> None:
    """The shopper pays the balance on Shopify's page, and the portal hears of it."""
    with capture(execute=True):
        shopify.pay_balance(order.number)
    for _ in range(3):
        with capture(execute=True):
            run_jobs()


def lines_in_shopify(shopify: Sandbox, order: Order) -> dict[str, int]:
    state = shopify.order_state(order.number)
    found: dict[str, int] = {}
    for line in state["line_items"]:
        quantity = line.get("current_quantity", line.get("quantity"))
        if quantity:
            found[line["variant_title"] or line["title"]] = quantity
    return found


def writes(shopify: Sandbox, mutation: str) -> int:
    return [w["mutation"] for w in shopify.store.writes].count(mutation)


def test_the_page_offers_each_lines_sizes_and_quantities(
    client: Client, ordered: Order, shopify: Sandbox
) -> None:
    html = client.get(page_of(ordered)).content.decode()
    assert ">S<" in html and ">L<" in html and "XL (sold out)" in html
    order_page = client.get(f"/o/{access.link_token(ordered)}/").content.decode()
    assert "Change sizes, colours or quantities" in order_page


def test_a_swap_at_the_same_price_is_made_and_nothing_is_paid(
    client: Client,
    ordered: Order,
    shopify: Sandbox,
    django_capture_on_commit_callbacks,
    run_jobs,
) -> None:  # type: ignore[no-untyped-def]
    preview, request = ask(
        client, ordered, django_capture_on_commit_callbacks, variant=variant(shopify, "S")
    )
    assert "Nothing to pay" in preview
    assert writes(shopify, "orderEditCommit") == 0  # the preview commits nothing
    assert Decimal(request.after["quote"]["difference"]) == 0
    with django_capture_on_commit_callbacks(execute=True):
        push(request.pk)
    run_jobs()
    request.refresh_from_db()
    assert request.status == "applied", (request.failure_code, request.failure_detail)
    assert lines_in_shopify(shopify, ordered) == {"S": 2}
    assert writes(shopify, "orderEditCommit") == 1 and writes(shopify, "refundCreate") == 0
    ordered.refresh_from_db()
    assert [
        (line.variant_title, line.quantity) for line in ordered.lines.all() if line.quantity
    ] == [("S", 2)]
    assert ordered.events.filter(kind=events.of("items", "applied").name).exists()


def test_a_dearer_swap_is_paid_on_shopifys_page_while_the_warehouse_waits(
    client: Client,
    ordered: Order,
    shopify: Sandbox,
    django_capture_on_commit_callbacks,
    run_jobs,
) -> None:  # type: ignore[no-untyped-def]
    preview, request = ask(
        client, ordered, django_capture_on_commit_callbacks, variant=variant(shopify, "L")
    )
    assert "You pay €10.00 more." in preview
    send(request.pk, django_capture_on_commit_callbacks, run_jobs)
    request.refresh_from_db()
    assert request.status == "awaiting_payment", (request.failure_code, request.failure_detail)
    assert Decimal(request.shopify_result["to_pay"]) == Decimal("10.00")
    url = request.shopify_result["payment_url"]
    assert url
    held = WarehouseHold.objects.get(order=ordered, released_at=None)
    assert held.reason == WarehouseHold.Reason.AWAITING_PAYMENT
    # (The commit closed the fulfilment order whose items it took away; the new one waits.)
    waiting = [
        fo for fo in shopify.order_state(ordered.number)["fulfillment_orders"]
        if fo["status"] != "closed"
    ]  # fmt: skip
    assert [[h["reason"] for h in fo["fulfillment_holds"]] for fo in waiting] == [
        ["awaiting_payment"]
    ]
    order_page = client.get(f"/o/{access.link_token(ordered)}/").content.decode()
    assert "Pay €10.00 now" in order_page and url in order_page
    assert any("Please pay the difference" in m.subject for m in mail.outbox)

    pay(shopify, ordered, django_capture_on_commit_callbacks, run_jobs)
    request.refresh_from_db()
    assert request.status == "applied" and request.shopify_result["paid"] is True
    held.refresh_from_db()
    assert held.released_at is not None and held.released_because == "paid"
    assert all(
        fo["fulfillment_holds"] == []
        for fo in shopify.order_state(ordered.number)["fulfillment_orders"]
    )
    assert any("is paid" in m.subject for m in mail.outbox)


@pytest.mark.parametrize(
    ("method", "told"),
    [
        ("original", "€79.00 goes back to your original payment method."),
        ("store_credit", "€79.00 comes back to you as store credit."),
    ],
)
def test_a_cheaper_order_is_refunded_once(
    client: Client,
    ordered: Order,
    shopify: Sandbox,
    method: str,
    told: str,
    django_capture_on_commit_callbacks,
    run_jobs,
) -> None:  # type: ignore[no-untyped-def]
    policy = EditPolicy.for_shop(ordered.shop)
    policy.items_refund_method = method
    policy.save()
    preview, request = ask(client, ordered, django_capture_on_commit_callbacks, quantity=1)
    assert told in preview
    with django_capture_on_commit_callbacks(execute=True):
        push(request.pk)
    run_jobs()
    request.refresh_from_db()
    assert request.status == "applied", (request.failure_code, request.failure_detail)
    assert Decimal(request.shopify_result["refunded"]) == Decimal("79.00")
    assert request.shopify_result["refund_to"] == method
    assert writes(shopify, "refundCreate") == 1
    assert lines_in_shopify(shopify, ordered) == {"M": 1}
    push(request.pk)  # a duplicate job refunds nothing more
    assert writes(shopify, "refundCreate") == 1


def test_a_refund_whose_answer_was_lost_is_made_once(
    client: Client,
    ordered: Order,
    shopify: Sandbox,
    monkeypatch,
    django_capture_on_commit_callbacks,
) -> None:  # type: ignore[no-untyped-def]
    _preview, request = ask(client, ordered, django_capture_on_commit_callbacks, quantity=1)
    push_failing(monkeypatch, request, "RefundCreate", Transient("no answer in time"), after=True)
    request.refresh_from_db()
    assert request.status == "queued" and request.next_attempt_at > timezone.now()
    ChangeRequest.objects.filter(pk=request.pk).update(next_attempt_at=timezone.now())
    push(request.pk)  # the edit is already in Shopify; the refund is asked again, same key
    request.refresh_from_db()
    assert request.status == "applied"
    assert Decimal(request.shopify_result["refunded"]) == Decimal("79.00")
    assert writes(shopify, "orderEditCommit") == 1
    refunds = shopify.order_state(ordered.number).get("refunds", [])
    assert len(refunds) == 1, refunds


def test_a_commit_whose_answer_was_lost_is_not_made_twice(
    client: Client,
    ordered: Order,
    shopify: Sandbox,
    monkeypatch,
    django_capture_on_commit_callbacks,
) -> None:  # type: ignore[no-untyped-def]
    _preview, request = ask(
        client, ordered, django_capture_on_commit_callbacks, variant=variant(shopify, "S")
    )
    with monkeypatch.context() as patched:
        fail_on(
            patched, "OrderEditCommit", Transient("OrderEditCommit: no answer in time"), after=True
        )
        push(request.pk)
    ChangeRequest.objects.filter(pk=request.pk).update(next_attempt_at=timezone.now())
    push(request.pk)
    request.refresh_from_db()
    assert request.status == "applied" and request.attempts == 2
    assert writes(shopify, "orderEditCommit") == 1
    assert lines_in_shopify(shopify, ordered) == {"S": 2}


def test_the_warehouse_starting_meanwhile_commits_nothing(
    client: Client, ordered: Order, shopify: Sandbox, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    _preview, request = ask(
        client, ordered, django_capture_on_commit_callbacks, variant=variant(shopify, "S")
    )
    shopify.webhooks.configure(hold=True)  # the mirror has not heard yet
    shopify.start_preparing(ordered.number)
    push(request.pk)
    request.refresh_from_db()
    assert request.status == "failed" and request.failure_code == "conflict:warehouse_started"
    assert request.failure_text == "Your order is already being packed."
    assert writes(shopify, "orderEditCommit") == 0
    assert lines_in_shopify(shopify, ordered) == {"M": 2}


def test_a_price_that_moved_since_the_preview_commits_nothing(
    client: Client, ordered: Order, shopify: Sandbox, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    _preview, request = ask(
        client, ordered, django_capture_on_commit_callbacks, variant=variant(shopify, "L")
    )
    with shopify.store.lock:  # the merchant raises the price meanwhile
        shopify.store.variant(variant(shopify, "L")).price = Decimal("99.00")
    push(request.pk)
    request.refresh_from_db()
    assert request.status == "failed" and request.failure_code == "conflict:price_changed"
    assert "The price changed in the meantime" in request.failure_text
    assert writes(shopify, "orderEditCommit") == 0


def test_a_variant_sold_out_since_the_preview_commits_nothing(
    client: Client, ordered: Order, shopify: Sandbox, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    _preview, request = ask(
        client, ordered, django_capture_on_commit_callbacks, variant=variant(shopify, "L")
    )
    shopify.set_stock("HOOD-L", 0)
    push(request.pk)
    request.refresh_from_db()
    assert request.status == "failed" and request.failure_code == "conflict:sold_out"
    assert request.failure_text == "An item you chose is no longer in stock. Please choose again."
    assert writes(shopify, "orderEditCommit") == 0


@pytest.mark.parametrize(
    ("setting", "value", "choice", "refusal"),
    [
        ("items_same_price_only", True, {"variant": "L"}, "keep the total as it is"),
        ("items_max_increase_percent", 5, {"variant": "L"}, "raise the total more"),
        ("items_max_decrease_percent", 10, {"quantity": 1}, "lower the total more"),
    ],
    ids=["same-price", "max-increase", "max-decrease"],
)
def test_the_merchants_limits_are_explained_on_the_page(
    client: Client, ordered: Order, shopify: Sandbox, setting: str, value: object, choice: dict,
    refusal: str,
) -> None:  # fmt: skip
    policy = EditPolicy.for_shop(ordered.shop)
    setattr(policy, setting, value)
    policy.save()
    if "variant" in choice:
        choice = {"variant": variant(shopify, str(choice["variant"]))}
    response = client.post(page_of(ordered), {**choose(ordered, **choice), "step": "preview"})
    assert response.status_code == 422 and refusal in response.content.decode()
    assert not ChangeRequest.objects.exists()


def test_a_sold_out_variant_and_an_unchanged_form_are_refused_with_a_reason(
    client: Client, ordered: Order, shopify: Sandbox
) -> None:
    sold_out = client.post(
        page_of(ordered), {**choose(ordered, variant=variant(shopify, "XL")), "step": "preview"}
    )
    assert sold_out.status_code == 422
    assert "This one is sold out. Please choose another." in sold_out.content.decode()
    unchanged = client.post(page_of(ordered), {**choose(ordered), "step": "preview"})
    assert unchanged.status_code == 422 and "Nothing has changed." in unchanged.content.decode()
    everything = client.post(page_of(ordered), {**choose(ordered, quantity=0), "step": "preview"})
    assert "cancel the order instead" in everything.content.decode()


def test_item_changes_are_refused_once_the_warehouse_started(
    client: Client, ordered: Order, shopify: Sandbox, django_capture_on_commit_callbacks, run_jobs
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        shopify.start_preparing(ordered.number)
    run_jobs()
    # orders/updated does not say how far the warehouse is; reconciliation reads it.
    sync.refresh_order(ordered.shop, ordered.shopify_id)
    response = client.get(page_of(ordered))
    assert "Your order is already being packed." in response.content.decode()
    assert not ITEMS.decide(Order.objects.get(pk=ordered.pk), EditPolicy.for_shop(ordered.shop),
                            now=timezone.now())  # fmt: skip


def test_shopify_unreachable_at_the_preview_is_said_and_nothing_is_asked(
    client: Client, ordered: Order, shopify: Sandbox
) -> None:
    client.get(page_of(ordered))  # the sizes, read (and cached for a minute)
    shopify.faults.http(503, times=3)
    response = client.post(
        page_of(ordered), {**choose(ordered, variant=variant(shopify, "S")), "step": "preview"}
    )
    assert response.status_code == 503
    assert "We cannot calculate the new total right now" in response.content.decode()
    assert not ChangeRequest.objects.exists()


def test_an_unpaid_difference_goes_to_the_agents_after_the_policys_time(
    client: Client,
    ordered: Order,
    shopify: Sandbox,
    django_capture_on_commit_callbacks,
    run_jobs,
) -> None:  # type: ignore[no-untyped-def]
    from edits import jobs

    _preview, request = ask(
        client, ordered, django_capture_on_commit_callbacks, variant=variant(shopify, "L")
    )
    push(request.pk)
    request.refresh_from_db()
    assert request.status == "awaiting_payment"
    past = (timezone.now() - timedelta(minutes=1)).isoformat()
    ChangeRequest.objects.filter(pk=request.pk).update(
        shopify_result={**request.shopify_result, "pay_by": past}
    )
    jobs.check_payment(ordered.pk)
    request.refresh_from_db()
    assert request.status == "awaiting_payment" and request.shopify_result["overdue"] is True
    assert ordered.events.filter(kind=events.of("items", "payment_overdue").name).exists()
    admin_queue = ChangeRequest.objects.filter(
        status="awaiting_payment", shopify_result__overdue=True
    )
    assert list(admin_queue) == [request]
    actions.mark_paid(request=request)  # paid late after all
    request.refresh_from_db()
    assert request.status == "applied"
