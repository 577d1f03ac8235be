"""manage.py add_shop: secrets sealed at rest, rotation keeps the previous client secret."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from orders.models import Shop
from shopify.models import ShopCredentials

DOMAIN = "new-shop.myshopify.com"


def add_shop(*args: str, **env: str) -> None:
    call_command("add_shop", *args, "--offline")


def test_a_shop_is_added_with_sealed_credentials(db: None) -> None:
    add_shop(DOMAIN, "--access-token", "shpat_secret_1", "--client-secret", "shpss_one")
    shop = Shop.objects.get(domain=DOMAIN)
    sealed = ShopCredentials.objects.get(shop=shop)
    assert sealed.access_token == "shpat_secret_1"
    assert sealed.webhook_secrets == ["shpss_one"]
    row = str(ShopCredentials.objects.filter(pk=sealed.pk).values().get())
    assert "shpat_secret_1" not in row and "shpss_one" not in row


def test_secrets_can_come_from_the_environment(db: None, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", "shpat_from_env")
    monkeypatch.setenv("SHOPIFY_CLIENT_SECRET", "shpss_from_env")
    call_command("add_shop", DOMAIN, "--offline")
    sealed = ShopCredentials.objects.get(shop__domain=DOMAIN)
    assert sealed.access_token == "shpat_from_env"
    assert sealed.webhook_secrets == ["shpss_from_env"]


def test_a_rotated_secret_keeps_the_previous_one_for_webhooks(db: None) -> None:
    add_shop(DOMAIN, "--access-token", "shpat_1", "--client-secret", "shpss_one")
    add_shop(DOMAIN, "--client-secret", "shpss_two")
    sealed = ShopCredentials.objects.get(shop__domain=DOMAIN)
    assert sealed.webhook_secrets == ["shpss_two", "shpss_one"]
    assert sealed.access_token == "shpat_1"  # untouched
    add_shop(DOMAIN, "--client-secret", "shpss_two")  # the same secret again: no rotation
    sealed.refresh_from_db()
    assert sealed.webhook_secrets == ["shpss_two", "shpss_one"]


@pytest.mark.parametrize(
    "domain", ["shop.example.com", "https://x.myshopify.com", "bad_shop.myshopify.com"]
)
def test_a_domain_that_is_not_a_shop_is_refused(db: None, domain: str) -> None:
    with pytest.raises(CommandError, match="not a myshopify.com domain"):
        add_shop(domain, "--access-token", "t", "--client-secret", "s")
    assert not Shop.objects.exists()


def test_a_new_shop_needs_both_secrets(db: None) -> None:
    with pytest.raises(CommandError, match="needs --access-token and --client-secret"):
        add_shop(DOMAIN, "--access-token", "shpat_1")
    assert not Shop.objects.exists()
