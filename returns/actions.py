"""Every write of a return, whoever asks (the shopper's flow, agents, Shopify's returns/*
webhooks).

Invariants:
- each function runs in one transaction with the order row locked, and asks the rules again
  under that lock: two tabs cannot return the same item twice;
- a return only moves along `ReturnRequest.NEXT`, and every move leaves an `OrderEvent`;
- what reaches Shopify is sent after commit by a job (the returns sync), never from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.decisions import Decision, NotAllowed
from orders.models import Order, OrderEvent
from returns import rules
from returns.models import AutoApproval, ReturnLine, ReturnPolicy, ReturnReason, ReturnRequest

Status = ReturnRequest.Status


class WrongState(Exception):
    pass


@dataclass(frozen=True)
class ReturnItem:
    """One line the shopper sends back: how many, why, and what they want instead."""

    line_id: int
    quantity: int
    reason: str
    resolution: str
    comment: str = ""
    exchange_variant_id: int | None = None
    has_photo: bool = False


def _refuse(code: str, message: str) -> NotAllowed:
    return NotAllowed(Decision.no(code, message))


def auto_approved(policy: ReturnPolicy, reasons: list[ReturnReason], value: Decimal) -> bool:
    """Whether the policy approves this return without an agent."""
    if policy.auto_approval == AutoApproval.ALL:
        return True
    if policy.auto_approval == AutoApproval.UNDER_AMOUNT:
        return policy.auto_approval_under is not None and value < policy.auto_approval_under
    if policy.auto_approval == AutoApproval.REASONS:
        return bool(reasons) and all(reason.auto_approved for reason in reasons)
    return False


@transaction.atomic
def request_return(
    *,
    order: Order,
    items: list[ReturnItem],
    actor: str = "shopper",
    now: datetime | None = None,
) -> ReturnRequest:
    """The shopper asks to send items back. Raises `NotAllowed` with the reason, in the
    shopper's language, for the first item the rules refuse."""
    now = now or timezone.now()
    order = Order.objects.locked(order.pk)
    policy = ReturnPolicy.for_shop(order.shop)
    if not items:
        raise _refuse("nothing_chosen", _("Choose at least one item to return."))
    eligible = {item.line.pk: item for item in rules.eligibility(order, policy, now=now)}
    reasons = {reason.code: reason for reason in policy.reasons.all()} if policy.pk else {}
    allowed = rules.resolutions(order, policy)
    chosen: list[ReturnReason] = []
    value = Decimal("0")
    for item in items:
        line = eligible.get(item.line_id)
        if line is None:
            raise _refuse("unknown_item", _("This item is not part of the order."))
        if not line.decision:
            raise NotAllowed(line.decision)
        if not 1 <= item.quantity <= line.returnable:
            raise _refuse(
                "quantity",
                _("You can return at most %(count)s of this item.") % {"count": line.returnable},
            )
        reason = reasons.get(item.reason)
        if reasons and reason is None:
            raise _refuse("reason", _("Choose a reason for each item."))
        if reason is not None and reason.photo_required and not item.has_photo:
            raise _refuse("photo", _("Please add a photo for this reason."))
        if item.resolution not in allowed:
            raise _refuse("resolution", _("This option is not available for your order."))
        chosen += [reason] if reason else []
        value += line.line.price * item.quantity
    number = f"R{order.number}-{order.return_requests.count() + 1}"
    approved = auto_approved(policy, chosen, value)
    request = ReturnRequest.objects.create(
        order=order,
        number=number,
        status=Status.APPROVED if approved else Status.REQUESTED,
        requested_by=actor,
        decided_by="system" if approved else "",
        created_at=now,
    )
    for item in items:
        ReturnLine.objects.create(
            request=request,
            line_item_id=item.line_id,
            quantity=item.quantity,
            reason=reasons.get(item.reason),
            comment=item.comment,
            resolution=item.resolution,
            exchange_variant_id=item.exchange_variant_id,
        )
    order.log(
        OrderEvent.Kind.RETURN_REQUESTED, actor=actor, visible_to_shopper=True, request=number
    )
    if approved:
        order.log(
            OrderEvent.Kind.RETURN_APPROVED, actor="system", visible_to_shopper=True, request=number
        )
    return request


def _move(request: ReturnRequest, status: str) -> None:
    if not request.can_move_to(status):
        raise WrongState(f"{request.number}: {request.status} -> {status}")
    request.status = status


@transaction.atomic
def approve(*, request: ReturnRequest, actor: str) -> ReturnRequest:
    order = Order.objects.locked(request.order_id)
    request = ReturnRequest.objects.get(pk=request.pk)
    _move(request, Status.APPROVED)
    request.decided_by = actor
    request.save()
    order.log(
        OrderEvent.Kind.RETURN_APPROVED,
        actor=actor,
        visible_to_shopper=True,
        request=request.number,
    )
    return request


@transaction.atomic
def decline(*, request: ReturnRequest, actor: str, reason: str) -> ReturnRequest:
    order = Order.objects.locked(request.order_id)
    request = ReturnRequest.objects.get(pk=request.pk)
    _move(request, Status.DECLINED)
    request.decided_by, request.decline_reason = actor, reason
    request.save()
    order.log(
        OrderEvent.Kind.RETURN_DECLINED,
        actor=actor,
        visible_to_shopper=True,
        request=request.number,
        reason=reason,
    )
    return request


@transaction.atomic
def cancel(*, request: ReturnRequest, actor: str = "shopper") -> ReturnRequest:
    """Only before any work on it (requested or approved), as Shopify's returnCancel."""
    order = Order.objects.locked(request.order_id)
    request = ReturnRequest.objects.get(pk=request.pk)
    _move(request, Status.CANCELLED)
    request.save()
    order.log(
        OrderEvent.Kind.RETURN_CANCELLED,
        actor=actor,
        visible_to_shopper=True,
        request=request.number,
    )
    return request
