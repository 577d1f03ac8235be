"""Cancelling the order: a confirmation with what will happen (the refund in the order's
currency, Shopify's email), then `orderCancel` with the terms of the policy in force when the
shopper asked. A parcel that left cannot be cancelled, whatever the policy says.

When the shop cancels in Shopify while the shopper's cancellation is on its way (Shopify then
refuses ours: "already been canceled"), the request settles as done by the shop, with what became
of the payment, as Shopify tells it.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _

from edits import kinds, rules
from edits.forms import CancelForm
from edits.kinds.base import Asked, ChangeKind, Page
from edits.models import ChangeRequest, EditPolicy
from orders.decisions import Decision
from orders.models import Order
from shopify import calls, refusals
from shopify.calls import OrderState
from shopify.client import Client
from shopify.refusals import Refusal


class Cancellation(ChangeKind):
    code = "cancel"
    position = 30
    label = _("Cancellation")
    button = _("Cancel the order")
    contact_us = _("Please contact us to cancel this order.")
    closed_at = _("Cancellation closed at %(time)s.")
    path = "cancel/"
    summary_template = "edits/kinds/_cancellation.html"
    status_labels = {ChangeRequest.Status.BY_SHOP: _("Cancelled by the shop")}
    policy_fields = ("cancel_refund", "cancel_restock", "cancel_notify", "cancel_staff_note")
    cancels_order = True

    def progress_refusal(self, policy: EditPolicy, progress: rules.Progress) -> Decision | None:
        if not progress.cancelled and progress.shipped:
            # Whatever the policy says: a cancellation cannot take back a parcel that left.
            return rules.refusal(progress.furthest)
        return super().progress_refusal(policy, progress)

    def snapshot(self, order: Order) -> dict[str, Any]:
        """What the cancellation gives back, as the shopper was told when asking."""
        return {
            "total": str(order.total),
            "currency": order.currency,
            "has_payment": order.has_payment,
        }

    def compare(self, change: ChangeRequest) -> list[tuple[str, object, object]]:
        """For agents: the order's total when asked, and the terms asked for."""
        total = change.before.get("total")
        rows: list[tuple[str, object, object]] = []
        if total:
            rows.append(("total", total, ""))
        return rows + [(key, "", value) for key, value in change.after.items()]

    def terms(self, policy: EditPolicy, after: dict[str, Any]) -> dict[str, Any]:
        """A cancellation keeps the terms in force when it was asked for."""
        return {
            "reason": after.get("reason", ""),
            "refund": policy.cancel_refund,
            "restock": policy.cancel_restock,
            "notify": policy.cancel_notify,
            "staff_note": policy.cancel_staff_note,
        }

    def page(self, page: Page) -> HttpResponse | Asked:
        post = page.method == "POST"
        form = CancelForm(page.request.POST if post else None)
        if post and form.is_valid():
            return form.cleaned_cancellation()
        approval = self.needs_approval(page.order, page.policy, after={})
        return page.render(
            "edits/cancel.html",
            {"form": form, "policy": page.policy, "approval": approval},
            status=422 if form.is_bound else 200,
        )

    def already_done(self, request: ChangeRequest, state: OrderState) -> bool:
        # Ours asks with reason CUSTOMER; a merchant who cancels gives theirs (or CUSTOMER too:
        # then it makes no difference to the shopper).
        return state.cancelled and state.cancel_reason == "CUSTOMER"

    def shop_result(self, state: OrderState) -> dict[str, str]:
        return {"payment": state.payment, "reason": state.cancel_reason}

    def send(self, client: Client, request: ChangeRequest, state: OrderState) -> None:
        terms = request.after
        calls.cancel_order(
            client,
            request.order.shopify_id,
            restock=terms["restock"],
            refund=terms["refund"],
            notify=terms["notify"],
            staff_note=terms.get("staff_note") or "",
        )

    def reread_after(self) -> bool:
        return False  # orders/cancelled brings the cancellation, with Shopify's own timestamps

    def refusal_says_done(self, refusal: Refusal) -> bool:
        # The shop cancelled between our look and our write ("Cannot cancel an order that has
        # already been canceled"), or an earlier attempt's cancellation landed meanwhile.
        return refusal.code == refusals.ALREADY_CANCELLED


CANCELLATION = kinds.register(Cancellation())
