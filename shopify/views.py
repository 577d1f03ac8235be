"""Webhook intake: verify, record, acknowledge. The work happens in a job.

Shopify waits 5 seconds at most and retries what it does not see acknowledged, so this view
does as little as it can: it checks the signature over the raw body, writes one row, and
answers 200. A delivery without a valid signature leaves no trace.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from shopify import jobs, queue, signatures
from shopify.models import ShopCredentials, WebhookDelivery


def header(request: HttpRequest, name: str) -> str:
    """Shopify's classic `X-Shopify-<name>` header, or the newer unprefixed `Shopify-<name>`."""
    return request.headers.get(f"X-Shopify-{name}") or request.headers.get(f"Shopify-{name}", "")


def credentials_for(domain: str) -> ShopCredentials | None:
    return ShopCredentials.objects.filter(shop__domain=domain).first()


@csrf_exempt
@require_POST
def receive(request: HttpRequest) -> HttpResponse:
    limit = settings.SHOPIFY_WEBHOOK_MAX_BYTES
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit() or int(declared) > limit:
        return HttpResponse(status=413)
    body = request.read(limit + 1)  # not request.body: its own, smaller limit would raise
    if len(body) > limit:
        return HttpResponse(status=413)
    domain = header(request, "Shop-Domain").strip().lower()
    credentials = credentials_for(domain)
    secrets = credentials.webhook_secrets if credentials else []
    if credentials is None or not signatures.verify(body, header(request, "Hmac-Sha256"), secrets):
        return HttpResponse(status=401)
    try:
        payload = json.loads(body)
    except ValueError:
        return HttpResponse("body is not JSON", status=400, content_type="text/plain")
    webhook_id, topic = header(request, "Webhook-Id"), header(request, "Topic")
    if not isinstance(payload, dict) or not webhook_id or not topic:
        return HttpResponse("not a Shopify webhook", status=400, content_type="text/plain")
    try:
        with transaction.atomic():
            delivery = WebhookDelivery.objects.create(
                webhook_id=webhook_id[:255],
                shop_id=credentials.shop_id,
                topic=topic[:128],
                event_id=header(request, "Event-Id")[:255],
                api_version=header(request, "API-Version")[:32],
                triggered_at=parse_datetime(header(request, "Triggered-At") or "") or None,
                payload=payload,
            )
            queue.enqueue(jobs.process_delivery, delivery.pk, queue="webhooks")
    except IntegrityError:
        if not WebhookDelivery.objects.filter(webhook_id=webhook_id[:255]).exists():
            raise  # not a duplicate: let Shopify retry
        # A duplicate (the same webhook id) is acknowledged and not processed again.
    return HttpResponse(status=200)
