"""Money after a cancellation, in the order's currency: the email says what goes back, and the
order page keeps the total paid at checkout, shows the refund Shopify made (how much, when) and
what was paid in the end, instead of a total of zero."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client

from edits.models import ChangeRequest, EditPolicy
from orders import access
from orders.models import Order
from sandbox import Sandbox


@pytest.mark.parametrize("ordered", [("GBP", Decimal("0.85"))], indirect=True)
def test_a_cancelled_order_shows_its_refund_in_its_own_currency(
    client: Client,
    ordered: Order,
    shopify: Sandbox,
    django_capture_on_commit_callbacks,
    run_jobs,
) -> None:  # type: ignore[no-untyped-def]
    EditPolicy.objects.filter(shop=ordered.shop).update(cancel_refund=True)
    page = f"/o/{access.link_token(ordered)}/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(page + "cancel/", {"confirm": "on"})
    assert response.status_code == 302
    for _ in range(4):
        with django_capture_on_commit_callbacks(execute=True):
            run_jobs()
    request = ChangeRequest.objects.get()
    assert request.status == "applied", (request.failure_code, request.failure_detail)
    order = Order.objects.get(pk=ordered.pk)
    assert order.is_cancelled and order.total == 0
    assert order.original_total == Decimal("134.30")  # 2 × 67.15 pounds, at checkout
    assert [amount for _at, amount in order.refunded] == [Decimal("134.30")]

    html = client.get(page).content.decode()
    totals = html[html.index('class="totals"') :]
    assert "Total at checkout" in totals and "£134.30" in totals
    assert re.search(r"Refunded on [^<]+</dt><dd>-£134\.30", totals)
    assert "Paid in the end</dt><dd>£0.00" in totals
    assert "€" not in totals

    applied = [m for m in mail.outbox if "was made" in m.subject]
    assert applied and "£134.30 goes back to your original payment method." in applied[-1].body
