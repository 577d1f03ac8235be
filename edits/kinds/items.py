"""Item changes before fulfilment: another size or colour of the same product, another quantity,
a line removed. The shopper chooses per line, sees the lines that change and the new total as
Shopify calculates them (its prices for the order's market, its taxes and discounts, in the
order's currency), and what happens to the difference: nothing to pay, a payment on Shopify's own
page, or money back to the card or as store credit (the policy's choice).

Only a paid order is changed (Shopify's `PAID` or `PARTIALLY_REFUNDED`, owing nothing): then
the edit's difference is the whole balance, and nothing the shopper owed before is mixed in.

In Shopify it is one order edit: `orderEditBegin`, each line's new quantity (0 removes it; a swap
is the old line at 0 and the new variant added, at the old line's discount rate),
`orderEditCommit`. The preview stages the same edit without committing it, and the confirmation
carries the plan and the total the shopper saw (signed): if Shopify comes to another, the preview is
shown again. The worker stages the edit once more and commits only if the stock is there and
Shopify still comes to the accepted total. Committing moves no money: a dearer order is held at
the warehouse (`holds.hold_for_payment`) until Shopify reports the balance paid; a cheaper one is
refunded, once (`refundCreate`, idempotent under the request's key). Once committed, the change
stands whatever follows: a refund Shopify refuses goes to an agent, never back to "failed".
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.core import signing
from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from edits import actions, holds, kinds
from edits.forms import NOTHING_CHANGED
from edits.kinds.base import Asked, ChangeKind, Page
from edits.models import ChangeRequest, EditPolicy, RefundMethod
from orders import formatting
from orders.decisions import Decision
from orders.models import LineItem, Order
from orders.requests import explain
from shopify import calls, catalogue, outbox
from shopify.calls import Addition, EditableOrder, Money, OrderEdit, Product, Variant
from shopify.client import Client, Permanent, ShopifyError, Transient, UserErrors

logger = logging.getLogger(__name__)

MAX_MORE = 5  # how many more of a line a shopper may ask for
MAX_LINES = 250  # the lines Shopify answers in one page: a longer order goes to an agent
STAFF_NOTE = "Changed by the customer in the order portal"
DISCOUNT_NOTE = "What the customer paid for the item swapped"
QUOTE_SALT = "edits.items.quote"
SETTLED = {Order.FinancialStatus.PAID, Order.FinancialStatus.PARTIALLY_REFUNDED}

NOT_EDITABLE = _("This order can no longer be changed. Please contact us.")
PAYMENT_PENDING = _("The items can be changed once your payment is complete.")
NOT_AVAILABLE_NOW = _("We cannot calculate the new total right now. Please try again shortly.")
NOT_IN_STOCK = _("We do not have that many in stock. Please choose fewer or another size.")

explain(
    "conflict:price_changed",
    _("The price changed in the meantime. Please check the new total and ask again."),
)
explain("conflict:sold_out", _("An item you chose is no longer in stock. Please choose again."))
explain("conflict:not_editable", NOT_EDITABLE)
explain("conflict:payment_pending", PAYMENT_PENDING)
explain(
    "unconfirmed",
    _("We could not confirm with the shop that your change was made. We will contact you."),
)


@dataclass(frozen=True)
class Choice:
    """What the shopper chose for one line: how many, of which variant."""

    line: LineItem
    quantity: int
    variant_id: int | None  # none: a line of no variant (a custom item), kept as it is
    variant_title: str


@dataclass(frozen=True)
class Extra:
    """An item the shopper adds: how many of which variant, of which product."""

    variant_id: int
    product_id: int
    quantity: int
    variant_title: str


class Items(ChangeKind):
    code = "items"
    position = 15
    label = _("Items")
    button = _("Change sizes, colours or quantities")
    contact_us = _("Please contact us to change the items of this order.")
    closed_at = _("Changes to the items closed at %(time)s.")
    path = "change/items/"
    summary_template = "edits/kinds/_items.html"

    policy_fields = (
        "items_swap",
        "items_quantity",
        "items_same_price_only",
        "items_locked_tags",
        "items_add_tag",
        "items_max_increase_percent",
        "items_max_decrease_percent",
        "items_refund_method",
        "items_payment_hours",
    )
    releases_hold = False  # the address window's hold is the address's business

    def decide(self, order: Order, policy: EditPolicy, *, now: Any) -> Decision:
        decision = super().decide(order, policy, now=now)
        if not decision:
            return decision
        if order.financial_status not in SETTLED:
            return Decision.no("payment_pending", PAYMENT_PENDING)
        if len(order.lines.all()) > MAX_LINES:
            return Decision.no("too_many_lines", self.contact_us)
        if not editable_lines(order, policy):
            return Decision.no(
                "nothing_editable", _("Nothing in this order can be changed any more.")
            )
        return decision

    def snapshot(self, order: Order) -> dict[str, Any]:
        return {
            "lines": [
                {
                    "id": line.shopify_id,
                    "variant": line.variant_id,
                    "title": line.title,
                    "variant_title": line.variant_title,
                    "quantity": line.quantity,
                }
                for line in order.lines.all()
            ],
            "total": str(order.total),
            "currency": order.currency,
        }

    def terms(self, policy: EditPolicy, after: Asked) -> Asked:
        return {**after, "refund_to": policy.items_refund_method}

    def compare(self, change: ChangeRequest) -> list[tuple[str, object, object]]:
        """The lines that change and the totals, for agents."""
        quote = change.after.get("quote", {})
        currency = quote.get("currency", change.order.currency)
        rows: list[tuple[str, object, object]] = [
            (described(line), line.get("before", 0), line["quantity"])
            for line in quote.get("lines", [])
        ]
        rows.append(
            (
                str(_("total")),
                formatting.money(Decimal(quote.get("original_total") or "0"), currency),
                formatting.money(Decimal(quote.get("total") or "0"), currency),
            )
        )
        result = change.shopify_result
        unconfirmed = result.get("refund_failed") == "unconfirmed"
        for key, label in (
            ("to_pay", _("to pay")),
            ("refunded", _("refunded")),
            (
                "to_refund",
                _("refund not confirmed: check Shopify") if unconfirmed else _("refund not made"),
            ),
        ):
            if result.get(key) and (key != "to_refund" or result.get("refund_failed")):
                amount = formatting.money(Decimal(result[key]), currency)
                rows.append((str(label), "", amount))
        return rows

    # The page.

    def page(self, page: Page) -> HttpResponse | Asked:
        order, policy = page.order, page.policy
        lines = editable_lines(order, policy)
        catalogue_of, unavailable = catalogues(lines)
        try:
            addable = catalogue.addable(order.shop, policy.items_add_tag)
        except catalogue.Unavailable:
            addable, unavailable = [], True
        data = page.request.POST if page.method == "POST" else None
        form = ItemsForm(
            data,
            order=order,
            lines=lines,
            catalogue_of=catalogue_of,
            addable=addable,
            policy=policy,
        )
        context: dict[str, Any] = {"form": form, "variants_unavailable": unavailable}
        step = page.request.POST.get("step")
        if not form.is_bound or step == "edit":
            return page.render("edits/change_items.html", context)
        if not form.is_valid():
            return page.render("edits/change_items.html", context, status=422)
        quantities, additions = plan(order, form.choices(), form.added())
        try:
            short = short_of_stock(order, quantities, additions)
            edit, refusal = (
                (None, str(NOT_IN_STOCK))
                if short
                else preview(order, policy, quantities, [a for a, _p in additions])
            )
        except (ShopifyError, ObjectDoesNotExist, catalogue.Unavailable) as error:
            logger.warning("no preview of %s's change: %s", order.name, error)
            form.add_error(None, NOT_AVAILABLE_NOW)
            return page.render("edits/change_items.html", context, status=503)
        if refusal or edit is None:
            form.add_error(None, refusal)
            return page.render("edits/change_items.html", context, status=422)
        quoted = quote(edit, order)
        shown = {**sums(quoted), "plan": fingerprint(order, quantities, additions)}
        if step == "confirm" and seen(page.request.POST.get("quoted", "")) == shown:
            titles = {choice.variant_id: choice.variant_title for choice in form.choices()}
            if form.added():
                titles[form.added().variant_id] = form.added().variant_title
            return {
                "quantities": {str(line): quantity for line, quantity in quantities.items()},
                "additions": [
                    {
                        "variant": addition.variant_id,
                        "quantity": addition.quantity,
                        "discount_percent": str(addition.discount_percent),
                        "duplicate": addition.duplicate,
                        "title": titles.get(addition.variant_id, ""),
                        "product": product,
                    }
                    for addition, product in additions
                ],
                "quote": quoted,
            }
        difference = edit.difference
        context |= {
            "quote": quoted,
            "quoted": signing.dumps(shown, salt=QUOTE_SALT),
            "price_changed": step == "confirm",
            "to_pay": max(difference, Decimal(0)),
            "to_refund": max(-difference, Decimal(0)),
            "by_store_credit": policy.items_refund_method == RefundMethod.STORE_CREDIT,
        }
        return page.render(
            "edits/change_items.html", context, status=409 if step == "confirm" else 200
        )

    # Shopify.

    def state(self, client: Client, request: ChangeRequest) -> EditableOrder:
        return calls.editable_order(client, request.order.shopify_id)

    def conflict(self, request: ChangeRequest, state: EditableOrder) -> str:
        if not state.editable:
            return "not_editable"
        if not state.settled:
            return "payment_pending"
        before = {line["id"]: line["quantity"] for line in request.before.get("lines", [])}
        for line_id in request.after.get("quantities", {}):
            now = state.lines.get(int(line_id))
            if now is None or now.quantity != before.get(int(line_id)):
                return "changed_meanwhile"
        return ""

    def already_done(self, request: ChangeRequest, state: EditableOrder) -> bool:
        """Committed by an attempt of ours: recorded, or (the answer lost) seen in the lines
        after an attempt that was committing. Lines that look right without such an attempt
        are the shop's doing: not ours to settle (the conflict check says they changed)."""
        result = request.shopify_result
        if result.get("committed"):
            return True
        if not result.get("committing"):
            return False
        for line_id, quantity in request.after.get("quantities", {}).items():
            now = state.lines.get(int(line_id))
            if now is None or now.quantity != quantity:
                return False
        before = {line["id"] for line in request.before.get("lines", [])}
        wanted: dict[int, int] = {}
        for added in request.after.get("additions", []):
            wanted[added["variant"]] = wanted.get(added["variant"], 0) + added["quantity"]
        for variant, quantity in wanted.items():
            fresh = [
                line
                for line in state.lines.values()
                if line.variant_id == variant and line.id not in before
            ]
            if sum(line.quantity for line in fresh) != quantity:
                return False
        return True

    def send(self, client: Client, request: ChangeRequest, state: EditableOrder) -> None:
        """Stage the edit again and commit it, if the stock is still there and Shopify still
        comes to what the shopper accepted; then record at once that Shopify has it."""
        order, after = request.order, request.after
        quantities = {int(k): int(v) for k, v in after.get("quantities", {}).items()}
        additions = [
            (
                Addition(
                    int(added["variant"]),
                    int(added["quantity"]),
                    Decimal(added.get("discount_percent") or "0"),
                    added.get("note") or DISCOUNT_NOTE,
                    bool(added.get("duplicate")),
                ),
                int(added["product"]),
            )
            for added in after.get("additions", [])
        ]
        try:
            short = short_of_stock(order, quantities, additions, fresh=True)
        except catalogue.Unavailable as error:
            raise Transient("variants not read") from error
        if short:
            raise outbox.Conflict("sold_out")
        edit = calls.stage_edit(
            client, order.shopify_id, quantities=quantities, additions=[a for a, _p in additions]
        )
        if sums(quote(edit, order)) != sums(after.get("quote", {})):
            raise outbox.Conflict("price_changed")
        actions.note_result(
            request=request, committing=edit.id, received_before=str(state.received.amount)
        )
        calls.commit_edit(client, edit.id, notify=False, staff_note=STAFF_NOTE)
        actions.note_result(request=request, committed=True)

    def settle_money(self, client: Client, request: ChangeRequest) -> dict[str, Any]:
        """The edit is in Shopify: the order owes the difference (held at the warehouse until
        paid), or is owed it (refunded once), or neither."""
        difference, currency = accepted(request)
        state = calls.editable_order(client, request.order.shopify_id)
        if difference > 0:
            held = holds.hold_for_payment(client, request.order)
            owed = state.outstanding.amount
            return {
                "to_pay": str(owed if owed > 0 else difference),
                "currency": currency,
                "payment_url": state.payment_url,
                "held": held > 0,
                "received_before": request.shopify_result.get("received_before")
                or str(state.received.amount),
                "pay_by": pay_by(request.order),
            }
        if difference < 0:
            return refund(client, request, state, Money(-difference, currency))
        return {}

    def unsettled(self, request: ChangeRequest, code: str) -> dict[str, Any]:
        """Shopify has the edit, but what follows it could not be done in time (Shopify
        unreachable for the hold or the refund): the change stands, and the money is an agent's
        business (a payment still waits, a refund is not made)."""
        difference, currency = accepted(request)
        if difference > 0:
            return {
                "to_pay": str(difference),
                "currency": currency,
                "held": False,
                "received_before": request.shopify_result.get("received_before", ""),
                "pay_by": pay_by(request.order),
            }
        if difference < 0:
            # A refund asked for whose answer never came may have been made: agents look first.
            failed = "unconfirmed" if request.shopify_result.get("refunding") else code
            return {"to_refund": str(-difference), "currency": currency, "refund_failed": failed}
        return {}


def accepted(request: ChangeRequest) -> tuple[Decimal, str]:
    """The difference the shopper accepted (negative: owed back), and its currency."""
    quoted = request.after["quote"]
    return Decimal(quoted["total"]) - Decimal(quoted["original_total"]), quoted["currency"]


def pay_by(order: Order) -> str:
    """Until when the shopper has to pay a difference before an agent looks."""
    hours = EditPolicy.for_shop(order.shop).items_payment_hours
    return (timezone.now() + timedelta(hours=hours)).isoformat()


def refund(
    client: Client, request: ChangeRequest, state: EditableOrder, back: Money
) -> dict[str, Any]:
    """Give the difference back, once: to a payment that has that much left (the one chosen
    first, if an attempt was lost) or as store credit, as the policy says. A refund Shopify
    refuses, or a card payment with too little left, is the agents' to make."""
    result: dict[str, Any] = {"to_refund": str(back.amount), "currency": back.currency}
    payment = None
    if request.after.get("refund_to") != RefundMethod.STORE_CREDIT:
        chosen = request.shopify_result.get("refund_payment")
        payment = next((t for t in state.transactions if t.id == chosen), None) or (
            state.payment_for(back.amount)
        )
        if payment is None:
            return {**result, "refund_failed": "no_payment"}
    actions.note_result(
        request=request, refunding=True, refund_payment=payment.id if payment else ""
    )
    try:
        calls.refund(
            client,
            request.order.shopify_id,
            amount=back,
            key=f"portal-change-{request.pk}",
            to_payment=payment,
            note=STAFF_NOTE,
        )
    except (UserErrors, Permanent) as refused:
        logger.warning("refund for %s refused: %s", request.order.name, refused)
        return {**result, "refund_failed": "refused", "refund_detail": str(refused)[:500]}
    return {
        "refunded": str(back.amount),
        "currency": back.currency,
        "refund_to": RefundMethod.ORIGINAL if payment else RefundMethod.STORE_CREDIT,
    }


def preview(
    order: Order, policy: EditPolicy, quantities: dict[int, int], additions: list[Addition]
) -> tuple[OrderEdit | None, str]:
    """Stage the edit, uncommitted: what Shopify makes of it, or why it cannot be (in the
    shopper's words: the order, or the policy's limits on the difference). Raises
    `ShopifyError` when Shopify cannot be asked."""
    edit, refusal = stage(order, quantities, additions)
    if edit is None:
        return None, refusal
    return edit, money_refusal(edit, policy)


def stage(
    order: Order, quantities: dict[int, int], additions: list[Addition]
) -> tuple[OrderEdit | None, str]:
    """The edit staged as `preview` stages it, whatever the policy says of the difference (an
    item the shop itself offers)."""
    client = Client.for_shop(order.shop)
    state = calls.editable_order(client, order.shopify_id)
    if state.cancelled or not state.editable:
        return None, str(NOT_EDITABLE)
    if not state.settled:
        return None, str(PAYMENT_PENDING)
    try:
        edit = calls.stage_edit(
            client, order.shopify_id, quantities=quantities, additions=additions
        )
    except UserErrors as refused:
        logger.info("edit of %s refused at the preview: %s", order.name, refused)
        return None, str(
            _("The shop cannot make this change. Please choose differently or contact us.")
        )
    return edit, ""


def seen(token: str, salt: str = QUOTE_SALT) -> dict[str, str] | None:
    """The sums the shopper saw in the preview, from the confirmation's signed field (an hour
    at most; `salt` keeps one page's confirmation from counting on another)."""
    try:
        return signing.loads(token, salt=salt, max_age=3600)
    except signing.BadSignature:
        return None


def sums(quoted: dict[str, Any]) -> dict[str, str]:
    """What must not change between what the shopper saw and what is committed."""
    return {key: str(quoted.get(key, "")) for key in ("currency", "original_total", "total")}


def described(line: dict[str, Any]) -> str:
    return " · ".join(part for part in (line.get("title"), line.get("variant_title")) if part)


def editable_lines(order: Order, policy: EditPolicy) -> list[LineItem]:
    """The lines the shopper may change: nothing of them shipped or started, not locked by a
    product tag."""
    locked = {tag.casefold() for tag in policy.items_locked_tags}
    return [
        line
        for line in order.lines.all()
        if line.quantity > 0
        and line.fulfillable_quantity == line.quantity
        and not locked & {tag.casefold() for tag in line.product_tags}
    ]


def catalogues(lines: list[LineItem]) -> tuple[dict[int, list[Variant]], bool]:
    """Line pk -> every variant of its product (its own too: its stock limits a larger
    quantity); and whether Shopify could not be asked (then quantities only go down)."""
    found: dict[int, list[Variant]] = {}
    try:
        for line in lines:
            if line.product_id:
                found[line.pk] = catalogue.variants(line.order.shop, line.product_id)
    except catalogue.Unavailable:
        return {}, True
    return found, False


def short_of_stock(
    order: Order,
    quantities: dict[int, int],
    additions: Iterable[tuple[Addition, int]],
    *,
    fresh: bool = False,
) -> bool:
    """Would the change take more of a variant than Shopify may sell? The order's own units are
    counted as its already (Shopify committed them at checkout). Raises `catalogue.Unavailable`
    when Shopify cannot be asked."""
    lines = {line.shopify_id: line for line in order.lines.all()}
    more: dict[int, tuple[int, int | None]] = {}  # variant -> (units more, its product)
    for line_id, quantity in quantities.items():
        line = lines.get(line_id)
        if line is not None and line.variant_id and quantity > line.quantity:
            more[line.variant_id] = (quantity - line.quantity, line.product_id)
    for addition, product in additions:
        more[addition.variant_id] = (addition.quantity, product)
    for variant_id, (units, product_id) in more.items():
        if not product_id:
            return True
        variants = catalogue.variants(order.shop, product_id, fresh=fresh)
        found = next((v for v in variants if v.id == variant_id), None)
        if found is None or not found.can_sell(units):
            return True
    return False


def named(product: Product, variant: Variant, sold_out: Any) -> str:
    """ "Wool beanie · Grey", or the product's title alone for its only variant."""
    name = product.title
    if variant.title and variant.title != "Default Title":
        name = f"{product.title} · {variant.title}"
    return str(sold_out % {"variant": name}) if sold_out and not variant.available else name


def room(line: LineItem, variants: list[Variant] | None) -> int:
    """How many more of a line the shopper may ask for: none when Shopify could not be asked,
    at most what it may still sell."""
    own = next((v for v in variants or [] if v.id == line.variant_id), None)
    if own is None or not own.available:
        return 0
    return MAX_MORE if own.stock is None else min(MAX_MORE, own.stock)


class ItemsForm(forms.Form):
    """One quantity and one variant per line the shopper may change."""

    def __init__(
        self,
        data: Any,
        *,
        order: Order,
        lines: list[LineItem],
        catalogue_of: dict[int, list[Variant]],
        addable: list[Product],
        policy: EditPolicy,
    ) -> None:
        super().__init__(data)
        self.order, self.lines = order, lines
        self.addable = {
            variant.id: (product, variant) for product in addable for variant in product.variants
        }
        self.options = {
            line.pk: [v for v in catalogue_of.get(line.pk, []) if v.id != line.variant_id]
            for line in lines
        }
        for line in lines:
            if policy.items_quantity:
                more = room(line, catalogue_of.get(line.pk))
                self.fields[f"quantity_{line.pk}"] = forms.TypedChoiceField(
                    label=_("Quantity of %(item)s") % {"item": line.title},
                    choices=[(n, str(n)) for n in range(0, line.quantity + more + 1)],
                    coerce=int,
                    initial=line.quantity,
                )
            others = self.options[line.pk] if policy.items_swap else []
            if others:
                sold_out = _("%(variant)s (sold out)")
                choices = [(str(line.variant_id), line.variant_title or line.title)] + [
                    (str(v.id), v.title if v.available else sold_out % {"variant": v.title})
                    for v in others
                ]
                self.fields[f"variant_{line.pk}"] = forms.ChoiceField(
                    label=_("Size or colour of %(item)s") % {"item": line.title},
                    choices=choices,
                    initial=str(line.variant_id),
                )

        if self.addable:
            sold_out = _("%(variant)s (sold out)")
            self.fields["add_variant"] = forms.ChoiceField(
                label=_("Add an item"),
                required=False,
                choices=[("", _("Nothing"))]
                + [
                    (str(variant.id), named(product, variant, sold_out))
                    for product, variant in self.addable.values()
                ],
            )
            self.fields["add_quantity"] = forms.TypedChoiceField(
                label=_("How many to add"),
                choices=[(n, str(n)) for n in range(1, MAX_MORE + 1)],
                coerce=int,
                initial=1,
            )

    def rows(self) -> list[dict[str, Any]]:
        """Per line: the line and its fields, for the template."""
        return [
            {
                "line": line,
                "quantity": self._bound(f"quantity_{line.pk}"),
                "variant": self._bound(f"variant_{line.pk}"),
            }
            for line in self.lines
        ]

    def _bound(self, name: str) -> forms.BoundField | None:
        return self[name] if name in self.fields else None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        for line in self.lines:
            variant = cleaned.get(f"variant_{line.pk}")
            if variant and variant != str(line.variant_id):
                chosen = next((v for v in self.options[line.pk] if str(v.id) == variant), None)
                if chosen is None or not chosen.available:
                    self.add_error(
                        f"variant_{line.pk}", _("This one is sold out. Please choose another.")
                    )
        chosen = self.addable.get(int(cleaned.get("add_variant") or 0))
        if cleaned.get("add_variant") and (chosen is None or not chosen[1].available):
            self.add_error("add_variant", _("This one is sold out. Please choose another."))
        if self.errors:
            return cleaned
        choices = self.choices()
        if not self.added() and not any(
            c.quantity != c.line.quantity or c.variant_id != c.line.variant_id for c in choices
        ):
            raise forms.ValidationError(NOTHING_CHANGED, code="unchanged")
        untouched = sum(line.quantity for line in self.order.lines.all() if line not in self.lines)
        if not untouched and not sum(c.quantity for c in choices) and not self.added():
            raise forms.ValidationError(
                _("To remove every item, cancel the order instead."), code="everything_removed"
            )
        return cleaned

    def added(self) -> Extra | None:
        """The item the shopper adds, if any."""
        chosen = self.addable.get(int(self.cleaned_data.get("add_variant") or 0))
        if chosen is None:
            return None
        product, variant = chosen
        return Extra(
            variant.id,
            product.id,
            int(self.cleaned_data.get("add_quantity") or 1),
            named(product, variant, ""),
        )

    def choices(self) -> list[Choice]:
        found = []
        for line in self.lines:
            quantity = self.cleaned_data.get(f"quantity_{line.pk}", line.quantity)
            chosen = self.cleaned_data.get(f"variant_{line.pk}")
            variant = int(chosen) if chosen else line.variant_id  # none: a custom item
            title = next(
                (v.title for v in self.options[line.pk] if v.id == variant),
                line.variant_title,
            )
            found.append(Choice(line, int(quantity), variant, title))
        return found


def plan(
    order: Order, choices: list[Choice], added: Extra | None = None
) -> tuple[dict[int, int], list[tuple[Addition, int]]]:
    """The shopper's choices as Shopify's edit: each line's new quantity, and the variants to
    add (with their product). A swap sets its line to 0 and adds the new variant at the old
    line's discount rate; an item added comes at its price. Units of one variant at different
    rates are separate lines. A variant that one of the lines the shopper may change holds
    already raises that line's quantity instead."""
    quantities: dict[int, int] = {}
    wanted: dict[tuple[int, Decimal], int] = {}  # (variant, discount %) -> units
    products: dict[int, int] = {}
    for choice in choices:
        line = choice.line
        if choice.variant_id == line.variant_id:
            if choice.quantity != line.quantity:
                quantities[line.shopify_id] = choice.quantity
            continue
        quantities[line.shopify_id] = 0
        key = (choice.variant_id, rate(line))
        wanted[key] = wanted.get(key, 0) + choice.quantity
        products[choice.variant_id] = line.product_id or 0
    if added is not None:
        key = (added.variant_id, Decimal(0))
        wanted[key] = wanted.get(key, 0) + added.quantity
        products[added.variant_id] = added.product_id
    holding = {line.variant_id: line for line in changeable(order, choices)}
    additions: list[tuple[Addition, int]] = []
    for (variant, percent), quantity in sorted(wanted.items(), key=lambda item: -item[0][1]):
        if not quantity:
            continue
        held = holding.get(variant)
        if held is not None and not percent:
            quantities[held.shopify_id] = quantities.get(held.shopify_id, held.quantity) + quantity
            continue
        duplicate = held is not None or any(a.variant_id == variant for a, _p in additions)
        addition = Addition(variant, quantity, percent, DISCOUNT_NOTE, duplicate)
        additions.append((addition, products[variant]))
    return quantities, additions


def rate(line: LineItem) -> Decimal:
    """The line's discount, as a percentage of its price."""
    if not line.price or line.unit_paid >= line.price:
        return Decimal(0)
    return ((line.price - line.unit_paid) * 100 / line.price).quantize(Decimal("0.000001"))


def changeable(order: Order, choices: list[Choice]) -> list[LineItem]:
    """The lines the shopper chose for (those a swap may merge into)."""
    chosen = {choice.line.pk for choice in choices}
    return [line for line in order.lines.all() if line.pk in chosen and line.variant_id]


def fingerprint(
    order: Order, quantities: dict[int, int], additions: list[tuple[Addition, int]]
) -> str:
    """The order and the edit planned: a confirmation holds for this plan only."""
    planned = sorted((str(line), quantity) for line, quantity in quantities.items())
    added = sorted(
        (str(a.variant_id), a.quantity, str(a.discount_percent), a.duplicate) for a, _p in additions
    )
    return f"{order.pk}:{planned}:{added}"


def money_refusal(edit: OrderEdit, policy: EditPolicy) -> str:
    """Why the policy does not allow this difference, or nothing."""
    difference, original = edit.difference, edit.original_total.amount
    if policy.items_same_price_only and difference:
        return str(_("Only changes that keep the total as it is are possible for this order."))
    rise, fall = policy.items_max_increase_percent, policy.items_max_decrease_percent
    if rise is not None and difference > 0 and difference * 100 > original * rise:
        return str(_("This change would raise the total more than the shop allows."))
    if fall is not None and difference < 0 and -difference * 100 > original * fall:
        return str(_("This change would lower the total more than the shop allows."))
    return ""


def in_shop_currency(edit: OrderEdit) -> dict[str, str]:
    """The difference in the shop's currency too, when Shopify said it (the merchant's
    reports count in one currency)."""
    before, after = edit.original_in_shop, edit.total_in_shop
    if before is None or after is None or not after.currency:
        return {}
    return {"shop_currency": after.currency, "shop_difference": str(after.amount - before.amount)}


def quote(edit: OrderEdit, order: Order) -> dict[str, Any]:
    """What the shopper saw and accepted, kept with the request (and compared by the worker):
    the totals, and each line that changes, from how many to how many."""
    before = {line.shopify_id: line.quantity for line in order.lines.all()}
    return {
        "currency": edit.total.currency,
        "original_total": str(edit.original_total.amount),
        "total": str(edit.total.amount),
        "difference": str(edit.difference),
        **in_shop_currency(edit),
        "lines": [
            {
                "line": line.line_id,
                "title": line.title,
                "variant_title": line.variant_title,
                "before": before.get(line.line_id, 0) if line.line_id else 0,
                "quantity": line.quantity,
                "unit_price": str(line.unit_price),
                "total": str(line.total),
            }
            for line in edit.lines
        ],
    }


ITEMS = kinds.register(Items())
