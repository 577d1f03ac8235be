"""What a kind of order change is made of. A kind subclasses `ChangeKind`, fills in its words and
its three Shopify steps, and registers itself (`edits.kinds.register`):

- its page: the form the shopper fills in, handed to `pages.Page.submit` once valid;
- the snapshot it keeps of what the change replaces (`before`) and the terms it adds (`after`);
- its rule and approval condition, on top of what every change asks (`edits.rules`);
- how it is sent to Shopify, and verified: is what the shopper saw still what Shopify has
  (`still_as_seen`), and did an attempt whose answer was lost already make it (`already_done`).

A new kind is one module like `contact.py`, its template, its translations, its import in
`EditsConfig.ready()`, and its switches on the `EditPolicy` (`<code>_enabled`, `_window_minutes`,
`_until`, `_approval`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from django.http import HttpResponse
from django.utils.functional import Promise

from edits import rules
from edits.models import ChangeRequest, EditPolicy
from orders.decisions import Decision
from orders.models import Order
from shopify.calls import OrderState
from shopify.client import Client
from shopify.refusals import Refusal

if TYPE_CHECKING:
    from edits.pages import Page


class ChangeKind:
    code: ClassVar[str]
    position: ClassVar[int]  # where it is offered on the order page
    label: ClassVar[Promise]  # "Delivery address"
    offer: ClassVar[Promise]  # the order page's button: "Change the delivery address"
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
        return rules.decide(self, order, policy, now=now)

    def check(self, order: Order, policy: EditPolicy, after: dict[str, Any]) -> Decision:
        """What the shopper asks for, against the policy (another country...)."""
        return Decision.yes()

    def progress_refusal(self, policy: EditPolicy, progress: rules.Progress) -> Decision | None:
        return rules.progress_refusal(self, policy, progress)

    def needs_approval(self, order: Order, policy: EditPolicy, *, after: dict[str, Any]) -> bool:
        return rules.needs_approval(self, order, policy, after=after)

    def done_by_shop(self, progress: rules.Progress) -> bool:
        """Has the shop itself already done what this change asks (cancelled the order)?"""
        return self.cancels_order and progress.cancelled

    # What is kept.

    def snapshot(self, order: Order) -> dict[str, Any]:
        """What the order says now, for the side of the change being replaced."""
        return {}

    def terms(self, policy: EditPolicy, after: dict[str, Any]) -> dict[str, Any]:
        """What is stored as asked, from what the shopper sent."""
        return after

    # The shopper's page.

    def page(self, page: Page) -> HttpResponse:
        raise NotImplementedError

    # Shopify.

    def still_as_seen(self, request: ChangeRequest, state: OrderState) -> bool:
        """Is what the change replaces still what Shopify has? If the merchant edited it since,
        sending would silently undo their edit."""
        return True

    def already_done(self, request: ChangeRequest, state: OrderState) -> bool:
        """Does Shopify already show this change (made by an attempt whose answer was lost)?"""
        raise NotImplementedError

    def send(self, client: Client, request: ChangeRequest) -> None:
        raise NotImplementedError

    def refused(self, client: Client, request: ChangeRequest, refusal: Refusal) -> bool:
        """A refusal this kind expects and settles itself (True when it did)."""
        return False

    def shop_result(self, state: OrderState) -> dict[str, str]:
        """What the shop did, when it did this change itself: what the shopper needs to know."""
        return {}

    def reread_after(self) -> bool:
        """Whether the mirror re-reads the order once Shopify has the change (the shopper sees
        the new address at once, not when the webhook comes)."""
        return True


def loose(value: Any) -> str:
    """Compared loosely: case and spaces do not make two values differ."""
    return " ".join(str(value or "").split()).casefold()
