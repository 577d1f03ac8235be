from __future__ import annotations

from datetime import UTC, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from orders import access, actions
from orders.actors import SHOPIFY, SHOPPER, Actor
from orders.models import DELIVERED, DELIVERY_PROBLEM, LOOKUP_GRANTED, PLACED, SHIPPED, Order, Shop
from tests.factories import add_fulfillment_order, add_line, make_order, ship

LANGUAGES = [code for code, _name in settings.LANGUAGES]


def url(order: Order) -> str:
    return reverse("orders:page", args=[access.link_token(order)])


def big_order(shop: Shop) -> Order:
    """40 lines in 5 shipments, each with a handful of tracking events."""
    order = make_order(shop)
    lines = [add_line(order, title=f"Item {i}", sku=f"SKU-{i}") for i in range(40)]
    add_fulfillment_order(order, status="closed")
    now = timezone.now()
    for parcel in range(5):
        ship(
            order,
            lines[parcel * 8 : (parcel + 1) * 8],
            name=f"{order.name}.{parcel + 1}",
            events=[("in_transit", now - timedelta(hours=h)) for h in range(6)],
        )
    for kind in (PLACED, SHIPPED):
        order.log(kind, actor=SHOPIFY)
    return order


def queries_for(client: Client, order: Order) -> int:
    """The queries of a cold page: nothing of it cached (the shop's offers neither)."""
    link = url(order)
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(link)
    assert response.status_code == 200
    return len(queries)


def test_order_page_queries_do_not_grow_with_the_order(client: Client, shop: Shop) -> None:
    small = make_order(shop)
    add_line(small)
    add_fulfillment_order(small, status="closed")
    ship(small, events=[("in_transit", timezone.now())])
    small.log(PLACED, actor=SHOPIFY)
    small_count = queries_for(client, small)
    big_count = queries_for(client, big_order(shop))
    assert big_count == small_count
    # The access check, the page's own 6, the live part of edits (the policy, the order's change
    # requests and its warehouse holds), that of returns (the policy, what was asked back) and
    # that of offers (the shop's active offers: none here, so nothing more).
    assert small_count <= 13


def test_big_order_page_within_query_budget(
    client: Client, shop: Shop, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    link = url(big_order(shop))
    with django_assert_max_num_queries(13):
        response = client.get(link)
    text = response.text
    assert text.count('class="shipment"') == 5
    assert text.count('class="line"') == 40


def test_page_shows_tracking_items_and_address(client: Client, shipped_order: Order) -> None:
    response = client.get(url(shipped_order), HTTP_COOKIE="django_language=en")
    text = response.text
    assert "UPS" in text
    assert 'href="https://www.ups.com/track?tracknum=1Z999AA10123456784"' in text
    assert "Carrier says in_transit" in text  # the latest event
    assert "Carrier says label_printed" in text  # in the past events
    assert "Organic T-shirt" in text and "M / Navy" in text
    assert "NEW YORK, NY 10118" in text  # US address format: CITY, STATE ZIP
    assert "United States" in text
    assert "$63.00" in text


def test_htmx_request_gets_only_the_partial(client: Client, shipped_order: Order) -> None:
    link = url(shipped_order)
    full = client.get(link)
    partial = client.get(link + "?section=tracking", HTTP_HX_REQUEST="true")
    assert "<html" in full.text and 'id="tracking"' in full.text
    assert "<html" not in partial.text
    assert partial.text.strip().startswith('<section id="tracking"')
    assert "Items" not in partial.text
    # Without htmx the same URL is the whole page: every link works with JavaScript off.
    assert "<html" in client.get(link + "?section=tracking").text


def test_unknown_section_falls_back_to_the_page(client: Client, shipped_order: Order) -> None:
    response = client.get(url(shipped_order) + "?section=nope", HTTP_HX_REQUEST="true")
    assert "<html" in response.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_page_renders_in_every_language(
    client: Client, shipped_order: Order, language: str
) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(url(shipped_order))
    assert response.status_code == 200
    rtl = language in ("ar", "he")
    assert f'<html lang="{language}" dir="{"rtl" if rtl else "ltr"}">' in response.text
    assert response["Content-Language"] == language
    with translation.override(language):
        for text in ("Where your order is", "Delivery address", "Items"):
            translated = translation.gettext(text)
            assert translated in response.text
            assert language == "en" or translated != text  # the catalogue really was used


def test_page_opens_in_the_orders_locale(client: Client, shipped_order: Order) -> None:
    response = client.get(url(shipped_order), HTTP_ACCEPT_LANGUAGE="fr")
    assert '<html lang="de"' in response.text  # customer_locale "de" wins over the browser


def test_regional_customer_locale_maps_to_its_language(client: Client, shop: Shop) -> None:
    order = make_order(shop, customer_locale="fr-CA")
    add_line(order)
    assert '<html lang="fr"' in client.get(url(order)).text


def test_language_outside_the_shops_list_falls_back(client: Client, shop: Shop) -> None:
    shop.enabled_locales = ["en", "de"]
    shop.save()
    order = make_order(shop, customer_locale="ja")
    add_line(order)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"
    text = client.get(url(order)).text
    assert '<html lang="en"' in text
    assert 'value="ja"' not in text  # the switcher offers only the shop's languages


def test_switching_language_sticks(client: Client, shipped_order: Order) -> None:
    link = url(shipped_order)
    assert '<html lang="de"' in client.get(link).text
    response = client.get(link, {"language": "ja"})
    assert response.status_code == 302 and response["Location"] == link
    assert '<html lang="ja"' in client.get(link).text
    assert '<html lang="ja"' in client.get(reverse("find_order")).text  # and on every page


def test_unknown_language_choice_is_ignored(client: Client, shipped_order: Order) -> None:
    response = client.get(url(shipped_order), {"language": "xx"})
    assert response.status_code == 200
    assert '<html lang="de"' in response.text


def test_cancelled_order_has_no_timeline(client: Client, shop: Shop) -> None:
    order = make_order(shop, cancelled_at=timezone.now())
    add_line(order)
    text = client.get(url(order), HTTP_COOKIE="django_language=en").text
    assert "This order was cancelled." in text
    assert 'class="timeline"' not in text
    assert "hx-trigger" not in text.split('id="tracking"')[1].split(">")[0]


def test_only_shopper_visible_activity_is_shown(client: Client, shipped_order: Order) -> None:
    shipped_order.log(SHIPPED, actor=SHOPIFY)
    shipped_order.log(LOOKUP_GRANTED, actor=SHOPPER)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    text = client.get(url(shipped_order)).text
    assert "A shipment is on its way" in text
    assert "Order opened by lookup" not in text


def test_warm_page_costs_one_query_whatever_the_size(
    client: Client, shop: Shop, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    link = url(big_order(shop))
    cold = client.get(link).text
    with django_assert_num_queries(1):  # the access check; the page itself comes from Redis
        warm = client.get(link).text
    assert warm == cold


def test_cached_page_carries_nothing_of_the_visitor(client: Client, shipped_order: Order) -> None:
    by_link = client.get(url(shipped_order)).text
    cache.clear()  # the second visitor's page is rendered afresh, for that visitor
    lookup = Client()
    response = lookup.post(reverse("find_order"), {"number": "1002", "contact": "bob@example.com"})
    by_grant = lookup.get(response["Location"]).text
    assert by_link == by_grant
    assert "csrf" not in by_link.lower()


def test_new_shopper_visible_event_shows_at_once(client: Client, shipped_order: Order) -> None:
    link = url(shipped_order)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "The carrier reported a delivery problem" not in client.get(link).text
    shipped_order.log(DELIVERY_PROBLEM, actor=SHOPIFY)
    assert "The carrier reported a delivery problem" in client.get(link).text


def test_mirror_change_shows_once_the_revision_moves(client: Client, shipped_order: Order) -> None:
    link = url(shipped_order)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    badge = '<span class="badge badge--info">Out for delivery</span>'
    assert badge not in client.get(link).text
    shipped_order.fulfillments.update(shipment_status="out_for_delivery")
    shipped_order.bump_revision()  # what ingest does after writing the mirror
    assert badge in client.get(link).text


def test_branding_change_shows_at_once(client: Client, shipped_order: Order) -> None:
    link = url(shipped_order)
    assert "#14532e" not in client.get(link).text
    shop = shipped_order.shop
    shop.brand_colour = "#14532e"
    shop.save()
    assert "--brand: #14532e" in client.get(link).text


def test_revoked_link_stops_working_even_with_a_warm_page(
    client: Client, shipped_order: Order
) -> None:
    link = url(shipped_order)
    assert client.get(link).status_code == 200
    actions.revoke_links(order=shipped_order, actor=Actor(Actor.AGENT, "alice"))
    assert client.get(link).status_code == 404


def test_a_poll_that_finds_nothing_new_swaps_nothing(client: Client, shipped_order: Order) -> None:
    link = url(shipped_order)
    page = client.get(link).text
    assert f"?section=tracking&amp;since={shipped_order.revision}" in page
    poll = {"section": "tracking", "since": str(shipped_order.revision)}
    assert client.get(link, poll, HTTP_HX_REQUEST="true").status_code == 204
    shipped_order.log(DELIVERED, actor=SHOPIFY)
    changed = client.get(link, poll, HTTP_HX_REQUEST="true")
    assert changed.status_code == 200
    assert changed.text.strip().startswith('<section id="tracking"')


def test_discounts_are_negative_amounts_in_the_shoppers_locale(client: Client, shop: Shop) -> None:
    order = make_order(shop, discounts=Decimal("5.00"), currency="EUR")
    add_line(order)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "nl"
    assert "€\xa0-5,00" in client.get(url(order)).text  # Babel's Dutch: sign after the symbol


def test_a_delay_is_said_and_the_old_estimate_not_given_as_the_date(
    client: Client, shop: Shop
) -> None:
    """The carrier reported a delay after its estimate: the page says the order is delayed,
    does not show the old date as the one to expect, and the carrier's own words are beside
    the translated status, not instead of it."""
    order = make_order(shop)
    add_line(order)
    now = timezone.now()
    shipment = ship(
        order,
        shipment_status="delayed",
        estimated_delivery_at=now + timedelta(days=1),
        events=[("in_transit", now - timedelta(days=2)), ("delayed", now - timedelta(hours=3))],
    )
    shipment.events.filter(status="delayed").update(message="Verzögerung wegen hohen Aufkommens")
    shipment.events.filter(status="in_transit").update(message="In transit.")
    text = client.get(url(order), HTTP_COOKIE="django_language=en").text
    assert "Your order is on its way, but the carrier reports a delay." in text
    assert "No new date from the carrier yet (it was" in text
    assert "<strong>Delayed</strong>" in text and "Verzögerung wegen hohen Aufkommens" in text
    assert "In transit." not in text  # the carrier's "In transit." is the status: said once
    assert 'badge--warn">Delayed' in text


def test_a_delivered_order_has_walked_every_step(client: Client, shop: Shop) -> None:
    order = make_order(shop)
    add_line(order)
    ship(order, shipment_status="delivered", delivered_at=timezone.now())
    text = client.get(url(order)).text
    assert text.count("timeline__step is-done") == 5  # the last dot is done, not an empty ring


@pytest.mark.parametrize(
    ("locale", "language"),
    [
        ("zh-CN", "zh-hans"),
        ("zh", "zh-hans"),
        ("pt-BR", "pt-br"),
        ("pt-PT", "pt-br"),
        ("iw", "he"),
        ("he-IL", "he"),
        ("sv-SE", "sv"),
        ("pl", "pl"),
        ("it-CH", "it"),
    ],
)
def test_customer_locales_find_the_shipped_languages(
    shop: Shop, locale: str, language: str
) -> None:
    assert shop.language_for(locale) == language


def test_a_hebrew_order_page_reads_right_to_left(client: Client, shop: Shop) -> None:
    order = make_order(shop, customer_locale="he-IL")
    add_line(order)
    text = client.get(url(order)).text
    assert '<html lang="he" dir="rtl">' in text


@pytest.mark.parametrize(
    ("locale", "placed"),
    [("en-GB", "7 Dec 2026"), ("en-US", "Dec 7, 2026"), ("de-AT", "07.12.2026")],
)
def test_dates_are_written_as_the_shoppers_region_writes_them(
    client: Client, shop: Shop, locale: str, placed: str
) -> None:
    from datetime import datetime  # noqa: PLC0415

    order = make_order(
        shop, customer_locale=locale, placed_at=datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    )
    add_line(order)
    text = client.get(url(order)).text
    assert placed in text


def test_an_email_is_written_as_the_shoppers_region_writes(shop: Shop) -> None:
    from orders import formatting

    with translation.override("en"), formatting.region("en-GB"):
        assert formatting.money(Decimal("1234.5"), "GBP") == "£1,234.50"
        assert formatting.current_locale().territory == "GB"
    with translation.override("en"):
        assert formatting.current_locale().territory in (None, "US")
