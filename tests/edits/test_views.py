"""The shopper's pages: what the order page offers and why not, each change's form, double
submission, refusals that change nothing, and withdrawal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edits import events
from edits.kinds.address import ADDRESS as ADDRESS_CHANGE
from edits.kinds.cancellation import CANCELLATION
from edits.kinds.contact import CONTACT
from edits.models import ChangeRequest, EditPolicy
from orders import access
from orders.models import Order

ADDRESS = {
    "first_name": "Alice",
    "last_name": "Walker",
    "company": "",
    "address1": "1 Infinite Loop",
    "address2": "Suite 5",
    "city": "Cupertino",
    "province": "CA",
    "zip": "95014",
    "phone": "(408) 996-1010",
}


def page(order: Order) -> str:
    return f"/o/{access.link_token(order)}/"


@pytest.fixture
def order(unfulfilled_order: Order) -> Order:
    # Placed a minute ago: every window is open.
    Order.objects.filter(pk=unfulfilled_order.pk).update(
        placed_at=timezone.now() - timedelta(minutes=1)
    )
    unfulfilled_order.refresh_from_db()
    return unfulfilled_order


def test_the_order_page_offers_each_change(client: Client, order: Order) -> None:
    html = client.get(page(order)).content.decode()
    assert 'href="change/address/"' in html
    assert 'href="change/contact/"' in html
    assert 'href="cancel/"' in html


def test_the_order_page_says_why_a_change_is_not_offered(client: Client, order: Order) -> None:
    order.fulfillment_orders.update(status="in_progress")
    order.bump_revision()
    html = client.get(page(order)).content.decode()
    assert 'href="change/address/"' not in html
    assert "Your order is already being packed." in html
    assert 'href="change/contact/"' in html  # contact details stay open until delivery


def test_the_offer_disappears_when_the_window_closes_even_from_the_cache(
    client: Client, order: Order
) -> None:
    policy = EditPolicy.for_shop(order.shop)
    policy.cancel_window_minutes = 2
    policy.save()
    assert 'href="cancel/"' in client.get(page(order)).content.decode()
    Order.objects.filter(pk=order.pk).update(placed_at=timezone.now() - timedelta(minutes=3))
    # Same revision: only the part's own expiry (its closing time) makes it stale.
    from django.core.cache import cache

    cache.clear()
    html = client.get(page(order)).content.decode()
    assert 'href="cancel/"' not in html and "Cancellation closed at" in html


def test_an_address_change_is_previewed_then_requested_once(
    client: Client, order: Order, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    url = page(order) + "change/address/"
    form = client.get(url)
    assert form.status_code == 200 and b'name="zip"' in form.content

    preview = client.post(url, {**ADDRESS, "step": "preview"})
    assert preview.status_code == 200
    assert b"Please check the new address" in preview.content
    assert b"95014" in preview.content
    assert not ChangeRequest.objects.exists()  # a preview changes nothing

    with django_capture_on_commit_callbacks(execute=False):
        first = client.post(url, {**ADDRESS, "step": "confirm"})
        second = client.post(url, {**ADDRESS, "step": "confirm"})  # a double click
    assert first.status_code == second.status_code == 302
    request = ChangeRequest.objects.get()
    assert request.kind == ADDRESS_CHANGE.code and request.status == "queued"
    assert request.after["zip"] == "95014" and request.after["province_code"] == "CA"
    assert request.after["phone"] == "+14089961010"
    assert request.before == order.shipping_address
    assert order.events.filter(kind=events.of("address", "requested").name).count() == 1

    html = client.get(page(order)).content.decode()
    assert "Sending your change to the shop" in html
    # Polls while it is on its way.
    order.refresh_from_db()
    assert f'hx-get="live/?since={order.revision}"' in html
    assert 'hx-trigger="load delay:300ms, every 500ms"' in html


def test_an_invalid_address_changes_nothing(client: Client, order: Order) -> None:
    url = page(order) + "change/address/"
    response = client.post(url, {**ADDRESS, "zip": "ABCDE", "step": "confirm"})
    assert response.status_code == 422
    assert b"field__error" in response.content
    assert not ChangeRequest.objects.exists()


def test_a_refused_change_changes_nothing(client: Client, order: Order) -> None:
    order.fulfillment_orders.update(status="in_progress")
    url = page(order) + "change/address/"
    response = client.post(url, {**ADDRESS, "step": "confirm"})
    assert b"Your order is already being packed." in response.content
    assert not ChangeRequest.objects.exists()


def test_contact_change(client: Client, order: Order) -> None:
    url = page(order) + "change/contact/"
    response = client.post(url, {"email": "Alice.New@Example.COM", "phone": ""})
    assert response.status_code == 302
    request = ChangeRequest.objects.get(kind=CONTACT.code)
    assert request.after["email"] == "Alice.New@example.com"
    assert request.before["email"] == order.email


def test_cancellation_says_what_will_happen_and_needs_confirmation(
    client: Client, order: Order
) -> None:
    url = page(order) + "cancel/"
    html = client.get(url).content.decode()
    assert "goes back to your original payment method" in html
    assert client.post(url, {}).status_code == 422
    assert not ChangeRequest.objects.exists()
    assert client.post(url, {"confirm": "on", "reason": "changed_mind"}).status_code == 302
    request = ChangeRequest.objects.get(kind=CANCELLATION.code)
    assert request.after == {
        "reason": "changed_mind",
        "refund": True,
        "restock": True,
        "notify": True,
        "staff_note": "Cancelled by the customer in the order portal",
    }


def test_a_request_waiting_for_approval_can_be_withdrawn(client: Client, order: Order) -> None:
    policy = EditPolicy.for_shop(order.shop)
    policy.cancel_approval = "always"
    policy.save()
    client.post(page(order) + "cancel/", {"confirm": "on"})
    request = ChangeRequest.objects.get()
    assert request.status == "awaiting_approval"
    html = client.get(page(order)).content.decode()
    assert f'href="changes/{request.pk}/withdraw/"' in html

    response = client.post(page(order) + f"changes/{request.pk}/withdraw/")
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "withdrawn"
    assert order.events.filter(kind=events.of("cancel", "withdrawn").name).exists()


def test_change_pages_need_access(client: Client, order: Order) -> None:
    assert client.get("/o/not-a-token/change/address/").status_code == 404
    assert client.post("/o/not-a-token/cancel/", {"confirm": "on"}).status_code == 404
    assert not ChangeRequest.objects.exists()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.dictionaries(
        st.sampled_from(
            [
                "first_name",
                "last_name",
                "address1",
                "address2",
                "city",
                "province",
                "zip",
                "phone",
                "email",
                "confirm",
                "reason",
                "step",
                "company",
            ]
        ),  # fmt: skip
        st.text(max_size=40),
        max_size=10,
    ),
    path=st.sampled_from(["change/address/", "change/contact/", "cancel/"]),
)
def test_any_post_is_answered_without_a_server_error(
    client: Client, order: Order, data: dict, path: str
) -> None:
    ChangeRequest.objects.all().delete()
    response = client.post(page(order) + path, data)
    assert response.status_code < 500
    made = ChangeRequest.objects.exists()
    # A request is made only by a valid submission, which always answers with a redirect.
    assert made == (response.status_code == 302)


def test_another_country_only_when_the_policy_allows_and_then_an_agent_decides(
    client: Client, order: Order, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    url = page(order) + "change/address/"
    canadian = {
        "first_name": "Alice", "last_name": "Walker", "address1": "111 Wellington St",
        "city": "Ottawa", "province": "ON", "zip": "K1A 0A9", "country_code": "CA",
        "step": "confirm",
    }  # fmt: skip
    assert b'name="country"' not in client.get(url).content  # same country only, by default
    client.post(url, canadian)
    assert not ChangeRequest.objects.filter(after__country_code="CA").exists()

    policy = EditPolicy.for_shop(order.shop)
    policy.allow_country_change = True
    policy.address_approval = "conditional"  # approval_when_country_changes is on by default
    policy.save()
    form = client.get(url + "?country=CA").content.decode()
    assert 'name="country"' in form and 'value="CA" selected' in form
    with django_capture_on_commit_callbacks(execute=False):
        assert client.post(url, canadian).status_code == 302
    request = ChangeRequest.objects.get()
    assert request.after["country_code"] == "CA" and request.after["province_code"] == "ON"
    assert request.status == "awaiting_approval"


def test_a_delivered_order_says_once_why_nothing_can_be_changed(client: Client, shop) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import add_line, make_order, ship

    order = make_order(shop)
    add_line(order)
    ship(order, shipment_status="delivered")
    html = client.get(f"/o/{access.link_token(order)}/").text
    part = html[html.index('id="changes"') :]
    assert part.count("Your order has been delivered.") == 1
