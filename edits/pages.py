"""What every change page shares, whatever its kind: access by the order's link, the shopper's
language, the merchant's rule (its refusal is the page when it says no), sending the change, and
the way back to the order. A kind's own page (`ChangeKind.page`) only handles its form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from edits import actions
from edits.models import EditPolicy
from orders import access
from orders.actors import SHOPPER
from orders.decisions import Decision, NotAllowed
from orders.models import Order
from orders.views import activate_language

if TYPE_CHECKING:
    from edits.kinds.base import ChangeKind


@dataclass
class Page:
    request: HttpRequest
    token: str
    order: Order
    policy: EditPolicy
    kind: ChangeKind
    decision: Decision

    @classmethod
    def open(cls, request: HttpRequest, token: str, kind: ChangeKind) -> Page:
        order = access.order_for(request, token)
        activate_language(request, order)
        policy = EditPolicy.for_shop(order.shop)
        decision = kind.decide(order, policy, now=timezone.now())
        return cls(request, token, order, policy, kind, decision)

    @property
    def method(self) -> str:
        return self.request.method or "GET"

    def render(self, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
        """The kind's page; 422 when what was sent is refused, so that htmx swaps it in too."""
        base = {"order": self.order, "shop": self.order.shop, "kind": self.kind}
        return render(self.request, template, {**base, **context}, status=status)

    def refused(self, decision: Decision) -> HttpResponse:
        if decision.code == "already_requested":
            # A double submission, or a second tab: the first request stands; show it.
            return self.back_to_order()
        return render(
            self.request,
            "orders/refused.html",
            {"order": self.order, "shop": self.order.shop, "decision": decision},
        )

    def submit(self, after: dict[str, Any]) -> HttpResponse:
        """Ask for the change, then back to the order page, where the shopper watches it; or
        the refusal, if the rule said no meanwhile (asked again under the order's lock)."""
        try:
            actions.request_change(order=self.order, kind=self.kind, after=after, actor=SHOPPER)
        except NotAllowed as refused:
            return self.refused(refused.decision)
        return self.back_to_order()

    def back_to_order(self) -> HttpResponse:
        return redirect(f"/o/{self.token}/#actions")
