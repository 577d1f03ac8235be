"""Reading Shopify (the sandbox store, in process): the backfill with its progress bar and its
resume, reconciliation of a lost webhook, one mapping for REST and GraphQL, subscriptions that
re-running leaves alone, and a shop's details read on connection."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from orders.models import Order, Shop, Stage
from sandbox import Address, NewLine, Sandbox
from shopify import subscriptions
from shopify.client import Client
from shopify.models import SyncState
from tests.sandbox_link import WEBHOOK_URL

# The demo story's stages, as the portal derives them (sandbox/seed.py tells the story).
STAGES = {
    1001: Stage.SHIPPED,
    1002: Stage.CONFIRMED,
    1003: Stage.PREPARING,
    1004: Stage.PARTIALLY_SHIPPED,
    1005: Stage.OUT_FOR_DELIVERY,
    1006: Stage.DELIVERED,
    1007: Stage.DELIVERY_PROBLEM,
    1009: Stage.CANCELLED,
    1012: Stage.CONFIRMED,
    1018: Stage.DELIVERED,
}


def sync_orders(*args: str) -> str:
    out = io.StringIO()
    call_command("sync_orders", "northwind.myshopify.com", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def story(shopify: Sandbox) -> Sandbox:
    shopify.seed_demo()
    return shopify


def test_the_backfill_imports_every_order_at_its_stage(connected_shop: Shop, story) -> None:  # type: ignore[no-untyped-def]
    output = sync_orders("--since", "30d")
    assert "20 orders imported" in output
    assert "[" + "#" * 30 + "] 20/20 orders" in output  # the progress bar, full
    orders = {order.number: order for order in Order.objects.filter(shop=connected_shop)}
    assert sorted(orders) == list(range(1001, 1021))
    for number, stage in STAGES.items():
        assert orders[number].stage == stage, number
    tee = orders[1001].lines.get(sku="NW-TEE")
    assert tee.image_url.endswith("tee.svg")  # what only the Admin API tells
    assert orders[1001].fulfillments.get().events.count() == 4


def test_an_interrupted_backfill_resumes_where_it_stopped(
    connected_shop: Shop, story, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    query = Client.query
    pages = {"read": 0}

    def shopify_goes_down_after_one_page(self, document, variables=None):  # type: ignore[no-untyped-def]
        if "OrdersUpdatedSince" in document:
            pages["read"] += 1
            if pages["read"] == 2:
                story.faults.http(500, times=1)
        return query(self, document, variables)

    monkeypatch.setattr(Client, "query", shopify_goes_down_after_one_page)
    with pytest.raises(CommandError, match="Run the same command again to resume"):
        sync_orders("--since", "30d")
    state = SyncState.objects.get(shop=connected_shop)
    assert state.backfill_interrupted and state.backfill_imported == 3
    assert Order.objects.count() == 3

    output = sync_orders("--since", "30d")
    assert "Resuming after 3 orders" in output
    assert "20 orders imported" in output
    assert Order.objects.count() == 20  # none twice
    state.refresh_from_db()
    assert not state.backfill_interrupted and state.reconciled_until is not None


def test_reconciliation_repairs_an_order_whose_webhooks_were_lost(
    connected_shop: Shop, story, django_capture_on_commit_callbacks, run_jobs
) -> None:  # type: ignore[no-untyped-def]
    sync_orders("--since", "30d")
    assert Order.objects.get(number=1002).stage == Stage.CONFIRMED
    story.webhooks.configure(target=WEBHOOK_URL, hold=True)
    story.fulfil(1002, company="DHL Express", tracking_number="JD0146000012345")
    story.webhooks.reset()  # the deliveries are lost
    SyncState.objects.filter(shop=connected_shop).update(
        reconciled_until=timezone.now() - timedelta(minutes=10)
    )

    out = io.StringIO()
    call_command("reconcile", "northwind.myshopify.com", stdout=out)
    order = Order.objects.get(number=1002)
    assert order.stage == Stage.SHIPPED
    assert order.fulfillments.get().tracking_numbers == ["JD0146000012345"]
    assert "orders re-read" in out.getvalue()


def test_a_failed_reconciliation_keeps_its_mark_and_says_why(connected_shop: Shop, story) -> None:  # type: ignore[no-untyped-def]
    sync_orders("--since", "30d")
    before = SyncState.objects.get(shop=connected_shop).reconciled_until
    story.faults.http(500, times=1)
    with pytest.raises(CommandError, match="the next run repeats it"):
        call_command("reconcile", "northwind.myshopify.com")
    state = SyncState.objects.get(shop=connected_shop)
    assert state.reconciled_until == before and "HTTP 500" in state.last_error


def test_webhooks_and_the_admin_api_fill_the_mirror_alike(
    connected_shop: Shop, shopify: Sandbox, django_capture_on_commit_callbacks, run_jobs
) -> None:  # type: ignore[no-untyped-def]
    """One mapping: an order that arrived by webhook (REST) reads the same once re-read through
    the Admin API (GraphQL)."""
    shopify.webhooks.configure(target=WEBHOOK_URL)
    with django_capture_on_commit_callbacks(execute=True):
        shopify.create_order(
            lines=[
                NewLine(title="Trail hoodie", price=Decimal("79.00"), quantity=2, sku="H"),
                NewLine(title="Canvas cap", price=Decimal("24.00"), sku="C"),
            ],
            email="ines@example.com",
            currency="EUR",
            customer_locale="fr",
            shipping_address=Address(
                first_name="Inès",
                last_name="Morel",
                address1="12 rue de Rivoli",
                city="Paris",
                zip="75001",
                country_code="FR",
            ),
            tags=["vip"],
        )
        shopify.fulfil(1001, lines={"H": 2}, company="La Poste", tracking_number="6A123")
    run_jobs()

    def snapshot() -> dict:
        order = Order.objects.get(shop=connected_shop)
        fields = ["name", "email", "customer_locale", "currency", "subtotal", "total", "tags",
                  "financial_status", "fulfillment_status", "shipping_address"]  # fmt: skip
        return {
            "order": {field: getattr(order, field) for field in fields},
            "stage": order.stage,
            "lines": sorted(order.lines.values_list("sku", "quantity", "fulfillable_quantity")),
            "shipments": [
                (f.tracking_company, f.tracking_numbers, sorted(f.lines.values_list("quantity")))
                for f in order.fulfillments.all()
            ],
        }

    by_webhook = snapshot()
    assert by_webhook["stage"] == Stage.PARTIALLY_SHIPPED
    Order.objects.all().delete()
    sync_orders("--since", "1d")
    assert snapshot() == by_webhook


def test_subscribing_twice_changes_nothing(connected_shop: Shop, shopify: Sandbox) -> None:
    out = io.StringIO()
    call_command("register_webhooks", "northwind.myshopify.com",
                 "--url", "https://portal.example/shopify/webhooks", stdout=out)  # fmt: skip
    assert f"{len(subscriptions.TOPICS)} created" in out.getvalue()
    client = Client.for_shop(connected_shop)
    existing = subscriptions.existing_subscriptions(client)
    assert sorted(existing) == sorted(map(subscriptions.graphql_topic, subscriptions.TOPICS))

    again = subscriptions.subscribe(client, "https://portal.example/shopify/webhooks")
    assert again.created == [] and again.updated == []
    assert len(again.unchanged) == len(subscriptions.TOPICS)

    moved = subscriptions.subscribe(client, "https://new.example/shopify/webhooks")
    assert len(moved.updated) == len(subscriptions.TOPICS) and moved.created == []


def test_register_webhooks_refuses_plain_http_in_production(connected_shop: Shop) -> None:
    with pytest.raises(CommandError, match="only to https"):
        call_command("register_webhooks", "northwind.myshopify.com", "--url", "http://x.test/")


def test_connecting_a_shop_reads_its_details_from_shopify(db: None, shopify: Sandbox) -> None:
    out = io.StringIO()
    call_command(
        "add_shop", "northwind.myshopify.com", "--access-token", "shpat_test_token",
        "--client-secret", "s", stdout=out,
    )  # fmt: skip
    shop = Shop.objects.get(domain="northwind.myshopify.com")
    assert shop.name == "Northwind"
    assert shop.currency == "EUR" and shop.time_zone == "Europe/Berlin"


def test_a_wrong_token_is_reported_and_the_shop_kept(db: None, shopify: Sandbox) -> None:
    err = io.StringIO()
    call_command(
        "add_shop", "northwind.myshopify.com", "--access-token", "wrong", "--client-secret", "s",
        stderr=err, stdout=io.StringIO(),
    )  # fmt: skip
    assert "Could not read the shop's details" in err.getvalue() and "401" in err.getvalue()
    assert Shop.objects.filter(domain="northwind.myshopify.com").exists()


def test_an_uninstalled_shop_is_not_read(connected_shop: Shop, story) -> None:  # type: ignore[no-untyped-def]
    from shopify.jobs import reconcile_shop

    Shop.objects.filter(pk=connected_shop.pk).update(is_active=False)
    reconcile_shop(connected_shop.pk)
    assert not Order.objects.exists()
    assert not SyncState.objects.exists()
