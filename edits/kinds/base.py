"""What a kind of order change is made of. A kind subclasses `ChangeKind`, fills in its words and
its Shopify steps, and registers itself (`edits.kinds.register`):

- its page: the form the shopper fills in; once valid, what the shopper asks for;
- the snapshot it keeps of what the change replaces (`before`) and the terms it adds (`after`);
- its rule and approval condition: what every change asks (`decide`, the merchant's
  `EditPolicy` applied to the mirror), and what the kind adds on top;
- how it is sent to Shopify, and verified: is what the shopper saw still what Shopify has
  (`still_as_seen`), and did an attempt whose answer was lost already make it (`already_done`).

A new kind is one module like `contact.py`, its template, its translations, its import in
`EditsConfig.ready()`, and its switches on the `EditPolicy` (`<code>_enabled`, `_window_minutes`,
`_until`, `_approval`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from edits.models import Approval, ChangeRequest, EditPolicy, Until
from edits.rules import Progress, refusal
from orders import access
from orders.decisions import Decision
from orders.formatting import moment
from orders.models import Order
from orders.views import activate_language
from shopify import calls
from shopify.calls import OrderState
from shopify.client import Client
from shopify.refusals import Refusal

Asked = dict[str, Any]  # what the shopper asks for, as the request's `after` keeps it


class ChangeKind:
    code: ClassVar[str]
    position: ClassVar[int]  # where it is offered on the order page
    label: ClassVar[Promise]  # "Delivery address"
    button: ClassVar[Promise]  # the order page's button: "Change the delivery address"
    contact_us: ClassVar[Promise]  # why it is not offered when switched off or blocked
    closed_at: ClassVar[Promise]  # "Address changes closed at %(time)s."
    path: ClassVar[str]  # the page, under the order's: "change/address/"
    # What the shopper asked, shown with the request on the order page (a template, or none).
    summary_template: ClassVar[str] = ""
    # Statuses this kind words its own way ("Cancelled by the shop").
    status_labels: ClassVar[dict[str, Promise]] = {}
    # The policy's fields for this kind, beyond the four every kind has.
    policy_fields: ClassVar[tuple[str, ...]] = ()
    # An applied change of this kind lets a held order go to the warehouse.
    releases_hold: ClassVar[bool] = True
    # It cancels the order (then the shop may have done it first, in Shopify's admin).
    cancels_order: ClassVar[bool] = False

    # The rule.

    def decide(self, order: Order, policy: EditPolicy, *, now: datetime) -> Decision:
        """What every change asks: switched on, self-service, not asked already, within the
        limit, fulfilment not too far, and the window open."""
        rule = policy.rule(self.code)
        if order.is_cancelled:
            return refusal("cancelled")
        if not rule.enabled:
            return Decision.no("switched_off", self.contact_us)
        blocked = {tag.casefold() for tag in policy.blocked_tags}
        if {tag.casefold() for tag in order.tags} & blocked:
            return Decision.no("blocked_tag", self.contact_us)
        requests = list(order.change_requests.all())
        if any(r.kind == self.code and r.is_open for r in requests):
            return Decision.no(
                "already_requested", _("You have already asked for this change. We are on it.")
            )
        # The shopper's own changes: an offer of the shop they accepted is not one of them.
        counted = [
            r
            for r in requests
            if (r.is_open or r.status == ChangeRequest.Status.APPLIED) and not r.after.get("offer")
        ]
        if len(counted) >= policy.max_changes_per_order:
            return Decision.no(
                "limit_reached",
                _("This order has been changed as often as we can allow. Please contact us."),
            )
        fulfilment = self.progress_refusal(policy, Progress.of(order))
        if fulfilment is not None:
            return fulfilment
        closing = self.closes_at(order, policy)
        if now >= closing:
            when = moment(closing, order.shop.zone, "short")
            return Decision.no("window_closed", self.closed_at % {"time": when})
        return Decision.yes()

    def closes_at(self, order: Order, policy: EditPolicy) -> datetime:
        return order.placed_at + policy.rule(self.code).window

    def progress_refusal(self, policy: EditPolicy, progress: Progress) -> Decision | None:
        """Has fulfilment gone further than the policy allows for this change? Asked of the
        mirror when the shopper asks, and of Shopify's fresh answer just before it is sent."""
        until = policy.rule(self.code).until
        too_far = (
            progress.cancelled
            or (until == Until.WAREHOUSE_STARTS and progress.warehouse_started)
            or (until == Until.FIRST_SHIPMENT and progress.shipped)
            or (until == Until.DELIVERY and progress.delivered)
        )
        # Said as the order really is: a delivered order is not "being packed".
        return refusal(progress.furthest) if too_far else None

    def check(self, order: Order, policy: EditPolicy, after: Asked) -> Decision:
        """What the shopper asks for, against the policy (another country...)."""
        return Decision.yes()

    def needs_approval(self, order: Order, policy: EditPolicy, *, after: Asked) -> bool:
        """Whether an agent decides before the change is sent: the policy's setting for the
        kind, and, when conditional, the order's total (a kind may add conditions)."""
        approval = policy.rule(self.code).approval
        if approval != Approval.CONDITIONAL:
            return approval == Approval.ALWAYS
        limit = policy.approval_above_total
        if limit is None:
            return False
        total = order.in_shop_currency(order.total)  # the policy's amount is the shop's
        return total is None or total > limit

    def done_by_shop(self, progress: Progress) -> bool:
        """Has the shop itself already done what this change asks (cancelled the order)?"""
        return self.cancels_order and progress.cancelled

    # What is kept.

    def snapshot(self, order: Order) -> dict[str, Any]:
        """What the order says now, for the side of the change being replaced."""
        return {}

    def terms(self, policy: EditPolicy, after: Asked) -> Asked:
        """What is stored as asked, from what the shopper sent."""
        return after

    # The shopper's page.

    def page(self, page: Page) -> HttpResponse | Asked:
        """The kind's form: the page to show, or, once valid, what the shopper asks for (the
        view sends it)."""
        raise NotImplementedError

    # Shopify.

    def state(self, client: Client, request: ChangeRequest) -> Any:
        """The order as Shopify has it now, as much as this kind needs to decide: at least how
        far fulfilment has gone (`cancelled`, `warehouse_started`, `shipped`, `delivered`)."""
        return calls.order_state(client, request.order.shopify_id)

    def conflict(self, request: ChangeRequest, state: Any) -> str:
        """Why the change must not be sent now that Shopify's order is as it is (a code of
        the rules' refusals), or nothing."""
        return "" if self.still_as_seen(request, state) else "changed_meanwhile"

    def still_as_seen(self, request: ChangeRequest, state: OrderState) -> bool:
        """Is what the change replaces still what Shopify has? If the merchant edited it since,
        sending would silently undo their edit."""
        return True

    def already_done(self, request: ChangeRequest, state: OrderState) -> bool:
        """Does Shopify already show this change (made by an attempt whose answer was lost)?"""
        raise NotImplementedError

    def send(self, client: Client, request: ChangeRequest, state: Any) -> None:
        """Write the change to Shopify; `state` is what `state` read just before."""
        raise NotImplementedError

    def refusal_says_done(self, refusal: Refusal) -> bool:
        """Does Shopify refuse because what was asked is done already (by a lost attempt of
        ours, or by the shop)? Then the order is read again to tell which."""
        return False

    def shop_result(self, state: OrderState) -> dict[str, str]:
        """What the shop did, when it did this change itself: what the shopper needs to know."""
        return {}

    def settle_money(self, client: Client, request: ChangeRequest) -> dict[str, Any]:
        """Once Shopify has the change: what became of the money. With "to_pay", the order owes
        it and the change waits for the payment; with "refund_failed", an agent refunds it."""
        return {}

    def unsettled(self, request: ChangeRequest, code: str) -> dict[str, Any]:
        """Shopify has the change, but settling its money failed for good (`code`): what the
        agents take over, in `settle_money`'s words."""
        return {}

    def compare(self, change: ChangeRequest) -> list[tuple[str, object, object]]:
        """(what, before, after) rows for agents: the fields that differ."""
        return change.changed_fields()

    def reread_after(self) -> bool:
        """Whether the mirror re-reads the order once Shopify has the change (the shopper sees
        the new address at once, not when the webhook comes)."""
        return True


@dataclass
class Page:
    """What a kind's page opens with, whatever its kind: the order by its link, the shopper's
    language, the policy, and the rule's answer (the view shows its refusal when it says no)."""

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


def loose(value: Any) -> str:
    """Compared loosely: case and spaces do not make two values differ."""
    return " ".join(str(value or "").split()).casefold()
