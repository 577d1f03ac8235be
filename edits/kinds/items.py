"""Item changes before fulfilment: another size or colour of the same product, another quantity,
a line removed. The shopper chooses per line, sees the new lines and the new total as Shopify
calculates them (its prices for the order's market, its taxes and discounts, in the order's
currency), and what happens to the difference: nothing to pay, a payment on Shopify's own page,
or money back to the card or as store credit (the policy's choice).

In Shopify it is one order edit: `orderEditBegin`, each line's new quantity (0 removes it; a swap
is the old line at 0 and the new variant added), `orderEditCommit`. The preview stages the same
edit without committing it; the worker stages it again and commits only if Shopify still comes to
the total the shopper accepted. Committing never moves money: a dearer order is held at the
warehouse (`holds.hold_for_payment`) until Shopify reports the balance paid; a cheaper one is
refunded, once (`refundCreate`, idempotent under the request's key).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _

from edits import holds, kinds
from edits.forms import NOTHING_CHANGED
from edits.kinds.base import Asked, ChangeKind, Page
from edits.models import ChangeRequest, EditPolicy, RefundMethod
from orders.decisions import Decision
from orders.models import LineItem, Order
from orders.requests import explain
from shopify import calls, catalogue, outbox
from shopify.calls import Addition, EditableOrder, Money, OrderEdit
from shopify.client import Client, ShopifyError, Transient

MAX_MORE = 5  # how many more of a line a shopper may ask for
STAFF_NOTE = "Changed by the customer in the order portal"

explain(
    "conflict:price_changed",
    _("The price changed in the meantime. Please check the new total and ask again."),
)
explain(
    "conflict:sold_out",
    _("An item you chose is no longer in stock. Please choose again."),
)
explain("conflict:not_editable", _("This order can no longer be changed. Please contact us."))


@dataclass(frozen=True)
class Choice:
    """What the shopper chose for one line: how many, of which variant."""

    line: LineItem
    quantity: int
    variant_id: int
    variant_title: str


class Items(ChangeKind):
    code = "items"
    position = 15
    label = _("Items")
    offer = _("Change sizes, colours or quantities")
    contact_us = _("Please contact us to change the items of this order.")
    closed_at = _("Changes to the items closed at %(time)s.")
    path = "change/items/"
    summary_template = "edits/kinds/_items.html"

    policy_fields = (
        "items_swap",
        "items_quantity",
        "items_same_price_only",
        "items_locked_tags",
        "items_max_increase_percent",
        "items_max_decrease_percent",
        "items_refund_method",
        "items_payment_hours",
    )
    releases_hold = False  # the address window's hold is the address's business

    def decide(self, order: Order, policy: EditPolicy, *, now: Any) -> Decision:
        decision = super().decide(order, policy, now=now)
        if decision and not editable_lines(order, policy):
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

    # The page.

    def page(self, page: Page) -> HttpResponse | Asked:
        order, policy = page.order, page.policy
        lines = editable_lines(order, policy)
        options, unavailable = variant_options(lines, policy)
        data = page.request.POST if page.method == "POST" else None
        form = ItemsForm(data, order=order, lines=lines, options=options, policy=policy)
        context: dict[str, Any] = {"form": form, "variants_unavailable": unavailable}
        step = page.request.POST.get("step")
        if not form.is_bound or step == "edit":
            return page.render("edits/change_items.html", context)
        if not form.is_valid():
            return page.render("edits/change_items.html", context, status=422)
        quantities, additions = plan(order, form.choices())
        try:
            edit = calls.stage_edit(
                Client.for_shop(order.shop),
                order.shopify_id,
                quantities=quantities,
                additions=[addition for addition, _line in additions],
            )
        except ShopifyError:
            form.add_error(
                None, _("We cannot calculate the new total right now. Please try again shortly.")
            )
            return page.render("edits/change_items.html", context, status=503)
        refusal = money_refusal(edit, policy)
        if refusal:
            form.add_error(None, refusal)
            return page.render("edits/change_items.html", context, status=422)
        if step != "confirm":
            owed = edit.outstanding.amount
            context |= {
                "edit": edit,
                "to_pay": max(owed, Decimal(0)),
                "to_refund": max(-owed, Decimal(0)),
                "by_store_credit": policy.items_refund_method == RefundMethod.STORE_CREDIT,
            }
            return page.render("edits/change_items.html", context)
        titles = {choice.variant_id: choice.variant_title for choice in form.choices()}
        return {
            "quantities": {str(line): quantity for line, quantity in quantities.items()},
            "additions": [
                {
                    "variant": addition.variant_id,
                    "quantity": addition.quantity,
                    "title": titles.get(addition.variant_id, ""),
                    "line": line.shopify_id,  # the line it replaces (its product)
                }
                for addition, line in additions
            ],
            "quote": quote(edit),
        }

    # Shopify.

    def state(self, client: Client, request: ChangeRequest) -> EditableOrder:
        return calls.editable_order(client, request.order.shopify_id)

    def conflict(self, request: ChangeRequest, state: EditableOrder) -> str:
        if not state.editable:
            return "not_editable"
        before = {line["id"]: line["quantity"] for line in request.before.get("lines", [])}
        for line_id in request.after.get("quantities", {}):
            now = state.lines.get(int(line_id))
            if now is None or now.quantity != before.get(int(line_id)):
                return "changed_meanwhile"
        return ""

    def already_done(self, request: ChangeRequest, state: EditableOrder) -> bool:
        for line_id, quantity in request.after.get("quantities", {}).items():
            now = state.lines.get(int(line_id))
            if now is None or now.quantity != quantity:
                return False
        before = {line["variant"] for line in request.before.get("lines", [])}
        for added in request.after.get("additions", []):
            fresh = [
                line
                for line in state.lines.values()
                if line.variant_id == added["variant"] and added["variant"] not in before
            ]
            if sum(line.quantity for line in fresh) != added["quantity"]:
                return False
        return True

    def send(self, client: Client, request: ChangeRequest) -> None:
        """Stage the edit again and commit it, if every variant added is still in stock and
        Shopify still comes to what the shopper accepted."""
        order = request.order
        additions = []
        for added in request.after.get("additions", []):
            line = order.lines.filter(shopify_id=added["line"]).first()
            try:
                in_stock = line is not None and catalogue.still_in_stock(line, added["variant"])
            except catalogue.Unavailable as error:
                raise Transient("variants not read") from error
            if not in_stock:
                raise outbox.Conflict("sold_out")
            additions.append(Addition(int(added["variant"]), int(added["quantity"])))
        edit = calls.stage_edit(
            client,
            order.shopify_id,
            quantities={int(k): int(v) for k, v in request.after.get("quantities", {}).items()},
            additions=additions,
        )
        accepted = Decimal(request.after.get("quote", {}).get("outstanding", "0"))
        if abs(edit.outstanding.amount - accepted) > Decimal("0.01"):
            raise outbox.Conflict("price_changed")
        calls.commit_edit(client, edit.id, notify=False, staff_note=STAFF_NOTE)

    def settle_money(self, client: Client, request: ChangeRequest) -> dict[str, str]:
        """The edit is in Shopify: the order owes the difference (held until paid), or is owed
        it (refunded once), or neither."""
        state = calls.editable_order(client, request.order.shopify_id)
        owed = state.outstanding
        if owed.amount > 0:
            holds.hold_for_payment(client, request.order)
            return {
                "to_pay": str(owed.amount),
                "currency": owed.currency,
                "payment_url": state.payment_url,
            }
        if owed.amount < 0:
            to_card = request.after.get("refund_to") != RefundMethod.STORE_CREDIT
            payment = state.refundable_payment if to_card else None
            back = Money(-owed.amount, owed.currency)
            calls.refund(
                client,
                request.order.shopify_id,
                amount=back,
                key=f"portal-change-{request.pk}",
                to_payment=payment,
                note=STAFF_NOTE,
            )
            return {
                "refunded": str(back.amount),
                "currency": back.currency,
                "refund_to": RefundMethod.ORIGINAL if payment else RefundMethod.STORE_CREDIT,
            }
        return {}


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


def variant_options(
    lines: list[LineItem], policy: EditPolicy
) -> tuple[dict[int, list[calls.Variant]], bool]:
    """Line pk -> the other variants of its product (in stock or not: the page says which);
    and whether Shopify could not be asked."""
    if not policy.items_swap:
        return {}, False
    options: dict[int, list[calls.Variant]] = {}
    try:
        for line in lines:
            options[line.pk] = catalogue.exchange_options(line)
    except catalogue.Unavailable:
        return {}, True
    return options, False


class ItemsForm(forms.Form):
    """One quantity and one variant per line the shopper may change."""

    def __init__(
        self,
        data: Any,
        *,
        order: Order,
        lines: list[LineItem],
        options: dict[int, list[calls.Variant]],
        policy: EditPolicy,
    ) -> None:
        super().__init__(data)
        self.order, self.lines, self.options = order, lines, options
        for line in lines:
            if policy.items_quantity:
                self.fields[f"quantity_{line.pk}"] = forms.TypedChoiceField(
                    label=_("Quantity"),
                    choices=[(n, str(n)) for n in range(0, line.quantity + MAX_MORE + 1)],
                    coerce=int,
                    initial=line.quantity,
                )
            others = options.get(line.pk) or []
            if others:
                sold_out = _("%(variant)s (sold out)")
                choices = [(str(line.variant_id), line.variant_title or line.title)] + [
                    (str(v.id), v.title if v.available else sold_out % {"variant": v.title})
                    for v in others
                ]
                self.fields[f"variant_{line.pk}"] = forms.ChoiceField(
                    label=_("Size or colour"), choices=choices, initial=str(line.variant_id)
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
                others = self.options.get(line.pk, [])
                chosen = next((v for v in others if str(v.id) == variant), None)
                if chosen is None or not chosen.available:
                    self.add_error(
                        f"variant_{line.pk}", _("This one is sold out. Please choose another.")
                    )
        if self.errors:
            return cleaned
        choices = self.choices()
        if not any(
            c.quantity != c.line.quantity or c.variant_id != c.line.variant_id for c in choices
        ):
            raise forms.ValidationError(NOTHING_CHANGED, code="unchanged")
        untouched = sum(line.quantity for line in self.order.lines.all() if line not in self.lines)
        if not untouched and not sum(c.quantity for c in choices):
            raise forms.ValidationError(
                _("To remove every item, cancel the order instead."), code="everything_removed"
            )
        return cleaned

    def choices(self) -> list[Choice]:
        found = []
        for line in self.lines:
            quantity = self.cleaned_data.get(f"quantity_{line.pk}", line.quantity)
            variant = self.cleaned_data.get(f"variant_{line.pk}") or str(line.variant_id)
            title = next(
                (v.title for v in self.options.get(line.pk, []) if str(v.id) == variant),
                line.variant_title,
            )
            found.append(Choice(line, int(quantity), int(variant), title))
        return found


def plan(
    order: Order, choices: list[Choice]
) -> tuple[dict[int, int], list[tuple[Addition, LineItem]]]:
    """The shopper's choices as Shopify's edit: each line's new quantity, and the variants to
    add (with the line each replaces). A swap sets its line to 0 and adds the new variant, or
    raises the quantity of the line that already holds it (Shopify adds no second line of one
    variant)."""
    quantities: dict[int, int] = {}
    wanted: dict[int, tuple[int, LineItem]] = {}
    for choice in choices:
        line = choice.line
        if choice.variant_id == line.variant_id:
            if choice.quantity != line.quantity:
                quantities[line.shopify_id] = choice.quantity
        else:
            quantities[line.shopify_id] = 0
            before = wanted.get(choice.variant_id, (0, line))[0]
            wanted[choice.variant_id] = (before + choice.quantity, line)
    holding = {line.variant_id: line for line in order.lines.all() if line.variant_id}
    additions = []
    for variant, (quantity, replaced) in wanted.items():
        if not quantity:
            continue
        held = holding.get(variant)
        if held is not None:
            quantities[held.shopify_id] = quantities.get(held.shopify_id, held.quantity) + quantity
        else:
            additions.append((Addition(variant, quantity), replaced))
    return quantities, additions


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


def quote(edit: OrderEdit) -> dict[str, Any]:
    """What the shopper saw and accepted, kept with the request (and compared by the worker)."""
    return {
        "currency": edit.total.currency,
        "original_total": str(edit.original_total.amount),
        "total": str(edit.total.amount),
        "outstanding": str(edit.outstanding.amount),
        "lines": [
            {
                "title": line.title,
                "variant_title": line.variant_title,
                "quantity": line.quantity,
                "unit_price": str(line.unit_price),
            }
            for line in edit.lines
            if line.quantity
        ],
    }


ITEMS = kinds.register(Items())
