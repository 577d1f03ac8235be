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

from edits import actions, jobs
from edits.models import ChangeRequest, EditPolicy, Kind
from orders import access
from orders.models import Order, OrderEvent, Shop
from sandbox import Address, NewLine, Sandbox
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
    assert OrderEvent.Kind.CHANGE_REQUESTED in kinds and OrderEvent.Kind.CHANGE_APPLIED in kinds
    html = client.get(f"/o/{access.link_token(live)}/").content.decode()
    assert "Applied" in html and 'hx-get="changes/' not in html  # polling stopped


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
    assert request.status == "failed" and request.failure_code == "rejected"
    assert request.field_errors == {"zip": ["Enter a ZIP code"]}
    assert "Enter a ZIP code" in request.failure_text
    assert sandbox_address(shopify, live)["address1"] == "350 Fifth Avenue"
    # The shopper is offered the address again, with Shopify's reason on the field.
    html = client.get(f"/o/{access.link_token(live)}/").content.decode()
    assert f'href="change/address/?correct={request.pk}"' in html
    form = client.get(f"/o/{access.link_token(live)}/change/address/?correct={request.pk}")
    page = form.content.decode()
    assert 'value="1 Infinite Loop"' in page
    assert 'id="id_zip_error"' in page and "Enter a ZIP code" in page


@pytest.mark.parametrize(
    "fault",
    [
        lambda faults: faults.http(500, times=1),
        lambda faults: faults.http(503, times=1, retry_after=0),
        lambda faults: faults.throttled(times=1),
        lambda faults: faults.timeout(seconds=60, times=1, connect=True),
    ],
    ids=["500", "503", "throttled", "connect-timeout"],
)
def test_a_transient_fault_is_retried_and_applied_once(
    live: Order, shopify: Sandbox, fault, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=False):
        request = actions.request_change(
            order=live, kind=Kind.CONTACT, after={"email": "new@example.com", "phone": ""}
        )
    fault(shopify.faults)
    try:
        jobs.push_change(request.pk)  # RQ would retry this after a backoff
    except Exception as error:  # noqa: BLE001 - whatever the fault, it must be transient
        from shopify.client import Transient

        assert isinstance(error, Transient)
    request.refresh_from_db()
    if request.status == "queued":
        jobs.push_change(request.pk)
        request.refresh_from_db()
    assert request.status == "applied"
    assert shopify.order_state(live.number)["email"] == "new@example.com"
    jobs.push_change(request.pk)  # a duplicate job changes nothing
    request.refresh_from_db()
    assert request.attempts <= 2


def test_access_denied_fails_at_once_and_changes_nothing(
    live: Order, shopify: Sandbox, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=False):
        request = actions.request_change(
            order=live, kind=Kind.CONTACT, after={"email": "new@example.com", "phone": ""}
        )
    shopify.faults.access_denied(times=1)
    jobs.push_change(request.pk)  # permanent: no exception for RQ to retry
    request.refresh_from_db()
    assert request.status == "failed" and request.failure_code == "refused"
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
        queued_at=timezone.now() - timedelta(minutes=5)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.sweep_changes() == 1
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
    assert request.status == "applied" and request.decided_by == "agent:dana"
    assert shopify.order_state(live.number)["cancelled_at"] is not None
    live.refresh_from_db()
    assert live.is_cancelled  # orders/cancelled came back
    actors = set(live.events.values_list("actor", flat=True))
    assert {"shopper", "agent:dana", "shopify"} <= actors


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
    assert request.status == "rejected" and request.decided_by == "system"
    assert request.failure_text == "Your order is already being packed."


def test_a_retry_never_undoes_a_later_change(
    live: Order, shopify: Sandbox, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=False):
        first = actions.request_change(order=live, kind=Kind.CONTACT, after={
            "email": "old-try@example.com", "phone": ""})  # fmt: skip
        actions.mark_failed(request=first, code="rejected", message="Email is invalid")
        later = actions.request_change(order=live, kind=Kind.CONTACT, after={
            "email": "later@example.com", "phone": ""})  # fmt: skip
        actions.mark_applied(request=later)
        with pytest.raises(actions.WrongState):
            actions.retry(request=first, actor="agent:dana")
    first.refresh_from_db()
    assert first.status == "failed"


def test_a_cancellation_whose_answer_was_lost_is_applied_not_failed(
    live: Order, shopify: Sandbox, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=False):
        request = actions.request_change(order=live, kind=Kind.CANCEL, after={"reason": ""})
    shopify.faults.timeout(seconds=60, times=1)  # Shopify cancels, the answer never comes
    shopify.faults.clear()
    shopify.cancel(live.number)  # what the lost attempt did
    ChangeRequest.objects.filter(pk=request.pk).update(attempts=1)
    jobs.push_change(request.pk)
    request.refresh_from_db()
    assert request.status == "applied"


def test_one_change_is_sent_by_one_worker_at_a_time(
    live: Order, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=False):
        request = actions.request_change(order=live, kind=Kind.CONTACT, after={
            "email": "x@example.com", "phone": ""})  # fmt: skip
    assert actions.begin_attempt(request=request) is not None
    assert actions.begin_attempt(request=request) is None  # claimed by the first worker
    actions.end_attempt(request=request)
    assert actions.begin_attempt(request=request) is not None


def test_a_change_that_keeps_failing_ends_in_the_failed_queue(
    live: Order, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=False):
        request = actions.request_change(order=live, kind=Kind.CONTACT, after={
            "email": "x@example.com", "phone": ""})  # fmt: skip
    ChangeRequest.objects.filter(pk=request.pk).update(attempts=actions.MAX_ATTEMPTS)
    assert actions.begin_attempt(request=request) is None
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
    with pytest.raises(Transient):
        jobs.push_change(request.pk)
    jobs.push_change(request.pk)  # the retry sees the change already made, and sends nothing
    request.refresh_from_db()
    assert request.status == "applied" and request.attempts == 2
    assert len(updates) == 1
    assert sandbox_address(shopify, live)["address1"] == "1 Infinite Loop"
