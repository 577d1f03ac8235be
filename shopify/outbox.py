"""The outbox: every request a shopper or an agent makes that must reach Shopify goes out here,
whatever its app (a change, a return, and what comes next).

An app registers a `Channel` for its kind of request (an `orders.requests.Request`): how one
attempt is delivered, and which of its actions marks a failure. The outbox does the rest, the same
way for all:

    claim the lease -> deliver (typed Shopify calls) -> sort the outcome -> mark it -> retry later

- done: the app's `deliver` marked it (applied, or Shopify's answer recorded); if something more
  became due meanwhile (a cancellation while a return was on its way), it is sent right after;
- user errors: Shopify refused the data; the app may settle a refusal it expects (`refused`:
  a cancellation the shop made first), otherwise it fails with the refusal's code
  (`shopify.refusals`) and Shopify's words for agents;
- conflict: the order moved on (`Conflict`, raised by `deliver`); it fails with that code;
- permanent: Shopify will answer the same again (a missing scope, a bad token); it fails as
  "permanent" for an agent to look at;
- transient, throttled, a lost answer: the lease is let go and the next attempt is due after a
  backoff, never sooner than Shopify's Retry-After or the bucket's refill. After
  `MAX_ATTEMPTS` it fails as "unavailable".

What is due lives in the database (`next_attempt_at`), not in a process: a retry is also put on
RQ's schedule, but the sweeper (`sweep`, every minute) sends whatever is overdue and not leased,
so a request saved while Redis was down, a retry left in the scheduled registry when the
scheduler died, or a job started on a worker that was killed, is sent again. A job sent twice is
harmless: the lease keeps two workers apart (RQ stops an attempt before its lease ends), and
each app's `deliver` reads Shopify before it writes, so an attempt whose answer was lost is
recognised, not repeated.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from orders.models import Order
from orders.requests import Request
from shopify import queue, refusals
from shopify.client import Client, Permanent, Transient, UserErrors

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# A request this overdue, and not leased, was lost on its way: the sweeper sends it again.
GRACE = timedelta(seconds=30)
# Requests that one delivery may walk through (a return requested, then cancelled meanwhile).
MAX_STEPS = 4


class Conflict(Exception):
    """The order moved on in Shopify (packed, shipped, edited by the merchant): nothing was
    written. `code` says how, in the words of the app's rules."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


Deliver = Callable[[Client, Any], None]
Fail = Callable[..., Any]  # fail(request=, code=, detail=, fields=) through the app's action
Refused = Callable[[Client, Any, refusals.Refusal], bool]
Due = Callable[[Any], bool]


@dataclass(frozen=True)
class Channel:
    """One kind of request, as its app sends it."""

    name: str
    model: type[Request]
    deliver: Deliver
    fail: Fail
    # Something more to send after an attempt succeeded (a return's next step).
    still_due: Due = lambda request: False
    # A refusal the app expects and settles itself (True when it did).
    refused: Refused | None = None


_channels: dict[str, Channel] = {}


def register(channel: Channel) -> Channel:
    _channels[channel.name] = channel
    return channel


def channel_of(request: Request) -> Channel:
    for channel in _channels.values():
        if isinstance(request, channel.model):
            return channel
    raise LookupError(f"no outbox channel for {type(request).__name__}")


def push(request: Request) -> None:
    """Send the request once the transaction commits (the caller made it due)."""
    _enqueue(channel_of(request).name, request.pk, request.attempts + 1)


def _enqueue(name: str, pk: int, attempt: int, *, at: datetime | None = None) -> None:
    """The job of one attempt. Its id names the attempt, so that the sweeper, or a second push,
    does not queue a job that is already waiting (RQ's queue or schedule), while a job whose
    worker died holding it (its lease long gone) is no obstacle to the next attempt. RQ stops
    the job before its lease ends, so no attempt outlives its lease: two workers never send one
    request at the same time."""
    job_id = f"outbox-{name.replace('.', '_')}-{pk}-{attempt}"
    timeout = int(settings.OUTBOX_LEASE_SECONDS * 0.8)
    queue.enqueue(
        run, name, pk, queue="shopify", job_id=job_id, retry=False, at=at, timeout=timeout
    )


def lease() -> timedelta:
    """Longer than one attempt may take (RQ stops it at 80 % of the lease), short enough that a
    dead worker's request is soon sent again."""
    return timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)


def run(name: str, pk: int) -> None:
    """The job: one delivery of one request (and what became due meanwhile)."""
    channel = _channels[name]
    for _step in range(MAX_STEPS):
        request = claim(channel, pk)
        if request is None:
            return
        if not deliver(channel, request):
            return


def claim(channel: Channel, pk: int) -> Request | None:
    """Take the lease and count the attempt, with the order locked. None when there is nothing
    to do: settled or failed meanwhile, not due yet, or another worker holds it. The lease's end
    (`sending_until`) is this worker's token: whatever it does after the attempt, it does only
    while the request still bears it."""
    with transaction.atomic():
        found = channel.model.objects.filter(pk=pk).values_list("order_id", flat=True).first()
        if found is None:
            return None
        Order.objects.locked(found)
        request = channel.model.objects.select_related("order__shop").get(pk=pk)
        now = timezone.now()
        if request.next_attempt_at is None or request.failure_code:
            return None
        if request.next_attempt_at > now + timedelta(seconds=1):
            return None  # a retry that is not due yet (a duplicate job ran early)
        if request.sending_until and request.sending_until > now:
            return None
        if not request.order.shop.is_active:  # the merchant uninstalled the app
            channel.fail(request=request, code="disconnected", detail="the shop is disconnected")
            return None
        if request.attempts >= MAX_ATTEMPTS:
            channel.fail(request=request, code="unavailable", detail="too many attempts")
            return None
        request.attempts += 1
        request.sending_until = now + lease()
        request.save(update_fields=["attempts", "sending_until", "updated_at"])
        return request


def deliver(channel: Channel, request: Request) -> bool:
    """One attempt, its outcome sorted. True when something more is due at once."""
    token = request.sending_until
    client = Client.for_shop(request.order.shop)
    try:
        refusal = _attempt(channel, client, request)
    except Conflict as conflict:
        channel.fail(request=request, code=f"conflict:{conflict.code}", detail=str(conflict))
    except Permanent as error:
        logger.warning("%s refused by Shopify: %s", request, error)
        channel.fail(request=request, code="permanent", detail=str(error))
    except Transient as error:
        logger.info("%s not sent (attempt %s): %s", request, request.attempts, error)
        retry_later(channel, request, token, error.retry_after)
        return False
    except Exception:
        retry_later(channel, request, token, None)
        raise  # a bug: RQ's failed-job registry shows it; the sweeper still retries
    else:
        if refusal is not None:
            logger.info("%s refused by Shopify: %s", request, refusal.detail)
            channel.fail(
                request=request, code=refusal.code, detail=refusal.detail, fields=refusal.fields
            )
    return finished(channel, request, token)


def _attempt(channel: Channel, client: Client, request: Request) -> refusals.Refusal | None:
    """The app's delivery; Shopify's refusal, read, unless the app settled it itself."""
    try:
        channel.deliver(client, request)
    except UserErrors as error:
        refusal = refusals.read(error.errors)
        if channel.refused is not None and channel.refused(client, request, refusal):
            return None
        return refusal
    return None


def _held(channel: Channel, request: Request, token: object) -> tuple[Request, Order] | None:
    """The request and its order, locked, if this worker's lease is still on it. A worker that
    outlived its lease (it cannot: RQ stops the job first, see `push`) must not take another
    worker's lease away."""
    order = Order.objects.locked(request.order_id)
    fresh = channel.model.objects.get(pk=request.pk)
    if fresh.sending_until != token:
        logger.warning("%s: the lease passed to another worker", fresh)
        return None
    return fresh, order


def finished(channel: Channel, request: Request, token: object) -> bool:
    """The attempt is over (done, or failed for an agent): let go of the lease; due again at
    once if something more is."""
    with transaction.atomic():
        held = _held(channel, request, token)
        if held is None:
            return False
        request, order = held
        again = not request.failure_code and channel.still_due(request)
        request.sending_until = None
        request.next_attempt_at = timezone.now() if again else None
        request.save(update_fields=["sending_until", "next_attempt_at", "updated_at"])
        order.bump_revision()  # the shopper's page stops (or goes on) waiting for it
    return again


def retry_later(
    channel: Channel, request: Request, token: object, retry_after: float | None
) -> None:
    with transaction.atomic():
        held = _held(channel, request, token)
        if held is None:
            return
        request, order = held
        request.sending_until = None
        if request.next_attempt_at is None or request.failure_code:
            request.save(update_fields=["sending_until", "updated_at"])  # settled meanwhile
            return
        if request.attempts >= MAX_ATTEMPTS:
            request.save(update_fields=["sending_until", "updated_at"])
            channel.fail(request=request, code="unavailable", detail="Shopify unreachable")
            return
        backoff = settings.OUTBOX_RETRY_SECONDS  # before attempt n+1; the last one repeats
        delay = max(backoff[min(request.attempts, len(backoff)) - 1], retry_after or 0)
        request.next_attempt_at = timezone.now() + timedelta(seconds=delay)
        request.save(update_fields=["sending_until", "next_attempt_at", "updated_at"])
        order.bump_revision()  # the shopper's page asks less often until then
    _enqueue(channel.name, request.pk, request.attempts + 1, at=request.next_attempt_at)


def sweep(*, grace: timedelta = GRACE) -> int:
    """The scheduler's run (every minute): send again every request that is overdue and that no
    worker holds (a job still waiting in RQ's queue is not queued twice). Returns how many it
    looked at."""
    now = timezone.now()
    count = 0
    for channel in _channels.values():
        # A disconnected shop's requests are sent too: the claim settles them as failed.
        overdue = (
            channel.model.objects.filter(next_attempt_at__lte=now - grace, failure_code="")
            .exclude(sending_until__gt=now)
            .values_list("pk", "attempts")
        )
        with transaction.atomic():
            for pk, attempts in overdue.iterator(chunk_size=500):
                _enqueue(channel.name, pk, attempts + 1)
                count += 1
    return count
