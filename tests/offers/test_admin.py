"""A store manager sets an offer up as a person would: the product picked from the shop's own
catalogue by name, its variants ticked, conditions as checkboxes, lists and words (never JSON),
mistakes explained; and reads what it did, day by day."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from offers import events
from offers.models import Offer
from orders.actors import SHOPPER, SYSTEM
from orders.models import Shop
from sandbox import NewVariant, Sandbox
from tests.factories import make_order


@pytest.fixture
def manager(client: Client, connected_shop: Shop) -> Client:
    user = User.objects.create_user("maria", password="manager-password-1", is_staff=True)
    user.groups.add(Group.objects.get(name="Store manager"))
    client.force_login(user)
    return client


@pytest.fixture
def beanie(shopify: Sandbox, hoodie):  # type: ignore[no-untyped-def]
    cache.clear()
    return shopify.add_product(
        title="Wool beanie",
        product_type="Hats",
        variants=[
            NewVariant("Grey", Decimal("18.00"), 3),
            NewVariant("Navy", Decimal("18.00"), 0),
        ],
    )


def form(shop: Shop, offered: int, **fields: object) -> dict[str, object]:
    data: dict[str, object] = {
        "shop": shop.pk,
        "name": "Beanie for hoodie buyers",
        "active": "on",
        "product": offered,
        "discount": "percent",
        "discount_value": "15",
        "priority": "0",
    }
    return {**data, **fields}


def test_the_form_speaks_in_products_countries_and_languages_not_json(
    manager: Client, connected_shop: Shop, beanie, hoodie
) -> None:  # type: ignore[no-untyped-def]
    html = manager.get(reverse("admin:offers_offer_add")).content.decode()
    assert f'<option value="{beanie.id}">Wool beanie</option>' in html
    assert f'<option value="{hoodie.id}">Trail hoodie</option>' in html
    assert ">Germany</option>" in html and 'value="de"' in html
    assert "<textarea" not in html and 'value="[]"' not in html


def test_an_offer_is_saved_as_the_manager_chose_it(
    manager: Client, connected_shop: Shop, beanie, hoodie
) -> None:  # type: ignore[no-untyped-def]
    data = form(
        connected_shop,
        beanie.id,
        for_products=[str(hoodie.id)],
        for_order_tags="VIP,  gift wrap , vip",
        countries=["DE", "AT"],
        languages=["de"],
        daily_cap="20",
    )
    response = manager.post(reverse("admin:offers_offer_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    offer = Offer.objects.get()
    assert (offer.product_id, offer.product_title) == (beanie.id, "Wool beanie")
    assert offer.for_products == [hoodie.id]
    assert offer.for_order_tags == ["VIP", "gift wrap"]
    assert offer.countries == ["DE", "AT"] and offer.languages == ["de"]

    change = manager.get(reverse("admin:offers_offer_change", args=[offer.pk])).content.decode()
    grey, navy = (v.id for v in beanie.variants)
    assert f'value="{grey}"' in change and " Grey</label>" in change
    assert 'value="VIP, gift wrap"' in change
    data = form(connected_shop, beanie.id, variant_ids=[str(grey)])
    assert (
        manager.post(reverse("admin:offers_offer_change", args=[offer.pk]), data).status_code == 302
    )
    offer.refresh_from_db()
    assert offer.variant_ids == [grey] and offer.countries == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"discount_value": "120"}, "A percentage is at most 100."),
        ({"discount_value": "0"}, "Ensure this value is greater than or equal to 0.01."),
        ({"min_total": "100", "max_total": "50"}, "The highest total is below the lowest."),
        (
            {
                "starts_at_0": "2026-12-10",
                "starts_at_1": "10:00",
                "ends_at_0": "2026-12-09",
                "ends_at_1": "10:00",
            },
            "The end is before the start.",
        ),
        ({"product": "12345"}, "Select a valid choice."),
    ],
)
def test_mistakes_are_explained_and_nothing_is_saved(
    manager: Client, connected_shop: Shop, beanie, fields: dict[str, str], message: str
) -> None:  # type: ignore[no-untyped-def]
    response = manager.post(
        reverse("admin:offers_offer_add"), form(connected_shop, beanie.id, **fields)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Offer.objects.exists()


def test_without_shopify_the_product_is_entered_by_number(
    manager: Client, connected_shop: Shop, shopify: Sandbox
) -> None:  # type: ignore[no-untyped-def]
    cache.clear()
    shopify.faults.http(503, times=10)
    html = manager.get(reverse("admin:offers_offer_add")).content.decode()
    assert "Shopify cannot be asked right now" in html and 'name="product"' in html


def test_the_funnel_per_day_and_the_acceptance_rate(
    manager: Client, connected_shop: Shop, beanie
) -> None:  # type: ignore[no-untyped-def]
    offer = Offer.objects.create(
        shop=connected_shop, name="Beanie", product_id=beanie.id, discount_value=Decimal(15)
    )
    for number in range(4):
        order = make_order(connected_shop, number=7_000 + number, currency="EUR")
        order.log(events.SHOWN, actor=SHOPPER, subject=offer, offer=offer.pk)
        if number < 2:
            order.log(events.ACCEPTED, actor=SHOPPER, subject=offer, offer=offer.pk)
        if number == 0:
            order.log(
                events.PAID,
                actor=SYSTEM,
                subject=offer,
                offer=offer.pk,
                amount="15.30",
                currency="EUR",
                shop_amount="15.30",
                shop_currency="EUR",
            )
    listing = manager.get(reverse("admin:offers_offer_changelist")).content.decode()
    assert "50.0 % (15.0–85.0 %)" in listing
    page = manager.get(reverse("admin:offers_offer_change", args=[offer.pk])).content.decode()
    assert "<td>4</td><td>0</td><td>2</td><td>1</td><td>€15.30</td><td>€15.30</td>" in page


def test_saving_without_shopify_keeps_every_condition(
    manager: Client, connected_shop: Shop, shopify: Sandbox, beanie, hoodie
) -> None:  # type: ignore[no-untyped-def]
    offer = Offer.objects.create(
        shop=connected_shop,
        name="Beanie",
        product_id=beanie.id,
        product_title="Wool beanie",
        discount_value=Decimal(15),
        for_products=[hoodie.id],
        languages=["de"],
    )
    cache.clear()
    shopify.faults.http(503, times=50)
    change = reverse("admin:offers_offer_change", args=[offer.pk])
    html = manager.get(change).content.decode()
    assert f'value="{hoodie.id}" selected' in html  # still there, named by its number
    data = form(connected_shop, beanie.id, for_products=[str(hoodie.id)], languages=["de"])
    assert manager.post(change, data).status_code == 302
    offer.refresh_from_db()
    assert offer.for_products == [hoodie.id] and offer.product_id == beanie.id


def test_deleting_several_offers_renews_the_order_pages(
    manager: Client, connected_shop: Shop, beanie
) -> None:  # type: ignore[no-untyped-def]
    offers = [
        Offer.objects.create(
            shop=connected_shop, name=f"Beanie {n}", product_id=beanie.id, discount_value=10
        )
        for n in range(2)
    ]
    before = Shop.objects.get(pk=connected_shop.pk).updated_at
    response = manager.post(
        reverse("admin:offers_offer_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [str(o.pk) for o in offers],
            "post": "yes",
        },
    )
    assert response.status_code == 302 and not Offer.objects.exists()
    assert Shop.objects.get(pk=connected_shop.pk).updated_at > before
