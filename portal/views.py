from __future__ import annotations

from datetime import datetime, timedelta

from babel.dates import format_timedelta
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from orders import access, actions
from orders.formatting import current_locale
from orders.models import Shop
from portal import lookup, throttle
from portal.forms import LookupForm
from portal.storefront import storefront


@require_http_methods(["GET", "POST"])
def find_order(request: HttpRequest) -> HttpResponse:
    shop = storefront()
    form = LookupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        number = lookup.normalise_number(form.cleaned_data["number"])
        keys = [f"ip:{throttle.client_address(request)}", f"order:{number}"]
        until = throttle.attempt(keys)
        if until is not None:
            return throttled(request, shop, until)
        order = lookup.find_order(number, form.cleaned_data["contact"])
        if order is None:
            # The same words whether the order does not exist or the contact is wrong.
            form.add_error(None, _("We could not find an order with these details."))
        else:
            throttle.forgive(keys)
            token = access.grant(request, order)
            actions.record_lookup(order=order)
            return redirect(reverse("orders:page", args=[token]))
    return render(request, "portal/find_order.html", {"form": form, "shop": shop})


def throttled(request: HttpRequest, shop: Shop | None, until: datetime) -> HttpResponse:
    wait = max(until - timezone.now(), timedelta(minutes=1))
    context = {"shop": shop, "wait": format_timedelta(wait, locale=current_locale())}
    response = render(request, "portal/throttled.html", context, status=429)
    response.headers["Retry-After"] = str(int(wait.total_seconds()))
    return response


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers, and the benchmark's baseline: the same stack, no work."""
    return HttpResponse("ok", content_type="text/plain")
