"""Reading orders from the Admin API into the mirror: the backfill, reconciliation, and the
re-read of one order.

Webhooks can be late, duplicated, out of order or lost, so the mirror is also repaired by reading:
every few minutes, reconciliation re-reads the orders Shopify changed since its last successful
run. Both paths read oldest change first and go through the same ingest as the webhooks, whose
`updated_at` guard makes reading an order twice harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone

from orders.models import Order, Shop
from shopify import documents, ingest
from shopify.client import Client, ShopifyError
from shopify.models import SyncState

logger = logging.getLogger(__name__)

# Reconciliation reads a little before its last run began: Shopify's clock and ours differ.
OVERLAP = timedelta(minutes=2)
# A shop that has never been read is reconciled from this far back.
FIRST_RECONCILE = timedelta(days=1)


@dataclass
class Progress:
    imported: int
    total: int | None  # None when Shopify could not count
    watermark: datetime | None


def search_since(moment: datetime) -> str:
    """Shopify's search syntax for "changed at or after `moment`"."""
    return f"updated_at:>='{moment.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}'"


def order_pages(client: Client, since: datetime) -> Iterator[list[dict[str, Any]]]:
    """Orders changed at or after `since`, a page at a time, oldest change first."""
    after = None
    while True:
        data = client.query(
            documents.ORDERS_UPDATED_SINCE,
            {"first": documents.ORDERS_PAGE_SIZE, "after": after, "query": search_since(since)},
        )
        orders = data["orders"]
        yield orders["nodes"]
        if not orders["pageInfo"]["hasNextPage"]:
            return
        after = orders["pageInfo"]["endCursor"]


def count_orders(client: Client, since: datetime) -> int | None:
    data = client.query(documents.ORDERS_COUNT, {"query": search_since(since)})
    return (data.get("ordersCount") or {}).get("count")


def import_orders(
    shop: Shop,
    *,
    since: datetime,
    restart: bool = False,
    client: Client | None = None,
    on_progress: Callable[[Progress], None] = lambda progress: None,
) -> Progress:
    """The backfill (manage.py sync_orders): import every order changed since `since`.

    After each page the last imported `updatedAt` is stored. A run that was interrupted resumes
    from there, unless `restart` or unless this one asks for older orders than it did.
    """
    client = client or Client.for_shop(shop)
    state, _ = SyncState.objects.get_or_create(shop=shop)
    started = timezone.now()
    resume = (
        not restart
        and state.backfill_interrupted
        and state.backfill_since is not None
        and since >= state.backfill_since
    )
    if not resume:
        state.backfill_since = since
        state.backfill_watermark = None
        state.backfill_imported = 0
    state.backfill_finished_at = None
    state.save()
    start = state.backfill_watermark if resume else since
    progress = Progress(state.backfill_imported, None, state.backfill_watermark)
    total = count_orders(client, start)
    progress.total = None if total is None else progress.imported + total
    on_progress(progress)
    resumed_at = progress.watermark
    for page in order_pages(client, start):
        for node in page:
            facts = ingest.order_from_graphql(node)
            ingest.apply_order(shop, facts)
            # Shopify's search is to the second: a resumed run reads again the orders of the
            # second it stopped in. Harmless to apply, not to count.
            if resumed_at is None or facts.updated_at > resumed_at:
                progress.imported += 1
        if page:
            progress.watermark = ingest.moment(page[-1]["updatedAt"])
            SyncState.objects.filter(pk=state.pk).update(
                backfill_watermark=progress.watermark, backfill_imported=progress.imported
            )
        on_progress(progress)
    progress.total = progress.imported
    on_progress(progress)
    SyncState.objects.filter(pk=state.pk).update(backfill_finished_at=timezone.now())
    # What was just read need not be read again by reconciliation.
    # (Only when it read from no later than reconciliation's mark: else a gap stays unread.)
    if state.reconciled_until is None or since <= state.reconciled_until < started:
        SyncState.objects.filter(pk=state.pk).update(reconciled_until=started - OVERLAP)
    return progress


def reconcile(shop: Shop, *, client: Client | None = None) -> int:
    """Re-read the orders Shopify changed since the last successful run; how many were read.

    The high-water mark only moves after a complete run, so a run that fails half-way is
    repeated in full by the next one.
    """
    client = client or Client.for_shop(shop)
    state, _ = SyncState.objects.get_or_create(shop=shop)
    started = timezone.now()
    since = (state.reconciled_until or started - FIRST_RECONCILE) - OVERLAP
    read = 0
    try:
        for page in order_pages(client, since):
            for node in page:
                ingest.apply_order(shop, ingest.order_from_graphql(node))
            read += len(page)
    except ShopifyError as error:
        SyncState.objects.filter(pk=state.pk).update(last_error=f"{type(error).__name__}: {error}")
        raise
    SyncState.objects.filter(pk=state.pk).update(
        reconciled_until=started, last_reconciled_at=timezone.now(), last_error=""
    )
    return read


def refresh_order(shop: Shop, order_id: int, *, client: Client | None = None) -> Order | None:
    """Re-read one order, for webhooks that say it changed without saying how (refunds, edits)."""
    client = client or Client.for_shop(shop)
    data = client.query(documents.ORDER, {"id": ingest.order_gid(order_id)})
    if not data.get("order"):
        return None
    return ingest.apply_order(shop, ingest.order_from_graphql(data["order"]))
