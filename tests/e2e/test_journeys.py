"""A shopper looks an order up, follows its tracking, and switches languages, in a real browser."""

from __future__ import annotations

import pytest
from django.utils import translation

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def t(language: str, text: str, context: str | None = None) -> str:
    with translation.override(language):
        return translation.pgettext(context, text) if context else translation.gettext(text)


def new_page(browser, live_server, *, locale: str = "en-US", width: int = 390):  # type: ignore[no-untyped-def]
    context = browser.new_context(
        locale=locale, viewport={"width": width, "height": 900}, base_url=live_server.url
    )
    return context.new_page()


def look_up(page, number: str, contact: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    page.fill("#id_number", number)
    page.fill("#id_contact", contact)
    page.locator("form.stack button[type=submit]").click()


def choose_language(page, code: str) -> None:  # type: ignore[no-untyped-def]
    page.select_option("#language-select", code)
    page.locator("form.language button").click()
    page.wait_for_selector(f'html[lang="{code}"]')


def test_lookup_tracking_and_language_switch(browser, live_server, store, shot) -> None:  # type: ignore[no-untyped-def]
    page = new_page(browser, live_server)
    look_up(page, "#1001", "emma@example.com")

    page.wait_for_url("**/o/*/")
    assert page.locator("h1").inner_text() == "Order #1001"
    assert page.locator(".order-head .badge").inner_text() == "Shipped"
    assert page.locator('[aria-current="step"]').inner_text() == "Shipped"
    link = page.locator(".shipment a[href*='ups.com']")
    assert link.inner_text().startswith("UP1001")
    events = page.locator("details.events")
    assert not events.locator("ol").is_visible()
    events.locator("summary").click()
    assert events.locator("li").count() == 4
    shot(page, "en")

    choose_language(page, "de")
    assert page.locator("h1").inner_text() == t("de", "Order %(name)s") % {"name": "#1001"}
    assert page.locator(".order-head .badge").inner_text() == t("de", "Shipped", "order stage")
    assert "$" in page.locator(".totals__total dd").inner_text()  # German number format, dollars
    assert "," in page.locator(".totals__total dd").inner_text()
    shot(page, "de")

    page.reload()  # the choice sticks
    assert page.locator("html").get_attribute("lang") == "de"


def test_order_opens_in_customer_language_and_mirrors_in_arabic(
    browser, live_server, store, shot
) -> None:  # type: ignore[no-untyped-def]
    page = new_page(browser, live_server, width=1100)
    look_up(page, "1005", "+81 3-5221-8111")  # by phone, as written in Japan

    page.wait_for_url("**/o/*/")
    assert page.locator("html").get_attribute("lang") == "ja"  # the order's customer locale
    assert page.locator(".order-head .badge").inner_text() == t(
        "ja", "Out for delivery", "order stage"
    )
    assert "〒100-0005" in page.locator("address").inner_text()
    shot(page, "ja")

    choose_language(page, "ar")
    page.wait_for_selector('html[lang="ar"][dir="rtl"]')
    brand = page.locator(".brand").bounding_box()
    switch = page.locator("#language-select").bounding_box()
    assert brand["x"] > switch["x"]  # the header really mirrors: brand on the right
    steps = page.locator(".timeline__step")
    assert (
        steps.first.bounding_box()["x"] > steps.last.bounding_box()["x"]
    )  # timeline runs right to left
    shot(page, "ar")


def test_wrong_details_are_refused_in_the_browsers_language(
    browser, live_server, store, shot
) -> None:  # type: ignore[no-untyped-def]
    page = new_page(browser, live_server, locale="fr-FR")
    look_up(page, "1001", "someone@example.com")
    alert = page.locator("[role=alert]")
    assert alert.inner_text().strip() == t("fr", "We could not find an order with these details.")
    assert page.locator("html").get_attribute("lang") == "fr"
    shot(page, "refused")


def test_order_page_fits_a_small_phone_and_refreshes_in_place(
    browser, live_server, store, shot
) -> None:  # type: ignore[no-untyped-def]
    page = new_page(browser, live_server, width=360)
    look_up(page, "1008", "chloe@example.com")
    page.wait_for_url("**/o/*/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.locator(".shipment").count() == 2

    page.evaluate("window.__stayed = true")
    with page.expect_response(lambda r: "section=tracking" in r.url):
        page.locator("#tracking .card__head a").click()
    page.wait_for_selector("#tracking .shipment")
    assert page.evaluate("window.__stayed") is True  # swapped in place, no full reload
    shot(page, "phone")


def test_the_whole_journey_works_without_javascript(browser, live_server, store, shot) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(
        java_script_enabled=False,
        locale="en-US",
        viewport={"width": 360, "height": 800},
        base_url=live_server.url,
    )
    page = context.new_page()
    look_up(page, "1007", "layla@example.com")
    page.wait_for_url("**/o/*/")
    assert page.locator("html").get_attribute("lang") == "ar"  # the order's customer locale
    assert page.locator("html").get_attribute("dir") == "rtl"
    stage = page.locator(".order-head .badge").inner_text()
    assert stage == t("ar", "Delivery problem", "order stage")
    page.locator("#tracking .card__head a").click()  # "Refresh" is a plain link without htmx
    page.wait_for_url("**/o/*/")
    choose_language(page, "ja")  # the language form is a plain GET form
    assert page.locator(".order-head .badge").inner_text() == t(
        "ja", "Delivery problem", "order stage"
    )
    shot(page, "no-js")


@pytest.mark.parametrize("language", ["ar", "he", "ja", "zh-hans", "pl", "de"])
def test_small_phone_in_long_and_right_to_left_languages(
    browser, live_server, store, shot, language: str
) -> None:  # type: ignore[no-untyped-def]
    page = new_page(browser, live_server, width=360)
    look_up(page, "1018", "amelia@example.com")  # three parcels, the longest page
    page.wait_for_url("**/o/*/")
    choose_language(page, language)
    assert page.locator("html").get_attribute("lang") == language
    rtl = language in ("ar", "he")
    assert page.locator("html").get_attribute("dir") == ("rtl" if rtl else "ltr")
    assert page.locator("#tracking h2").inner_text() == t(language, "Where your order is")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, language)
