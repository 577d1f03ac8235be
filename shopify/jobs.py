"""Background work of the adapter. Jobs take primary keys, and running one twice is harmless."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from orders.models import Shop
from shopify import queue, registry, sync
from shopify.models import WebhookDelivery

DONE = {WebhookDelivery.Status.PROCESSED, WebhookDelivery.Status.IGNORED}


def process_delivery(delivery_id: int) -> None:
    """Hand a recorded delivery to its topic's handlers, once.

    A failing handler leaves nothing half-written (its savepoint rolls back), the delivery keeps
    the error and the attempt count for agents, and the exception propagates so that RQ retries
    with backoff.
    """
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        if delivery.status in DONE:
            return  # a duplicate job, or a sweeper that raced a worker
        handlers = registry.handlers_for(delivery.topic)
        delivery.attempts += 1
        failure: Exception | None = None
        try:
            with transaction.atomic():
                for handler in handlers:
                    handler(delivery)
        except Exception as error:
            failure = error
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.error = f"{type(error).__name__}: {error}"[:2000]
        else:
            delivery.status = (
                WebhookDelivery.Status.PROCESSED if handlers else WebhookDelivery.Status.IGNORED
            )
            delivery.error = ""
            delivery.processed_at = timezone.now()
        # update(), not save(): a handler may have deleted the delivery with its shop (shop/redact).
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=delivery.status,
            error=delivery.error,
            attempts=delivery.attempts,
            processed_at=delivery.processed_at,
        )
    if failure is not None:
        raise failure


def sweep_deliveries(*, older_than: timedelta = timedelta(minutes=2)) -> int:
    """Send again every delivery still waiting after `older_than`: Redis was down when it came
    in, or a worker died with it. Processing is idempotent, so a delivery that was only slow is
    not harmed. Returns how many were sent."""
    stale = WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.RECEIVED, received_at__lt=timezone.now() - older_than
    ).values_list("pk", flat=True)
    count = 0
    for pk in stale.iterator():
        queue.enqueue(process_delivery, pk, queue="webhooks")
        count += 1
    return count


def _active_shop(shop_id: int) -> Shop | None:
    """The shop, unless the merchant uninstalled the app: its jobs stop."""
    return Shop.objects.filter(pk=shop_id, is_active=True, credentials__isnull=False).first()


def reconcile_shop(shop_id: int) -> None:
    shop = _active_shop(shop_id)
    if shop is not None:
        sync.reconcile(shop)


def reconcile_shops() -> int:
    """The scheduled run (`manage.py rqcron portal.cron`): one reconciliation per active shop,
    never two at once for the same shop."""
    shops = Shop.objects.filter(is_active=True, credentials__isnull=False).values_list(
        "pk", flat=True
    )
    count = 0
    for pk in shops:
        queue.enqueue(reconcile_shop, pk, queue="shopify", job_id=f"reconcile-shop-{pk}")
        count += 1
    return count


def refresh_order(shop_id: int, order_id: int) -> None:
    shop = _active_shop(shop_id)
    if shop is not None:
        sync.refresh_order(shop, order_id)
