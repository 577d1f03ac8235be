"""The shop of the item-change tests: a hoodie in four sizes, and a paid order of two."""

from __future__ import annotations

from decimal import Decimal

import pytest

from edits.models import EditPolicy
from orders.models import Order, Shop
from sandbox import Sandbox
from shopify.client import Client as AdminClient
from tests.conftest import place_hoodies
from tests.sandbox_link import WEBHOOK_URL


def variant(shopify: Sandbox, title: str) -> int:
    state = shopify.product_state("HOOD-M")
    return next(v["id"] for v in state["variants"] if v["title"] == title)


@pytest.fixture
def ordered(
    request: pytest.FixtureRequest,
    connected_shop: Shop,
    shopify: Sandbox,
    hoodie,
    django_capture_on_commit_callbacks,
    run_jobs,
) -> Order:  # type: ignore[no-untyped-def]
    """Two hoodies in M, paid, not yet packed, mirrored by webhooks; item changes switched on.
    In euros, the shop's currency, or (indirect parameter) in (currency, units per euro)."""
    currency, rate = getattr(request, "param", ("EUR", Decimal(1)))
    EditPolicy.objects.create(shop=connected_shop, items_enabled=True)
    shopify.webhooks.configure(target=WEBHOOK_URL)
    with django_capture_on_commit_callbacks(execute=True):
        place_hoodies(shopify, hoodie, currency=currency, rate=rate, days_ago=1 / 48)
    run_jobs()
    with django_capture_on_commit_callbacks(execute=True):
        run_jobs()
    return Order.objects.get(shop=connected_shop)


def fail_on(monkeypatch, mutation: str, error: Exception, *, after: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Shopify answers `mutation` with `error`: before doing it, or (`after`) having done it."""
    query = AdminClient.query

    def answer(self, document, variables=None):  # type: ignore[no-untyped-def]
        if f"mutation {mutation}" not in document:
            return query(self, document, variables)
        if after:
            query(self, document, variables)
        raise error

    monkeypatch.setattr(AdminClient, "query", answer)


def push_failing(
    monkeypatch, request, mutation: str, error: Exception, *, after: bool = False
) -> None:  # type: ignore[no-untyped-def]
    """The worker sends `request` once while Shopify answers `mutation` with `error` (having
    done it, with `after`)."""
    from tests.edits.test_items import push

    with monkeypatch.context() as patched:
        fail_on(patched, mutation, error, after=after)
        push(request.pk)
