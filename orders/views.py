from __future__ import annotations

from django.conf import settings
from django.db.models import Prefetch, prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from orders import access, formatting, live, page_cache
from orders.models import (
    Fulfillment,
    FulfillmentLine,
    Order,
    OrderEvent,
    Stage,
)

# Sections of the order page that htmx may refresh on their own.
SECTIONS = ("tracking", "activity")

# The stages a shopper walks through, in order; partial shipping counts as "shipped" on the
# timeline, and a problem or a cancellation replaces the walk.
TIMELINE = (
    Stage.CONFIRMED,
    Stage.PREPARING,
    Stage.SHIPPED,
    Stage.OUT_FOR_DELIVERY,
    Stage.DELIVERED,
)
TIMELINE_POSITION = {
    Stage.CONFIRMED: 0,
    Stage.PREPARING: 1,
    Stage.PARTIALLY_SHIPPED: 2,
    Stage.SHIPPED: 2,
    Stage.DELIVERY_PROBLEM: 3,
    Stage.OUT_FOR_DELIVERY: 3,
    Stage.DELIVERED: 4,
}


STAGE_HINTS = {
    Stage.CONFIRMED: _("We have received your order and will start preparing it soon."),
    Stage.PREPARING: _("Our warehouse is preparing your order."),
    Stage.PARTIALLY_SHIPPED: _("Part of your order is on its way; the rest will follow."),
    Stage.SHIPPED: _("Your order is on its way."),
    Stage.OUT_FOR_DELIVERY: _("Your order is out for delivery."),
    Stage.DELIVERED: _("Your order has been delivered."),
    Stage.DELIVERY_PROBLEM: _(
        "The carrier could not deliver a parcel. Check the tracking details below, or contact us."
    ),
    Stage.CANCELLED: _("This order was cancelled."),
}


ON_ITS_WAY = (Stage.SHIPPED, Stage.PARTIALLY_SHIPPED, Stage.OUT_FOR_DELIVERY)

PAGE_PREFETCH = (
    "lines",
    "fulfillment_orders",
    Prefetch(
        "fulfillments",
        queryset=Fulfillment.objects.prefetch_related(
            "events",
            Prefetch("lines", queryset=FulfillmentLine.objects.select_related("line_item")),
        ),
    ),
    Prefetch(
        "events",
        queryset=OrderEvent.objects.filter(visible_to_shopper=True).order_by("-created_at"),
        to_attr="shopper_activity",
    ),
)


def activate_language(request: HttpRequest, order: Order) -> str:
    """The shopper's own choice (the language cookie) wins; otherwise the order's locale."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    enabled = {code for code, _name in order.shop.languages}
    language = chosen if chosen in enabled else order.language
    translation.activate(language)
    request.LANGUAGE_CODE = language
    formatting.use_region(order.customer_locale)  # dates and money as the shopper's region
    return language


def timeline_steps(stage: Stage) -> list[dict[str, object]]:
    position = TIMELINE_POSITION.get(stage)
    steps = []
    for index, step in enumerate(TIMELINE):
        label = step.label
        if index == 2 and stage == Stage.PARTIALLY_SHIPPED:
            label = stage.label
        if index == 3 and stage == Stage.DELIVERY_PROBLEM:
            label = stage.label
        steps.append(
            {
                "label": label,
                # A delivered order has walked every step: the last is done, not waiting.
                "done": position is not None and (index < position or stage == Stage.DELIVERED),
                "current": index == position,
                "problem": index == position and stage == Stage.DELIVERY_PROBLEM,
            }
        )
    return steps


def render_page(order: Order, section: str | None) -> str:
    """The page (or one section of it) for whoever may see the order: nothing per visitor.

    Everything it shows is loaded here in a fixed number of queries, whatever the order's size.
    """
    prefetch_related_objects([order], *PAGE_PREFETCH)
    stage = order.stage
    hint, tone = STAGE_HINTS[stage], stage.tone
    if stage in ON_ITS_WAY and any(shipment.is_delayed for shipment in order.shipments):
        hint, tone = _("Your order is on its way, but the carrier reports a delay."), "warn"
    upcoming = [
        s.estimated_delivery_at
        for s in order.shipments
        if s.estimated_delivery_at and not s.is_delivered and not s.estimate_outdated
    ]
    context = {
        "order": order,
        "shop": order.shop,
        "stage": stage,
        "stage_hint": hint,
        "hero_tone": tone,
        "expected": max(upcoming) if upcoming and not order.unshipped_quantity else None,
        "steps": timeline_steps(stage) if stage != Stage.CANCELLED else [],
        "shipments": order.shipments,
        "languages": order.shop.languages,
    }
    template = "orders/order_page.html" + (f"#{section}" if section else "")
    return render_to_string(template, context)


@require_GET
def order_page(request: HttpRequest, token: str) -> HttpResponse:
    order = access.order_for(request, token)
    language = activate_language(request, order)
    section = request.GET.get("section")
    if not request.htmx or request.htmx.boosted or section not in SECTIONS:
        section = None  # without htmx, every URL of the page is the whole page
    elif request.GET.get("since") == str(order.revision):
        # A poll that finds nothing new: no swap, so an open list of events stays open and
        # keyboard focus stays where it was.
        return HttpResponse(status=204)
    html = page_cache.fetch(order, language, section, lambda: render_page(order, section))
    response = HttpResponse(live.insert(html, request, order))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@require_GET
def live_parts(request: HttpRequest, token: str) -> HttpResponse:
    """The page's live parts on their own, for htmx's polling (`orders.live`): 204 while the
    order's revision is the one the page has."""
    order = access.order_for(request, token)
    activate_language(request, order)
    since = request.GET.get("since")
    if since == str(order.revision):
        return HttpResponse(status=204)
    html, activity = live.render(request, order)
    response = HttpResponse(html)
    response.headers["Cache-Control"] = "private, no-store"
    if since and activity != live.SENDING:
        # What was on its way arrived: the rest of the page (the address, the stage, the
        # activity) changed with it.
        response.headers["HX-Refresh"] = "true"
    return response
