"""Every write of an order change, whoever asks: the shopper's views, agents in the admin, the
push job and Shopify's webhooks all come through here.

Invariants:
- each function runs in one transaction with the order row locked, so two submissions, an agent
  and a worker never interleave on one order;
- the merchant's rule is asked again under that lock before a request is written;
- a request only moves along `ChangeRequest.NEXT`, and every move leaves an `OrderEvent`;
- the push job and the emails are sent after commit; a request saved while Redis was down, or
  whose worker died, is sent again by `sweep_changes`, and the job itself is idempotent, so a
  change is never lost and never applied twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from edits import rules
from edits.models import ChangeRequest, EditPolicy, Kind, WarehouseHold
from orders.decisions import Decision, NotAllowed
from orders.models import Order, OrderEvent
from shopify import queue

# A request still queued after this long never reached a worker (or lost it): send it again.
STALE_AFTER = timedelta(minutes=2)
# Transient failures (Shopify down, throttled) are retried by RQ; after this many attempts the
# request fails and waits for an agent's retry instead.
MAX_ATTEMPTS = 8
# How long a worker's claim on a change lasts: longer than one attempt can take (two Admin API
# calls with their timeouts), short enough that a dead worker's change is soon sent again.
SENDING_LEASE = timedelta(minutes=3)

Status = ChangeRequest.Status


class WrongState(Exception):
    """The request is no longer where the caller thought (someone else acted first)."""

    def __init__(self, request: ChangeRequest, wanted: str) -> None:
        super().__init__(f"{request.pk}: {request.status} -> {wanted} is not allowed")
        self.request = request


def _locked_request(request: ChangeRequest) -> tuple[ChangeRequest, Order]:
    order = Order.objects.locked(request.order_id)
    return ChangeRequest.objects.get(pk=request.pk), order


def snapshot(kind: str, order: Order) -> dict[str, Any]:
    """What the order says now, for the side of the change being replaced."""
    if kind == Kind.ADDRESS:
        return dict(order.shipping_address or {})
    if kind == Kind.CONTACT:
        return {"email": order.email, "phone": order.phone}
    return {}


def cancellation_terms(policy: EditPolicy, reason: str) -> dict[str, Any]:
    """A cancellation keeps the terms in force when it was asked for."""
    return {
        "reason": reason,
        "refund": policy.cancel_refund,
        "restock": policy.cancel_restock,
        "notify": policy.cancel_notify,
        "staff_note": policy.cancel_staff_note,
    }


@transaction.atomic
def request_change(
    *,
    order: Order,
    kind: str,
    after: dict[str, Any],
    actor: str = "shopper",
    now: datetime | None = None,
) -> ChangeRequest:
    """The shopper asks for a change. Queued at once, or left for an agent when the policy wants
    approval. Raises `NotAllowed` with the rule's reason."""
    now = now or timezone.now()
    order = Order.objects.locked(order.pk)
    policy = EditPolicy.for_shop(order.shop)
    decision = rules.DECIDE[kind](order, policy, now=now)
    if decision and kind == Kind.ADDRESS:
        decision = rules.can_ship_to(order, policy, country_code=after.get("country_code", ""))
    if not decision:
        raise NotAllowed(decision)
    if kind == Kind.CANCEL:
        after = cancellation_terms(policy, after.get("reason", ""))
    approval = rules.needs_approval(kind, order, policy, after=after)
    try:
        with transaction.atomic():
            request = ChangeRequest.objects.create(
                order=order,
                kind=kind,
                status=Status.AWAITING_APPROVAL if approval else Status.QUEUED,
                before=snapshot(kind, order),
                after=after,
                requested_by=actor,
                queued_at=None if approval else now,
                created_at=now,
            )
    except IntegrityError:  # the constraint behind the rule: one open request per kind
        raise NotAllowed(
            Decision.no("already_requested", _("You have already asked for this change."))
        ) from None
    order.log(
        OrderEvent.Kind.CHANGE_REQUESTED,
        actor=actor,
        visible_to_shopper=True,
        request=request.pk,
        change=kind,
    )
    if request.status == Status.QUEUED:
        _push(request)
    _email(request, "received" if request.status == Status.QUEUED else "awaiting_approval")
    return request


@transaction.atomic
def approve(*, request: ChangeRequest, actor: str) -> ChangeRequest:
    request, order = _locked_request(request)
    _move(request, Status.QUEUED)
    request.decided_by, request.decided_at = actor, timezone.now()
    request.queued_at = request.decided_at
    request.save()
    order.log(
        OrderEvent.Kind.CHANGE_APPROVED,
        actor=actor,
        visible_to_shopper=True,
        request=request.pk,
        change=request.kind,
    )
    _push(request)
    return request


@transaction.atomic
def reject(
    *, request: ChangeRequest, actor: str, reason: str = "", code: str = ""
) -> ChangeRequest:
    """An agent says no, with a reason the shopper reads; or the system, when the order moved on
    while the request waited (`code`, shown in the shopper's language)."""
    request, order = _locked_request(request)
    _move(request, Status.REJECTED)
    request.decided_by, request.decided_at = actor, timezone.now()
    request.rejection_reason = reason
    request.failure_code = code
    request.save()
    order.log(
        OrderEvent.Kind.CHANGE_REJECTED,
        actor=actor,
        visible_to_shopper=True,
        request=request.pk,
        change=request.kind,
        reason=reason,
    )
    _email(request, "rejected")
    return request


@transaction.atomic
def withdraw(*, request: ChangeRequest, actor: str = "shopper") -> ChangeRequest:
    """The shopper takes back a request that still waits for approval."""
    request, order = _locked_request(request)
    _move(request, Status.WITHDRAWN)
    request.save()
    order.log(
        OrderEvent.Kind.CHANGE_WITHDRAWN,
        actor=actor,
        visible_to_shopper=True,
        request=request.pk,
        change=request.kind,
    )
    return request


@transaction.atomic
def retry(*, request: ChangeRequest, actor: str) -> ChangeRequest:
    """An agent sends a failed request to Shopify again."""
    request, order = _locked_request(request)
    newer = order.change_requests.filter(
        kind=request.kind,
        created_at__gt=request.created_at,
        status__in=[*ChangeRequest.OPEN, Status.APPLIED],
    )
    if newer.exists():  # sending this one now would undo the shopper's later change
        raise WrongState(request, Status.QUEUED)
    _move(request, Status.QUEUED)
    request.queued_at = timezone.now()
    request.attempts = 0
    request.sending_until = None
    request.failure_code = request.failure_message = ""
    request.field_errors = {}
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError:  # another request of this kind is open
        raise WrongState(request, Status.QUEUED) from None
    order.log(OrderEvent.Kind.CHANGE_APPROVED, actor=actor, request=request.pk, retry=True)
    order.bump_revision()  # the shopper's page shows it on its way again
    _push(request)
    return request


@transaction.atomic
def begin_attempt(*, request: ChangeRequest) -> ChangeRequest | None:
    """The push job starts: count the attempt. None when there is nothing to do (the request
    settled meanwhile: a duplicate job, or the sweeper raced a worker)."""
    request, _order = _locked_request(request)
    now = timezone.now()
    if request.status != Status.QUEUED:
        return None
    if request.sending_until and request.sending_until > now:
        return None  # another worker is sending it right now
    if request.attempts >= MAX_ATTEMPTS:
        # Whatever kept failing (Shopify, our configuration), an agent has to look now.
        mark_failed(request=request, code="unavailable", message="too many attempts")
        return None
    request.attempts += 1
    request.sending_until = now + SENDING_LEASE
    request.save(update_fields=["attempts", "sending_until", "updated_at"])
    return request


def end_attempt(*, request: ChangeRequest) -> None:
    """The worker let go without settling the request (a transient failure): the next attempt,
    RQ's retry or the sweeper's, may claim it at once."""
    ChangeRequest.objects.filter(pk=request.pk).update(sending_until=None)


@transaction.atomic
def mark_applied(*, request: ChangeRequest) -> ChangeRequest:
    request, order = _locked_request(request)
    if request.status == Status.APPLIED:
        return request
    _move(request, Status.APPLIED)
    request.applied_at = timezone.now()
    request.sending_until = None
    request.save()
    order.log(
        OrderEvent.Kind.CHANGE_APPLIED,
        actor="shopify",
        visible_to_shopper=True,
        request=request.pk,
        change=request.kind,
    )
    _email(request, "applied")
    return request


@transaction.atomic
def mark_failed(
    *,
    request: ChangeRequest,
    code: str,
    message: str,
    field_errors: dict[str, list[str]] | None = None,
) -> ChangeRequest:
    """Shopify refused, or the order moved on: nothing was written to Shopify. `message` is
    for the shopper and the agent; `code` for reports."""
    request, order = _locked_request(request)
    if request.status != Status.QUEUED:
        return request
    _move(request, Status.FAILED)
    request.sending_until = None
    request.failure_code = code
    request.failure_message = message
    request.field_errors = field_errors or {}
    request.save()
    order.log(
        OrderEvent.Kind.CHANGE_FAILED,
        actor="shopify",
        visible_to_shopper=True,
        request=request.pk,
        change=request.kind,
        code=code,
    )
    _email(request, "failed")
    return request


def sweep_changes(*, older_than: timedelta = STALE_AFTER) -> int:
    """The outbox: send again every request queued for longer than `older_than`. The job is
    idempotent, so a request that was only slow is not harmed. Returns how many were sent."""
    stale = ChangeRequest.objects.filter(
        status=Status.QUEUED, queued_at__lt=timezone.now() - older_than
    ).values_list("pk", flat=True)
    count = 0
    with transaction.atomic():
        for pk in stale:
            _push_id(pk)
            count += 1
    return count


def _move(request: ChangeRequest, status: str) -> None:
    if not request.can_move_to(status):
        raise WrongState(request, status)
    request.status = status


def _push(request: ChangeRequest) -> None:
    _push_id(request.pk)


def _push_id(pk: int) -> None:
    from edits import jobs

    queue.enqueue(jobs.push_change, pk, queue="shopify", job_id=f"change-{pk}")


def _email(request: ChangeRequest, event: str) -> None:
    from edits import jobs

    queue.enqueue(jobs.send_change_email, request.pk, event, queue="default")


@transaction.atomic
def confirm_order(*, order: Order, actor: str = "shopper") -> None:
    """The shopper says all is right: the warehouse need not wait for the window to end."""
    from edits import holds

    order = Order.objects.locked(order.pk)
    order.log(OrderEvent.Kind.CONFIRMED, actor=actor, visible_to_shopper=True)
    queue.enqueue(
        holds.release,
        order.pk,
        WarehouseHold.Release.CONFIRMED,
        queue="shopify",
        job_id=f"release-{order.pk}",
    )
