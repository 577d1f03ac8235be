"""The scheduler's jobs: `manage.py rqcron portal.cron` (one process, beside the workers)."""

from __future__ import annotations

from django.conf import settings
from rq import cron

from edits.holds import release_due
from edits.jobs import payments_due
from returns.jobs import reconcile_returns
from returns.photos import sweep_unused
from shopify.jobs import reconcile_shops, sweep_deliveries
from shopify.outbox import sweep

# Repair what lost webhooks left out of the mirror.
cron.register(
    reconcile_shops, queue_name="shopify", interval=settings.SHOPIFY_RECONCILE_MINUTES * 60
)
# Send again the deliveries that Redis being down, or a dead worker, left unprocessed.
cron.register(sweep_deliveries, queue_name="webhooks", interval=60)
# The outbox (changes, returns): send again what is overdue and no worker holds: saved while
# Redis was down, a retry no scheduler took, a job on a worker that was killed.
cron.register(sweep, queue_name="shopify", interval=60)
# Returns Shopify still has open, read again hourly in case a returns/* webhook was lost.
cron.register(reconcile_returns, queue_name="shopify", interval=600)
# Return photos no return took (abandoned flows), after two days.
cron.register(sweep_unused, queue_name="default", interval=3600)
# Let the warehouse go on with orders whose address window has ended.
cron.register(release_due, queue_name="shopify", interval=60)
# Item changes waiting for the difference: paid meanwhile (a lost webhook), or overdue.
cron.register(payments_due, queue_name="shopify", interval=3600)
