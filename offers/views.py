"""The shopper's side of offers: the cards on the order page (a live part), and the page that
adds one to the order.

The cards show only what `rules.can_offer` and `targeting` allow, each priced for the order's
market by Shopify (its contextual pricing, in the order's currency); an offer Shopify cannot
price in that currency is not shown. Before the shopper confirms the delivery address the part
asks for that instead ("validate first, then offer"). Like the other live parts it holds
nothing of the visitor: its links are relative to the order page.

The offer's page stages the order edit in Shopify and shows its figures: the item at its offer
price, the new total, what is to pay. Confirming asks for an item change (`edits`) that adds one
unit at the offer's discount, under the order's lock with the rule asked again; the shopper then
pays on Shopify's payment page while the order waits at the warehouse.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.db.models import Count, prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from edits import actions as edit_actions
from edits import rules as edit_rules
from edits.kinds import items
from edits.models import EditPolicy
from edits.views import RULE_PREFETCH
from offers import events, jobs, rules, targeting
from offers.models import Offer, active_offers
from orders import access, formatting, live, page_cache
from orders.actors import SHOPPER
from orders.decisions import Decision, NotAllowed
from orders.models import Order, OrderEvent
from orders.views import activate_language
from shopify import catalogue
from shopify.calls import Addition, Product, Variant
from shopify.client import ShopifyError

logger = logging.getLogger(__name__)

NOTE = "Offered by the shop after checkout"
QUOTE_SALT = "offers.quote"


@dataclass(frozen=True)
class Priced:
    """One variant of an offered product, at its price in the order's market and the offer's."""

    variant: Variant
    price: Decimal
    offer_price: Decimal


@dataclass(frozen=True)
class Card:
    offer: Offer
    product: Product
    choices: tuple[Priced, ...]  # the variants offered that Shopify may sell, in its order
    currency: str
    percent: Decimal

    @property
    def first(self) -> Priced:
        return self.choices[0]

    @property
    def one_price(self) -> bool:
        return len({choice.offer_price for choice in self.choices}) == 1

    def choice(self, variant_id: Any) -> Priced:
        """The variant asked for, or the first."""
        return next((c for c in self.choices if str(c.variant.id) == str(variant_id)), self.first)


def card(
    offer: Offer, order: Order, *, fresh: bool = False, cached_only: bool = False
) -> Card | None:
    """The offer as the order's shopper would see it: None when nothing of it may be sold, or
    Shopify does not price it in the order's currency. Raises `catalogue.Unavailable`, and with
    `cached_only` `catalogue.NotRead`."""
    if not order.country_code:
        return None
    product = catalogue.priced(
        order.shop, offer.product_id, order.country_code, fresh=fresh, cached_only=cached_only
    )
    if product is None:
        return None
    wanted = {int(v) for v in offer.variant_ids}
    choices = []
    for variant in product.variants:
        if (wanted and variant.id not in wanted) or not variant.can_sell(1):
            continue
        market = variant.market_price
        if market is not None and market.currency == order.currency:
            price = market.amount
        elif market is None and order.currency == order.shop.currency:
            price = variant.price
        else:
            continue  # not sold in the order's currency: no amount we could honestly show
        percent = offer.percent_off(variant.price)
        off = formatting.rounded(price * percent / 100, order.currency)
        choices.append(Priced(variant, price, max(price - off, Decimal(0))))
    if not choices:
        return None
    percent = offer.percent_off(choices[0].variant.price)
    return Card(offer, product, tuple(choices), order.currency, percent)


def accepted_today(shop_id: int, zone: Any, now: datetime) -> dict[int, int]:
    """Offer pk -> how often it was accepted today, in the shop's time zone."""
    midnight = datetime.combine(now.astimezone(zone).date(), time.min, tzinfo=zone)
    rows = (
        OrderEvent.objects.filter(
            kind=events.ACCEPTED.name, order__shop_id=shop_id, created_at__gte=midnight
        )
        .values("subject_id")
        .annotate(n=Count("pk"))
    )
    return {row["subject_id"]: row["n"] for row in rows}


def offered(order: Order, *, language: str, now: datetime) -> list[Offer]:
    """The offers that target the order now, best first, at most as many as are shown."""
    return targeting.chosen(
        active_offers(order.shop),
        order,
        language=language,
        now=now,
        accepted_today=accepted_today(order.shop_id, order.shop.zone, now),
        limit=settings.OFFERS_SHOWN_PER_ORDER,
    )


def once(order: Order, kind: Any, offer: Offer) -> None:
    """Log `kind` for the offer on the order, unless it was already (impressions and opens are
    counted per order)."""
    if not order.events.filter(kind=kind.name, subject_id=offer.pk).exists():
        order.log(kind, actor=SHOPPER, subject=offer, offer=offer.pk)


def render_offers(order: Order, *, language: str, now: datetime) -> tuple[live.Part, int]:
    """The part, and for how many seconds it stays true. It never waits for Shopify: the cards
    come from the products read lately (when the shopper confirmed the address, or by the job
    this sends when they are not there; the page then looks again shortly)."""
    if not active_offers(order.shop):
        return live.Part(""), 600
    confirmed = edit_rules.address_confirmed(order)
    decision = rules.can_offer(order, EditPolicy.for_shop(order.shop), confirmed=confirmed)
    if not decision and decision.code != "address_unconfirmed":
        return live.Part(""), 600
    cards: list[Card] = []
    unread: list[Offer] = []
    for offer in offered(order, language=language, now=now):
        try:
            found = card(offer, order, cached_only=True)
        except catalogue.NotRead:
            unread.append(offer)
        else:
            if found is not None:
                cards.append(found)
    if not confirmed:
        # Only a prompt, and only if something may be offered once the address is confirmed.
        if not (cards or unread):
            return live.Part(""), 300
        html = render_to_string(
            "offers/_offers.html", {"order": order, "shop": order.shop, "confirmed": False}
        )
        return live.Part(html), 300
    activity, seconds = live.IDLE, 300
    if unread:
        jobs.price_later(order, unread)
        activity, seconds = live.SENDING, 5  # the job moves the order's revision on
    for found in cards:
        once(order, events.SHOWN, found.offer)
    html = ""
    if cards:
        html = render_to_string(
            "offers/_offers.html",
            {"order": order, "shop": order.shop, "cards": cards, "confirmed": True},
        )
    return live.Part(html, activity), seconds


def offers_part(request: HttpRequest, order: Order) -> live.Part:
    """Registered with `orders.live`: the shop's offers, once the address is confirmed."""
    now = timezone.now()
    language = request.LANGUAGE_CODE

    def render_part() -> tuple[live.Part, int]:
        prefetch_related_objects([order], *RULE_PREFETCH)
        return render_offers(order, language=language, now=now)

    return page_cache.fetch_part(order, language, "offers", render_part)


def rule_for(offer: Offer, language: str) -> edit_actions.Rule:
    """The rule asked before the offer's page is shown, and again under the order's lock when
    it is accepted: the order may take an offer, and this one is among those it is shown (its
    conditions, its dates, its daily cap, its arm of an A/B test, the most shown)."""

    def allowed(order: Order, now: datetime) -> Decision:
        confirmed = edit_rules.address_confirmed(order)
        decision = rules.can_offer(order, EditPolicy.for_shop(order.shop), confirmed=confirmed)
        if not decision:
            return decision
        if offer.pk not in {found.pk for found in offered(order, language=language, now=now)}:
            return Decision.no("offer_closed", rules.CLOSED)
        return decision

    return allowed


@require_http_methods(["GET", "POST"])
def offer_page(request: HttpRequest, token: str, pk: int) -> HttpResponse:
    """The offer, staged in Shopify: what the shopper adds, pays and ends up with; confirming
    adds it."""
    order = access.order_for(request, token)
    language = activate_language(request, order)
    offer = Offer.objects.filter(pk=pk, shop=order.shop).first()
    if offer is None:
        raise Http404
    now = timezone.now()
    prefetch_related_objects([order], *RULE_PREFETCH)
    decision = rule_for(offer, language)(order, now)
    if not decision:
        if decision.code == "address_unconfirmed":
            return redirect(f"/o/{token}/confirm/?then=offers")
        return refused(request, order, decision)
    try:
        found = card(offer, order, fresh=request.method == "GET")
    except catalogue.Unavailable:
        return unavailable(request, order)
    if found is None:
        return refused(request, order, Decision.no("offer_closed", rules.CLOSED))
    data = request.POST if request.method == "POST" else request.GET
    choice = found.choice(data.get("variant"))
    once(order, events.OPENED, offer)
    addition = Addition(choice.variant.id, 1, found.offer.percent_off(choice.variant.price), NOTE)
    try:
        edit, refusal = items.stage(order, {}, [addition])
    except (ShopifyError, ObjectDoesNotExist) as error:
        logger.warning("no preview of offer %s on %s: %s", offer.pk, order.name, error)
        return unavailable(request, order)
    if edit is None:
        return refused(request, order, Decision.no("not_editable", refusal), status=422)
    quoted = items.quote(edit, order)
    plan = f"{order.pk}:{offer.pk}:{addition.variant_id}:{addition.discount_percent}"
    shown = {**items.sums(quoted), "plan": plan}
    confirming = request.method == "POST" and data.get("step") == "confirm"
    if confirming and items.seen(data.get("quoted", ""), QUOTE_SALT) == shown:
        asked = {
            "quantities": {},
            "additions": [
                {
                    "variant": addition.variant_id,
                    "quantity": addition.quantity,
                    "discount_percent": str(addition.discount_percent),
                    "note": NOTE,
                    "duplicate": False,
                    "title": items.named(found.product, choice.variant, ""),
                    "product": found.product.id,
                }
            ],
            "quote": quoted,
            "offer": offer.pk,
        }
        try:
            with transaction.atomic():
                change = edit_actions.request_change(
                    order=order,
                    kind=items.ITEMS,
                    after=asked,
                    actor=SHOPPER,
                    rule=rule_for(offer, language),
                )
                order.log(
                    events.ACCEPTED, actor=SHOPPER, subject=offer, offer=offer.pk, change=change.pk
                )
        except NotAllowed as refusal_:
            return refused(request, order, refusal_.decision)
        return redirect(f"/o/{token}/#actions")
    context = {
        "order": order,
        "shop": order.shop,
        "card": found,
        "choice": choice,
        "quote": quoted,
        "to_pay": max(edit.difference, Decimal(0)),
        "quoted": signing.dumps(shown, salt=QUOTE_SALT),
        "price_changed": confirming,
    }
    return render(request, "offers/offer.html", context, status=409 if confirming else 200)


def refused(
    request: HttpRequest, order: Order, decision: Decision, *, status: int = 200
) -> HttpResponse:
    context = {"order": order, "shop": order.shop, "decision": decision}
    return render(request, "orders/refused.html", context, status=status)


def unavailable(request: HttpRequest, order: Order) -> HttpResponse:
    decision = Decision.no("unavailable", items.NOT_AVAILABLE_NOW)
    return refused(request, order, decision, status=503)
