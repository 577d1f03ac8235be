"""The events of returns ("returns.<step>"). Agents read the first label; the shopper reads the
second, on the order page."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from orders import events

REQUESTED = events.register(
    "returns.requested", staff=_("Return requested"), shopper=_("You asked to return items")
)
APPROVED = events.register(
    "returns.approved", staff=_("Return approved"), shopper=_("Your return was approved")
)
DECLINED = events.register(
    "returns.declined", staff=_("Return declined"), shopper=_("Your return was declined")
)
CANCELLED = events.register(
    "returns.cancelled", staff=_("Return cancelled"), shopper=_("Your return was cancelled")
)
RECEIVED = events.register(
    "returns.received", staff=_("Returned items arrived"), shopper=_("Your returned items arrived")
)
RESOLVED = events.register(
    "returns.resolved", staff=_("Return settled in Shopify"), shopper=_("Your return was settled")
)
CLOSED = events.register(
    "returns.closed", staff=_("Return closed"), shopper=_("Your return was closed")
)
# Shopify has the return open: the slip is good to use, and the shopper gets it.
OPENED = events.register("returns.opened", staff=_("Shopify has the return open"))
SYNC_FAILED = events.register("returns.sync_failed", staff=_("A return could not reach Shopify"))
RETRIED = events.register("returns.retried", staff=_("A return was sent to Shopify again"))
