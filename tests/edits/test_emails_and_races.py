"""Emails in the order's language with a working link; two submissions at once make one
request; an uninstalled shop is sent nothing."""

from __future__ import annotations

import threading

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone, translation

from edits import actions, emails
from edits.kinds.cancellation import CANCELLATION
from edits.kinds.contact import CONTACT
from edits.models import ChangeRequest
from orders.models import Order, Shop
from shopify import outbox


def test_the_shopper_is_emailed_in_the_orders_language_with_a_link(
    shipped_order: Order, unfulfilled_order: Order, mailoutbox, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    order = unfulfilled_order
    Order.objects.filter(pk=order.pk).update(customer_locale="de", placed_at=timezone.now())
    order.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=False):
        request = actions.request_change(
            order=order, kind=CONTACT, after={"email": "neu@example.com", "phone": ""}
        )
    emails.send_change_email(request.pk, "received")
    (message,) = mailoutbox
    with translation.override("de"):
        expected = translation.gettext("We received your change to order %(name)s") % {
            "name": order.name
        }
    assert message.subject == expected
    assert message.to == [order.email]
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and 'lang="de"' in html
    link = next(word for word in message.body.split() if "/o/" in word)
    assert Client().get(link.replace("http://127.0.0.1:8000", "")).status_code == 200


def test_no_email_without_an_address(unfulfilled_order: Order, mailoutbox) -> None:  # type: ignore[no-untyped-def]
    Order.objects.filter(pk=unfulfilled_order.pk).update(email="")
    request = ChangeRequest.objects.create(
        order=unfulfilled_order, kind=CANCELLATION.code, status="queued"
    )
    emails.send_change_email(request.pk, "received")
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_two_submissions_at_once_make_one_request(shop: Shop) -> None:
    from tests.factories import add_fulfillment_order, add_line, make_order

    order = make_order(shop, placed_at=timezone.now())
    add_line(order)
    add_fulfillment_order(order)
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def submit() -> None:
        try:
            start.wait()
            actions.request_change(
                order=order, kind=CONTACT, after={"email": "x@example.com", "phone": ""}
            )
            outcomes.append("made")
        except actions.NotAllowed as refused:
            outcomes.append(refused.decision.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["already_requested", "made"]
    assert ChangeRequest.objects.filter(order=order).count() == 1


def test_an_uninstalled_shop_is_sent_nothing(
    unfulfilled_order: Order, shopify, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    Order.objects.filter(pk=unfulfilled_order.pk).update(placed_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=False):
        request = actions.request_change(
            order=unfulfilled_order,
            kind=CONTACT,
            after={"email": "x@example.com", "phone": ""},
        )
    Shop.objects.filter(pk=unfulfilled_order.shop_id).update(is_active=False)
    outbox.run("edits.change", request.pk)
    request.refresh_from_db()
    # Nothing more is sent to a disconnected shop; the shopper reads the same "could not".
    assert request.status == "failed" and request.failure_code == "disconnected"
    with translation.override("en"):
        assert request.failure_text == "We could not make this change. Please contact us."
