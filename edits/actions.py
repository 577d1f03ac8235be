"""Every write of an order change, whoever asks: the shopper's pages, agents in the admin, the
outbox and Shopify's webhooks all come through here.

Invariants:
- each function runs in one transaction with the order row locked, so two submissions, an agent
  and a worker never interleave on one order;
- the merchant's rule is asked again under that lock before a request is written;
- a request only moves along `ChangeRequest.NEXT`, and every move logs an event
  ("edits.<kind>.<step>"); emails and whatever else listens hear of it after commit;
- a request that must reach Shopify is made due and handed to the outbox on commit; the outbox
  sends it again until it is settled (a request saved while Redis was down, or whose worker died,
  is not lost), and never applies it twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from edits import events, holds, kinds, rules
from edits.kinds.base import ChangeKind
from edits.models import ChangeRequest, EditPolicy, WarehouseHold
from orders.actors import SHOPIFY, SHOPPER, SYSTEM, Actor
from orders.decisions import Decision, NotAllowed
from orders.models import Order
from orders.requests import WrongState
from shopify import outbox, queue

Status = ChangeRequest.Status

__all__ = ["NotAllowed", "WrongState"]

Rule = Callable[[Order, datetime], Decision]  # the order (locked), now -> allowed or why not


def _locked(request: ChangeRequest) -> tuple[ChangeRequest, Order]:
    order = Order.objects.locked(request.order_id)
    return ChangeRequest.objects.select_related("order__shop").get(pk=request.pk), order


def _log(order: Order, request: ChangeRequest, step: str, actor: Actor, **data: Any) -> None:
    order.log(events.of(request.kind, step), actor=actor, subject=request, **data)


@transaction.atomic
def request_change(
    *,
    order: Order,
    kind: ChangeKind,
    after: dict[str, Any],
    actor: Actor = SHOPPER,
    now: datetime | None = None,
    rule: Rule | None = None,
) -> ChangeRequest:
    """The shopper asks for a change. Sent at once, or left for an agent when the policy wants
    approval. Raises `NotAllowed` with the rule's reason.

    `rule` stands in for the kind's own rule and approval when the shop itself proposed the
    change (an offer the shopper accepted): asked under the same lock, and sent at once."""
    now = now or timezone.now()
    order = Order.objects.locked(order.pk)
    policy = EditPolicy.for_shop(order.shop)
    if rule is not None:
        decision = rule(order, now)
    else:
        decision = kind.decide(order, policy, now=now)
        if decision:
            decision = kind.check(order, policy, after)
    if not decision:
        raise NotAllowed(decision)
    after = kind.terms(policy, after)
    approval = rule is None and kind.needs_approval(order, policy, after=after)
    request = ChangeRequest(
        order=order,
        kind=kind.code,
        status=Status.AWAITING_APPROVAL if approval else Status.QUEUED,
        before=kind.snapshot(order),
        after=after,
        requested_by=actor,
        created_at=now,
    )
    if not approval:
        request.send_now()
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError:  # the constraint behind the rule: one open request per kind
        raise NotAllowed(
            Decision.no("already_requested", _("You have already asked for this change."))
        ) from None
    _log(order, request, "requested", actor, awaiting_approval=approval)
    if not approval:
        outbox.push(request)
    return request


@transaction.atomic
def approve(*, request: ChangeRequest, actor: Actor) -> ChangeRequest:
    request, order = _locked(request)
    request.move_to(Status.QUEUED)
    request.decide(actor)
    request.send_now()
    request.save()
    _log(order, request, "approved", actor)
    outbox.push(request)
    return request


@transaction.atomic
def reject(
    *, request: ChangeRequest, actor: Actor, reason: str = "", code: str = ""
) -> ChangeRequest:
    """An agent says no, with a reason the shopper reads; or the system, when the order moved on
    while the request waited (`code`, shown in the shopper's language)."""
    request, order = _locked(request)
    request.move_to(Status.REJECTED)
    request.decide(actor)
    request.rejection_reason = reason
    request.failure_code = code
    request.save()
    _log(order, request, "rejected", actor, reason=reason)
    return request


@transaction.atomic
def withdraw(*, request: ChangeRequest, actor: Actor = SHOPPER) -> ChangeRequest:
    """The shopper takes back a request that still waits for approval."""
    request, order = _locked(request)
    request.move_to(Status.WITHDRAWN)
    request.save()
    _log(order, request, "withdrawn", actor)
    return request


@transaction.atomic
def retry(*, request: ChangeRequest, actor: Actor) -> ChangeRequest:
    """An agent sends a failed request to Shopify again."""
    request, order = _locked(request)
    newer = order.change_requests.filter(
        kind=request.kind,
        created_at__gt=request.created_at,
        status__in=[*ChangeRequest.OPEN, Status.APPLIED],
    )
    if newer.exists():  # sending this one now would undo the shopper's later change
        raise WrongState(request, Status.QUEUED)
    request.move_to(Status.QUEUED)
    request.attempts = 0
    request.sending_until = None
    request.refused_fields = []
    request.send_now()
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError:  # another request of this kind is open
        raise WrongState(request, Status.QUEUED) from None
    _log(order, request, "retried", actor)
    order.bump_revision()  # the shopper's page shows it on its way again
    outbox.push(request)
    return request


@transaction.atomic
def note_result(*, request: ChangeRequest, **data: Any) -> None:
    """Record at once what Shopify has done of the change so far (an order edit committed, the
    payment a refund goes back to): an attempt after a lost answer, or after a worker's crash,
    goes on from there instead of doing it again."""
    locked, _order = _locked(request)
    locked.shopify_result = {**locked.shopify_result, **data}
    locked.save(update_fields=["shopify_result", "updated_at"])
    request.shopify_result = locked.shopify_result


@transaction.atomic
def mark_applied(*, request: ChangeRequest, result: dict[str, Any] | None = None) -> ChangeRequest:
    """Shopify has the change; `result` says what became of the money, if anything. An order
    that now owes a difference ("to_pay") waits for the shopper's payment; a refund Shopify
    refused ("refund_failed") goes to the agents."""
    request, order = _locked(request)
    result = result or {}
    if not request.can_move_to(Status.AWAITING_PAYMENT if "to_pay" in result else Status.APPLIED):
        return request
    return _made(request, order, result)


def _made(request: ChangeRequest, order: Order, result: dict[str, Any]) -> ChangeRequest:
    waiting = "to_pay" in result
    request.move_to(Status.AWAITING_PAYMENT if waiting else Status.APPLIED)
    request.applied_at = request.applied_at or timezone.now()
    request.next_attempt_at = None
    request.shopify_result = {**request.shopify_result, **result}
    request.save()
    if waiting:
        _log(order, request, "awaiting_payment", SHOPIFY, to_pay=result["to_pay"])
    else:
        _log(order, request, "applied", SHOPIFY)
    if result.get("refund_failed"):
        _log(order, request, "refund_failed", SYSTEM, code=result["refund_failed"])
    return request


def _end_wait(
    request: ChangeRequest,
    step: str,
    actor: Actor,
    *,
    release: str,
    result: dict[str, Any],
    **data: Any,
) -> ChangeRequest:
    """A change that waited for its difference is done (`result` says how): applied, logged as
    `step` (with `data`), and the warehouse let go after commit (`release` says why)."""
    request, order = _locked(request)
    if request.status != Status.AWAITING_PAYMENT:
        raise WrongState(request, Status.APPLIED)
    request.move_to(Status.APPLIED)
    request.shopify_result = {**request.shopify_result, **result}
    request.save()
    _log(order, request, step, actor, **data)
    transaction.on_commit(
        lambda: queue.enqueue(
            holds.release,
            order.pk,
            release,
            WarehouseHold.Reason.AWAITING_PAYMENT,
            queue="shopify",
            job_id=f"release-paid-{order.pk}",
        )
    )
    return request


@transaction.atomic
def mark_paid(*, request: ChangeRequest) -> ChangeRequest:
    """Shopify says the order owes nothing any more, and was paid since the change: the
    warehouse may go on."""
    return _end_wait(
        request, "paid", SHOPPER, release=WarehouseHold.Release.PAID, result={"paid": True}
    )


@transaction.atomic
def mark_payment_closed(*, request: ChangeRequest, because: str) -> ChangeRequest:
    """Nothing is owed any more, but nobody paid: the order was cancelled (`because` is
    "order_cancelled"), or the shop changed the order or its payment in Shopify
    ("no_longer_owed"). No "paid" email; agents see why."""
    return _end_wait(
        request,
        "payment_closed",
        SYSTEM,
        release=WarehouseHold.Release.CANCELLED
        if because == "order_cancelled"
        else WarehouseHold.Release.NO_LONGER_OWED,
        result={"payment_closed": because},
        because=because,
    )


@transaction.atomic
def settle_payment(*, request: ChangeRequest, actor: Actor) -> ChangeRequest:
    """An agent settles the difference (paid another way, or waived): the change is done and
    the warehouse may go on."""
    return _end_wait(
        request,
        "payment_settled",
        actor,
        release=WarehouseHold.Release.SETTLED,
        result={"settled_by": actor.key},
    )


@transaction.atomic
def mark_refund_made(*, request: ChangeRequest, actor: Actor) -> ChangeRequest:
    """An agent made, in Shopify's admin, the refund Shopify refused to the portal."""
    request, order = _locked(request)
    result = request.shopify_result
    if request.status != Status.APPLIED or not result.get("refund_failed"):
        raise WrongState(request, Status.APPLIED)
    if result.get("refund_made_by"):
        return request
    request.shopify_result = {**result, "refund_made_by": actor.key}
    request.save()
    _log(order, request, "refund_made", actor)
    return request


@transaction.atomic
def mark_payment_overdue(*, request: ChangeRequest) -> ChangeRequest:
    """The difference was not paid in the policy's time: an agent takes it from here (the
    order stays held at the warehouse)."""
    request, order = _locked(request)
    if request.status != Status.AWAITING_PAYMENT or request.shopify_result.get("overdue"):
        return request
    request.shopify_result = {**request.shopify_result, "overdue": True}
    request.save()
    _log(order, request, "payment_overdue", SYSTEM)
    return request


@transaction.atomic
def mark_failed(
    *, request: ChangeRequest, code: str, detail: str = "", fields: Sequence[str] = ()
) -> ChangeRequest:
    """Shopify refused, or the order moved on, or Shopify could not be reached for too long:
    nothing was written to Shopify. `code` reads as a translated sentence for the shopper
    (`failure_text`); `detail` is for agents; `fields` are the ones the shopper can correct."""
    request, order = _locked(request)
    if request.status != Status.QUEUED:
        return request
    if request.shopify_result.get("committed"):
        # Shopify has the change: what failed came after it (the hold, the refund). The change
        # stands, and its money is the agents' business.
        result = kinds.get(request.kind).unsettled(request, code)
        return _made(request, order, {**result, "settle_failed": detail[:500] or code})
    if code == "unavailable" and request.shopify_result.get("committing"):
        # The last attempt was writing when its answer was lost: made or not, only Shopify
        # knows. An agent looks, and a retry recognises a change that was made.
        code = "unconfirmed"
    request.move_to(Status.FAILED)
    request.record_failure(code, detail)
    request.refused_fields = list(fields)
    request.save()
    _log(order, request, "failed", SHOPIFY if code.startswith("refused") else SYSTEM, code=code)
    return request


@transaction.atomic
def mark_done_by_shop(
    *, request: ChangeRequest, result: dict[str, Any], detail: str = ""
) -> ChangeRequest:
    """The shop made the change in Shopify before ours arrived (it cancelled the order while
    the shopper's cancellation was on its way): settled, with what Shopify did (`result`)."""
    request, order = _locked(request)
    if not request.can_move_to(Status.BY_SHOP):
        return request
    request.move_to(Status.BY_SHOP)
    request.shopify_result = result
    request.failure_detail = detail
    request.next_attempt_at = None
    request.save()
    _log(order, request, "by_shop", SHOPIFY, **result)
    return request


@transaction.atomic
def confirm_order(*, order: Order, actor: Actor = SHOPPER) -> None:
    """The shopper says all is right (the delivery address first of all): said once; and an
    order waiting at the warehouse for the address window need not wait any longer."""
    order = Order.objects.locked(order.pk)
    if not rules.address_confirmed(order):
        order.log(events.CONFIRMED, actor=actor)
    held = order.warehouse_holds.filter(
        released_at=None, reason=WarehouseHold.Reason.ADDRESS_WINDOW
    ).exists()
    if held:
        queue.enqueue(
            holds.release,
            order.pk,
            WarehouseHold.Release.CONFIRMED,
            queue="shopify",
            job_id=f"release-{order.pk}",
        )


def recheck(*, request: ChangeRequest, progress: rules.Progress) -> None:
    """A request waiting for an agent, on an order that Shopify says moved on: settled now, in
    the shopper's language, rather than after an agent's approval fails."""
    kind = kinds.get(request.kind)
    policy = EditPolicy.for_shop(request.order.shop)
    refusal = kind.progress_refusal(policy, progress)
    if refusal is None:
        return
    if kind.done_by_shop(progress):
        mark_done_by_shop(request=request, result={"payment": request.order.payment})
        return
    # Kept as a code, so that the shopper reads it in their own language.
    reject(request=request, actor=SYSTEM, code=f"conflict:{refusal.code}")
