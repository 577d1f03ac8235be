"""The agents' view of the mirror: find an order, see everything that happened to it.

Mirror fields come from Shopify and are read-only here; changing them in our database would
only be overwritten by the next sync. What agents do to orders goes through actions.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from orders import access, actions, formatting
from orders.actors import Actor
from orders.models import (
    Fulfillment,
    FulfillmentLine,
    FulfillmentOrder,
    LineItem,
    Order,
    OrderEvent,
    Shop,
    Stage,
    TrackingEvent,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class LineItemInline(ReadOnlyInline):
    model = LineItem
    fields = ["title", "variant_title", "sku", "quantity", "fulfillable_quantity", "price"]


class FulfillmentOrderInline(ReadOnlyInline):
    model = FulfillmentOrder
    fields = ["shopify_id", "status", "location_name", "hold_reasons"]


class FulfillmentInline(ReadOnlyInline):
    model = Fulfillment
    fields = [
        "name",
        "status",
        "shipment_status",
        "tracking_company",
        "tracking_numbers",
        "shipped_at",
        "estimated_delivery_at",
        "delivered_at",
    ]
    show_change_link = True


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = ["created_at", "what", "actor", "visible_to_shopper", "data"]
    readonly_fields = fields
    ordering = ["-created_at"]
    verbose_name_plural = _("Audit log")

    @admin.display(description=_("what happened"))
    def what(self, event: OrderEvent) -> str:
        return event_label(event)


class StageFilter(admin.SimpleListFilter):
    """Stage is derived, never stored: the filter asks the same question in SQL."""

    title = _("stage")
    parameter_name = "stage"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return list(Stage.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> QuerySet[Order]:
        return queryset.at_stage(self.value()) if self.value() else queryset


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["name", "domain", "default_locale", "currency", "time_zone", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "domain"]
    readonly_fields = ["created_at"]
    fieldsets = [
        (None, {"fields": ["name", "domain", "is_active"]}),
        (
            _("Language and region"),
            {"fields": ["default_locale", "enabled_locales", "time_zone", "currency"]},
        ),
        (_("Branding"), {"fields": ["logo_url", "brand_colour", "accent_colour", "support_email"]}),
        (None, {"fields": ["created_at"]}),
    ]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "shop",
        "email",
        "placed_at",
        "stage_badge",
        "financial_status",
        "fulfillment_status",
        "total_display",
    ]
    list_filter = [StageFilter, "financial_status", "fulfillment_status", "shop"]
    search_fields = ["name", "=number", "email", "phone", "shipping_address__zip"]
    date_hierarchy = "placed_at"
    list_select_related = ["shop"]
    inlines = [LineItemInline, FulfillmentOrderInline, FulfillmentInline, OrderEventInline]
    actions = ["revoke_links"]
    readonly_fields = [
        "shop",
        "shopify_id",
        "name",
        "number",
        "email",
        "phone",
        "customer_locale",
        "currency",
        "subtotal",
        "shipping",
        "tax",
        "discounts",
        "total",
        "financial_status",
        "fulfillment_status",
        "placed_at",
        "cancelled_at",
        "cancel_reason",
        "closed_at",
        "shipping_address",
        "tags",
        "shopify_updated_at",
        "link_version",
        "shopper_link",
        "tracking_summary",
    ]
    fields = readonly_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        return (
            super()
            .get_queryset(request)
            .prefetch_related("lines", "fulfillments__events", "fulfillment_orders")
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # orders arrive from Shopify

    @admin.display(description=_("stage"))
    def stage_badge(self, order: Order) -> str:
        return order.stage.label

    @admin.display(description=_("total"), ordering="total")
    def total_display(self, order: Order) -> str:
        return formatting.money(order.total, order.currency)

    @admin.display(description=_("tracking"))
    def tracking_summary(self, order: Order) -> str:
        """Carrier events of every shipment, newest first (admin inlines cannot nest)."""
        rows = [
            (
                shipment.name or shipment.tracking_company,
                event.happened_at,
                event.get_status_display(),
                event.message,
            )
            for shipment in order.fulfillments.all()
            for event in shipment.timeline
        ]
        if not rows:
            return "—"
        return format_html(
            "<table><tbody>{}</tbody></table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    @admin.display(description=_("shopper link"))
    def shopper_link(self, order: Order) -> str:
        url = f"/o/{access.link_token(order)}/"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>', url, _("Open as the shopper")
        )

    @admin.action(
        description=_("Revoke all links sent for the selected orders"), permissions=["change"]
    )
    def revoke_links(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        for order in queryset:
            actions.revoke_links(order=order, actor=Actor.agent(request.user))
        self.message_user(request, _("Links revoked."), messages.SUCCESS)


class TrackingEventInline(ReadOnlyInline):
    model = TrackingEvent
    fields = ["happened_at", "status", "message", "city", "country_code"]


class FulfillmentLineInline(ReadOnlyInline):
    model = FulfillmentLine
    fields = ["line_item", "quantity"]


@admin.register(Fulfillment)
class FulfillmentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "order", "tracking_company", "shipment_status", "shipped_at"]
    list_filter = ["shipment_status", "status"]
    search_fields = ["order__name", "tracking_numbers"]
    list_select_related = ["order"]
    inlines = [FulfillmentLineInline, TrackingEventInline]

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [field.name for field in Fulfillment._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(OrderEvent)
class OrderEventAdmin(admin.ModelAdmin):
    """The audit trail across all orders."""

    list_display = ["created_at", "order", "what", "actor", "visible_to_shopper"]
    list_filter = ["kind", "visible_to_shopper"]
    search_fields = ["order__name", "order__email", "actor"]
    list_select_related = ["order"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return ["what", *(field.name for field in OrderEvent._meta.fields)]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # an audit log that can be edited is not one

    @admin.display(description=_("what happened"), ordering="kind")
    def what(self, event: OrderEvent) -> str:
        return event_label(event)


def event_label(event: OrderEvent) -> str:
    return format_html("{} <code>{}</code>", event.label, event.kind)


def audit_log(subject: models.Model) -> str:
    """The part of its order's audit log about one request, oldest first, in the shop's time,
    with what an agent told the shopper or what Shopify answered."""
    events = (
        OrderEvent.objects.filter(
            subject_type=ContentType.objects.get_for_model(subject), subject_id=subject.pk
        )
        .select_related("order__shop")
        .order_by("created_at", "pk")
    )
    return format_html_join(
        "",
        "<div>{} · {} · {} {}</div>",
        (
            (
                timezone.localtime(e.created_at, e.order.shop.zone).strftime("%Y-%m-%d %H:%M:%S"),
                e.label,
                e.actor.label if e.actor else "",
                e.data.get("reason") or e.data.get("message") or "",
            )
            for e in events
        ),
    )
