"""The job bench/sync.py sends through RQ, importable by the workers as `bench.jobs`.

It does what a change's push does, minus the rules: one `orderUpdate` through the portal's
client, its shared bucket and its waits. It also writes down, in the benchmark's own Redis
database, what that cost: Shopify's `actualQueryCost` of every answer (what the bucket was
charged; a THROTTLED answer is charged nothing), the THROTTLED answers and the client's waits.
"""

from __future__ import annotations

import json
import time
from typing import Any

import django_rq
import requests

from orders.models import Order
from shopify import documents
from shopify.client import Client


def update_note(order_id: int, note: str, records: str) -> None:
    """Set the order's note in Shopify; append what it took to the Redis list `records`."""
    started = time.time()
    order = Order.objects.select_related("shop__credentials").get(pk=order_id)
    client = Client.for_shop(order.shop)
    seen: dict[str, Any] = {"points": 0, "throttled": 0, "answers": 0, "waited_s": 0.0}

    def count(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        seen["answers"] += 1
        try:
            answer = response.json()
        except ValueError:
            return
        cost = ((answer.get("extensions") or {}).get("cost")) or {}
        seen["points"] += cost.get("actualQueryCost") or 0
        codes = [(e.get("extensions") or {}).get("code") for e in answer.get("errors") or []]
        seen["throttled"] += codes.count("THROTTLED")

    sleep = client.sleep

    def timed_sleep(seconds: float) -> None:
        seen["waited_s"] += seconds
        sleep(seconds)

    client.session.hooks["response"].append(count)
    client.sleep = timed_sleep
    client.mutate(
        documents.ORDER_UPDATE,
        {"input": {"id": f"gid://shopify/Order/{order.shopify_id}", "note": note}},
        payload="orderUpdate",
    )
    record = {"order": order.number, "started": started, "finished": time.time(), **seen}
    django_rq.get_connection("shopify").rpush(records, json.dumps(record))
