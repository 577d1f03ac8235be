"""The order page says which items can go back, until when, or why not."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from orders import access
from orders.models import Order, Shop
from tests.factories import add_line, make_order, ship


def test_the_page_lists_what_can_be_returned_and_why_not(client: Client, shop: Shop) -> None:
    order = make_order(shop)
    add_line(order, title="Trail hoodie", quantity=2)
    add_line(order, title="Merino socks", product_tags=["final-sale"])
    ship(order, shipment_status="delivered", delivered_at=timezone.now() - timedelta(days=1))
    html = client.get(f"/o/{access.link_token(order)}/", HTTP_COOKIE="django_language=en")
    text = html.content.decode()
    assert 'id="returns"' in text
    assert "2 can be returned until" in text
    assert "Final sale" in text


def test_nothing_about_returns_before_anything_shipped(
    client: Client, unfulfilled_order: Order
) -> None:
    text = client.get(f"/o/{access.link_token(unfulfilled_order)}/").content.decode()
    assert 'id="returns"' not in text
