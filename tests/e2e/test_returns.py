"""A French shopper, on a phone, returns one item for a refund and exchanges another for a
smaller size; an agent approves the return in the admin; the shopper prints the return slip.
The same flow without JavaScript, in Spanish, for store credit.

The store is the sandbox playing Shopify; what it holds afterwards is what Shopify would hold.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.test_changes import agent_queue, demo_order, order_path
from tests.e2e.test_journeys import t

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def place_delivered(store, *, locale: str, email: str, items: list[str]) -> int:  # type: ignore[no-untyped-def]
    """An order for the demo products (by SKU), shipped and delivered two days ago."""
    from sandbox import Address, NewLine

    lines = []
    for sku in items:
        product = store.product_state(sku)
        ordered = next(v for v in product["variants"] if v["sku"] == sku)
        lines.append(
            NewLine(
                title=product["title"],
                price=Decimal(ordered["price"]),
                sku=sku,
                variant_title=ordered["title"],
                product_id=product["id"],
                variant_id=ordered["id"],
                product_type=product["product_type"],
            )
        )
    order = store.create_order(
        lines=lines,
        email=email,
        currency="EUR",
        customer_locale=locale,
        shipping_address=Address(
            first_name="Camille",
            last_name="Durand",
            address1="12 rue des Lilas",
            city="Lyon",
            zip="69003",
            country_code="FR",
        ),  # fmt: skip
        placed_at=timezone.now() - timedelta(days=6),
    )
    store.fulfil(order.number, at=timezone.now() - timedelta(days=5))
    store.deliver(order.number, at=timezone.now() - timedelta(days=2))
    return order.number


def line_pk(number: int, sku: str) -> int:
    return demo_order(number).lines.get(sku=sku).pk


def variant_id(store, sku: str, title: str) -> int:  # type: ignore[no-untyped-def]
    return next(v["id"] for v in store.product_state(sku)["variants"] if v["title"] == title)


def test_a_french_refund_and_exchange_approved_in_the_admin_then_the_slip(
    open_page, store, shot
) -> None:  # type: ignore[no-untyped-def]
    from returns.models import ReturnRequest

    number = place_delivered(
        store, locale="fr", email="camille@example.com", items=["NW-TEE", "NW-HOODIE"]
    )
    tee, hoodie = line_pk(number, "NW-TEE"), line_pk(number, "NW-HOODIE")
    smaller = variant_id(store, "NW-HOODIE", "S / Forest")
    page = open_page(width=390)
    page.goto(order_path(number))
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.get_by_role("link", name=t("fr", "Return or exchange items"), exact=True).click()
    page.wait_for_url("**/return/")
    expect(page.locator("h1")).to_have_text(t("fr", "Return or exchange items"))

    # Items: one of each.
    page.select_option(f"select[name=quantity-{tee}]", "1")
    page.select_option(f"select[name=quantity-{hoodie}]", "1")
    page.get_by_role("button", name=t("fr", "Continue")).click()
    page.wait_for_url("**/return/reasons/")
    expect(page.locator("h1")).to_have_text(t("fr", "Why are you returning these items?"))
    page.select_option(f"#reason-{tee}", "changed_mind")
    page.select_option(f"#reason-{hoodie}", "too_large")
    page.fill(f"#comment-{hoodie}", "Un peu grand aux épaules.")
    page.get_by_role("button", name=t("fr", "Continue")).click()

    # What instead: a refund for the T-shirt, the hoodie in S.
    page.wait_for_url("**/return/resolution/")
    expect(page.locator("h1")).to_have_text(t("fr", "What would you like instead?"))
    sold_out = variant_id(store, "NW-HOODIE", "M / Forest")
    expect(page.locator(f"input[value='exchange:{sold_out}']")).to_be_disabled()
    page.check(f"input[name=resolution-{tee}][value=refund]")
    page.check(f"input[name=resolution-{hoodie}][value='exchange:{smaller}']")
    shot(page, "resolution")
    page.get_by_role("button", name=t("fr", "Continue")).click()

    # The summary, then send.
    page.wait_for_url("**/return/review/")
    summary = page.locator("main")
    expect(summary).to_contain_text(t("fr", "Refund to your original payment (estimate)"))
    expect(summary).to_contain_text("29,00")  # the T-shirt's price, in French
    expect(summary).to_contain_text("S / Forest")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # fits the phone
    shot(page, "review")
    page.get_by_role("button", name=t("fr", "Send my return")).click()
    page.wait_for_url(re.compile(r"/returns/\d+/$"))
    created = ReturnRequest.objects.get(order__number=number)
    expect(page.locator("h1")).to_contain_text(created.number)
    expect(page.locator(".badge")).to_have_text(t("fr", "Requested"))
    # An exchange reaches Shopify once approved (returnRequest takes no exchange items).
    assert store.order_state(number)["returns"] == []

    # The agent approves it in the admin (in English, the browser's language).
    admin = agent_queue(open_page, "/admin/returns/returnrequest/?queue=requested")
    rows = admin.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(created.number)
    admin.locator("#result_list tbody input[type=checkbox]").first.check()
    admin.select_option("select[name=action]", "approve_selected")
    admin.locator("button[name=index]").click()
    expect(admin.locator(".messagelist .success")).to_be_visible()
    shot(admin, "approved")

    # Shopify has it, open, with the exchange; the shopper has the slip.
    (in_shopify,) = store.order_state(number)["returns"]
    assert in_shopify["status"] == "OPEN"
    assert [e["quantity"] for e in in_shopify["exchange_line_items"]] == [1]
    page.goto(order_path(number))
    returns = page.locator("#returns")
    expect(returns.locator(".badge").first).to_have_text(t("fr", "Approved"))
    expect(returns).to_contain_text(t("fr", "The shop has your return."))
    page.get_by_role("link", name=t("fr", "Print the return slip")).click()
    page.wait_for_url("**/slip/")
    expect(page.locator("h1")).to_contain_text(created.number)
    expect(page.locator(".slip__qr svg")).to_be_visible()
    expect(page.locator(".slip__items")).to_contain_text("S / Forest")
    shot(page, "slip")
    approved = [m for m in mail.outbox if created.number in m.subject and "camille" in m.to[0]]
    assert any("/slip/" in m.body for m in approved)  # the email links the slip


def test_store_credit_without_javascript_in_spanish(open_page, store) -> None:  # type: ignore[no-untyped-def]
    from returns.models import ReturnPolicy, ReturnRequest

    number = place_delivered(store, locale="es", email="lucia@example.com", items=["NW-TEE"])
    policy = ReturnPolicy.for_shop(demo_order(number).shop)
    policy.store_credit_bonus_percent = Decimal("10")
    policy.auto_approval = "all"
    policy.save()
    tee = line_pk(number, "NW-TEE")
    page = open_page(width=360, javascript=False)
    page.goto(order_path(number) + "return/")
    page.select_option(f"select[name=quantity-{tee}]", "1")
    page.get_by_role("button", name=t("es", "Continue")).click()
    page.select_option(f"#reason-{tee}", "not_as_described")
    page.get_by_role("button", name=t("es", "Continue")).click()
    page.check(f"input[name=resolution-{tee}][value=store_credit]")
    page.get_by_role("button", name=t("es", "Continue")).click()
    expect(page.locator("main")).to_contain_text("31,90")  # 29.00 and a 10 % bonus
    page.get_by_role("button", name=t("es", "Send my return")).click()
    page.wait_for_url(re.compile(r"/returns/\d+/$"))
    created = ReturnRequest.objects.get(order__number=number)
    assert created.status == "approved" and created.quote["credit"] == "31.90"
    expect(page.get_by_role("link", name=t("es", "Print the return slip"))).to_be_visible()
    assert store.order_state(number)["returns"][0]["status"] == "OPEN"
