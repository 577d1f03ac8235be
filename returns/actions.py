"""Every write of a return, whoever asks (the shopper's flow, agents, Shopify's returns/*
webhooks, the returns sync).

Invariants:
- each function runs in one transaction with the order row locked, and asks the rules again
  under that lock: two tabs cannot return the same item twice;
- a return only moves along `ReturnRequest.NEXT`, and every move leaves an `OrderEvent`;
- what reaches Shopify is sent after commit by `jobs.push_return`, never from here. What it
  sends follows from the return's status and the status Shopify last confirmed
  (`jobs.next_step`), so a move only has to ask for a push.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.decisions import Decision, NotAllowed
from orders.models import Order, OrderEvent
from returns import rules
from returns.models import (
    AutoApproval,
    Resolution,
    ReturnLine,
    ReturnPolicy,
    ReturnRequest,
    ShopifyStatus,
)
from shopify import queue
from shopify.ingest import gid_number

Status = ReturnRequest.Status

SENDING_LEASE = timedelta(minutes=3)
MAX_ATTEMPTS = 8
STALE_AFTER = timedelta(minutes=2)


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
    exchange_variant_title: str = ""
    exchange_price: Decimal | None = None
    photo: str = ""  # a name in Django's storage, written by `photos.store`


def _refuse(code: str, message: str) -> NotAllowed:
    return NotAllowed(Decision.no(code, message))


def auto_approved(policy: ReturnPolicy, reasons: list[rules.Reason], value: Decimal) -> bool:
    """Whether the policy approves this return without an agent."""
    if policy.auto_approval == AutoApproval.ALL:
        return True
    if policy.auto_approval == AutoApproval.UNDER_AMOUNT:
        return policy.auto_approval_under is not None and value < policy.auto_approval_under
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
    return quote, auto_approved(policy, reasons, quote.value)


@transaction.atomic
def request_return(
    *,
    order: Order,
    items: list[ReturnItem],
    actor: str = "shopper",
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
        decided_by="system" if approved else "",
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
    order.log(
        OrderEvent.Kind.RETURN_REQUESTED,
        actor=actor,
        visible_to_shopper=True,
        request=request.number,
    )
    if approved:
        order.log(
            OrderEvent.Kind.RETURN_APPROVED,
            actor="system",
            visible_to_shopper=True,
            request=request.number,
        )
    _push(request)
    if not approved:
        _email(request, "requested")  # an approved one hears when Shopify has it open
    return request


def _locked(request: ReturnRequest) -> tuple[ReturnRequest, Order]:
    order = Order.objects.locked(request.order_id)
    return ReturnRequest.objects.select_related("order__shop").get(pk=request.pk), order


def _move(request: ReturnRequest, status: str) -> None:
    if not request.can_move_to(status):
        raise WrongState(f"{request.number}: {request.status} -> {status}")
    request.status = status


@transaction.atomic
def approve(*, request: ReturnRequest, actor: str) -> ReturnRequest:
    request, order = _locked(request)
    _move(request, Status.APPROVED)
    request.decided_by = actor
    request.save()
    order.log(
        OrderEvent.Kind.RETURN_APPROVED,
        actor=actor,
        visible_to_shopper=True,
        request=request.number,
    )
    _push(request)  # the shopper hears once Shopify has it open (record_shopify)
    return request


@transaction.atomic
def decline(*, request: ReturnRequest, actor: str, reason: str) -> ReturnRequest:
    """`reason` is shown to the shopper, in the words the agent chose."""
    request, order = _locked(request)
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
    _push(request)
    _email(request, "declined")
    return request


@transaction.atomic
def cancel(*, request: ReturnRequest, actor: str = "shopper") -> ReturnRequest:
    """Only before any work on it (requested or approved), as Shopify's returnCancel."""
    request, order = _locked(request)
    _move(request, Status.CANCELLED)
    request.save()
    order.log(
        OrderEvent.Kind.RETURN_CANCELLED,
        actor=actor,
        visible_to_shopper=True,
        request=request.number,
    )
    _push(request)
    return request


@transaction.atomic
def mark_received(
    *, request: ReturnRequest, actor: str, conditions: dict[int, str]
) -> ReturnRequest:
    """The parcel arrived: each line's condition (by ReturnLine pk), as the agent judges it."""
    request, order = _locked(request)
    _move(request, Status.RECEIVED)
    for line in request.lines.all():
        line.condition = conditions.get(line.pk, line.condition)
        line.save(update_fields=["condition"])
    request.save()
    order.log(
        OrderEvent.Kind.RETURN_RECEIVED,
        actor=actor,
        visible_to_shopper=True,
        request=request.number,
    )
    _email(request, "arrived")
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
    was_open = request.shopify_status == ShopifyStatus.OPEN
    request.shopify_status = shopify_status
    for status in _path(request.status, shopify_status, processed):
        if not request.can_move_to(status):
            continue
        request.status = status
        if status == Status.DECLINED:
            request.decided_by = request.decided_by or "shopify"
            request.decline_reason = request.decline_reason or decline_note
        if status == Status.APPROVED:
            request.decided_by = request.decided_by or "shopify"
        order.log(_EVENTS[status], actor="shopify", visible_to_shopper=True, request=request.number)
        if status in _EMAILS:
            _email(request, _EMAILS[status])
        if status == Status.RESOLVED:
            # Shopify refunded the items: the line's current quantity follows in the mirror.
            from shopify import jobs as shopify_jobs

            queue.enqueue(
                shopify_jobs.refresh_order, order.shop_id, order.shopify_id, queue="shopify"
            )
    if shopify_status == ShopifyStatus.OPEN and not was_open and request.slip_available:
        _email(request, "approved")  # open in Shopify at last: the slip is good to use
    request.save()
    order.bump_revision()
    return request


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


_EVENTS = {
    Status.APPROVED: OrderEvent.Kind.RETURN_APPROVED,
    Status.DECLINED: OrderEvent.Kind.RETURN_DECLINED,
    Status.CANCELLED: OrderEvent.Kind.RETURN_CANCELLED,
    Status.RESOLVED: OrderEvent.Kind.RETURN_RESOLVED,
    Status.CLOSED: OrderEvent.Kind.RETURN_CLOSED,
}
# "approved" goes out once Shopify has the return open (the slip is then good to use).
_EMAILS = {Status.DECLINED: "declined", Status.RESOLVED: "resolved"}


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
    was = request.status
    request.status, request.shopify_status = corrected, shopify_status
    request.sending_until = None
    request.save()
    order.log(
        OrderEvent.Kind.RETURN_SYNC_FAILED,
        actor="shopify",
        request=request.number,
        code="conflict",
        message=message,
        was=was,
        now=corrected,
    )
    if corrected != was and corrected in _EVENTS:
        # What the shopper was told no longer holds: tell them what does.
        order.log(
            _EVENTS[corrected], actor="shopify", visible_to_shopper=True, request=request.number
        )
        _email(request, _EMAILS.get(corrected) or ("approved" if request.slip_available else ""))
    order.bump_revision()
    return request


# The returns sync's bookkeeping (used by jobs.push_return only).


@transaction.atomic
def begin_sync(*, request: ReturnRequest) -> ReturnRequest | None:
    """The push job starts: claim the request for a few minutes. None when another worker
    holds it, or when attempts ran out (the request then waits for an agent's retry)."""
    request, _order = _locked(request)
    now = timezone.now()
    if request.sending_until and request.sending_until > now:
        return None
    if request.sync_attempts >= MAX_ATTEMPTS:
        if not request.sync_failure:
            _fail(request, "unavailable", "too many attempts")
        return None
    request.sync_attempts += 1
    request.sending_until = now + SENDING_LEASE
    request.save(update_fields=["sync_attempts", "sending_until", "updated_at"])
    return request


def end_sync(*, request: ReturnRequest) -> None:
    ReturnRequest.objects.filter(pk=request.pk).update(sending_until=None)


@transaction.atomic
def record_shopify(*, request: ReturnRequest, node: dict) -> ReturnRequest:
    """Shopify answered with the return: keep its id, name and status; the step is done."""
    request, order = _locked(request)
    opened = node["status"] == ShopifyStatus.OPEN and request.shopify_status != ShopifyStatus.OPEN
    request.shopify_return_id = gid_number(node["id"])
    request.shopify_name = node.get("name") or ""
    request.shopify_status = node["status"]
    request.sync_attempts = 0
    request.sync_failure = request.sync_failure_text = ""
    request.save()
    order.bump_revision()  # the order page shows that the shop has it
    if opened and request.slip_available:
        _email(request, "approved")
    return request


@transaction.atomic
def mark_sync_failed(*, request: ReturnRequest, code: str, message: str) -> ReturnRequest:
    """Shopify refused, or could not be reached for too long: an agent looks (and retries)."""
    request, order = _locked(request)
    _fail(request, code, message)
    order.log(
        OrderEvent.Kind.RETURN_SYNC_FAILED,
        actor="system",
        request=request.number,
        code=code,
        message=message,
    )
    order.bump_revision()  # the order page stops saying it is on its way
    return request


def _fail(request: ReturnRequest, code: str, message: str) -> None:
    request.sync_failure, request.sync_failure_text = code, message
    request.sending_until = None
    request.save()


@transaction.atomic
def retry_sync(*, request: ReturnRequest, actor: str) -> ReturnRequest:
    """An agent sends a failed return to Shopify again (after fixing what was wrong)."""
    request, order = _locked(request)
    request.sync_failure = request.sync_failure_text = ""
    request.sync_attempts = 0
    request.save()
    order.log(OrderEvent.Kind.RETURN_SYNC_RETRIED, actor=actor, request=request.number)
    _push(request)
    return request


def sweep_returns(*, older_than: timedelta = STALE_AFTER) -> int:
    """The outbox: push again every return that still has something to tell Shopify and has not
    moved for `older_than` (Redis was down, a worker died). Returns how many were sent."""
    from returns import jobs

    now = timezone.now()
    candidates = (
        ReturnRequest.objects.filter(
            updated_at__lt=now - older_than, sync_failure="", order__shop__is_active=True
        )
        .exclude(sending_until__gt=now)
        .exclude(status__in=[Status.DECLINED, Status.CANCELLED], shopify_status="")
        .prefetch_related("lines")
    )
    count = 0
    with transaction.atomic():
        for request in candidates.iterator(chunk_size=200):
            if jobs.next_step(request) is not None:
                _push(request)
                count += 1
    return count


def _push(request: ReturnRequest) -> None:
    from returns import jobs

    queue.enqueue(jobs.push_return, request.pk, queue="shopify", job_id=f"return-{request.pk}")


def _email(request: ReturnRequest, event: str) -> None:
    if not event:
        return
    from returns import jobs

    queue.enqueue(jobs.send_return_email, request.pk, event, queue="default")
