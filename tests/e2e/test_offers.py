"""Validate first, then offer: a German shopper on a phone confirms the delivery address, is
offered the shop's camp mug at 20 % off, adds it to the same order and pays on the shop's payment
page; a Japanese shopper without JavaScript is offered and charged it in yen. The store is the
sandbox playing Shopify; what it holds afterwards is what Shopify would hold."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e.test_changes import SETTLES, order_path
from tests.e2e.test_items import lines_in_shopify
from tests.e2e.test_journeys import t

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def confirm_the_address(page, language: str) -> None:  # type: ignore[no-untyped-def]
    offers = page.locator("#offers")
    expect(offers).to_contain_text(t(language, "Check the delivery address"))
    assert "Enamel camp mug" not in offers.inner_text()  # validate first
    offers.get_by_role("link", name=t(language, "Check the delivery address")).click()
    page.wait_for_url("**/confirm/?then=offers")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/o/**#offers")


def test_a_german_shopper_confirms_the_address_adds_the_offer_and_pays(
    open_page,
    store,
    payment_site,
    shot,
) -> None:  # type: ignore[no-untyped-def]
    from edits.models import ChangeRequest
    from offers import funnel
    from offers.models import Offer

    page = open_page(width=360)
    page.goto(order_path(1002))
    confirm_the_address(page, "de")
    card = page.locator("#offers .offer-card")
    expect(card).to_contain_text("Enamel camp mug")
    expect(card.locator(".offer-price__now")).to_have_text("14,40 €")
    expect(card.locator("del")).to_contain_text("18,00 €")
    shot(page, "offered")

    card.get_by_role("button").click()
    page.wait_for_url("**/offers/**")
    expect(page.locator("main")).to_contain_text(
        t("de", "You pay %(amount)s more.") % {"amount": "14,40 €"}
    )
    shot(page, "offer-preview")
    page.locator("main form[method=post] button").click()
    page.wait_for_url("**/o/**")

    change = page.locator("#changes .requests > .request").first
    expect(change).to_contain_text(t("de", "Waiting for your payment"), timeout=SETTLES)
    expect(page.locator("#offers")).to_have_count(0)  # nothing more while this is unpaid
    pay = change.locator("a.button")
    path = urlsplit(pay.get_attribute("href")).path
    payment = open_page(width=360)
    payment.goto(payment_site + path)
    payment.get_by_role("button", name="Pay").click()
    expect(payment.locator("body")).to_contain_text("was paid")

    page.reload()
    expect(change).to_contain_text(t("de", "Applied"), timeout=SETTLES)
    shot(page, "offer-paid")
    request = ChangeRequest.objects.get(kind="items")
    assert request.status == "applied" and request.shopify_result["paid"] is True
    assert lines_in_shopify(store, 1002) == {"NW-HOODIE": 1, "NW-MUG": 1}
    total = funnel.of(Offer.objects.get()).total
    assert (total.shown, total.opened, total.accepted, total.paid) == (1, 1, 1, 1)
    assert str(total.revenue["EUR"]) in ("14.4", "14.40")


def test_a_japanese_shopper_without_javascript_is_offered_it_in_yen(open_page, store, shot) -> None:  # type: ignore[no-untyped-def]
    from edits.models import ChangeRequest

    page = open_page(width=360, javascript=False)
    page.goto(order_path(1012))
    confirm_the_address(page, "ja")
    card = page.locator("#offers .offer-card")
    price = card.locator(".offer-price__now").inner_text()
    assert "2,304" in price and ("¥" in price or "￥" in price)
    assert "€" not in page.locator("#offers").inner_text()
    shot(page, "offered-yen")
    card.get_by_role("button").click()
    page.wait_for_url("**/offers/**")
    page.locator("main form[method=post] button").click()
    page.wait_for_url("**/o/**")
    page.reload()  # no JavaScript: the shopper looks again
    change = page.locator("#changes .requests > .request").first
    expect(change).to_contain_text(t("ja", "Waiting for your payment"))
    assert "2,304" in change.inner_text()
    shot(page, "offer-awaiting-payment-yen")
    request = ChangeRequest.objects.get(kind="items")
    assert request.status == "awaiting_payment", (request.failure_code, request.failure_detail)
    assert lines_in_shopify(store, 1012)["NW-MUG"] == 1
