"""The order's email and phone: one form, sent with `orderUpdate` (only what changed: an empty
phone must not erase the order's). It changes where the shop writes to, not where the parcel
goes, so it never keeps the warehouse waiting."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _

from edits import kinds
from edits.forms import ContactForm
from edits.kinds.base import Asked, ChangeKind, Page, loose
from edits.models import ChangeRequest
from orders.models import Order
from shopify import calls
from shopify.calls import OrderState
from shopify.client import Client

FIELDS = ("email", "phone")


class Contact(ChangeKind):
    code = "contact"
    position = 20
    label = _("Contact details")
    button = _("Change your email or phone")
    contact_us = _("Please contact us to change your contact details.")
    closed_at = _("Changes to your contact details closed at %(time)s.")
    path = "change/contact/"
    summary_template = "edits/kinds/_contact.html"
    releases_hold = False

    def snapshot(self, order: Order) -> dict[str, Any]:
        return {"email": order.email, "phone": order.phone}

    def page(self, page: Page) -> HttpResponse | Asked:
        order = page.order
        current = {"email": order.email, "phone": order.phone}
        region = order.country_code or None
        if page.method == "GET":
            form = ContactForm(current=current, region=region, initial=current)
        else:
            form = ContactForm(page.request.POST, current=current, region=region)
            if form.is_valid():
                return form.cleaned_contact()
        return page.render(
            "edits/change_contact.html", {"form": form}, status=422 if form.is_bound else 200
        )

    def still_as_seen(self, request: ChangeRequest, state: OrderState) -> bool:
        return _contact(state.email, state.phone) == _contact(**_pick(request.before))

    def already_done(self, request: ChangeRequest, state: OrderState) -> bool:
        return _contact(state.email, state.phone) == _contact(**_pick(request.after))

    def send(self, client: Client, request: ChangeRequest, state: OrderState) -> None:
        changed = {
            key: request.after.get(key) or None
            for key in FIELDS
            if request.after.get(key) != request.before.get(key)
        }
        calls.update_order(client, request.order.shopify_id, contact=changed)


def _pick(values: dict[str, Any]) -> dict[str, Any]:
    return {key: values.get(key) for key in FIELDS}


def _contact(email: Any, phone: Any) -> tuple[str, str]:
    return loose(email), loose(phone)


CONTACT = kinds.register(Contact())
