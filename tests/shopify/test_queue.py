"""Jobs with an id are not queued twice while one waits."""

from __future__ import annotations

import django_rq

from shopify import queue
from shopify.jobs import reconcile_shops


def test_a_job_with_an_id_is_queued_once(db, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    shopify_queue = django_rq.get_queue("shopify")
    shopify_queue.empty()
    with django_capture_on_commit_callbacks(execute=True):
        queue.enqueue(print, "a", queue="shopify", job_id="only-once")
        queue.enqueue(print, "a", queue="shopify", job_id="only-once")
        queue.enqueue(print, "b", queue="shopify")
        queue.enqueue(print, "b", queue="shopify")
    assert shopify_queue.count == 3
    shopify_queue.empty()


def test_reconciliation_is_scheduled_for_active_connected_shops(
    connected_shop, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import make_shop

    make_shop(domain="unconnected.myshopify.com")
    uninstalled = make_shop(domain="gone.myshopify.com", is_active=False)
    from shopify.models import ShopCredentials

    ShopCredentials.objects.create(shop=uninstalled)
    shopify_queue = django_rq.get_queue("shopify")
    shopify_queue.empty()
    with django_capture_on_commit_callbacks(execute=True):
        assert reconcile_shops() == 1
        reconcile_shops()  # the first still waits: not queued again
    assert shopify_queue.job_ids == [f"reconcile-shop-{connected_shop.pk}"]
    shopify_queue.empty()
