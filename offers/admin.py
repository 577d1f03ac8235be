"""The merchant's offers in the admin: chosen from the shop's own catalogue, targeted with
checkboxes and words (never JSON), and read back as a funnel per day."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from babel import Locale
from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import translation
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from offers import events, funnel
from offers.models import Discount, Offer
from orders import formatting
from orders.form_fields import WordsField
from orders.models import LineItem, OrderEvent, Shop
from shopify import catalogue
from shopify.calls import Product

UNREACHABLE = _(
    "Shopify cannot be asked right now, so its products cannot be listed: enter the product's "
    "number (the last part of its address in Shopify's admin), or try again shortly."
)


def countries() -> list[tuple[str, str]]:
    """Every country, named in the admin's language, by name."""
    language = translation.get_language() or "en"
    try:
        locale = Locale.parse(translation.to_locale(language))
    except ValueError:
        locale = Locale.parse("en")
    names = {
        code: name
        for code, name in locale.territories.items()
        if len(code) == 2 and code.isalpha() and code not in {"ZZ", "EU", "EZ", "UN", "QO"}
    }
    return sorted(names.items(), key=lambda item: item[1])


class OfferForm(forms.ModelForm):
    product = forms.TypedChoiceField(label=_("product"), coerce=int, choices=[])
    variant_ids = forms.TypedMultipleChoiceField(
        label=_("variants"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every variant of the product Shopify may sell."),
    )
    for_products = forms.TypedMultipleChoiceField(
        label=_("orders holding one of these products"),
        coerce=int,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    for_product_types = forms.MultipleChoiceField(
        label=_("orders holding one of these product types"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    for_order_tags = WordsField(label=_("orders with one of these tags"))
    countries = forms.MultipleChoiceField(
        label=_("delivered to"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("None chosen: every country."),
    )
    languages = forms.MultipleChoiceField(
        label=_("shoppers reading"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every language."),
    )

    class Meta:
        model = Offer
        fields = [
            "shop",
            "name",
            "active",
            "discount",
            "discount_value",
            "min_total",
            "max_total",
            "priority",
            "starts_at",
            "ends_at",
            "daily_cap",
            "experiment",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        shop = self._shop()
        if shop is not None and not self.instance.shop_id:
            self.fields["shop"].initial = shop.pk
        self.products: list[Product] = []
        try:
            self.products = catalogue.products(shop) if shop is not None else []
        except catalogue.Unavailable:
            self.fields["product"] = forms.IntegerField(
                label=_("product number"), min_value=1, help_text=UNREACHABLE
            )
            self.fields["for_products"].help_text = UNREACHABLE
        # What the offer holds stays a choice, whether Shopify lists it now or not (it may be
        # unreachable, or list only the first 250): saving never drops a condition unseen.
        titles = {p.id: p.title for p in self.products}
        if self.instance.product_id and self.instance.product_id not in titles:
            titles[self.instance.product_id] = self.instance.product_title or str(
                self.instance.product_id
            )
        if isinstance(self.fields["product"], forms.ChoiceField):
            self.fields["product"].choices = [("", "---------"), *titles.items()]
        known = {
            **titles,
            **{int(p): titles.get(int(p), str(p)) for p in self.instance.for_products},
        }
        self.fields["for_products"].choices = list(known.items())
        types = {p.product_type for p in self.products if p.product_type}
        if shop is not None:
            types |= set(
                LineItem.objects.filter(order__shop=shop)
                .exclude(product_type="")
                .values_list("product_type", flat=True)
                .distinct()[:200]
            )
        types |= set(self.instance.for_product_types or [])
        self.fields["for_product_types"].choices = [(t, t) for t in sorted(types, key=str.casefold)]
        self.fields["countries"].choices = countries()
        self.fields["languages"].choices = [
            (code, name)
            for code, name in settings.LANGUAGES
            if shop is None
            or code in {c for c, _n in shop.languages}
            or code in self.instance.languages
        ]
        self.fields["variant_ids"].choices = self._variants(shop)
        if shop is not None:
            currency = shop.currency
            for name in ("min_total", "max_total"):
                self.fields[name].help_text = _(
                    "In %(currency)s. An order paid in another currency is compared at the "
                    "rate Shopify charged it."
                ) % {"currency": currency}
        if self.instance.pk:
            self.initial.update(
                product=self.instance.product_id,
                variant_ids=self.instance.variant_ids,
                for_products=self.instance.for_products,
                for_product_types=self.instance.for_product_types,
                for_order_tags=self.instance.for_order_tags,
                countries=self.instance.countries,
                languages=self.instance.languages,
            )

    def _shop(self) -> Shop | None:
        """The offer's shop: the one chosen in the form, its own, or the only one."""
        chosen = self.data.get("shop") if self.is_bound else None
        if chosen and str(chosen).isdigit():
            found = Shop.objects.filter(pk=int(chosen)).first()
            if found is not None:
                return found
        return self.instance.shop if self.instance.shop_id else Shop.objects.first()

    def _variants(self, shop: Shop | None) -> list[tuple[int, str]]:
        if shop is None or not self.instance.product_id:
            self.fields["variant_ids"].help_text = _(
                "Save the offer first: then you can choose among the product's variants."
            )
            return []
        try:
            found = catalogue.variants(shop, self.instance.product_id)
        except catalogue.Unavailable:
            self.fields["variant_ids"].help_text = UNREACHABLE
            return [(v, str(v)) for v in self.instance.variant_ids]
        return [(v.id, v.title) for v in found]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        low, high = cleaned.get("min_total"), cleaned.get("max_total")
        if low is not None and high is not None and low > high:
            self.add_error("max_total", _("The highest total is below the lowest."))
        value, kind = cleaned.get("discount_value"), cleaned.get("discount")
        if value is not None and kind == Discount.PERCENT and value > 100:
            self.add_error("discount_value", _("A percentage is at most 100."))
        starts, ends = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("The end is before the start."))
        if cleaned.get("product") and cleaned["product"] != self.instance.product_id:
            cleaned["variant_ids"] = []  # another product: its own variants, chosen next
        return cleaned

    def save(self, commit: bool = True) -> Offer:
        offer: Offer = super().save(commit=False)
        data = self.cleaned_data
        offer.product_id = data["product"]
        offer.product_title = next(
            (p.title for p in self.products if p.id == offer.product_id), offer.product_title
        )
        offer.variant_ids = data.get("variant_ids") or []
        offer.for_products = data.get("for_products") or []
        offer.for_product_types = data.get("for_product_types") or []
        offer.for_order_tags = data.get("for_order_tags") or []
        offer.countries = data.get("countries") or []
        offer.languages = data.get("languages") or []
        if commit:
            offer.save()
        return offer


def _count(kind: str) -> Subquery:
    events_of = OrderEvent.objects.filter(
        subject_type=ContentType.objects.get_for_model(Offer),
        subject_id=OuterRef("pk"),
        kind=kind,
    )
    return Coalesce(
        Subquery(
            events_of.values("subject_id").annotate(n=Count("order_id", distinct=True)).values("n"),
            output_field=IntegerField(),
        ),
        0,
    )


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    form = OfferForm
    list_display = [
        "name",
        "product_title",
        "discount_label",
        "active",
        "priority",
        "shown",
        "accepted",
        "paid",
        "acceptance",
    ]
    list_filter = ["active", "shop"]
    search_fields = ["name", "product_title"]
    readonly_fields = ["funnel_table"]
    fieldsets = [
        (None, {"fields": ["shop", "name", "active"]}),
        (
            _("What is offered"),
            {"fields": ["product", "variant_ids", "discount", "discount_value"]},
        ),
        (
            _("Who is offered it"),
            {
                "description": _(
                    "Every condition you set must hold; one left empty holds for every order. "
                    "An offer is shown once the shopper has confirmed the delivery address, "
                    "while the order is paid and the warehouse has not started on it."
                ),
                "fields": [
                    "for_products",
                    "for_product_types",
                    "for_order_tags",
                    "min_total",
                    "max_total",
                    "countries",
                    "languages",
                ],
            },
        ),
        (
            _("When and how often"),
            {"fields": ["priority", "starts_at", "ends_at", "daily_cap", "experiment"]},
        ),
        (_("Funnel"), {"fields": ["funnel_table"]}),
    ]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        """Deleting several at once still renews the shops' order pages (as one offer's delete
        does)."""
        shops = set(queryset.values_list("shop_id", flat=True))
        super().delete_queryset(request, queryset)
        for shop in shops:
            Shop.touch(shop)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .select_related("shop")
            .annotate(
                n_shown=_count(events.SHOWN.name),
                n_accepted=_count(events.ACCEPTED.name),
                n_paid=_count(events.PAID.name),
            )
        )

    @admin.display(description=_("discount"))
    def discount_label(self, offer: Offer) -> str:
        if offer.discount == Discount.PERCENT:
            return f"{offer.discount_value.normalize():f} %"
        return formatting.money(offer.discount_value, offer.shop.currency)

    @admin.display(description=_("shown"), ordering="n_shown")
    def shown(self, offer: Offer) -> int:
        return offer.n_shown  # type: ignore[attr-defined]

    @admin.display(description=_("accepted"), ordering="n_accepted")
    def accepted(self, offer: Offer) -> int:
        return offer.n_accepted  # type: ignore[attr-defined]

    @admin.display(description=_("paid"), ordering="n_paid")
    def paid(self, offer: Offer) -> int:
        return offer.n_paid  # type: ignore[attr-defined]

    @admin.display(description=_("accepted per order shown (confidence interval 95 %)"))
    def acceptance(self, offer: Offer) -> str:
        return rate_text(funnel.wilson(offer.n_accepted, offer.n_shown))  # type: ignore[attr-defined]

    @admin.display(description=_("per day"))
    def funnel_table(self, offer: Offer) -> str:
        if not offer.pk:
            return "–"
        found = funnel.of(offer)
        if not found.days:
            return str(_("Not shown to any order yet."))
        shop_currency = offer.shop.currency
        rows = [*found.days, found.total]
        head = format_html(
            "<tr>{}</tr>",
            format_html_join(
                "",
                "<th scope='col'>{}</th>",
                (
                    (label,)
                    for label in (
                        _("day"),
                        _("shown"),
                        _("opened"),
                        _("accepted"),
                        _("paid"),
                        _("revenue"),
                        _("revenue in %(currency)s") % {"currency": shop_currency},
                    )
                ),
            ),
        )
        body = format_html_join(
            "",
            "<tr><th scope='row'>{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
            "<td>{}</td><td>{}</td></tr>",
            (
                (
                    formatting.moment(day.day, offer.shop.zone, "date") if day.day else _("total"),
                    day.shown,
                    day.opened,
                    day.accepted,
                    day.paid,
                    ", ".join(
                        formatting.money(amount, currency)
                        for currency, amount in sorted(day.revenue.items())
                    )
                    or "–",
                    formatting.money(day.shop_revenue, shop_currency) if day.paid else "–",
                )
                for day in rows
            ),
        )
        rate = rate_text(found.rate)
        return format_html(
            "<table>{}{}</table><p>{}: {}</p>",
            head,
            body,
            _("Accepted per order shown (confidence interval 95 %)"),
            rate,
        )


def rate_text(rate: tuple[float, float, float] | None) -> str:
    if rate is None:
        return "–"
    share, low, high = (Decimal(str(round(x * 100, 1))) for x in rate)
    return f"{share} % ({low}–{high} %)"
