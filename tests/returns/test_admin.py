"""Agents' side of returns: the queues and filters, the actions (through `returns.actions`,
audited as the agent), the read-only return page, and the shoppers' photos, for staff only."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from orders.actors import Actor
from orders.models import Order, Shop
from returns import actions, events, photos
from returns.models import Condition, ReturnPolicy, ReturnReason, ReturnRequest
from tests.factories import add_line, make_order, make_shop, ship

Status = ReturnRequest.Status
CHANGELIST = "admin:returns_returnrequest_changelist"
TEST_AGENT = Actor(Actor.AGENT, "test")
ROOT = Actor(Actor.AGENT, "root")  # the superuser `admin_client` logs in as


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def shop(db: None) -> Shop:
    return make_shop()


@pytest.fixture
def admin_client(client: Client, db: None) -> Client:
    client.force_login(User.objects.create_superuser("root", "root@shop.example", "pw-root-1"))
    return client


def delivered_order(shop: Shop, *, lines: int = 1) -> Order:
    order = make_order(shop)
    for n in range(lines):
        add_line(order, quantity=2, title=f"Organic T-shirt {n + 1}")
    ship(order, shipment_status="delivered", delivered_at=timezone.now() - timedelta(days=2))
    return order


def item(line_id: int, **overrides: Any) -> actions.ReturnItem:
    values: dict[str, Any] = {
        "line_id": line_id,
        "quantity": 1,
        "reason": "too_small",
        "resolution": "refund",
    }
    values.update(overrides)
    return actions.ReturnItem(**values)


def make_return(shop: Shop, **overrides: Any) -> ReturnRequest:
    order = delivered_order(shop)
    return actions.request_return(order=order, items=[item(order.lines.get().pk, **overrides)])


def png_upload() -> SimpleUploadedFile:
    data = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(data, "PNG")
    return SimpleUploadedFile("parcel.png", data.getvalue(), content_type="image/png")


def listed(client: Client, **params: str) -> set[str]:
    response = client.get(reverse(CHANGELIST), params)
    assert response.status_code == 200
    numbers = [r.number for r in response.context["cl"].result_list]
    assert len(numbers) == len(set(numbers)), "a return listed twice"
    return set(numbers)


def act(client: Client, action: str, returns: list[ReturnRequest], **data: Any) -> Any:
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [r.pk for r in returns], **data},
        follow=True,
    )


def shown(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# Queues and filters.


def test_each_queue_lists_its_returns(admin_client: Client, shop: Shop) -> None:
    requested = make_return(shop)
    approved = actions.approve(request=make_return(shop), actor=TEST_AGENT)
    in_transit = actions.approve(request=make_return(shop), actor=TEST_AGENT)
    ReturnRequest.objects.filter(pk=in_transit.pk).update(status=Status.IN_TRANSIT)
    received = actions.mark_received(
        request=actions.approve(request=make_return(shop), actor=TEST_AGENT),
        actor=TEST_AGENT,
        conditions={},
    )
    declined = actions.decline(request=make_return(shop), actor=TEST_AGENT, reason="Worn.")
    failed = make_return(shop)
    actions.mark_failed(request=failed, code="refused", detail="Line not fulfilled")

    assert listed(admin_client, queue="requested") == {requested.number, failed.number}
    assert listed(admin_client, queue="awaiting_arrival") == {approved.number, in_transit.number}
    assert listed(admin_client, queue="received") == {received.number}
    assert listed(admin_client, queue="not_in_shopify") == {failed.number}
    assert declined.number in listed(admin_client)


def test_reason_filter_lists_a_return_once_and_labels_reasons_as_shoppers_read_them(
    admin_client: Client, shop: Shop
) -> None:
    order = delivered_order(shop, lines=2)
    first, second = order.lines.order_by("pk")
    both_small = actions.request_return(
        order=order, items=[item(first.pk), item(second.pk)]
    )  # two lines with the same reason: one row in the list
    changed_mind = make_return(shop, reason="changed_mind")

    assert listed(admin_client, reason="too_small") == {both_small.number}
    assert listed(admin_client, reason="changed_mind") == {changed_mind.number}
    response = admin_client.get(reverse(CHANGELIST))
    assert "Too small" in response.text and "Changed my mind" in response.text


def test_reason_filter_shows_the_merchants_own_labels(admin_client: Client, shop: Shop) -> None:
    policy = ReturnPolicy.for_shop(shop)
    policy.save()
    ReturnReason.objects.create(policy=policy, code="itchy", labels={"en": "Fabric is itchy"})
    itchy = make_return(shop, reason="itchy")
    assert listed(admin_client, reason="itchy") == {itchy.number}
    assert "Fabric is itchy" in admin_client.get(reverse(CHANGELIST)).text


def test_resolution_filter(admin_client: Client, shop: Shop) -> None:
    refund = make_return(shop)
    exchange = make_return(
        shop, resolution="exchange", exchange_variant_id=42, exchange_variant_title="L / Navy"
    )
    assert listed(admin_client, resolution="refund") == {refund.number}
    assert listed(admin_client, resolution="exchange") == {exchange.number}


def test_search_by_number_order_name_and_email(admin_client: Client, shop: Shop) -> None:
    wanted = make_return(shop)
    Order.objects.filter(pk=wanted.order_id).update(email="carol@example.com")
    other = make_return(shop)
    for term in (wanted.number, wanted.order.name, "carol@example.com"):
        assert listed(admin_client, q=term) == {wanted.number}, term
    assert other.number in listed(admin_client)


def test_the_list_takes_a_bounded_number_of_queries(
    admin_client: Client, shop: Shop, django_assert_max_num_queries: Any
) -> None:
    for _n in range(6):
        make_return(shop)
    with django_assert_max_num_queries(10):
        response = admin_client.get(reverse(CHANGELIST), {"resolution": "refund"})
    assert len(response.context["cl"].result_list) == 6


# Actions.


def test_approve_moves_the_return_and_logs_the_agent(admin_client: Client, shop: Shop) -> None:
    requested = make_return(shop)
    response = act(admin_client, "approve_selected", [requested])
    assert "1 return approved." in shown(response)
    requested.refresh_from_db()
    assert requested.status == Status.APPROVED and requested.decided_by == ROOT
    event = requested.order.events.get(kind=events.APPROVED.name)
    assert event.actor == ROOT and event.subject == requested


def test_approving_a_declined_return_is_refused_and_changes_nothing(
    admin_client: Client, shop: Shop
) -> None:
    declined = actions.decline(request=make_return(shop), actor=TEST_AGENT, reason="Worn.")
    logged = declined.order.events.count()
    response = act(admin_client, "approve_selected", [declined])
    assert shown(response) == [f"{declined.number} cannot be approved: it is “Declined”."]
    declined.refresh_from_db()
    assert declined.status == Status.DECLINED and declined.decided_by == TEST_AGENT
    assert declined.order.events.count() == logged


def test_decline_without_a_reason_asks_again_and_changes_nothing(
    admin_client: Client, shop: Shop
) -> None:
    requested = make_return(shop)
    first = act(admin_client, "decline_selected", [requested])
    assert "admin/returns/decline.html" in [t.name for t in first.templates]
    again = act(admin_client, "decline_selected", [requested], confirm="yes", reason="  ")
    assert "admin/returns/decline.html" in [t.name for t in again.templates]
    assert again.context["form"].errors["reason"]
    requested.refresh_from_db()
    assert requested.status == Status.REQUESTED and requested.decline_reason == ""


def test_decline_with_a_reason_stores_it_for_the_shopper(admin_client: Client, shop: Shop) -> None:
    requested = make_return(shop)
    response = act(
        admin_client,
        "decline_selected",
        [requested],
        confirm="yes",
        reason="The tag was removed.",
    )
    assert "1 return declined." in shown(response)
    requested.refresh_from_db()
    assert requested.status == Status.DECLINED
    assert requested.decline_reason == "The tag was removed."
    event = requested.order.events.get(kind=events.DECLINED.name)
    assert event.actor == ROOT and event.data["reason"] == "The tag was removed."


def test_mark_received_stores_each_lines_condition(admin_client: Client, shop: Shop) -> None:
    order = delivered_order(shop, lines=2)
    first, second = order.lines.order_by("pk")
    approved = actions.approve(
        request=actions.request_return(order=order, items=[item(first.pk), item(second.pk)]),
        actor=TEST_AGENT,
    )
    still_requested = make_return(shop)
    lines = list(approved.lines.order_by("pk"))

    form = act(admin_client, "receive_selected", [approved, still_requested])
    assert "admin/returns/receive.html" in [t.name for t in form.templates]
    assert set(form.context["form"].fields) == {f"condition_{line.pk}" for line in lines}
    assert form.context["skipped"] == [still_requested]

    response = act(
        admin_client,
        "receive_selected",
        [approved],
        confirm="yes",
        **{
            f"condition_{lines[0].pk}": Condition.AS_NEW,
            f"condition_{lines[1].pk}": Condition.DAMAGED,
        },
    )
    assert "1 return marked received." in shown(response)
    approved.refresh_from_db()
    assert approved.status == Status.RECEIVED
    assert [line.condition for line in approved.lines.order_by("pk")] == ["as_new", "damaged"]
    event = approved.order.events.get(kind=events.RECEIVED.name)
    assert event.actor == ROOT


def test_mark_received_needs_every_condition(admin_client: Client, shop: Shop) -> None:
    approved = actions.approve(request=make_return(shop), actor=TEST_AGENT)
    response = act(admin_client, "receive_selected", [approved], confirm="yes")
    assert "admin/returns/receive.html" in [t.name for t in response.templates]
    approved.refresh_from_db()
    assert approved.status == Status.APPROVED


def test_mark_received_refuses_returns_not_on_their_way(admin_client: Client, shop: Shop) -> None:
    requested = make_return(shop)
    response = act(admin_client, "receive_selected", [requested])
    assert shown(response) == [f"{requested.number} cannot be marked received: it is “Requested”."]
    requested.refresh_from_db()
    assert requested.status == Status.REQUESTED


def test_retry_clears_the_failure_and_logs_the_agent(admin_client: Client, shop: Shop) -> None:
    failed = make_return(shop)
    actions.mark_failed(request=failed, code="refused", detail="Line not fulfilled")
    fine = make_return(shop)
    response = act(admin_client, "retry_selected", [failed, fine])
    messages = shown(response)
    assert "1 return sent to Shopify again." in messages
    assert f"{fine.number} has no failure to send again." in messages
    failed.refresh_from_db()
    assert failed.failure_code == "" and failed.failure_detail == ""
    event = failed.order.events.get(kind=events.RETRIED.name)
    assert event.actor == ROOT
    assert not fine.order.events.filter(kind=events.RETRIED.name).exists()


# The return's page, and its photos.


@pytest.fixture
def with_photo(shop: Shop) -> ReturnRequest:
    return make_return(shop, reason="damaged", photo=photos.store(png_upload()), comment="Torn")


def photo_url(request: ReturnRequest) -> str:
    line = request.lines.get()
    return reverse("admin:returns_returnrequest_photo", args=[request.pk, line.pk])


def test_the_return_page_is_read_only_and_shows_lines_amounts_and_log(
    admin_client: Client, with_photo: ReturnRequest
) -> None:
    actions.mark_failed(request=with_photo, code="refused", detail="Line not fulfilled")
    response = admin_client.get(reverse("admin:returns_returnrequest_change", args=[with_photo.pk]))
    assert response.status_code == 200
    text = response.text
    assert "Arrived damaged or faulty" in text and "Torn" in text  # the line
    assert f'href="{photo_url(with_photo)}"' in text  # the photo, as a thumbnail link
    assert "$29.00" in text  # the amounts the shopper agreed to
    assert "Line not fulfilled" in text  # Shopify's failure, also in the audit log
    assert "Return requested · the shopper" in text  # audit log, as agents read it
    assert 'name="_save"' not in text and 'name="number"' not in text
    assert (
        admin_client.post(
            reverse("admin:returns_returnrequest_change", args=[with_photo.pk]), {}
        ).status_code
        == 403
    )


def test_returns_cannot_be_added_or_deleted(admin_client: Client, shop: Shop) -> None:
    request = make_return(shop)
    assert admin_client.get(reverse("admin:returns_returnrequest_add")).status_code == 403
    delete = reverse("admin:returns_returnrequest_delete", args=[request.pk])
    assert admin_client.get(delete).status_code == 403


def test_the_photo_is_streamed_to_staff(admin_client: Client, with_photo: ReturnRequest) -> None:
    response = admin_client.get(photo_url(with_photo))
    assert response.status_code == 200
    image = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert image.size == (8, 8)
    # Whatever `photos.store` re-encoded it as, the type says what the bytes are.
    assert response["Content-Type"] == Image.MIME[image.format]
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]


def test_staff_who_may_view_returns_see_photos(client: Client, with_photo: ReturnRequest) -> None:
    viewer = User.objects.create_user("val", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_returnrequest"))
    client.force_login(viewer)
    assert client.get(photo_url(with_photo)).status_code == 200


def test_the_photo_is_refused_to_anyone_else(
    client: Client, with_photo: ReturnRequest, shop: Shop
) -> None:
    url = photo_url(with_photo)
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]

    staff_without_permission = User.objects.create_user("sam", is_staff=True)
    client.force_login(staff_without_permission)
    assert client.get(url).status_code == 403

    shopper_like = User.objects.create_user("pat")  # not staff: the admin login page
    client.force_login(shopper_like)
    assert client.get(url).status_code == 302


def test_photo_404s_for_another_returns_line_or_a_line_without_photo(
    admin_client: Client, with_photo: ReturnRequest, shop: Shop
) -> None:
    other = make_return(shop)
    line = with_photo.lines.get()
    url = reverse("admin:returns_returnrequest_photo", args=[other.pk, line.pk])
    assert admin_client.get(url).status_code == 404
    assert admin_client.get(photo_url(other)).status_code == 404


# The policy.


def test_the_policy_page_edits_slip_instructions_and_shopify_reasons(
    admin_client: Client, shop: Shop
) -> None:
    policy = ReturnPolicy.for_shop(shop)
    policy.save()
    response = admin_client.get(reverse("admin:returns_returnpolicy_change", args=[policy.pk]))
    assert 'name="slip_instructions"' in response.text
    assert 'name="reasons-0-shopify_reason"' in response.text
