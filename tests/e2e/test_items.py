"""A German shopper on a phone orders one more hoodie before it is packed, sees what it costs,
pays the difference on the shop's payment page, and watches the order go on; a Japanese shopper
without JavaScript removes the socks from an order in yen and is refunded.

The store is the sandbox playing Shopify; what it holds afterwards is what Shopify would hold.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e.test_changes import SETTLES, demo_order, order_path
from tests.e2e.test_journeys import t

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def lines_in_shopify(store, number: int) -> dict[str, int]:  # type: ignore[no-untyped-def]
    found = {}
    for line in store.order_state(number)["line_items"]:
        quantity = line.get("current_quantity", line.get("quantity"))
        if quantity:
            found[line["sku"]] = quantity
    return found


def test_a_german_shopper_orders_one_more_and_pays_the_difference(
    open_page, store, payment_site, shot
) -> None:  # type: ignore[no-untyped-def]
    from edits.models import ChangeRequest, WarehouseHold

    page = open_page(width=360)
    page.goto(order_path(1002))
    page.get_by_role("link", name=t("de", "Change sizes, colours or quantities")).click()
    page.wait_for_url("**/change/items/")
    expect(page.locator("h1")).to_have_text(t("de", "Change sizes, colours or quantities"))
    hoodie = demo_order(1002).lines.get(sku="NW-HOODIE")
    page.select_option(f"#id_quantity_{hoodie.pk}", "2")
    page.get_by_role("button", name=t("de", "Check the new total")).click()
    expect(page.locator("h2").first).to_have_text(t("de", "Please check your change"))
    shot(page, "preview")
    page.get_by_role("button", name=t("de", "Confirm the change")).click()
    page.wait_for_url("**/o/**")

    change = page.locator("#changes .requests > .request").first
    expect(change).to_contain_text(t("de", "Waiting for your payment"), timeout=SETTLES)
    pay = change.locator("a.button")
    expect(pay).to_be_visible()
    shot(page, "awaiting-payment")
    request = ChangeRequest.objects.get(kind="items")
    assert request.status == "awaiting_payment", (request.failure_code, request.failure_detail)
    assert WarehouseHold.objects.filter(reason="awaiting_payment", released_at=None).exists()
    assert lines_in_shopify(store, 1002) == {"NW-HOODIE": 2}

    # Shopify's payment page (the sandbox's, on its own address).
    path = urlsplit(pay.get_attribute("href")).path
    assert path == "/sandbox/orders/1002/payment"
    payment = open_page(width=360)
    payment.goto(payment_site + path)
    payment.get_by_role("button", name="Pay").click()
    expect(payment.locator("body")).to_contain_text("was paid")

    page.reload()
    expect(change).to_contain_text(t("de", "Applied"), timeout=SETTLES)
    expect(change).to_contain_text(
        t("de", "Thank you: the difference is paid, and your order is on its way to the warehouse.")
    )
    shot(page, "paid")
    request.refresh_from_db()
    assert request.status == "applied" and request.shopify_result["paid"] is True
    assert not WarehouseHold.objects.filter(released_at=None).exists()
    fulfillment_orders = store.order_state(1002)["fulfillment_orders"]
    assert all(fo["fulfillment_holds"] == [] for fo in fulfillment_orders)


def test_a_japanese_shopper_without_javascript_removes_an_item_and_is_refunded(
    open_page, store, shot
) -> None:  # type: ignore[no-untyped-def]
    from edits.models import ChangeRequest

    page = open_page(width=360, javascript=False)
    page.goto(order_path(1012))
    page.get_by_role("link", name=t("ja", "Change sizes, colours or quantities")).click()
    socks = demo_order(1012).lines.get(sku="NW-SOCKS")
    page.select_option(f"#id_quantity_{socks.pk}", "0")
    page.get_by_role("button", name=t("ja", "Check the new total")).click()
    expect(page.locator("h2").first).to_have_text(t("ja", "Please check your change"))
    shot(page, "preview")
    page.get_by_role("button", name=t("ja", "Confirm the change")).click()
    page.wait_for_url("**/o/**")
    page.reload()  # no JavaScript: the shopper looks again

    change = page.locator("#changes .requests > .request").first
    expect(change).to_contain_text(t("ja", "Applied"))
    shot(page, "refunded")
    request = ChangeRequest.objects.get(kind="items")
    assert request.status == "applied", (request.failure_code, request.failure_detail)
    assert request.shopify_result["refund_to"] == "original"
    assert "¥" in change.inner_text() or "￥" in change.inner_text()
    assert lines_in_shopify(store, 1012) == {"NW-CAP": 1}
    assert len(store.order_state(1012)["refunds"]) == 1


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_price_that_moves_before_the_confirmation_is_shown_again(
    open_page, store, shot, javascript: bool
) -> None:  # type: ignore[no-untyped-def]
    from edits.models import ChangeRequest

    page = open_page(width=360, javascript=javascript)
    page.goto(order_path(1002) + "change/items/")
    hoodie = demo_order(1002).lines.get(sku="NW-HOODIE")
    page.select_option(f"#id_variant_{hoodie.pk}", label="L / Charcoal")
    page.get_by_role("button", name=t("de", "Check the new total")).click()
    expect(page.locator("h2").first).to_have_text(t("de", "Please check your change"))
    with store.store.lock:  # the shop raises the price of the size chosen meanwhile
        variant = store.store.variant("NW-HOODIE-6")
        variant.price += 5

    page.get_by_role("button", name=t("de", "Confirm the change")).click()

    alert = page.get_by_role("alert")
    expect(alert).to_have_text(
        t("de", "The total changed since you looked. Please check it again before you confirm.")
    )
    shot(page, "price-changed")
    assert not ChangeRequest.objects.exists()
    page.get_by_role("button", name=t("de", "Confirm the change")).click()
    page.wait_for_url("**/o/**")
    request = ChangeRequest.objects.get(kind="items")
    assert request.status in ("queued", "awaiting_payment", "applied")
