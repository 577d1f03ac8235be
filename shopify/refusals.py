"""Shopify's refusals (`userErrors`) in the shopper's words.

Shopify explains a refusal in English, in its own terms ("Enter a ZIP code", "Return status is
invalid."). A shopper never reads that text: each refusal we know maps to a stable code, with a
translated sentence for the shopper (`orders.requests.explain`), and each field Shopify names maps
to the field of ours the shopper can correct, with a translated hint. Anything else reads as a
translated generic refusal. Shopify's own words stay in `detail`, for agents.

The refusals known here are the ones captured from a real store
(`../shared/shopify/captures`): orderUpdate's address and phone errors, orderCancel's,
the Returns API's INVALID_STATE and NOT_FOUND.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from orders.requests import explain
from shopify.client import UserError

# The last part of Shopify's error path (GraphQL names) -> the field of ours it is about.
FIELDS = {
    "firstName": "first_name",
    "lastName": "last_name",
    "company": "company",
    "address1": "address1",
    "address2": "address2",
    "city": "city",
    "province": "province",
    "provinceCode": "province",
    "zip": "zip",
    "phone": "phone",
    "email": "email",
}
ADDRESS_FIELDS = frozenset(FIELDS.values()) - {"email"}

# What the shopper reads on a field Shopify refused.
FIELD_HINTS = {
    "first_name": _("Please check the first name."),
    "last_name": _("Please check the last name."),
    "company": _("Please check the company name."),
    "address1": _("Please check the street address."),
    "address2": _("Please check the second address line."),
    "city": _("Please check the city."),
    "province": _("Please check the state, province or region."),
    "zip": _("Please check the postal code."),
    "phone": _("Please check the phone number."),
    "email": _("Please check the email address."),
}
FIELD_HINT = _("Please check this field.")

# Failure codes: "refused" and its family are Shopify refusing the data (a request's
# `failure_code`); not to be confused with an agent rejecting a change (a status).
REFUSED = "refused"
ADDRESS = "refused:address"
CONTACT = "refused:contact"
ALREADY_CANCELLED = "refused:already_cancelled"
INVALID_STATE = "refused:invalid_state"
NOT_FOUND = "refused:not_found"

explain(REFUSED, _("The shop's system did not accept the change. Please contact us."))
explain(ADDRESS, _("The shop's system did not accept this address. Please correct it."))
explain(CONTACT, _("The shop's system did not accept these contact details. Please correct them."))
explain(ALREADY_CANCELLED, _("This order was already cancelled."))
explain(INVALID_STATE, _("The shop had already moved this on. Please contact us."))
explain(NOT_FOUND, _("The shop's system no longer has this. Please contact us."))


@dataclass(frozen=True)
class Refusal:
    """What Shopify refused, read: a code (`failure_code`), the fields of ours the shopper can
    correct, and Shopify's words for agents."""

    code: str
    fields: tuple[str, ...] = field(default=())
    detail: str = ""


def read(errors: list[UserError]) -> Refusal:
    fields = tuple(dict.fromkeys(f for f in (_field(e) for e in errors) if f))
    detail = "; ".join(
        f"{'.'.join(e.field)}: {e.message}" if e.field else e.message for e in errors
    )
    codes = {e.code for e in errors}
    messages = " ".join(e.message for e in errors).casefold()
    if "already been canceled" in messages or "already been cancelled" in messages:
        code = ALREADY_CANCELLED
    elif "INVALID_STATE" in codes:
        code = INVALID_STATE
    elif "NOT_FOUND" in codes:
        code = NOT_FOUND
    elif fields and set(fields) <= ADDRESS_FIELDS and not _is_contact(errors):
        code = ADDRESS
    elif fields and set(fields) <= {"email", "phone"}:
        code = CONTACT
    else:
        code = REFUSED
    return Refusal(code, fields, detail)


def hint(field_name: str) -> str:
    """What the shopper reads on a field of ours that Shopify refused, in the active language."""
    return str(FIELD_HINTS.get(field_name, FIELD_HINT))


def _field(error: UserError) -> str | None:
    parts = [part for part in error.field if part not in ("input", "shippingAddress")]
    return FIELDS.get(parts[-1]) if len(parts) == 1 else None


def _is_contact(errors: list[UserError]) -> bool:
    """The order's own phone (not the address's): Shopify's path is ["phone"] alone."""
    return any(e.field == ("phone",) for e in errors)
