"""An item added to an order before it is packed: only the products carrying the merchant's tag,
only what Shopify may sell, at Shopify's price in the order's currency, paid on Shopify's page;
an answer lost after the commit never adds it twice."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client

from edits.models import ChangeRequest, EditPolicy
from orders.models import Order
from sandbox import NewVariant, Sandbox
from shopify.client import Transient
from tests.edits.conftest import push_failing
from tests.edits.test_items import choose, lines_in_shopify, page_of, push, quoted, writes


@pytest.fixture
def beanie(shopify: Sandbox, ordered: Order):  # type: ignore[no-untyped-def]
    """A beanie the shop offers to add (tagged add-on), a scarf it does not."""
    policy = EditPolicy.for_shop(ordered.shop)
    policy.items_add_tag = "Add-On"
    policy.save()
    shopify.add_product(
        title="Wool scarf", variants=[NewVariant("Default Title", Decimal("25.00"), 9)]
    )
    cache.clear()
    return shopify.add_product(
        title="Wool beanie",
        tags=["add-on", "winter"],
        variants=[
            NewVariant("Grey", Decimal("18.00"), 3, sku="BEANIE-GREY"),
            NewVariant("Navy", Decimal("18.00"), 0, sku="BEANIE-NAVY"),
        ],
    )


def grey(beanie) -> str:  # type: ignore[no-untyped-def]
    return str(next(v.id for v in beanie.variants if v.title == "Grey"))


def test_only_the_tagged_products_are_offered(client: Client, ordered: Order, beanie) -> None:  # type: ignore[no-untyped-def]
    html = client.get(page_of(ordered)).content.decode()
    assert "Wool beanie · Grey" in html and "Wool beanie · Navy (sold out)" in html
    assert "Wool scarf" not in html


def test_an_item_added_is_paid_on_shopifys_page(
    client: Client,
    ordered: Order,
    shopify: Sandbox,
    beanie,
    django_capture_on_commit_callbacks,
    run_jobs,
) -> None:  # type: ignore[no-untyped-def]
    data = {**choose(ordered), "add_variant": grey(beanie), "add_quantity": "2"}
    preview = client.post(page_of(ordered), {**data, "step": "preview"})
    html = preview.content.decode()
    assert preview.status_code == 200, html[:2000]
    assert "New: 2" in html and "You pay €36.00 more." in html
    with django_capture_on_commit_callbacks(execute=False):
        confirmed = client.post(
            page_of(ordered), {**data, "step": "confirm", "quoted": quoted(preview)}
        )
    assert confirmed.status_code == 302
    request = ChangeRequest.objects.get()
    assert request.after["additions"][0]["title"] == "Wool beanie · Grey"
    with django_capture_on_commit_callbacks(execute=True):
        push(request.pk)
    with django_capture_on_commit_callbacks(execute=True):
        run_jobs()
    request.refresh_from_db()
    assert request.status == "awaiting_payment", (request.failure_code, request.failure_detail)
    assert Decimal(request.shopify_result["to_pay"]) == Decimal("36.00")
    assert lines_in_shopify(shopify, ordered) == {"M": 2, "Grey": 2}


def test_an_item_added_whose_commit_answer_was_lost_is_added_once(
    client: Client,
    ordered: Order,
    shopify: Sandbox,
    beanie,
    monkeypatch,
    django_capture_on_commit_callbacks,
) -> None:  # type: ignore[no-untyped-def]
    data = {**choose(ordered), "add_variant": grey(beanie), "add_quantity": "1"}
    preview = client.post(page_of(ordered), {**data, "step": "preview"})
    with django_capture_on_commit_callbacks(execute=False):
        client.post(page_of(ordered), {**data, "step": "confirm", "quoted": quoted(preview)})
    request = ChangeRequest.objects.get()
    push_failing(
        monkeypatch, request, "OrderEditCommit", Transient("no answer in time"), after=True
    )
    ChangeRequest.objects.filter(pk=request.pk).update(next_attempt_at=request.created_at)
    push(request.pk)
    request.refresh_from_db()
    assert request.status == "awaiting_payment"
    assert writes(shopify, "orderEditCommit") == 1
    assert lines_in_shopify(shopify, ordered) == {"M": 2, "Grey": 1}


def test_more_than_is_in_stock_or_a_sold_out_one_is_refused(
    client: Client, ordered: Order, shopify: Sandbox, beanie
) -> None:  # type: ignore[no-untyped-def]
    many = {**choose(ordered), "add_variant": grey(beanie), "add_quantity": "4", "step": "preview"}
    response = client.post(page_of(ordered), many)
    assert response.status_code == 422
    assert "We do not have that many in stock." in response.content.decode()

    navy = str(next(v.id for v in beanie.variants if v.title == "Navy"))
    sold_out = {**choose(ordered), "add_variant": navy, "add_quantity": "1", "step": "preview"}
    response = client.post(page_of(ordered), sold_out)
    assert response.status_code == 422
    assert "This one is sold out." in response.content.decode()

    forged = {**choose(ordered), "add_variant": "999", "add_quantity": "1", "step": "preview"}
    assert client.post(page_of(ordered), forged).status_code == 422
    assert not ChangeRequest.objects.exists()


def test_nothing_is_offered_without_the_merchants_tag(
    client: Client, ordered: Order, shopify: Sandbox, beanie
) -> None:  # type: ignore[no-untyped-def]
    EditPolicy.objects.filter(shop=ordered.shop).update(items_add_tag="")
    html = client.get(page_of(ordered)).content.decode()
    assert "Add an item" not in html and "Wool beanie" not in html


def test_shopify_unreachable_while_the_stock_is_checked_is_said_not_a_crash(
    client: Client, ordered: Order, shopify: Sandbox, beanie, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from shopify import catalogue

    page = client.get(page_of(ordered))  # the catalogue read and cached for the form
    assert page.status_code == 200

    def unreachable(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise catalogue.Unavailable

    monkeypatch.setattr(catalogue, "variants", unreachable)
    data = {**choose(ordered), "add_variant": grey(beanie), "add_quantity": "1"}
    response = client.post(page_of(ordered), {**data, "step": "preview"})
    assert response.status_code == 503
    assert "We cannot calculate the new total right now." in response.content.decode()
    assert not ChangeRequest.objects.exists()
