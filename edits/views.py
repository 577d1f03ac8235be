"""The shopper's side of order changes: what may still be changed (a live part of the order
page), and one page per kind of change (`edits.kinds`). Every page works without JavaScript;
htmx only keeps the live part fresh while a change is on its way to Shopify (`orders.live`).

Links inside the live part are relative to the order page (`change/address/`), so the part holds
nothing of the visitor (not even the link token) and can be cached like the page.
"""

from __future__ import annotations

import contextlib
from datetime import datetime

from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from edits import actions, kinds, rules
from edits.kinds.base import Page
from edits.models import ChangeRequest, EditPolicy, WarehouseHold
from orders import access, live, page_cache
from orders.actors import SHOPPER
from orders.decisions import Decision, NotAllowed
from orders.models import Order
from orders.requests import WrongState
from orders.views import activate_language

# What the rules read of an order (its lines, how far fulfilment went, its requests and holds):
# loaded once for every kind's rule.
RULE_PREFETCH = (
    "lines",
    "fulfillment_orders",
    "fulfillments",
    "change_requests",
    "warehouse_holds",
)


def render_changes(order: Order, policy: EditPolicy, *, now: datetime) -> tuple[live.Part, int]:
    """The live part, and for how many seconds it stays true."""
    requests = sorted(order.change_requests.all(), key=lambda r: r.created_at, reverse=True)[:10]
    choices = []
    expires = 600
    for kind in kinds.every():
        decision = kind.decide(order, policy, now=now)
        if decision:
            closing = kind.closes_at(order, policy)
            expires = min(expires, int((closing - now).total_seconds()) + 1)
        choices.append({"kind": kind, "decision": decision})
    held = [
        hold
        for hold in order.warehouse_holds.all()
        if hold.released_at is None and hold.reason == WarehouseHold.Reason.ADDRESS_WINDOW
    ]
    if held:
        expires = min(expires, int((held[0].release_due_at - now).total_seconds()) + 1)
    html = render_to_string(
        "edits/_changes.html",
        {
            "order": order,
            "shop": order.shop,
            "requests": requests,
            "choices": choices,
            # Every change refused for one reason (a delivered order): said once, not per kind.
            "closed_for": one_reason(choices),
            "held_until": held[0].release_due_at if held else None,
        },
    )
    activity, holds = live.pace(requests, now=now)
    waiting = (ChangeRequest.Status.AWAITING_APPROVAL, ChangeRequest.Status.AWAITING_PAYMENT)
    if any(r.status in waiting for r in requests):
        activity = live.activity_of(activity, live.WAITING)  # an agent decides, or a payment
    return live.Part(html, activity), min(expires, holds)


def one_reason(choices: list[dict]) -> str:
    """When nothing can be changed any more because of how far the order has gone (packed,
    shipped, delivered, cancelled), that reason, said once rather than under every kind."""
    decisions = [choice["decision"] for choice in choices]
    if not decisions or any(decisions):
        return ""
    progress = [d for d in decisions if d.code in rules.REFUSALS and d.code != "changed_meanwhile"]
    return str(progress[0].message) if progress else ""


def changes_part(request: HttpRequest, order: Order) -> live.Part:
    """Registered with `orders.live`: the changes part of the order page."""
    now = timezone.now()

    def render_part() -> tuple[live.Part, int]:
        # The rules read these for each kind: load them once. (The policy is part of the cache
        # key through `Shop.updated_at`, which saving a policy moves on.)
        prefetch_related_objects([order], *RULE_PREFETCH)
        return render_changes(order, EditPolicy.for_shop(order.shop), now=now)

    return page_cache.fetch_part(order, request.LANGUAGE_CODE, "changes", render_part)


@require_http_methods(["GET", "POST"])
def change(request: HttpRequest, token: str, code: str) -> HttpResponse:
    """A kind's page: the rule's refusal when it says no, otherwise the kind's own form; once
    the form is valid, the change is asked for (under the order's lock, the rule asked again)
    and the shopper goes back to the order page to watch it reach the shop."""
    kind = kinds.get(code)
    page = Page.open(request, token, kind)
    if not page.decision:
        return refused(page, page.decision)
    asked = kind.page(page)
    if isinstance(asked, HttpResponse):
        return asked
    try:
        actions.request_change(order=page.order, kind=kind, after=asked, actor=SHOPPER)
    except NotAllowed as refusal:
        return refused(page, refusal.decision)
    return back_to_order(token)


def refused(page: Page, decision: Decision) -> HttpResponse:
    if decision.code == "already_requested":
        # A double submission, or a second tab: the first request stands; show it.
        return back_to_order(page.token)
    return render(
        page.request,
        "orders/refused.html",
        {"order": page.order, "shop": page.order.shop, "decision": decision},
    )


def back_to_order(token: str) -> HttpResponse:
    return redirect(f"/o/{token}/#actions")


@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, token: str, pk: int) -> HttpResponse:
    order = access.order_for(request, token)
    activate_language(request, order)
    change = order.change_requests.filter(pk=pk).first()
    if change is None:
        raise Http404
    if request.method == "POST":
        # An agent may have decided meanwhile: the order page then shows what happened.
        with contextlib.suppress(WrongState):
            actions.withdraw(request=change)
        return back_to_order(token)
    return render(
        request, "edits/withdraw.html", {"order": order, "shop": order.shop, "change": change}
    )


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """ "Everything is right": the shopper confirms the delivery address (and the offers the
    shop may have wait for this); an order held for the address window goes on at once."""
    order = access.order_for(request, token)
    activate_language(request, order)
    held = order.warehouse_holds.filter(
        released_at=None, reason=WarehouseHold.Reason.ADDRESS_WINDOW
    ).exists()
    confirmed = rules.address_confirmed(order)
    open_ = not order.is_cancelled and not order.shipments
    if request.method == "POST":
        if held or (open_ and not confirmed):
            actions.confirm_order(order=order)
        then = "offers" if request.POST.get("then") == "offers" else "actions"
        return redirect(f"/o/{token}/#{then}")
    context = {
        "order": order,
        "shop": order.shop,
        "held": held,
        "confirmed": confirmed,
        "open": open_,
    }
    return render(request, "edits/confirm.html", context)
