"""The shopper's side of returns: what may be sent back (a live part of the order page), the
return flow, and the return slip.

The flow is four short pages, each a plain form that works without JavaScript (htmx only boosts
them): the items and how many -> why (a photo where the reason needs one) -> what instead,
exchange first -> a summary with the amounts -> submit. What was chosen waits in the session
(`draft.Draft`); every step asks the rules again, and submitting asks them once more under the
order's lock (`actions.request_return`).

Like the changes part, the live part holds nothing of the visitor (links are relative to the
order page), so it is cached with the page, until the next return window closes.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import barcode
import segno
from barcode.writer import SVGWriter
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from orders import access, live, page_cache
from orders.models import Fulfillment, LineItem, Order, Stage
from orders.views import activate_language
from returns import actions, photos, rules
from returns.draft import Draft
from returns.models import Resolution, ReturnLine, ReturnPolicy, ReturnRequest
from shopify import catalogue

STEPS = ("items", "reasons", "resolution", "review")


def render_returns(order: Order, policy: ReturnPolicy, *, now: datetime) -> tuple[live.Part, int]:
    """The part, and for how many seconds it stays true."""
    if not order.shipments or order.stage == Stage.CANCELLED:
        return live.Part(""), 600
    requests = sorted(order.return_requests.all(), key=lambda r: r.created_at, reverse=True)
    lines = rules.eligibility(order, policy, now=now, requests=requests)
    if not requests and all(line.decision.code in rules.NOT_YET for line in lines):
        return live.Part(""), 600  # nothing is with the shopper yet: nothing to say of returns
    expires = 600
    for line in lines:
        if line.open_until:
            expires = min(expires, int((line.open_until - now).total_seconds()) + 1)
    html = render_to_string(
        "returns/_returns.html",
        {
            "order": order,
            "shop": order.shop,
            "lines": lines,
            "requests": requests,
            "can_start": any(line.decision for line in lines),
        },
    )
    activity, holds = live.pace(requests, now=now)
    if any(r.status == ReturnRequest.Status.REQUESTED for r in requests):
        activity = live.activity_of(activity, live.WAITING)  # an agent decides
    return live.Part(html, activity), min(expires, holds)


def returns_part(request: HttpRequest, order: Order) -> live.Part:
    """Registered with `orders.live`: which items can go back, until when, or why not, and
    the shopper's returns."""
    now = timezone.now()

    def render_part() -> tuple[live.Part, int]:
        prefetch_related_objects(
            [order],
            "lines",
            Prefetch("fulfillments", queryset=Fulfillment.objects.all()),
            Prefetch(
                "return_requests",
                queryset=ReturnRequest.objects.prefetch_related(
                    Prefetch("lines", queryset=ReturnLine.objects.select_related("line_item"))
                ),
            ),
        )
        prefetch_related_objects(order.shipments, "lines")
        return render_returns(order, ReturnPolicy.for_shop(order.shop), now=now)

    return page_cache.fetch_part(order, request.LANGUAGE_CODE, "returns", render_part)


# The flow.


class Step:
    """What every step opens with: access, language, the policy, the rules, and the draft."""

    def __init__(self, request: HttpRequest, token: str) -> None:
        self.request, self.token = request, token
        self.order = access.order_for(request, token)
        self.language = activate_language(request, self.order)
        self.policy = ReturnPolicy.for_shop(self.order.shop)
        self.now = timezone.now()
        prefetch_related_objects([self.order], "lines", "fulfillments")
        prefetch_related_objects(self.order.shipments, "lines")
        self.lines = rules.eligibility(self.order, self.policy, now=self.now)
        self.eligible = {item.line.pk: item for item in self.lines if item.decision}
        self.draft = Draft.load(request, self.order)
        # Items that stopped being returnable (a window closed, another tab returned them)
        # leave the draft. Their photos stay: a double submission's first request may hold them
        # (`photos.sweep_unused` removes what no return took).
        for pk in [pk for pk in self.draft.items if pk not in self.eligible]:
            del self.draft.items[pk]

    def page(self, template: str, context: dict, *, status: int = 200) -> HttpResponse:
        notice, self.draft.notice = self.draft.notice, ""
        self.draft.save(self.request, self.order)
        base = {
            "order": self.order,
            "shop": self.order.shop,
            "token": self.token,
            "step": template.rsplit("/", 1)[-1].removesuffix(".html"),
            "steps": STEPS,
            "notice": notice,
        }
        return render(self.request, template, {**base, **context}, status=status)

    def go(self, step: str) -> HttpResponse:
        self.draft.save(self.request, self.order)
        name = "returns:start" if step == "items" else f"returns:{step}"
        return redirect(reverse(name, args=[self.token]))

    def refused(self, decision: rules.Decision) -> HttpResponse:
        return render(
            self.request,
            "orders/refused.html",
            {
                "order": self.order,
                "shop": self.order.shop,
                "token": self.token,
                "decision": decision,
            },
        )


@require_http_methods(["GET", "POST"])
def start(request: HttpRequest, token: str) -> HttpResponse:
    """Step 1: which items, and how many of each."""
    step = Step(request, token)
    decision = rules.can_return(step.order, step.policy, now=step.now)
    if not decision:
        return step.refused(decision)
    errors: list[str] = []
    if request.method == "POST":
        quantities: dict[int, int] = {}
        for pk, item in step.eligible.items():
            raw = request.POST.get(f"quantity-{pk}", "0").strip() or "0"
            if not raw.isdigit() or int(raw) > item.returnable:
                errors.append(
                    _("%(item)s: choose between 0 and %(count)s.")
                    % {"item": item.line.title, "count": item.returnable}
                )
            elif int(raw):
                quantities[pk] = int(raw)
        if not errors and not quantities:
            errors.append(_("Choose at least one item to return."))
        if not errors:
            step.draft.choose(quantities)
            return step.go("reasons")
    chosen = {pk: item.quantity for pk, item in step.draft.items.items()}
    rows = [
        {
            "item": item,
            "choices": [str(n) for n in range(item.returnable + 1)],
            "chosen": request.POST.get(f"quantity-{item.line.pk}", "0")
            if request.method == "POST"
            else str(chosen.get(item.line.pk, 0)),
        }
        for item in step.lines
    ]
    return step.page(
        "returns/flow/items.html",
        {"rows": rows, "errors": errors},
        status=422 if errors else 200,
    )


@require_http_methods(["GET", "POST"])
def reasons(request: HttpRequest, token: str) -> HttpResponse:
    """Step 2: why, per item, with a photo where the reason needs one."""
    step = Step(request, token)
    if not step.draft.items:
        return step.go("items")
    offered = rules.reasons(step.policy, step.language)
    by_code = {reason.code: reason for reason in offered}
    errors: dict[int, list[str]] = {}
    if request.method == "POST":
        for pk, item in step.draft.items.items():
            problems = errors.setdefault(pk, [])
            code = request.POST.get(f"reason-{pk}", "")
            item.reason = code if code in by_code else ""
            item.comment = request.POST.get(f"comment-{pk}", "").strip()[:1000]
            if not item.reason:
                problems.append(_("Choose a reason for each item."))
            upload = request.FILES.get(f"photo-{pk}")
            if upload is not None:
                try:
                    name = photos.store(upload)
                except ValidationError as refused:
                    problems.extend(refused.messages)
                else:
                    photos.discard(item.photo)
                    item.photo = name
            if item.reason and by_code[item.reason].photo_required and not item.photo:
                problems.append(_("Please add a photo for this reason."))
        errors = {pk: problems for pk, problems in errors.items() if problems}
        if not errors:
            return step.go("resolution")
    rows = [
        {"pk": pk, "line": step.eligible[pk].line, "item": item, "errors": errors.get(pk, [])}
        for pk, item in step.draft.items.items()
    ]
    return step.page(
        "returns/flow/reasons.html",
        {
            "rows": rows,
            "reasons": offered,
            "photo_reasons": [r.label for r in offered if r.photo_required],
            "photo_codes": [r.code for r in offered if r.photo_required],
            "max_photo": photos.max_bytes(),
        },
        status=422 if errors else 200,
    )


@dataclass(frozen=True)
class Exchange:
    """Another variant the item may be exchanged for, at its price in the order's currency."""

    id: int
    title: str
    available: bool
    price: Decimal


def _exchanges(order: Order, line: LineItem, *, fresh: bool = False) -> list[Exchange]:
    """The other variants of the line's product, in stock or not, each priced in the order's
    currency (`rules.exchange_price`); those Shopify does not price in it are left out. Raises
    `catalogue.Unavailable`."""
    if not line.product_id:
        return []
    product = catalogue.priced(order.shop, line.product_id, order.country_code, fresh=fresh)
    variants = list(product.variants) if product else []
    own = next((v for v in variants if v.id == line.variant_id), None)
    found = []
    for variant in variants:
        if variant.id == line.variant_id:
            continue
        price = rules.exchange_price(order, line, own, variant)
        if price is not None:
            found.append(Exchange(variant.id, variant.title, variant.available, price))
    return found


def _options(step: Step, pk: int, *, fresh: bool = False) -> dict:
    """What an item can turn into, exchange first: the other variants (in stock or not), store
    credit with its bonus, a refund; only what the destination allows."""
    line = step.eligible[pk].line
    quantity = step.draft.items[pk].quantity
    allowed = rules.resolutions(step.order, step.policy)
    variants, unavailable = [], False
    if Resolution.EXCHANGE in allowed:
        try:
            variants = _exchanges(step.order, line, fresh=fresh)
        except catalogue.Unavailable:
            unavailable = True
    value = line.unit_paid * quantity
    bonus = (value * step.policy.store_credit_bonus_percent / 100).quantize(rules.CENT)
    return {
        "pk": pk,
        "line": line,
        "quantity": quantity,
        "variants": variants,
        "exchange_unavailable": unavailable,
        "credit": Resolution.STORE_CREDIT in allowed,
        "credit_amount": value + bonus,
        "credit_bonus": bonus,
        "refund": Resolution.REFUND in allowed,
        "refund_amount": value,
        "exchange": Resolution.EXCHANGE in allowed,
    }


@require_http_methods(["GET", "POST"])
def resolution(request: HttpRequest, token: str) -> HttpResponse:
    """Step 3: what the shopper wants instead, per item."""
    step = Step(request, token)
    if not step.draft.reasons_given:
        return step.go("reasons")
    rows = [_options(step, pk) for pk in step.draft.items]
    errors: dict[int, str] = {}
    if request.method == "POST":
        for row in rows:
            item = step.draft.items[row["pk"]]
            choice = request.POST.get(f"resolution-{row['pk']}", "")
            kind, _sep, variant_id = choice.partition(":")
            variant = next(
                (v for v in row["variants"] if str(v.id) == variant_id and v.available), None
            )
            if kind == Resolution.EXCHANGE and variant is not None and row["exchange"]:
                item.resolution = kind
                item.variant_id, item.variant_title = variant.id, variant.title
                item.variant_price = str(variant.price)
            elif (kind == Resolution.STORE_CREDIT and row["credit"]) or (
                kind == Resolution.REFUND and row["refund"]
            ):
                item.resolution = kind
                item.variant_id, item.variant_title, item.variant_price = None, "", ""
            else:
                item.resolution = ""
                errors[row["pk"]] = _("Choose what you would like instead.")
        if not errors:
            return step.go("review")
    for row in rows:
        item = step.draft.items[row["pk"]]
        row["chosen"] = (
            f"{item.resolution}:{item.variant_id}"
            if item.resolution == Resolution.EXCHANGE
            else item.resolution
        )
        row["error"] = errors.get(row["pk"], "")
        row["variant_choices"] = [
            {"variant": variant, "value": f"{Resolution.EXCHANGE}:{variant.id}"}
            for variant in row["variants"]
        ]
    return step.page(
        "returns/flow/resolution.html",
        {"rows": rows, "bonus_percent": step.policy.store_credit_bonus_percent},
        status=422 if errors else 200,
    )


@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, token: str) -> HttpResponse:
    """Step 4: the summary with the amounts, and the submission."""
    step = Step(request, token)
    if not step.draft.resolved:
        return step.go("resolution" if step.draft.reasons_given else "reasons")
    if request.method == "POST":
        gone = _sold_out_meanwhile(step)
        if gone:
            step.draft.notice = _(
                "Sorry, %(variant)s is no longer in stock. Please choose something else."
            ) % {"variant": gone}
            return step.go("resolution")
        try:
            created = actions.request_return(
                order=step.order, items=step.draft.return_items(), language=step.language
            )
        except actions.NotAllowed as refused:
            return step.refused(refused.decision)
        Draft.clear(request, step.order)
        return redirect(reverse("returns:done", args=[token, created.pk]))
    items = step.draft.return_items()
    lines = {pk: step.eligible[pk].line for pk in step.draft.items}
    by_code = {reason.code: reason for reason in rules.reasons(step.policy, step.language)}
    if any(i.reason not in by_code for i in items):  # the merchant changed the reasons meanwhile
        return step.go("reasons")
    quote, approved = actions.assess(
        step.order, step.policy, items, [by_code[i.reason] for i in items]
    )
    rows = [{"line": lines[i.line_id], "item": i, "reason": by_code[i.reason]} for i in items]
    return step.page(
        "returns/flow/review.html",
        {"rows": rows, "quote": quote, "auto_approved": approved, "policy": step.policy},
    )


def _sold_out_meanwhile(step: Step) -> str:
    """The title of a chosen exchange variant that is no longer in stock, read fresh."""
    for pk, item in step.draft.items.items():
        if item.resolution != Resolution.EXCHANGE:
            continue
        try:
            in_stock = catalogue.still_in_stock(step.eligible[pk].line, item.variant_id)
        except catalogue.Unavailable:
            continue  # the sync checks again before Shopify creates the exchange
        if not in_stock:
            item.resolution, item.variant_id, item.variant_price = "", None, ""
            title, item.variant_title = item.variant_title, ""
            return title
    return ""


def _own_return(request: HttpRequest, token: str, pk: int) -> tuple[Order, ReturnRequest]:
    order = access.order_for(request, token)
    activate_language(request, order)
    found = (
        ReturnRequest.objects.filter(pk=pk, order=order)
        .prefetch_related("lines__line_item")
        .first()
    )
    if found is None:
        raise Http404
    return order, found


@require_GET
def done(request: HttpRequest, token: str, pk: int) -> HttpResponse:
    order, found = _own_return(request, token, pk)
    return render(
        request,
        "returns/done.html",
        {"order": order, "shop": order.shop, "token": token, "return": found},
    )


@require_http_methods(["GET", "POST"])
def cancel(request: HttpRequest, token: str, pk: int) -> HttpResponse:
    order, found = _own_return(request, token, pk)
    if request.method == "POST":
        # A second tab, or an agent, may have moved it meanwhile: the order page says where.
        with contextlib.suppress(actions.WrongState):
            actions.cancel(request=found)
        return redirect(f"/o/{token}/#returns")
    return render(
        request,
        "returns/cancel.html",
        {"order": order, "shop": order.shop, "token": token, "return": found},
    )


@require_GET
def slip(request: HttpRequest, token: str, pk: int) -> HttpResponse:
    """The printable return slip: the items, the return number, a QR code for the warehouse
    (it opens the return in the admin), and the merchant's instructions."""
    order, found = _own_return(request, token, pk)
    if not found.slip_available:
        raise Http404
    target = settings.PORTAL_BASE_URL + reverse(
        "admin:returns_returnrequest_change", args=[found.pk]
    )
    qr = segno.make(target, error="m").svg_inline(scale=4, border=2, dark="#000")
    policy = ReturnPolicy.for_shop(order.shop)
    quote = found.quote or {}
    return render(
        request,
        "returns/slip.html",
        {
            "order": order,
            "shop": order.shop,
            "token": token,
            "return": found,
            "qr": qr,
            "barcode": code128(found.number),
            "address": policy.return_address,
            "instructions": policy.slip_instructions,
            "fees_due": Decimal(quote.get("fees_due") or 0),
            "exchange_due": max(Decimal(quote.get("exchange_difference") or 0), Decimal(0)),
            "currency": quote.get("currency") or order.currency,
        },
    )


def code128(text: str) -> str:
    """`text` as a Code 128 barcode, an inline SVG (no XML prologue), what warehouse scanners
    read; the number is printed under it by the slip itself."""
    out = io.BytesIO()
    barcode.get("code128", text, writer=SVGWriter()).write(
        out, options={"module_height": 12.0, "module_width": 0.3, "write_text": False}
    )
    svg = out.getvalue().decode()
    return svg[svg.index("<svg") :]
