"""Validate first, then offer: the shop's offer appears once the shopper has confirmed the
delivery address, priced by Shopify in the order's currency; accepting it adds the item to the
same order at the offer's price, paid on Shopify's page while the warehouse waits; the funnel
counts each step once. Never shown when the order can no longer take it."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client

from edits.models import ChangeRequest, EditPolicy, WarehouseHold
from offers import events, funnel
from offers.models import Offer
from orders import access
from orders.models import Order, OrderEvent
from sandbox import NewVariant, Sandbox
from tests.edits.test_items import lines_in_shopify, pay, push, send, writes

BEANIE_IMAGE = "/static/demo/cap.svg"


@pytest.fixture
def beanie(shopify: Sandbox, ordered: Order):  # type: ignore[no-untyped-def]
    """A beanie in grey (three in stock) and navy (sold out), offered at 15 % off to every
    order; the shopper's own item changes are switched off (offers do not need them)."""
    EditPolicy.objects.filter(shop=ordered.shop).update(items_enabled=False)
    product = shopify.add_product(
        title="Wool beanie",
        image_url=BEANIE_IMAGE,
        variants=[
            NewVariant("Grey", Decimal("18.00"), 3, sku="BEANIE-GREY"),
            NewVariant("Navy", Decimal("18.00"), 0, sku="BEANIE-NAVY"),
        ],
    )
    cache.clear()
    Offer.objects.create(
        shop=ordered.shop, name="Beanie", product_id=product.id, discount_value=Decimal(15)
    )
    return product


def page(order: Order) -> str:
    return f"/o/{access.link_token(order)}/"


def offer_page(order: Order) -> str:
    return f"{page(order)}offers/{Offer.objects.get().pk}/"


def confirm_address(client: Client, order: Order, capture) -> None:  # type: ignore[no-untyped-def]
    """ "The address is right": the offered products are read from Shopify then (after the
    commit), so that the page the shopper lands on shows them without waiting for Shopify."""
    with capture(execute=True):
        response = client.post(f"{page(order)}confirm/", {"then": "offers"})
    assert response.status_code == 302 and response["Location"].endswith("#offers")


def quoted(html: str) -> str:
    found = re.search(r'name="quoted" value="([^"]+)"', html)
    assert found
    return found.group(1)


def counted(kind: str) -> int:
    return OrderEvent.objects.filter(kind=kind).count()


def test_the_offer_waits_for_the_confirmed_address_then_shows_priced_and_counted_once(
    client: Client, ordered: Order, beanie, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    before = client.get(page(ordered)).content.decode()
    assert "Check the delivery address" in before and 'href="confirm/?then=offers"' in before
    assert "Wool beanie" not in before and counted(events.SHOWN.name) == 0

    confirm_page = client.get(f"{page(ordered)}confirm/?then=offers").content.decode()
    assert "8 rue de Rivoli" in confirm_page and 'name="then" value="offers"' in confirm_page
    confirm_address(client, ordered, django_capture_on_commit_callbacks)
    html = client.get(page(ordered)).content.decode()
    card = html[html.index('id="offers"') :]
    assert "Wool beanie" in card and BEANIE_IMAGE in card
    assert "€15.30" in card and "<del" in card and "€18.00" in card
    assert "Navy" not in card  # sold out: not offered
    client.get(page(ordered))
    assert counted(events.SHOWN.name) == 1  # once per order, however often it is looked at


def test_accepting_adds_it_to_the_same_order_paid_on_shopifys_page(
    client: Client,
    ordered: Order,
    shopify: Sandbox,
    beanie,
    django_capture_on_commit_callbacks,
    run_jobs,
) -> None:  # type: ignore[no-untyped-def]
    confirm_address(client, ordered, django_capture_on_commit_callbacks)
    client.get(page(ordered))
    preview = client.get(offer_page(ordered))
    html = preview.content.decode()
    assert preview.status_code == 200, html[:2000]
    assert "You pay €15.30 more." in html and "Add to my order and pay €15.30" in html
    assert writes(shopify, "orderEditCommit") == 0  # a preview commits nothing

    with django_capture_on_commit_callbacks(execute=False):
        accepted = client.post(
            offer_page(ordered), {"step": "confirm", "quoted": quoted(html), "variant": ""}
        )
    assert accepted.status_code == 302 and accepted["Location"].endswith("#actions")
    change = ChangeRequest.objects.get()
    assert change.kind == "items" and change.status == "queued"  # no approval: the shop offered
    assert change.after["offer"] == Offer.objects.get().pk
    assert change.after["additions"][0]["title"] == "Wool beanie · Grey"

    send(change.pk, django_capture_on_commit_callbacks, run_jobs)
    change.refresh_from_db()
    assert change.status == "awaiting_payment", (change.failure_code, change.failure_detail)
    assert Decimal(change.shopify_result["to_pay"]) == Decimal("15.30")
    assert lines_in_shopify(shopify, ordered) == {"M": 2, "Grey": 1}
    assert WarehouseHold.objects.filter(reason="awaiting_payment", released_at=None).exists()
    waiting = client.get(page(ordered)).content.decode()
    assert "Please pay the difference of €15.30" in waiting
    assert 'id="offers"' not in waiting  # nothing more while this one is unpaid

    pay(shopify, ordered, django_capture_on_commit_callbacks, run_jobs)
    change.refresh_from_db()
    assert change.status == "applied" and change.shopify_result["paid"] is True
    assert not WarehouseHold.objects.filter(released_at=None).exists()

    found = funnel.of(Offer.objects.get())
    total = found.total
    assert (total.shown, total.opened, total.accepted, total.paid) == (1, 1, 1, 1)
    assert total.revenue == {"EUR": Decimal("15.30")} and total.shop_revenue == Decimal("15.30")
    after = client.get(page(ordered)).content.decode()
    assert "Wool beanie" in after and 'id="offers"' not in after  # held now: not offered again


@pytest.mark.parametrize("ordered", [("GBP", Decimal("0.85"))], indirect=True)
def test_an_order_in_pounds_is_offered_and_charged_in_pounds(
    client: Client,
    ordered: Order,
    shopify: Sandbox,
    beanie,
    django_capture_on_commit_callbacks,
    run_jobs,
) -> None:  # type: ignore[no-untyped-def]
    """The shop sells in euros; Shopify prices the beanie at £15.30 for this market, so 15 %
    off is £13.00, what is charged; the shop's report counts it in euros as Shopify does."""
    confirm_address(client, ordered, django_capture_on_commit_callbacks)
    card = client.get(page(ordered)).content.decode()
    card = card[card.index('id="offers"') :]
    assert "£13.00" in card and "£15.30" in card and "€" not in card
    html = client.get(offer_page(ordered)).content.decode()
    assert "You pay £13.00 more." in html
    with django_capture_on_commit_callbacks(execute=False):
        client.post(offer_page(ordered), {"step": "confirm", "quoted": quoted(html)})
    change = ChangeRequest.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        push(change.pk)
    change.refresh_from_db()
    assert Decimal(change.shopify_result["to_pay"]) == Decimal("13.00")
    assert change.shopify_result["currency"] == "GBP"
    pay(shopify, ordered, django_capture_on_commit_callbacks, run_jobs)
    total = funnel.of(Offer.objects.get()).total
    assert total.revenue == {"GBP": Decimal("13.00")}
    assert total.shop_revenue == Decimal("15.29")  # 13.00 / 0.85, as Shopify's shop money


@pytest.mark.parametrize("ordered", [("GBP", Decimal("0.85"))], indirect=True)
def test_an_offer_shopify_prices_in_another_currency_is_not_shown(
    client: Client, ordered: Order, shopify: Sandbox, beanie, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    shopify.store.markets["FR"] = ("EUR", Decimal(1))  # the market sells in euros, not pounds
    cache.clear()
    confirm_address(client, ordered, django_capture_on_commit_callbacks)
    assert 'id="offers"' not in client.get(page(ordered)).content.decode()
    refused = client.get(offer_page(ordered)).content.decode()
    assert "This offer is no longer available for your order." in refused


def test_a_stale_preview_is_shown_again_not_accepted(
    client: Client, ordered: Order, shopify: Sandbox, beanie, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    confirm_address(client, ordered, django_capture_on_commit_callbacks)
    html = client.get(offer_page(ordered)).content.decode()
    grey = next(v for v in beanie.variants if v.title == "Grey")
    shopify.store.variants[grey.id].price = Decimal("20.00")
    cache.clear()
    again = client.post(offer_page(ordered), {"step": "confirm", "quoted": quoted(html)})
    assert again.status_code == 409
    text = again.content.decode()
    assert "The total changed since you looked." in text and "You pay €17.00 more." in text
    assert not ChangeRequest.objects.exists()
    forged = client.post(offer_page(ordered), {"step": "confirm", "quoted": "forged"})
    assert forged.status_code == 409 and not ChangeRequest.objects.exists()


def before_packing(order: Order) -> None:
    from tests.factories import add_fulfillment_order

    add_fulfillment_order(order, status="in_progress")


def cancelled(order: Order) -> None:
    from django.utils import timezone

    Order.objects.filter(pk=order.pk).update(cancelled_at=timezone.now())


def unpaid(order: Order) -> None:
    Order.objects.filter(pk=order.pk).update(financial_status="partially_paid")


def blocked(order: Order) -> None:
    Order.objects.filter(pk=order.pk).update(tags=["no-self-service"])


def enough_accepted(order: Order) -> None:
    for _ in range(3):
        ChangeRequest.objects.create(
            order=order, kind="items", status="applied", after={"offer": 1}, before={}
        )


@pytest.mark.parametrize(
    ("moved_on", "says"),
    [
        (before_packing, "Your order is already being packed."),
        (cancelled, "This order was cancelled."),
        (unpaid, "The items can be changed once your payment is complete."),
        (blocked, "This offer is no longer available for your order."),
        (enough_accepted, "This offer is no longer available for your order."),
    ],
)
def test_never_shown_once_the_order_cannot_take_it(
    client: Client, ordered: Order, beanie, moved_on, says: str, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    confirm_address(client, ordered, django_capture_on_commit_callbacks)
    assert 'id="offers"' in client.get(page(ordered)).content.decode()
    EditPolicy.objects.filter(shop=ordered.shop).update(blocked_tags=["no-self-service"])
    moved_on(ordered)
    Order.objects.get(pk=ordered.pk).bump_revision()
    assert 'id="offers"' not in client.get(page(ordered)).content.decode()
    refused = client.get(offer_page(ordered))
    assert says in refused.content.decode()
    accepted = client.post(offer_page(ordered), {"step": "confirm", "quoted": "x"})
    assert says in accepted.content.decode()
    assert not ChangeRequest.objects.filter(after__has_key="quote").exists()


def test_an_offer_of_another_shop_is_not_found(
    client: Client,
    ordered: Order,
    beanie,
) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import make_shop

    other = Offer.objects.create(
        shop=make_shop(), name="theirs", product_id=beanie.id, discount_value=Decimal(10)
    )
    assert client.get(f"{page(ordered)}offers/{other.pk}/").status_code == 404


def test_the_accept_event_is_logged_for_the_funnel_and_the_daily_cap(
    client: Client,
    ordered: Order,
    beanie,
    django_capture_on_commit_callbacks,
) -> None:  # type: ignore[no-untyped-def]
    offer = Offer.objects.get()
    offer.daily_cap = 1
    offer.save()
    confirm_address(client, ordered, django_capture_on_commit_callbacks)
    html = client.get(offer_page(ordered)).content.decode()
    with django_capture_on_commit_callbacks(execute=False):
        client.post(offer_page(ordered), {"step": "confirm", "quoted": quoted(html)})
    assert counted(events.ACCEPTED.name) == 1
    ChangeRequest.objects.update(status="withdrawn")  # as if this order were done with it
    Order.objects.get(pk=ordered.pk).bump_revision()
    # Accepted once today: the cap is reached for every order.
    assert 'id="offers"' not in client.get(page(ordered)).content.decode()


def test_the_order_page_never_waits_for_shopify_a_job_reads_the_offer(
    client: Client,
    ordered: Order,
    beanie,
    monkeypatch,
    django_capture_on_commit_callbacks,
    run_jobs,
) -> None:  # type: ignore[no-untyped-def]
    from shopify.client import Client as AdminClient

    confirm_address(client, ordered, django_capture_on_commit_callbacks)
    cache.clear()  # what was read at the confirmation has expired
    asked = []
    query = AdminClient.query
    monkeypatch.setattr(
        AdminClient, "query", lambda self, *a, **k: asked.append(a[0][:40]) or query(self, *a, **k)
    )
    with django_capture_on_commit_callbacks(execute=True):
        html = client.get(page(ordered)).content.decode()
    assert asked == []  # the page asked Shopify nothing
    assert 'id="offers"' not in html and 'hx-get="live/?since=' in html  # it looks again soon
    with django_capture_on_commit_callbacks(execute=True):
        run_jobs()  # the job reads the product, and the order's page renews
    assert asked and "Wool beanie" in client.get(page(ordered)).content.decode()


def test_an_order_sees_one_arm_of_an_ab_test_and_cannot_take_the_other(
    client: Client, ordered: Order, beanie, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    first = Offer.objects.get()
    Offer.objects.filter(pk=first.pk).update(experiment="beanie price")
    second = Offer.objects.create(
        shop=ordered.shop,
        name="Beanie, 30 % off",
        product_id=beanie.id,
        discount_value=Decimal(30),
        experiment="Beanie price",
    )
    confirm_address(client, ordered, django_capture_on_commit_callbacks)
    html = client.get(page(ordered)).content.decode()
    shown = [o for o in (Offer.objects.get(pk=first.pk), second) if f"offers/{o.pk}/" in html]
    assert len(shown) == 1
    other = second if shown[0].pk == first.pk else Offer.objects.get(pk=first.pk)
    other_page = f"{page(ordered)}offers/{other.pk}/"
    assert "This offer is no longer available for your order." in client.get(other_page).text
    refused = client.post(other_page, {"step": "confirm", "quoted": "x"})
    assert "This offer is no longer available for your order." in refused.text
    assert not ChangeRequest.objects.exists()


def test_an_accepted_offer_is_not_one_of_the_shoppers_own_changes(
    client: Client, ordered: Order, beanie, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    EditPolicy.objects.filter(shop=ordered.shop).update(max_changes_per_order=1)
    confirm_address(client, ordered, django_capture_on_commit_callbacks)
    html = client.get(offer_page(ordered)).content.decode()
    with django_capture_on_commit_callbacks(execute=False):
        client.post(offer_page(ordered), {"step": "confirm", "quoted": quoted(html)})
    assert ChangeRequest.objects.get().after["offer"]
    Order.objects.get(pk=ordered.pk).bump_revision()
    after = client.get(page(ordered)).content.decode()
    assert 'href="change/address/"' in after
    assert "This order has been changed as often as we can allow." not in after


def test_an_order_accepting_again_after_a_failed_change_counts_once(
    client: Client, ordered: Order, beanie, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    confirm_address(client, ordered, django_capture_on_commit_callbacks)
    client.get(page(ordered))
    for _ in range(2):  # accepted, failed (sold out meanwhile), accepted again
        html = client.get(offer_page(ordered)).content.decode()
        with django_capture_on_commit_callbacks(execute=False):
            client.post(offer_page(ordered), {"step": "confirm", "quoted": quoted(html)})
        ChangeRequest.objects.update(status="failed")
    total = funnel.of(Offer.objects.get()).total
    assert (total.shown, total.opened, total.accepted) == (1, 1, 1)
    assert counted(events.ACCEPTED.name) == 2
    assert funnel.wilson(3, 2) == (1.0, pytest.approx(0.342, abs=0.01), 1.0)  # never a crash
