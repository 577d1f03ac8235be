"""The sandbox's webhook deliveries: signed like Shopify's, and as unreliable as asked.

Each change becomes one delivery per subscription to its topic (or, when a target is set, one to
the target for every topic), rendered and signed when it happens: Shopify's retries carry the
original payload. Deliveries go out after the change's operation (outside the store's lock, so a
receiver may call back into the sandbox), through a transport: `send(url, body, headers) -> status`.

Shopify promises at-least-once, in no particular order, sometimes late; the options make each of
these happen on demand: `duplicates` sends every delivery again with the same webhook id,
`reorder` sends each batch in reverse, `hold` keeps deliveries until `flush()`. A delivery that
fails (an error, or any status but 2xx) is kept and tried again at the next flush, up to Shopify's
eight retries; a send never raises into the operation that caused it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import requests

Transport = Callable[[str, bytes, Mapping[str, str]], int]
MAX_ATTEMPTS = 9  # the first try and Shopify's 8 retries


def post_with(client: Any = requests) -> Transport:
    """A transport posting with `client` (requests, or a Session with a WSGIAdapter mounted),
    with Shopify's patience: 1 s to connect, 5 s in all."""

    def send(url: str, body: bytes, headers: Mapping[str, str]) -> int:
        return client.post(url, data=body, headers=dict(headers), timeout=(1, 5)).status_code

    return send


def sign(body: bytes, secret: str) -> str:
    """base64(HMAC-SHA256(client secret, exact body bytes)), X-Shopify-Hmac-Sha256."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass(frozen=True)
class Target:
    url: str
    include_fields: tuple[str, ...] = ()


@dataclass
class Delivery:
    topic: str
    url: str
    body: bytes
    headers: dict[str, str]
    attempts: int = 0

    @property
    def webhook_id(self) -> str:
        return self.headers["X-Shopify-Webhook-Id"]

    def summary(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "url": self.url,
            "webhook_id": self.webhook_id,
            "attempts": self.attempts,
        }


@dataclass
class Sent:
    sent: int = 0
    failed: int = 0
    pending: int = 0


@dataclass(frozen=True)
class Options:
    target: str | None = None  # every topic goes there, not to the subscriptions (for tests)
    duplicates: int = 0  # each delivery is sent this many more times, with the same webhook id
    reorder: bool = False  # each batch goes out in reverse
    hold: bool = False  # deliveries wait for flush()


class WebhookSender:
    def __init__(
        self,
        *,
        domain: str,
        client_secret: str,
        api_version: str,
        targets: Callable[[str], list[Target]],
        transport: Transport | None = None,
    ) -> None:
        self.domain = domain
        self.client_secret = client_secret
        self.api_version = api_version
        self.transport = transport or post_with(requests)
        self.options = Options()
        self._targets = targets
        self._lock = threading.Lock()
        self._queue: list[Delivery] = []
        self.sent = 0
        self.abandoned = 0

    def configure(self, **changes: Any) -> Options:
        """Change the options named (see `Options`); `target=None` goes back to subscriptions."""
        self.options = replace(self.options, **changes)
        return self.options

    def reset(self) -> None:
        """Back to the default options, with no delivery waiting."""
        with self._lock:
            self._queue.clear()
        self.options = Options()

    def trigger(self, topic: str, payload: dict[str, Any], *, at: datetime) -> list[Delivery]:
        """Queue the deliveries of one event (one per target, sharing the event id)."""
        target = self.options.target
        targets = [Target(target)] if target else self._targets(topic)
        event_id = str(uuid.uuid4())
        deliveries = []
        for target in targets:
            shown = payload
            if target.include_fields:
                shown = {k: v for k, v in payload.items() if k in target.include_fields}
            body = json.dumps(shown, ensure_ascii=False, separators=(",", ":")).encode()
            deliveries.append(
                Delivery(topic, target.url, body, self._headers(topic, body, event_id, at))
            )
        with self._lock:
            self._queue.extend(deliveries)
        return deliveries

    def dispatch(self) -> Sent:
        """Send what was triggered since and never tried, unless deliveries are held."""
        return self._send(lambda delivery: not self.options.hold and delivery.attempts == 0)

    def flush(self) -> Sent:
        """Send everything waiting: held deliveries and failed ones."""
        return self._send(lambda delivery: True)

    def pending(self) -> list[Delivery]:
        with self._lock:
            return list(self._queue)

    def _send(self, wanted: Callable[[Delivery], bool]) -> Sent:
        batch: list[Delivery] = []
        waiting: list[Delivery] = []
        with self._lock:
            for delivery in self._queue:
                (batch if wanted(delivery) else waiting).append(delivery)
            self._queue = waiting
        if self.options.reorder:
            batch.reverse()
        report = Sent()
        for delivery in batch:
            delivery.attempts += 1
            delivered = [self._post(delivery) for _ in range(1 + self.options.duplicates)]
            if any(delivered):
                report.sent += 1
                self.sent += 1
                continue
            report.failed += 1
            with self._lock:
                if delivery.attempts < MAX_ATTEMPTS:
                    self._queue.append(delivery)
                else:
                    self.abandoned += 1
        with self._lock:
            report.pending = len(self._queue)
        return report

    def _post(self, delivery: Delivery) -> bool:
        try:
            status = self.transport(delivery.url, delivery.body, delivery.headers)
        except Exception:  # noqa: BLE001 - any failure to deliver is Shopify's "failed, retry later"
            return False
        return 200 <= status < 300

    def _headers(self, topic: str, body: bytes, event_id: str, at: datetime) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": sign(body, self.client_secret),
            "X-Shopify-Shop-Domain": self.domain,
            "X-Shopify-API-Version": self.api_version,
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Event-Id": event_id,
            "X-Shopify-Triggered-At": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
