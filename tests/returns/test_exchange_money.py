"""An exchange is priced in the order's currency: a shop in euros, an order paid in pounds.
Another size at the same price costs nothing more; a dearer one costs the difference as Shopify
prices the two for the order's market; one Shopify does not price in pounds is not offered. The
amounts shown are those kept with the return, and the agent's page repeats them."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client

from orders import access
from orders.models import Order
from returns.models import ReturnLine
from sandbox import Sandbox
from tests.returns.test_sync import policy_for, variant

POUNDS = [("GBP", Decimal("0.85"))]


def url(order: Order, step: str = "") -> str:
    return f"/o/{access.link_token(order)}/return/{step}"


def to_resolution(client: Client, order: Order) -> str:
    line = order.lines.get()
    client.post(url(order), {f"quantity-{line.pk}": "1"})
    client.post(url(order, "reasons/"), {f"reason-{line.pk}": "too_small"})
    return client.get(url(order, "resolution/")).content.decode()


def option(html: str, variant_id: int) -> str:
    found = re.search(
        rf'value="exchange:{variant_id}"[^>]*>\s*<span>(.*?)</span>\s*</label>', html, re.S
    )
    assert found, f"no option for {variant_id}"
    return re.sub(r"<[^>]+>", "", found.group(1))


@pytest.mark.parametrize("delivered", POUNDS, indirect=True)
def test_exchanges_are_priced_in_the_orders_currency(
    client: Client, delivered: Order, shopify: Sandbox
) -> None:
    policy_for(delivered, auto_approval="all")
    small, large = variant(shopify, "S")["id"], variant(shopify, "L")["id"]
    html = to_resolution(client, delivered)
    assert "same price" in option(html, small)  # 79.00 euros like M: the paid £67.15
    assert "£71.40" in option(html, large)  # 84.00 euros: £71.40 in this market
    assert "€" not in html.split("<main")[-1]

    line = delivered.lines.get()
    client.post(url(delivered, "resolution/"), {f"resolution-{line.pk}": f"exchange:{large}"})
    review = client.get(url(delivered, "review/")).content.decode()
    assert "£4.25" in review  # 71.40 − 67.15, to pay
    done = client.post(url(delivered, "review/"))
    assert done.status_code == 302
    kept = ReturnLine.objects.get()
    assert kept.exchange_price == Decimal("71.40")
    assert Decimal(kept.request.quote["exchange_difference"]) == Decimal("4.25")


@pytest.mark.parametrize("delivered", POUNDS, indirect=True)
def test_a_same_price_exchange_costs_nothing_more(
    client: Client, delivered: Order, shopify: Sandbox
) -> None:
    small = variant(shopify, "S")["id"]
    to_resolution(client, delivered)
    line = delivered.lines.get()
    client.post(url(delivered, "resolution/"), {f"resolution-{line.pk}": f"exchange:{small}"})
    review = client.get(url(delivered, "review/")).content.decode()
    assert "Price difference" not in review and "£11.85" not in review


@pytest.mark.parametrize("delivered", POUNDS, indirect=True)
def test_a_variant_shopify_does_not_price_in_the_orders_currency_is_not_offered(
    client: Client, delivered: Order, shopify: Sandbox
) -> None:
    shopify.store.markets["FR"] = ("EUR", Decimal(1))  # the destination's market sells in euros
    cache.clear()
    small, large = variant(shopify, "S")["id"], variant(shopify, "L")["id"]
    html = to_resolution(client, delivered)
    assert "same price" in option(html, small)  # the same price needs no market price
    assert f'value="exchange:{large}"' not in html
