"""What Shopify tells us about returns: one decided, processed, closed or cancelled in Shopify's
admin moves ours along (`jobs.refresh_return` reads its state, so late, repeated or reordered
deliveries are harmless), and a customer's redaction erases what they wrote and photographed."""

from __future__ import annotations

from django.db.models import Q

from returns import jobs
from returns.models import ReturnLine
from shopify import queue
from shopify.ingest import subject_id
from shopify.models import WebhookDelivery
from shopify.registry import handles


@handles(
    "returns/request",
    "returns/approve",
    "returns/decline",
    "returns/cancel",
    "returns/close",
    "returns/reopen",
    "returns/process",
    "returns/update",
)
def return_moved(delivery: WebhookDelivery) -> None:
    return_id = subject_id(delivery.payload)
    if return_id is None:
        return  # Shopify documents an empty returns/process body: nothing to follow
    # No job id: a second delivery while the first one's job runs must read again (reading is
    # harmless twice; missing Shopify's last word is not).
    queue.enqueue(jobs.refresh_return, delivery.shop_id, return_id, queue="shopify")


@handles("customers/redact")
def customer_redacted(delivery: WebhookDelivery) -> None:
    """Comments and photos are the customer's: erase them, keep what came back and why."""
    payload = delivery.payload
    email = ((payload.get("customer") or {}).get("email") or "").strip()
    ids = [int(i) for i in payload.get("orders_to_redact") or []]
    match = Q(line_item__order__shopify_id__in=ids)
    if email:
        match |= Q(line_item__order__email__iexact=email)
    lines = ReturnLine.objects.filter(match, line_item__order__shop=delivery.shop)
    for line in lines.exclude(photo=""):
        line.photo.delete(save=False)
    lines.update(comment="", photo="")
