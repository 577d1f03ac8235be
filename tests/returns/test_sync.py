"""Returns reach Shopify (the sandbox store, in process) and Shopify's word comes back: every
resolution end to end, an exchange that sold out, Shopify's precondition errors, decisions made
in Shopify's admin, faults, and nothing lost when Redis is down."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError

from orders import access
from orders.actors import SHOPIFY, Actor
from orders.models import Order, Shop
from returns import actions, events, jobs
from returns.actions import ReturnItem
from returns.models import ReturnPolicy, ReturnRequest
from sandbox import Sandbox
from shopify import outbox
from tests.conftest import place_hoodies
from tests.sandbox_link import WEBHOOK_URL

DANA = Actor(Actor.AGENT, "dana")
CHANNEL = "returns.return"


def variant(shopify: Sandbox, title: str) -> dict:
    state = shopify.product_state("HOOD-M")
    return next(v for v in state["variants"] if v["title"] == title)


@pytest.fixture
def delivered(
    request: pytest.FixtureRequest,
    connected_shop: Shop,
    shopify: Sandbox,
    hoodie,
    django_capture_on_commit_callbacks,
    run_jobs,
) -> Order:  # type: ignore[no-untyped-def]
    """Two hoodies in M, bought, shipped and delivered in the sandbox, mirrored by webhooks. In
    euros, the shop's currency, or (indirect parameter) in (currency, units per euro)."""
    currency, rate = getattr(request, "param", ("EUR", Decimal(1)))
    shopify.webhooks.configure(target=WEBHOOK_URL)
    with django_capture_on_commit_callbacks(execute=True):
        placed = place_hoodies(shopify, hoodie, currency=currency, rate=rate, days_ago=5)
        shopify.fulfil(placed.number, at=timezone.now() - timedelta(days=4))
        shopify.deliver(placed.number, at=timezone.now() - timedelta(days=2))
    run_jobs()
    with django_capture_on_commit_callbacks(execute=True):
        run_jobs()
    order = Order.objects.get(shop=connected_shop)
    assert order.shipments and order.lines.get().product_id == hoodie.id
    return order


def policy_for(order: Order, **values: object) -> ReturnPolicy:
    policy = ReturnPolicy.for_shop(order.shop)
    for key, value in values.items():
        setattr(policy, key, value)
    policy.save()
    return policy


def ask(order: Order, capture, **item: object) -> ReturnRequest:  # type: ignore[no-untyped-def]
    values = {"line_id": order.lines.get().pk, "quantity": 1, "reason": "too_small",
              "resolution": "refund"}  # fmt: skip
    values.update(item)
    with capture(execute=True):
        return actions.request_return(order=order, items=[ReturnItem(**values)])


def settle(capture, run_jobs) -> None:  # type: ignore[no-untyped-def]
    """Run jobs, and what their commits enqueue, until nothing is left."""
    for _ in range(6):
        with capture(execute=True):
            if not run_jobs():
                return


def assert_due_later(request: ReturnRequest) -> None:
    """A transient failure: nothing failed, the outbox keeps the return and sends it later."""
    request.refresh_from_db()
    assert not request.failure_code, (request.failure_code, request.failure_detail)
    assert request.is_sending and request.sending_until is None
    assert request.next_attempt_at > timezone.now()


def retried_later(request: ReturnRequest) -> None:
    """Check the return is due again later, then run that retry at once."""
    assert_due_later(request)
    ReturnRequest.objects.filter(pk=request.pk).update(next_attempt_at=timezone.now())
    outbox.run(CHANNEL, request.pk)


def shopify_return(shopify: Sandbox, request: ReturnRequest) -> dict:
    request.refresh_from_db()
    assert request.shopify_return_id, (request.failure_code, request.failure_detail)
    return shopify.return_state(request.shopify_return_id)


def test_a_refund_is_requested_approved_processed_and_closed(
    delivered: Order, shopify: Sandbox, django_capture_on_commit_callbacks, run_jobs
) -> None:  # type: ignore[no-untyped-def]
    capture = django_capture_on_commit_callbacks
    policy_for(delivered, return_shipping_fee=Decimal("5.00"))
    request = ask(delivered, capture)
    settle(capture, run_jobs)
    state = shopify_return(shopify, request)
    assert state["status"] == "REQUESTED" and request.shopify_name == f"{delivered.name}-R1"
    assert request.status == "requested"
    assert Decimal(state["return_shipping_fee"]) == Decimal("5.00")

    with capture(execute=True):
        actions.approve(request=request, actor=DANA)
    settle(capture, run_jobs)
    assert shopify_return(shopify, request)["status"] == "OPEN"
    assert request.shopify_status == "OPEN"

    with capture(execute=True):  # the merchant, in Shopify's admin; its webhook is recorded
        shopify.process_return(request.shopify_return_id)
    settle(capture, run_jobs)
    request.refresh_from_db()
    assert request.status == "resolved"
    with capture(execute=True):
        shopify.close_return(request.shopify_return_id)
    settle(capture, run_jobs)
    request.refresh_from_db()
    assert request.status == "closed"
    kinds = list(delivered.events.values_list("kind", flat=True))
    for kind in ("returns.requested", "returns.approved", "returns.resolved", "returns.closed"):
        assert kind in kinds
    subjects = [message.subject for message in mail.outbox]
    assert any("is approved" in subject for subject in subjects)
    assert any("is settled" in subject for subject in subjects)


def test_store_credit_is_auto_approved_and_opened_at_once(
    delivered: Order, shopify: Sandbox, django_capture_on_commit_callbacks, run_jobs
) -> None:  # type: ignore[no-untyped-def]
    capture = django_capture_on_commit_callbacks
    policy_for(delivered, auto_approval="all", store_credit_bonus_percent=Decimal("10"))
    request = ask(delivered, capture, resolution="store_credit")
    assert request.status == "approved" and request.quote["credit"] == "86.90"
    settle(capture, run_jobs)
    assert shopify_return(shopify, request)["status"] == "OPEN"


def test_an_exchange_reaches_shopify_when_approved_and_takes_the_stock(
    delivered: Order, shopify: Sandbox, django_capture_on_commit_callbacks, run_jobs
) -> None:  # type: ignore[no-untyped-def]
    capture = django_capture_on_commit_callbacks
    large = variant(shopify, "L")
    request = ask(
        delivered, capture, resolution="exchange", exchange_variant_id=large["id"],
        exchange_variant_title="L", exchange_price=Decimal("84.00"),
    )  # fmt: skip
    settle(capture, run_jobs)
    request.refresh_from_db()
    # returnRequest takes no exchange items: the return waits for the agent, in the portal.
    assert request.shopify_return_id is None and request.shopify_step is None
    with capture(execute=True):
        actions.approve(request=request, actor=DANA)
    settle(capture, run_jobs)
    state = shopify_return(shopify, request)
    assert state["status"] == "OPEN"
    assert [(e["variant_id"], e["quantity"]) for e in state["exchange_line_items"]] == [
        (large["admin_graphql_api_id"], 1)
    ]
    assert variant(shopify, "L")["inventory_quantity"] == 1


def test_an_exchange_sold_out_before_approval_waits_for_an_agent(
    delivered: Order, shopify: Sandbox, django_capture_on_commit_callbacks, run_jobs
) -> None:  # type: ignore[no-untyped-def]
    capture = django_capture_on_commit_callbacks
    large = variant(shopify, "L")
    request = ask(
        delivered, capture, resolution="exchange", exchange_variant_id=large["id"],
        exchange_variant_title="L",
    )  # fmt: skip
    shopify.set_stock("HOOD-L", 0)
    with capture(execute=True):
        actions.approve(request=request, actor=DANA)
    settle(capture, run_jobs)
    request.refresh_from_db()
    assert request.failure_code == "conflict:exchange_out_of_stock"
    assert request.shopify_return_id is None
    assert delivered.events.filter(kind=events.SYNC_FAILED.name).exists()
    shopify.set_stock("HOOD-L", 4)
    with capture(execute=True):
        actions.retry(request=request, actor=DANA)
    settle(capture, run_jobs)
    assert shopify_return(shopify, request)["status"] == "OPEN"


def test_a_variant_sold_out_between_choosing_and_submitting(
    client: Client, delivered: Order, shopify: Sandbox, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    line = delivered.lines.get()
    base = f"/o/{access.link_token(delivered)}/return/"
    client.post(base, {f"quantity-{line.pk}": "1"})
    client.post(base + "reasons/", {f"reason-{line.pk}": "too_small"})
    html = client.get(base + "resolution/").content.decode()
    large, xl = variant(shopify, "L"), variant(shopify, "XL")
    assert f'value="exchange:{large["id"]}"' in html
    assert f'value="exchange:{xl["id"]}" disabled' in html  # out of stock, shown as such
    client.post(base + "resolution/", {f"resolution-{line.pk}": f"exchange:{large['id']}"})
    assert "Exchange for L" in client.get(base + "review/").content.decode()
    shopify.set_stock("HOOD-L", 0)  # someone else bought the last ones
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(base + "review/")
    assert response.url.endswith("/return/resolution/")
    assert not ReturnRequest.objects.exists()
    html = client.get(base + "resolution/").content.decode()
    assert "Sorry, L is no longer in stock" in html


def test_a_decline_reaches_shopify_with_the_agents_words(
    delivered: Order, shopify: Sandbox, django_capture_on_commit_callbacks, run_jobs
) -> None:  # type: ignore[no-untyped-def]
    capture = django_capture_on_commit_callbacks
    request = ask(delivered, capture)
    settle(capture, run_jobs)
    with capture(execute=True):
        actions.decline(request=request, actor=DANA, reason="The tags were removed.")
    settle(capture, run_jobs)
    state = shopify_return(shopify, request)
    assert state["status"] == "DECLINED" and state["decline"]["note"] == "The tags were removed."


def test_a_cancellation_reaches_shopify_and_frees_the_items(
    delivered: Order, shopify: Sandbox, django_capture_on_commit_callbacks, run_jobs
) -> None:  # type: ignore[no-untyped-def]
    capture = django_capture_on_commit_callbacks
    request = ask(delivered, capture, quantity=2)
    settle(capture, run_jobs)
    with capture(execute=True):
        actions.cancel(request=request)
    settle(capture, run_jobs)
    assert shopify_return(shopify, request)["status"] == "CANCELED"
    again = ask(delivered, capture, quantity=2)
    settle(capture, run_jobs)
    assert shopify_return(shopify, again)["status"] == "REQUESTED"


def test_a_cancellation_after_shopify_processed_the_return_follows_shopify(
    delivered: Order, shopify: Sandbox, django_capture_on_commit_callbacks, run_jobs
) -> None:  # type: ignore[no-untyped-def]
    capture = django_capture_on_commit_callbacks
    policy_for(delivered, auto_approval="all")
    request = ask(delivered, capture)
    settle(capture, run_jobs)
    shopify.webhooks.configure(target=None)  # its returns/process webhook is late
    shopify.process_return(shopify_return(shopify, request)["id"])
    with capture(execute=True):
        actions.cancel(request=request)  # the shopper, before the webhook came
    with capture(execute=True):
        outbox.run(CHANNEL, request.pk)  # Shopify: "Return is not cancelable." (INVALID_STATE)
    request.refresh_from_db()
    assert request.status == "resolved" and request.shopify_status == "OPEN"
    event = delivered.events.filter(kind=events.SYNC_FAILED.name).get()
    # Shopify's words, for agents, with the field they are about.
    assert event.data["message"] == "id: Return is not cancelable."


def test_decided_in_shopifys_admin(
    delivered: Order, shopify: Sandbox, django_capture_on_commit_callbacks, run_jobs
) -> None:  # type: ignore[no-untyped-def]
    capture = django_capture_on_commit_callbacks
    request = ask(delivered, capture)
    settle(capture, run_jobs)
    with capture(execute=True):
        shopify.decline_return(
            shopify_return(shopify, request)["id"],
            reason="RETURN_PERIOD_ENDED",
            note="Worn, sorry.",
        )
    settle(capture, run_jobs)
    request.refresh_from_db()
    assert request.status == "declined" and request.decline_reason == "Worn, sorry."
    assert request.decided_by == SHOPIFY


@pytest.mark.parametrize(
    ("fault", "waited_out"),
    [
        pytest.param(lambda faults: faults.http(500, times=1), False, id="500"),
        pytest.param(lambda faults: faults.http(503, times=1, retry_after=0), False, id="503"),
        # One THROTTLED answer is waited out by the client itself, within the attempt.
        pytest.param(lambda faults: faults.throttled(times=1), True, id="throttled"),
        pytest.param(
            lambda faults: faults.timeout(seconds=60, times=1, connect=True),
            False,
            id="connect-timeout",
        ),
    ],
)
def test_a_return_gets_through_a_fault_once(
    delivered: Order, shopify: Sandbox, django_capture_on_commit_callbacks, fault, waited_out: bool
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=False):
        request = ask(delivered, django_capture_on_commit_callbacks)
    fault(shopify.faults)
    outbox.run(CHANNEL, request.pk)
    if not waited_out:
        retried_later(request)  # the outbox's retry
    state = shopify_return(shopify, request)
    assert state["status"] == "REQUESTED"
    assert len(shopify.order_state(delivered.number)["returns"]) == 1


def test_a_return_whose_answer_was_lost_is_adopted_not_made_twice(
    delivered: Order, shopify: Sandbox, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=False):
        request = ask(delivered, django_capture_on_commit_callbacks)
    shopify.faults.timeout(seconds=60, times=1)  # Shopify makes it; the answer never comes
    outbox.run(CHANNEL, request.pk)
    assert_due_later(request)
    # Later attempts failed too; an agent sends it again, attempts counted from zero.
    ReturnRequest.objects.filter(pk=request.pk).update(attempts=0, next_attempt_at=timezone.now())
    outbox.run(CHANNEL, request.pk)
    assert shopify_return(shopify, request)["status"] == "REQUESTED"
    assert len(shopify.order_state(delivered.number)["returns"]) == 1


def test_redis_down_at_submission_then_up_the_return_arrives(
    delivered: Order, shopify: Sandbox, monkeypatch, django_capture_on_commit_callbacks, run_jobs
) -> None:  # type: ignore[no-untyped-def]
    import django_rq

    real = django_rq.get_queue

    def down(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RedisConnectionError("Redis is down")

    monkeypatch.setattr(django_rq, "get_queue", down)
    request = ask(delivered, django_capture_on_commit_callbacks)
    assert ReturnRequest.objects.filter(pk=request.pk).exists()  # saved: not lost
    monkeypatch.setattr(django_rq, "get_queue", real)
    ReturnRequest.objects.filter(pk=request.pk).update(
        next_attempt_at=timezone.now() - timedelta(minutes=5)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.sweep() == 1
    settle(django_capture_on_commit_callbacks, run_jobs)
    assert shopify_return(shopify, request)["status"] == "REQUESTED"
    assert outbox.sweep() == 0  # nothing left to tell Shopify


@pytest.mark.parametrize(
    ("decide", "message"),
    [
        (
            lambda request: actions.approve(request=request, actor=DANA),
            "input.id: Return is not approvable. Only returns with status REQUESTED can be "
            "approved.",
        ),
        (
            lambda request: actions.decline(request=request, actor=DANA, reason="No"),
            "input.id: Return is not declinable. Only non-refunded returns with status "
            "REQUESTED can be declined.",
        ),
    ],
    ids=["approve", "decline"],
)
def test_an_agents_decision_after_shopify_decided_follows_shopify(
    delivered: Order,
    shopify: Sandbox,
    django_capture_on_commit_callbacks,
    run_jobs,
    decide,
    message: str,
) -> None:  # type: ignore[no-untyped-def]
    """The merchant approved in Shopify's admin; its webhook is late; an agent decides in the
    portal: Shopify answers INVALID_STATE, and the portal takes Shopify's word."""
    capture = django_capture_on_commit_callbacks
    request = ask(delivered, capture)
    settle(capture, run_jobs)
    shopify.webhooks.configure(target=None)
    shopify.approve_return(shopify_return(shopify, request)["id"])
    with capture(execute=True):
        decide(request)
    with capture(execute=True):
        outbox.run(CHANNEL, request.pk)
    request.refresh_from_db()
    assert (request.status, request.shopify_status) == ("approved", "OPEN")
    event = delivered.events.filter(kind=events.SYNC_FAILED.name).get()
    assert event.data["message"] == message


def test_shopifys_own_returns_samples_about_unknown_returns_change_nothing(
    delivered: Order, deliver, django_capture_on_commit_callbacks, run_jobs
) -> None:  # type: ignore[no-untyped-def]
    """The real samples: returns/process is `{}` in Shopify's documentation, and the others name
    a return the portal never made (one made in Shopify's admin)."""
    from shopify.models import WebhookDelivery

    topics = ["returns/process", "returns/approve", "returns/decline", "returns/close"]
    for topic in topics:
        assert deliver(topic).status_code == 200
    settle(django_capture_on_commit_callbacks, run_jobs)
    statuses = WebhookDelivery.objects.filter(topic__startswith="returns/").values_list(
        "status", flat=True
    )
    assert list(statuses) == ["processed"] * len(topics)
    assert not ReturnRequest.objects.exists()


def test_a_lost_returns_webhook_is_made_up_for_by_reconciliation(
    delivered: Order, shopify: Sandbox, django_capture_on_commit_callbacks, run_jobs
) -> None:  # type: ignore[no-untyped-def]
    capture = django_capture_on_commit_callbacks
    request = ask(delivered, capture)
    settle(capture, run_jobs)
    shopify.webhooks.configure(target=None)  # returns/approve never arrives
    shopify.approve_return(shopify_return(shopify, request)["id"])
    with capture(execute=True):
        assert jobs.reconcile_returns() == 0  # read recently: not yet
    ReturnRequest.objects.filter(pk=request.pk).update(
        updated_at=timezone.now() - timedelta(hours=2)
    )
    with capture(execute=True):
        assert jobs.reconcile_returns() == 1
    settle(capture, run_jobs)
    request.refresh_from_db()
    assert (request.status, request.decided_by) == ("approved", SHOPIFY)


def test_each_step_has_its_own_attempts(
    delivered: Order, shopify: Sandbox, django_capture_on_commit_callbacks, run_jobs
) -> None:  # type: ignore[no-untyped-def]
    """The request reached Shopify only at its last allowed attempt; an agent's approval days
    later still gets every attempt of its own."""
    capture = django_capture_on_commit_callbacks
    with capture(execute=False):
        request = ask(delivered, capture)
    ReturnRequest.objects.filter(pk=request.pk).update(attempts=outbox.MAX_ATTEMPTS - 1)
    outbox.run(CHANNEL, request.pk)
    assert shopify_return(shopify, request)["status"] == "REQUESTED"
    with capture(execute=True):
        actions.approve(request=request, actor=Actor(Actor.AGENT, "dana"))
    settle(capture, run_jobs)
    request.refresh_from_db()
    assert not request.failure_code and shopify_return(shopify, request)["status"] == "OPEN"


def test_a_return_cancelled_after_a_lost_request_is_cancelled_in_shopify_too(
    delivered: Order,
    shopify: Sandbox,
    monkeypatch,
    django_capture_on_commit_callbacks,
    run_jobs,
) -> None:  # type: ignore[no-untyped-def]
    """returnRequest ran in Shopify, its answer never came; then the shopper cancelled. The
    return Shopify made must not keep holding the items."""
    from shopify.client import Client as AdminClient
    from shopify.client import Transient

    capture = django_capture_on_commit_callbacks
    with capture(execute=False):
        request = ask(delivered, capture, quantity=2)
    query = AdminClient.query

    def lose_the_answer(self, document, variables=None):  # type: ignore[no-untyped-def]
        answer = query(self, document, variables)  # Shopify makes it...
        if "mutation ReturnRequest" in document:
            raise Transient("ReturnRequest: Shopify did not answer in time")  # ...unheard
        return answer

    with monkeypatch.context() as patched:
        patched.setattr(AdminClient, "query", lose_the_answer)
        outbox.run(CHANNEL, request.pk)
    assert_due_later(request)
    with capture(execute=True):
        actions.cancel(request=request)
    settle(capture, run_jobs)
    in_shopify = shopify.order_state(delivered.number)["returns"]
    assert [r["status"] for r in in_shopify] == ["CANCELED"]
    request.refresh_from_db()
    assert request.shopify_status == "CANCELED" and not request.is_sending
    assert [w["mutation"] for w in shopify.store.writes].count("returnRequest") == 1
    again = ask(delivered, capture, quantity=2)  # the items are free again
    settle(capture, run_jobs)
    assert shopify_return(shopify, again)["status"] == "REQUESTED"


def test_a_return_cancelled_before_anything_reached_shopify_tells_it_nothing(
    delivered: Order, shopify: Sandbox, django_capture_on_commit_callbacks, run_jobs
) -> None:  # type: ignore[no-untyped-def]
    capture = django_capture_on_commit_callbacks
    with capture(execute=False):
        request = ask(delivered, capture)
    shopify.faults.http(500)  # refused before anything ran
    outbox.run(CHANNEL, request.pk)
    with capture(execute=True):
        actions.cancel(request=request)
    settle(capture, run_jobs)
    request.refresh_from_db()
    assert request.status == "cancelled" and not request.is_sending and not request.failure_code
    assert shopify.order_state(delivered.number)["returns"] == []


def test_the_page_stops_polling_once_the_return_reached_shopify(
    client: Client,
    delivered: Order,
    shopify: Sandbox,
    monkeypatch,
    django_capture_on_commit_callbacks,
) -> None:  # type: ignore[no-untyped-def]
    """A poll between Shopify's answer and the outbox letting go of the return saw it on its
    way; the next poll must learn that it arrived, not be told nothing changed."""
    with django_capture_on_commit_callbacks(execute=False):
        request = ask(delivered, django_capture_on_commit_callbacks)
    token = access.link_token(delivered)
    seen: dict[str, str] = {}
    finished = outbox.finished

    def poll_in_between(channel, claimed, lease):  # type: ignore[no-untyped-def]
        order = Order.objects.get(pk=delivered.pk)
        seen["revision"] = str(order.revision)
        seen["html"] = client.get(f"/o/{token}/live/").content.decode()
        return finished(channel, claimed, lease)

    monkeypatch.setattr(outbox, "finished", poll_in_between)
    outbox.run(CHANNEL, request.pk)
    assert "every 500ms" in seen["html"]  # on its way, as far as that poll knew
    after = client.get(f"/o/{token}/live/", {"since": seen["revision"]}, HTTP_HX_REQUEST="true")
    assert after.status_code == 200 and after.headers.get("HX-Refresh") == "true"
    assert "every 500ms" not in after.content.decode()  # an agent decides now: every 20 s
