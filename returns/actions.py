"""Every write of a return, whoever asks (the shopper's flow, agents, Shopify's returns/*
webhooks, the returns sync).

Invariants:
- each function runs in one transaction with the order row locked, and asks the rules again
  under that lock: two tabs cannot return the same item twice;
- a return only moves along `ReturnRequest.NEXT`, and every move logs an event ("returns.<step>");
  the emails, and whatever else listens, hear of it after commit;
- what reaches Shopify is sent by the outbox (channel "returns.return", `jobs.deliver`), never
  from here. What it sends follows from the return's status and the status Shopify last
  confirmed (`ReturnRequest.shopify_step`), so a move only has to make the return due (`_sync`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.actors import SHOPIFY, SHOPPER, SYSTEM, Actor
from orders.decisions import Decision, NotAllowed
from orders.events import EventKind
from orders.models import Order
from orders.requests import WrongState
from returns import events, rules
from returns.models import (
    AutoApproval,
    Resolution,
    ReturnLine,
    ReturnPolicy,
    ReturnRequest,
    ShopifyStatus,
)
from shopify import calls, outbox, queue

Status = ReturnRequest.Status

__all__ = ["NotAllowed", "WrongState"]


@dataclass(frozen=True)
class ReturnItem:
    """One line the shopper sends back: how many, why, and what they want instead."""

    line_id: int
    quantity: int
    reason: str
    resolution: str
    comment: str = ""
    exchange_variant_id: int | None = None
    exchange_variant_title: str = ""
    exchange_price: Decimal | None = None
    photo: str = ""  # a name in Django's storage, written by `photos.store`


def _refuse(code: str, message: str) -> NotAllowed:
    return NotAllowed(Decision.no(code, message))


def auto_approved(policy: ReturnPolicy, reasons: list[rules.Reason], value: Decimal | None) -> bool:
    """Whether the policy approves this return without an agent. `value` is what the items cost,
    in the shop's currency like the policy's amount (None when it cannot be said: an agent
    decides)."""
    if policy.auto_approval == AutoApproval.ALL:
        return True
    if policy.auto_approval == AutoApproval.UNDER_AMOUNT:
        limit = policy.auto_approval_under
        return limit is not None and value is not None and value < limit
    if policy.auto_approval == AutoApproval.REASONS:
        return bool(reasons) and all(reason.auto_approved for reason in reasons)
    return False


def check_items(
    order: Order, policy: ReturnPolicy, items: list[ReturnItem], *, now: datetime, language: str
) -> list[rules.Reason]:
    """The rules, for every item; raises `NotAllowed` for the first one they refuse. The flow
    asks this at each step; `request_return` asks it again under the lock."""
    if not items:
        raise _refuse("nothing_chosen", _("Choose at least one item to return."))
    eligible = {item.line.pk: item for item in rules.eligibility(order, policy, now=now)}
    reasons = {reason.code: reason for reason in rules.reasons(policy, language)}
    allowed = rules.resolutions(order, policy)
    chosen = []
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
        if reason is None:
            raise _refuse("reason", _("Choose a reason for each item."))
        if reason.photo_required and not item.photo:
            raise _refuse("photo", _("Please add a photo for this reason."))
        if item.resolution not in allowed:
            raise _refuse("resolution", _("This option is not available for your order."))
        if item.resolution == Resolution.EXCHANGE and not item.exchange_variant_id:
            raise _refuse("exchange", _("Choose what you would like instead."))
        chosen.append(reason)
    return chosen


def assess(
    order: Order, policy: ReturnPolicy, items: list[ReturnItem], reasons: list[rules.Reason]
) -> tuple[rules.Quote, bool]:
    """The amounts, and whether the policy approves without an agent: the summary shows what
    submitting will decide."""
    lines = {line.pk: line for line in order.lines.all()}
    quote = rules.quote(
        order,
        policy,
        [
            rules.QuoteLine(lines[i.line_id], i.quantity, i.resolution, i.exchange_price)
            for i in items
        ],
    )
    return quote, auto_approved(policy, reasons, order.in_shop_currency(quote.value))


@transaction.atomic
def request_return(
    *,
    order: Order,
    items: list[ReturnItem],
    actor: Actor = SHOPPER,
    language: str = "en",
    now: datetime | None = None,
) -> ReturnRequest:
    """The shopper asks to send items back. Raises `NotAllowed` with the reason, in the
    shopper's language, for the first item the rules refuse."""
    now = now or timezone.now()
    order = Order.objects.locked(order.pk)
    policy = ReturnPolicy.for_shop(order.shop)
    chosen = check_items(order, policy, items, now=now, language=language)
    quote, approved = assess(order, policy, items, chosen)
    request = ReturnRequest.objects.create(
        order=order,
        number=f"R{order.number}-{order.return_requests.count() + 1}",
        status=Status.APPROVED if approved else Status.REQUESTED,
        requested_by=actor,
        decided_by=SYSTEM if approved else None,
        decided_at=now if approved else None,
        quote=quote.as_json(),
        created_at=now,
    )
    ReturnLine.objects.bulk_create(
        ReturnLine(
            request=request,
            line_item_id=item.line_id,
            quantity=item.quantity,
            reason_code=reason.code,
            reason_label=reason.label,
            comment=item.comment,
            photo=item.photo,
            resolution=item.resolution,
            exchange_variant_id=item.exchange_variant_id
            if item.resolution == Resolution.EXCHANGE
            else None,
            exchange_variant_title=item.exchange_variant_title
            if item.resolution == Resolution.EXCHANGE
            else "",
            exchange_price=item.exchange_price if item.resolution == Resolution.EXCHANGE else None,
        )
        for item, reason in zip(items, chosen, strict=True)
    )
    # An approved one hears when Shopify has it open (`events.OPENED`), with its slip.
    order.log(events.REQUESTED, actor=actor, subject=request, approved=approved)
    if approved:
        order.log(events.APPROVED, actor=SYSTEM, subject=request)
    _sync(request)
    return request


def _locked(request: ReturnRequest) -> tuple[ReturnRequest, Order]:
    order = Order.objects.locked(request.order_id)
    return ReturnRequest.objects.select_related("order__shop").get(pk=request.pk), order


def _sync(request: ReturnRequest) -> None:
    """Make the return due for the outbox when Shopify has something to hear about it, unless
    it waits for an agent's retry."""
    if request.failure_code or request.shopify_step is None:
        return
    request.next_attempt_at = timezone.now()
    ReturnRequest.objects.filter(pk=request.pk).update(next_attempt_at=request.next_attempt_at)
    outbox.push(request)


@transaction.atomic
def approve(*, request: ReturnRequest, actor: Actor) -> ReturnRequest:
    request, order = _locked(request)
    request.move_to(Status.APPROVED)
    request.decide(actor)
    request.save()
    order.log(events.APPROVED, actor=actor, subject=request)
    _sync(request)  # the shopper hears once Shopify has it open (`record_shopify`)
    return request


@transaction.atomic
def decline(*, request: ReturnRequest, actor: Actor, reason: str) -> ReturnRequest:
    """`reason` is shown to the shopper, in the words the agent chose."""
    request, order = _locked(request)
    request.move_to(Status.DECLINED)
    request.decide(actor)
    request.decline_reason = reason
    request.save()
    order.log(events.DECLINED, actor=actor, subject=request, reason=reason)
    _sync(request)
    return request


@transaction.atomic
def cancel(*, request: ReturnRequest, actor: Actor = SHOPPER) -> ReturnRequest:
    """Only before any work on it (requested or approved), as Shopify's returnCancel."""
    request, order = _locked(request)
    request.move_to(Status.CANCELLED)
    request.save()
    order.log(events.CANCELLED, actor=actor, subject=request)
    _sync(request)
    return request


@transaction.atomic
def mark_received(
    *, request: ReturnRequest, actor: Actor, conditions: dict[int, str]
) -> ReturnRequest:
    """The parcel arrived: each line's condition (by ReturnLine pk), as the agent judges it."""
    request, order = _locked(request)
    request.move_to(Status.RECEIVED)
    for line in request.lines.all():
        line.condition = conditions.get(line.pk, line.condition)
        line.save(update_fields=["condition"])
    request.save()
    order.log(events.RECEIVED, actor=actor, subject=request)
    return request


@transaction.atomic
def follow_shopify(
    *,
    request: ReturnRequest,
    shopify_status: str,
    processed: bool = False,
    decline_note: str = "",
) -> ReturnRequest:
    """Shopify says where the return is (a returns/* webhook, or the sync's answer). Ours walks
    there along the state machine, through the steps it missed (a return approved and closed in
    Shopify's admin while ours still waited: approved, then closed); what only we know (in
    transit, received) is kept while Shopify still says OPEN."""
    request, order = _locked(request)
    was = request.shopify_status
    request.shopify_status = shopify_status
    for status in _path(request.status, shopify_status, processed):
        if not request.can_move_to(status):
            continue
        request.status = status
        if status == Status.DECLINED:
            request.decided_by = request.decided_by or SHOPIFY
            request.decline_reason = request.decline_reason or decline_note
        if status == Status.APPROVED:
            request.decided_by = request.decided_by or SHOPIFY
        order.log(_EVENTS[status], actor=SHOPIFY, subject=request)
        if status == Status.RESOLVED:
            # Shopify refunded the items: the line's current quantity follows in the mirror.
            from shopify import jobs as shopify_jobs

            queue.enqueue(
                shopify_jobs.refresh_order, order.shop_id, order.shopify_id, queue="shopify"
            )
    request.save()
    _opened(order, request, was)
    order.bump_revision()
    return request


def _opened(order: Order, request: ReturnRequest, was: str) -> None:
    """Shopify has the return open at last: the slip is good to use (the shopper gets it)."""
    opened = request.shopify_status == ShopifyStatus.OPEN and was != ShopifyStatus.OPEN
    if opened and request.slip_available:
        order.log(events.OPENED, actor=SHOPIFY, subject=request)


def _path(current: str, shopify_status: str, processed: bool) -> list[str]:
    """The statuses from `current` to where Shopify is, in order."""
    steps: list[str] = []
    if current == Status.REQUESTED and shopify_status in (ShopifyStatus.OPEN, ShopifyStatus.CLOSED):
        steps.append(Status.APPROVED)  # approved in Shopify's admin (and perhaps closed since)
    if current == Status.CLOSED and shopify_status == ShopifyStatus.OPEN:
        steps.append(Status.APPROVED)  # reopened
    if processed and shopify_status in (ShopifyStatus.OPEN, ShopifyStatus.CLOSED):
        steps.append(Status.RESOLVED)
    if shopify_status == ShopifyStatus.CLOSED:
        steps.append(Status.CLOSED)
    if shopify_status == ShopifyStatus.DECLINED:
        steps.append(Status.DECLINED)
    if shopify_status == ShopifyStatus.CANCELED:
        steps.append(Status.CANCELLED)
    return steps


_EVENTS: dict[str, EventKind] = {
    Status.APPROVED: events.APPROVED,
    Status.DECLINED: events.DECLINED,
    Status.CANCELLED: events.CANCELLED,
    Status.RESOLVED: events.RESOLVED,
    Status.CLOSED: events.CLOSED,
}


@transaction.atomic
def correct_from_shopify(
    *, request: ReturnRequest, shopify_status: str, processed: bool, message: str
) -> ReturnRequest:
    """Shopify refused a step because the return had moved on there (a cancellation that
    reached Shopify after the merchant processed the items): ours takes Shopify's status, and
    the refusal is logged for agents."""
    request, order = _locked(request)
    corrected = {
        ShopifyStatus.REQUESTED: Status.REQUESTED,
        ShopifyStatus.OPEN: Status.RESOLVED if processed else Status.APPROVED,
        ShopifyStatus.DECLINED: Status.DECLINED,
        ShopifyStatus.CANCELED: Status.CANCELLED,
        ShopifyStatus.CLOSED: Status.CLOSED,
    }[shopify_status]
    was, was_in_shopify = request.status, request.shopify_status
    request.status, request.shopify_status = corrected, shopify_status
    request.save()
    order.log(
        events.SYNC_FAILED,
        actor=SHOPIFY,
        subject=request,
        code="conflict",
        message=message,
        was=was,
        now=corrected,
    )
    if corrected != was and corrected in _EVENTS:
        # What the shopper was told no longer holds: tell them what does (and, if it goes
        # back after all, send the slip again).
        order.log(_EVENTS[corrected], actor=SHOPIFY, subject=request)
    _opened(order, request, was_in_shopify if corrected == was else "")
    order.bump_revision()
    return request


# The returns sync's bookkeeping, for the outbox (`jobs.deliver`).


@transaction.atomic
def record_shopify(*, request: ReturnRequest, found: calls.Return) -> ReturnRequest:
    """Shopify answered with the return: keep its id, name and status; the step is done."""
    request, order = _locked(request)
    was = request.shopify_status
    request.shopify_return_id = found.id
    request.shopify_name = found.name
    request.shopify_status = found.status
    request.attempts = 0  # each step has its own attempts
    request.save()
    order.bump_revision()  # the order page shows that the shop has it
    _opened(order, request, was)
    return request


@transaction.atomic
def nothing_in_shopify(*, request: ReturnRequest) -> ReturnRequest:
    """A return declined or cancelled before it reached Shopify, and Shopify has none of it (no
    lost attempt made it): nothing is left to tell Shopify."""
    request, _order = _locked(request)
    request.attempts = 0
    request.save(update_fields=["attempts", "updated_at"])
    return request


@transaction.atomic
def mark_failed(
    *, request: ReturnRequest, code: str, detail: str = "", fields: Sequence[str] = ()
) -> ReturnRequest:
    """Shopify refused, or could not be reached for too long: an agent looks (and retries)."""
    request, order = _locked(request)
    request.record_failure(code, detail)
    request.save()
    order.log(events.SYNC_FAILED, actor=SYSTEM, subject=request, code=code, message=detail)
    order.bump_revision()  # the order page stops saying it is on its way
    return request


@transaction.atomic
def retry(*, request: ReturnRequest, actor: Actor) -> ReturnRequest:
    """An agent sends a failed return to Shopify again (after fixing what was wrong)."""
    request, order = _locked(request)
    if not request.is_failed:
        raise WrongState(request, "retried")
    request.failure_code = request.failure_detail = ""
    request.attempts = 0
    request.save()
    order.log(events.RETRIED, actor=actor, subject=request)
    order.bump_revision()  # the shopper's page shows it on its way again
    _sync(request)
    return request
