"""The adapter's cast: a connected shop, signed deliveries, and a worker to run their jobs."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from shopify import signatures

SHARED = Path(__file__).resolve().parents[3] / "shared" / "shopify"
WEBHOOKS = SHARED / "webhooks"
# The secret of FACTS.md's published vector, so that real samples can be checked against it.
SECRET = "test-webhook-secret"
_ids = itertools.count(1)


def sample(topic: str) -> bytes:
    path = WEBHOOKS / f"{topic}.json"
    if not path.exists():
        pytest.fail(f"missing real Shopify material: {path}")
    return path.read_bytes()


@pytest.fixture
def deliver(client: Client, django_capture_on_commit_callbacks) -> Callable[..., Any]:  # type: ignore[no-untyped-def]
    """POST a signed delivery the way Shopify does; jobs it enqueues go to Redis on commit."""

    def post(
        topic: str,
        body: bytes | dict | None = None,
        *,
        secret: str = SECRET,
        webhook_id: str | None = None,
        domain: str = "northwind.myshopify.com",
        triggered_at: str = "2026-11-20T10:00:00Z",
        signature: str | None = None,
    ):  # type: ignore[no-untyped-def]
        if body is None:
            body = sample(topic)
        if isinstance(body, dict):
            body = json.dumps(body).encode()
        headers = {
            "HTTP_X_SHOPIFY_TOPIC": topic,
            "HTTP_X_SHOPIFY_SHOP_DOMAIN": domain,
            "HTTP_X_SHOPIFY_WEBHOOK_ID": webhook_id or f"wh-{next(_ids)}",
            "HTTP_X_SHOPIFY_EVENT_ID": f"ev-{next(_ids)}",
            "HTTP_X_SHOPIFY_API_VERSION": "2026-07",
            "HTTP_X_SHOPIFY_TRIGGERED_AT": triggered_at,
            "HTTP_X_SHOPIFY_HMAC_SHA256": signature
            if signature is not None
            else signatures.sign(body, secret),
        }
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                reverse("shopify:webhooks"), body, content_type="application/json", **headers
            )

    return post
