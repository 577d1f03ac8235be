"""Order changes reach Shopify (the sandbox store, in process) and come back through its webhooks:
applied, refused with Shopify's own userErrors, in conflict when the warehouse moved first,
retried through faults, and never lost when Redis or a worker is gone."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError

from edits import actions, events
from edits.kinds.cancellation import CANCELLATION
from edits.kinds.contact import CONTACT
from edits.models import ChangeRequest, EditPolicy
from orders import access
from orders.actors import SHOPIFY, SHOPPER, SYSTEM, Actor
from orders.models import Order, Shop
from sandbox import Address, NewLine, Sandbox
from shopify import outbox
from tests.sandbox_link import WEBHOOK_URL

NEW_ADDRESS = {
    "first_name": "Alice",
    "last_name": "Walker",
    "company": "",
    "address1": "1 Infinite Loop",
    "address2": "Suite 5",
    "city": "Cupertino",
    "province": "CA",
    "zip": "95014",
    "phone": "",
}


@pytest.fixture
def live(connected_shop: Shop, shopify: Sandbox, django_capture_on_commit_callbacks, run_jobs):  # type: ignore[no-untyped-def]
    """An order placed in the sandbox, mirrored through its orders/create webhook."""
    shopify.webhooks.configure(target=WEBHOOK_URL)
    with django_capture_on_commit_callbacks(execute=True):
        placed = shopify.create_order(
            lines=[NewLine(title="Trail hoodie", price=Decimal("79.00"), sku="NW-HOODIE")],
            email="alice@example.com",
            currency="USD",
            shipping_address=Address(
                first_name="Alice",
                last_name="Walker",
                address1="350 Fifth Avenue",
                city="New York",
                province_code="NY",
                zip="10118",
                country_code="US",
            ),
            placed_at=timezone.now() - timedelta(minutes=5),
        )
    run_jobs()
    order = Order.objects.get(shop=connected_shop)
    assert order.number == placed.number
    return order


def sandbox_address(shopify: Sandbox, order: Order) -> dict:
    return shopify.order_state(order.number)["shipping_address"]


def push(pk: int) -> None:
    """The outbox's job for one order change (what RQ runs)."""
    outbox.run("edits.change", pk)


def make_due(pk: int) -> None:
    """The backoff has passed: the next attempt may run now."""
    ChangeRequest.objects.filter(pk=pk).update(next_attempt_at=timezone.now())


def ask(client: Client, order: Order, path: str, data: dict, capture) -> None:  # type: ignore[no-untyped-def]
    with capture(execute=True):
        response = client.post(f"/o/{access.link_token(order)}/{path}", data)
    assert response.status_code == 302, response.content[:500]


def test_an_address_change_reaches_shopify_and_comes_back(
    client: Client, live: Order, shopify: Sandbox, django_capture_on_commit_callbacks, run_jobs
) -> None:  # type: ignore[no-untyped-def]
    ask(
        client,
        live,
        "change/address/",
        {**NEW_ADDRESS, "step": "confirm"},
        django_capture_on_commit_callbacks,
    )
    with django_capture_on_commit_callbacks(execute=True):
        run_jobs()  # the push; Shopify answers with orders/updated, recorded on commit
    run_jobs()  # the webhook's processing

    request = ChangeRequest.objects.get()
    assert request.status == "applied" and request.attempts == 1
    assert sandbox_address(shopify, live)["address1"] == "1 Infinite Loop"
    assert "portal-edited" in shopify.order_state(live.number)["tags"]
    live.refresh_from_db()
    assert live.shipping_address["address1"] == "1 Infinite Loop"  # the mirror follows Shopify
    kinds = list(live.events.values_list("kind", flat=True))
    assert events.of("address", "requested").name in kinds
    assert events.of("address", "applied").name in kinds
    html = client.get(f"/o/{access.link_token(live)}/").content.decode()
    assert "Applied" in html and 'hx-get="live/' not in html  # polling stopped


def test_a_fulfilment_started_meanwhile_is_a_conflict_and_shopify_is_untouched(
    client: Client, live: Order, shopify: Sandbox, django_capture_on_commit_callbacks, run_jobs
) -> None:  # type: ignore[no-untyped-def]
    shopify.webhooks.configure(hold=True)  # the mirror has not heard yet
    shopify.start_preparing(live.number)
    ask(
        client,
        live,
        "change/address/",
        {**NEW_ADDRESS, "step": "confirm"},
        django_capture_on_commit_callbacks,
    )
    run_jobs()
    request = ChangeRequest.objects.get()
    assert request.status == "failed"
    assert request.failure_code == "conflict:warehouse_started"
    assert request.failure_text == "Your order is already being packed."
    assert sandbox_address(shopify, live)["address1"] == "350 Fifth Avenue"


def test_shopifys_user_errors_fail_the_request_with_its_fields(
    client: Client, live: Order, shopify: Sandbox, django_capture_on_commit_callbacks, run_jobs
) -> None:  # type: ignore[no-untyped-def]
    shopify.faults.user_errors(
        [{"field": ["shippingAddress", "zip"], "message": "Enter a ZIP code"}], times=1
    )
    ask(
        client,
        live,
        "change/address/",
        {**NEW_ADDRESS, "step": "confirm"},
        django_capture_on_commit_callbacks,
    )
    run_jobs()
    request = ChangeRequest.objects.get()
    assert request.status == "failed" and request.failure_code == "refused:address"
    assert request.refused_fields == ["zip"]
    # The shopper reads a translated sentence, never Shopify's English; agents read Shopify's.
    assert request.failure_text == (
        "The shop's system did not accept this address. Please correct it."
    )
    assert "Enter a ZIP code" not in request.failure_text
    assert "shippingAddress.zip: Enter a ZIP code" in request.failure_detail
    assert sandbox_address(shopify, live)["address1"] == "350 Fifth Avenue"
    # The shopper is offered the address again, the refused field marked with our hint.
    html = client.get(f"/o/{access.link_token(live)}/").content.decode()
    assert f'href="change/address/?correct={request.pk}"' in html
    assert "Enter a ZIP code" not in html
    form = client.get(f"/o/{access.link_token(live)}/change/address/?correct={request.pk}")
    page = form.content.decode()
    assert 'value="1 Infinite Loop"' in page
    assert 'id="id_zip_error"' in page and "Please check the postal code." in page
    assert "Enter a ZIP code" not in page


@pytest.mark.parametrize(
    ("fault", "rescheduled", "retry_after"),
    [
        (lambda faults: faults.http(500, times=1), True, None),
        (lambda faults: faults.http(503, times=1, retry_after=120), True, 120),
        # Throttled before anything ran: the client itself waits for the bucket and sends again.
        (lambda faults: faults.throttled(times=1), False, None),
        (lambda faults: faults.timeout(seconds=60, times=1, connect=True), True, None),
    ],
    ids=["500", "503", "throttled", "connect-timeout"],
)
def test_a_transient_fault_is_retried_and_applied_once(
    live: Order,
    shopify: Sandbox,
    fault,
    rescheduled: bool,
    retry_after: int | None,
    django_capture_on_commit_callbacks,
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=False):
        request = actions.request_change(
            order=live, kind=CONTACT, after={"email": "new@example.com", "phone": ""}
        )
    fault(shopify.faults)
    started = timezone.now()
    push(request.pk)  # a transient fault does not raise: the outbox reschedules it
    request.refresh_from_db()
    assert (request.status == "queued") is rescheduled
    if rescheduled:
        # Still queued, its lease let go, the next attempt due after a backoff...
        assert request.attempts == 1 and request.sending_until is None
        assert not request.failure_code
        assert request.next_attempt_at is not None and request.next_attempt_at > timezone.now()
        if retry_after:  # ...never sooner than Shopify's Retry-After
            assert request.next_attempt_at >= started + timedelta(seconds=retry_after)
        push(request.pk)  # not due yet: nothing happens
        request.refresh_from_db()
        assert request.status == "queued" and request.attempts == 1
        make_due(request.pk)
        push(request.pk)
        request.refresh_from_db()
    assert request.status == "applied"
    assert shopify.order_state(live.number)["email"] == "new@example.com"
    push(request.pk)  # a duplicate job changes nothing
    request.refresh_from_db()
    assert request.attempts <= 2


def test_access_denied_fails_at_once_and_changes_nothing(
    live: Order, shopify: Sandbox, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=False):
        request = actions.request_change(
            order=live, kind=CONTACT, after={"email": "new@example.com", "phone": ""}
        )
    shopify.faults.access_denied(times=1)
    push(request.pk)  # permanent: not retried
    request.refresh_from_db()
    assert request.status == "failed" and request.failure_code == "permanent"
    assert request.failure_text == "We could not make this change. Please contact us."
    assert shopify.order_state(live.number)["email"] == "alice@example.com"


def test_redis_down_at_submission_then_up_the_change_arrives(
    client: Client,
    live: Order,
    shopify: Sandbox,
    monkeypatch,
    django_capture_on_commit_callbacks,
    run_jobs,
) -> None:  # type: ignore[no-untyped-def]
    import django_rq

    real = django_rq.get_queue

    def down(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RedisConnectionError("Redis is down")

    monkeypatch.setattr(django_rq, "get_queue", down)
    ask(
        client,
        live,
        "change/contact/",
        {"email": "late@example.com", "phone": ""},
        django_capture_on_commit_callbacks,
    )
    request = ChangeRequest.objects.get()
    assert request.status == "queued"  # saved: the shopper's change is not lost
    monkeypatch.setattr(django_rq, "get_queue", real)
    ChangeRequest.objects.filter(pk=request.pk).update(
        next_attempt_at=timezone.now() - timedelta(minutes=5)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.sweep() == 1
    run_jobs()
    request.refresh_from_db()
    assert request.status == "applied"
    assert shopify.order_state(live.number)["email"] == "late@example.com"


def test_a_cancellation_waits_for_an_agent_then_reaches_shopify(
    client: Client, live: Order, shopify: Sandbox, django_capture_on_commit_callbacks, run_jobs
) -> None:  # type: ignore[no-untyped-def]
    policy = EditPolicy.for_shop(live.shop)
    policy.cancel_approval = "always"
    policy.save()
    ask(client, live, "cancel/", {"confirm": "on"}, django_capture_on_commit_callbacks)
    run_jobs()
    request = ChangeRequest.objects.get()
    assert request.status == "awaiting_approval"
    assert shopify.order_state(live.number)["cancelled_at"] is None

    agent = User.objects.create_superuser("dana", password="x")
    admin = Client()
    admin.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(
            "/admin/edits/changerequest/",
            {"action": "approve_selected", "_selected_action": [request.pk]},
        )
    with django_capture_on_commit_callbacks(execute=True):
        run_jobs()
    run_jobs()
    request.refresh_from_db()
    assert request.status == "applied" and request.decided_by == Actor.agent(agent)
    assert request.decided_by.key == "agent:dana"
    assert shopify.order_state(live.number)["cancelled_at"] is not None
    live.refresh_from_db()
    assert live.is_cancelled  # orders/cancelled came back
    actors = set(live.events.values_list("actor", flat=True))
    assert {SHOPPER, Actor.agent(agent), SHOPIFY} <= actors


def test_an_order_packed_while_a_change_waits_is_rejected_at_once(
    client: Client, live: Order, shopify: Sandbox, django_capture_on_commit_callbacks, run_jobs
) -> None:  # type: ignore[no-untyped-def]
    policy = EditPolicy.for_shop(live.shop)
    policy.address_approval = "always"
    policy.save()
    ask(
        client,
        live,
        "change/address/",
        {**NEW_ADDRESS, "step": "confirm"},
        django_capture_on_commit_callbacks,
    )
    with django_capture_on_commit_callbacks(execute=True):
        shopify.start_preparing(live.number)
    with django_capture_on_commit_callbacks(execute=True):
        run_jobs()  # orders/updated: it does not say the warehouse started, so re-read
    run_jobs()
    request = ChangeRequest.objects.get()
    assert request.status == "rejected" and request.decided_by == SYSTEM
    assert request.failure_text == "Your order is already being packed."


def test_a_retry_never_undoes_a_later_change(
    live: Order, shopify: Sandbox, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=False):
        first = actions.request_change(order=live, kind=CONTACT, after={
            "email": "old-try@example.com", "phone": ""})  # fmt: skip
        actions.mark_failed(request=first, code="refused", detail="Email is invalid")
        later = actions.request_change(order=live, kind=CONTACT, after={
            "email": "later@example.com", "phone": ""})  # fmt: skip
        actions.mark_applied(request=later)
        with pytest.raises(actions.WrongState):
            actions.retry(request=first, actor=Actor(Actor.AGENT, "dana"))
    first.refresh_from_db()
    assert first.status == "failed"


def test_a_cancellation_whose_answer_was_lost_is_applied_not_failed(
    live: Order, shopify: Sandbox, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=False):
        request = actions.request_change(order=live, kind=CANCELLATION, after={"reason": ""})
    shopify.faults.timeout(seconds=60, times=1)  # Shopify cancels, the answer never comes
    shopify.faults.clear()
    shopify.cancel(live.number)  # what the lost attempt did
    ChangeRequest.objects.filter(pk=request.pk).update(attempts=1)
    push(request.pk)
    request.refresh_from_db()
    assert request.status == "applied"


def test_one_change_is_sent_by_one_worker_at_a_time(
    live: Order, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=False):
        request = actions.request_change(order=live, kind=CONTACT, after={
            "email": "x@example.com", "phone": ""})  # fmt: skip
    channel = outbox.channel_of(request)
    claimed = outbox.claim(channel, request.pk)
    assert claimed is not None
    assert outbox.claim(channel, request.pk) is None  # claimed by the first worker
    # The worker lets go without settling it (a transient failure): once due, it is taken.
    outbox.retry_later(channel, claimed, claimed.sending_until, None)
    request.refresh_from_db()
    assert request.sending_until is None and request.status == "queued"
    make_due(request.pk)
    assert outbox.claim(channel, request.pk) is not None


def test_a_change_that_keeps_failing_ends_in_the_failed_queue(
    live: Order, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=False):
        request = actions.request_change(order=live, kind=CONTACT, after={
            "email": "x@example.com", "phone": ""})  # fmt: skip
    ChangeRequest.objects.filter(pk=request.pk).update(attempts=outbox.MAX_ATTEMPTS)
    assert outbox.claim(outbox.channel_of(request), request.pk) is None
    request.refresh_from_db()
    assert request.status == "failed" and request.failure_code == "unavailable"


def test_an_address_the_merchant_changed_in_shopify_meanwhile_is_not_overwritten(
    client: Client, live: Order, shopify: Sandbox, django_capture_on_commit_callbacks, run_jobs
) -> None:  # type: ignore[no-untyped-def]
    shopify.webhooks.configure(hold=True)  # the mirror has not heard of it yet
    order = shopify.store.order(live.number)
    shopify.store.update_order(
        order, shipping_address=Address(
            first_name="Alice", last_name="Walker", address1="1 Merchant Fix Street",
            city="New York", province_code="NY", zip="10001", country_code="US",
        ),
    )  # fmt: skip
    ask(client, live, "change/address/", {**NEW_ADDRESS, "step": "confirm"},
        django_capture_on_commit_callbacks)  # fmt: skip
    run_jobs()
    request = ChangeRequest.objects.get()
    assert request.status == "failed" and request.failure_code == "conflict:changed_meanwhile"
    assert sandbox_address(shopify, live)["address1"] == "1 Merchant Fix Street"


def test_an_address_change_whose_answer_was_lost_is_applied_once(
    client: Client,
    live: Order,
    shopify: Sandbox,
    monkeypatch,
    django_capture_on_commit_callbacks,
    run_jobs,
) -> None:  # type: ignore[no-untyped-def]
    from shopify.client import Client as AdminClient
    from shopify.client import Transient

    ask(client, live, "change/address/", {**NEW_ADDRESS, "step": "confirm"},
        django_capture_on_commit_callbacks)  # fmt: skip
    request = ChangeRequest.objects.get()
    query = AdminClient.query
    updates = []

    def lose_the_first_answer(self, document, variables=None):  # type: ignore[no-untyped-def]
        if "mutation OrderUpdate" in document:
            updates.append(variables)
            if len(updates) == 1:
                query(self, document, variables)  # Shopify applies it...
                raise Transient("OrderUpdate: Shopify did not answer in time")  # ...unheard
        return query(self, document, variables)

    monkeypatch.setattr(AdminClient, "query", lose_the_first_answer)
    push(request.pk)  # the lost answer is transient: rescheduled, not raised
    request.refresh_from_db()
    assert request.status == "queued" and request.attempts == 1
    assert request.next_attempt_at is not None and request.next_attempt_at > timezone.now()
    make_due(request.pk)
    push(request.pk)  # the retry sees the change already made, and sends nothing
    request.refresh_from_db()
    assert request.status == "applied" and request.attempts == 2
    assert len(updates) == 1
    assert sandbox_address(shopify, live)["address1"] == "1 Infinite Loop"


def cancellation(live: Order, capture) -> ChangeRequest:  # type: ignore[no-untyped-def]
    with capture(execute=False):
        return actions.request_change(order=live, kind=CANCELLATION, after={"reason": ""})


def shop_cancels(shopify: Sandbox, order: Order) -> None:
    """The merchant cancels in Shopify's admin (refunding); the mirror has not heard yet."""
    shopify.webhooks.configure(hold=True)
    shopify.cancel(order.number, reason="other", refund=True)


def test_a_cancellation_the_shop_made_first_settles_as_cancelled_by_the_shop(
    client: Client, live: Order, shopify: Sandbox, django_capture_on_commit_callbacks, run_jobs
) -> None:  # type: ignore[no-untyped-def]
    from django.core import mail

    request = cancellation(live, django_capture_on_commit_callbacks)
    shop_cancels(shopify, live)
    with django_capture_on_commit_callbacks(execute=True):
        push(request.pk)
    run_jobs()  # the email
    request.refresh_from_db()
    assert request.status == "by_shop" and request.next_attempt_at is None
    assert request.shopify_result == {"payment": "refunded", "reason": "OTHER"}
    assert not [w for w in shopify.store.writes if w["mutation"] == "orderCancel"]
    assert live.events.filter(kind=events.of("cancel", "by_shop").name, actor=SHOPIFY).exists()

    html = client.get(f"/o/{access.link_token(live)}/?language=en", follow=True).content.decode()
    assert "Cancelled by the shop" in html
    assert "The shop cancelled this order before your request reached it." in html
    assert "Your payment has been refunded." in html
    assert "Could not be applied" not in html
    told = [m for m in mail.outbox if "had already made your change" in m.subject]
    assert len(told) == 1 and "Your payment has been refunded." in told[0].body


def test_a_cancellation_shopify_refuses_as_already_cancelled_settles_as_cancelled_by_the_shop(
    client: Client,
    live: Order,
    shopify: Sandbox,
    monkeypatch,
    django_capture_on_commit_callbacks,
) -> None:  # type: ignore[no-untyped-def]
    """The race of the issue: the merchant cancels between our look and our write; Shopify
    answers with its real refusal ("Cannot cancel an order that has already been canceled")."""
    from shopify.client import Client as AdminClient

    request = cancellation(live, django_capture_on_commit_callbacks)
    query = AdminClient.query

    def merchant_first(self, document, variables=None):  # type: ignore[no-untyped-def]
        if "mutation OrderCancel" in document:
            shop_cancels(shopify, live)
        return query(self, document, variables)

    monkeypatch.setattr(AdminClient, "query", merchant_first)
    push(request.pk)
    request.refresh_from_db()
    assert request.status == "by_shop", (request.status, request.failure_code)
    assert request.shopify_result["payment"] == "refunded"
    assert "already been canceled" in request.failure_detail  # Shopify's words, for agents

    for language, cancelled_by_shop in [("en", "Cancelled by the shop"), ("de", None)]:
        page = f"/o/{access.link_token(live)}/?language={language}"
        html = client.get(page, follow=True).content.decode()
        assert "already been canceled" not in html  # Shopify's English never shows
        if cancelled_by_shop:
            assert cancelled_by_shop in html and "Your payment has been refunded." in html
        else:
            assert "Cancelled by the shop" not in html  # translated


def test_a_cancellation_waiting_for_an_agent_when_the_shop_cancels_is_settled_as_by_the_shop(
    client: Client, live: Order, shopify: Sandbox, django_capture_on_commit_callbacks, run_jobs
) -> None:  # type: ignore[no-untyped-def]
    policy = EditPolicy.for_shop(live.shop)
    policy.cancel_approval = "always"
    policy.save()
    ask(client, live, "cancel/", {"confirm": "on"}, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        shopify.cancel(live.number, reason="declined", refund=True)
    with django_capture_on_commit_callbacks(execute=True):
        run_jobs()  # orders/cancelled, then the waiting request is looked at again
    run_jobs()
    request = ChangeRequest.objects.get()
    assert request.status == "by_shop" and request.shopify_result == {"payment": "refunded"}


def test_a_cancellation_that_landed_unheard_is_the_shoppers_not_the_shops(
    live: Order, shopify: Sandbox, monkeypatch, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    """orderCancel ran, its answer was lost, the next attempts could not reach Shopify, and an
    agent sent it again (attempts from zero): the order is cancelled as the shopper asked."""
    from shopify.client import Client as AdminClient
    from shopify.client import Transient

    request = cancellation(live, django_capture_on_commit_callbacks)
    query = AdminClient.query

    def lose_the_answer(self, document, variables=None):  # type: ignore[no-untyped-def]
        answer = query(self, document, variables)
        if "mutation OrderCancel" in document:
            raise Transient("OrderCancel: Shopify did not answer in time")
        return answer

    with monkeypatch.context() as patched:
        patched.setattr(AdminClient, "query", lose_the_answer)
        push(request.pk)
    actions.mark_failed(request=request, code="unavailable", detail="Shopify unreachable")
    with django_capture_on_commit_callbacks(execute=False):
        actions.retry(request=request, actor=Actor(Actor.AGENT, "dana"))
    push(request.pk)
    request.refresh_from_db()
    assert request.status == "applied", (request.status, request.shopify_result)
    cancels = [w for w in shopify.store.writes if w["mutation"] == "orderCancel"]
    assert len(cancels) == 1


def test_while_a_change_waits_for_its_next_attempt_the_page_asks_slowly(
    client: Client, live: Order, shopify: Sandbox, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=False):
        request = actions.request_change(
            order=live, kind=CONTACT, after={"email": "new@example.com", "phone": ""}
        )
    page = f"/o/{access.link_token(live)}/"
    assert 'every 500ms"' in client.get(page).content.decode()  # on its way now
    shopify.faults.http(503, retry_after=120)
    push(request.pk)
    html = client.get(page).content.decode()
    assert 'every 20s"' in html and "every 500ms" not in html  # two minutes to wait
    assert "Sending your change to the shop" in html  # still on its way, as the shopper reads
    # The part is cached until the attempt comes; here it comes at once, with news on the page.
    make_due(request.pk)
    Order.objects.get(pk=live.pk).bump_revision()
    assert 'every 500ms"' in client.get(page).content.decode()
