"""Agents' return queues, and each shop's return policy and its reasons.

A return only changes through `actions.py`, exactly like the shopper's own requests, so the same
lock, state machine and audit trail apply whoever acts: the change page is read-only, and the
list actions (which serve a single return too) are the agents' way to move one along.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from orders import formatting
from orders.actors import Actor
from orders.admin import ReadOnlyInline, audit_log
from orders.requests import WrongState
from returns import actions
from returns.models import (
    Condition,
    Resolution,
    ReturnLine,
    ReturnPolicy,
    ReturnReason,
    ReturnRequest,
)

Status = ReturnRequest.Status


class ReturnReasonInline(admin.TabularInline):
    model = ReturnReason
    extra = 1
    fields = ["position", "code", "labels", "shopify_reason", "photo_required", "auto_approved"]


@admin.register(ReturnPolicy)
class ReturnPolicyAdmin(admin.ModelAdmin):
    list_display = ["shop", "enabled", "window_days", "auto_approval", "updated_at"]
    inlines = [ReturnReasonInline]
    fieldsets = [
        (
            None,
            {"fields": ["shop", "enabled", "returns_from", "window_days", "country_overrides"]},
        ),
        (_("Exclusions"), {"fields": ["excluded_tags", "excluded_product_types"]}),
        (
            _("Resolutions and fees"),
            {
                "fields": [
                    "resolutions",
                    "store_credit_bonus_percent",
                    "restocking_fee_percent",
                    "return_shipping_fee",
                    "fees_waived_for_exchanges",
                ]
            },
        ),
        (_("Approval"), {"fields": ["auto_approval", "auto_approval_under"]}),
        (_("Return slip"), {"fields": ["return_address", "slip_instructions"]}),
    ]


# Agents' returns.


class QueueFilter(admin.SimpleListFilter):
    title = _("queue")
    parameter_name = "queue"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [
            ("requested", _("Requested (awaiting decision)")),
            ("awaiting_arrival", _("Approved, awaiting arrival")),
            ("received", _("Received")),
            ("not_in_shopify", _("Not in Shopify")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return {
            "requested": lambda: queryset.filter(status=Status.REQUESTED),
            "awaiting_arrival": lambda: queryset.filter(
                status__in=[Status.APPROVED, Status.IN_TRANSIT]
            ),
            "received": lambda: queryset.filter(status=Status.RECEIVED),
            "not_in_shopify": lambda: queryset.exclude(failure_code=""),
        }.get(self.value(), lambda: queryset)()


class ReasonFilter(admin.SimpleListFilter):
    """By reason code, labelled as shoppers chose it: the label each line kept (a code may carry
    several, one per language or after the merchant renamed it)."""

    title = _("reason")
    parameter_name = "reason"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        labels: dict[str, list[str]] = {}
        pairs = (
            ReturnLine.objects.exclude(reason_code="")
            .values_list("reason_code", "reason_label")
            .distinct()
            .order_by("reason_code", "reason_label")
        )
        for code, label in pairs:
            labels.setdefault(code, []).append(label or code)
        return [(code, " / ".join(names)) for code, names in labels.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if not self.value():
            return queryset
        # A return with two lines of this reason would otherwise be listed twice.
        return queryset.filter(lines__reason_code=self.value()).distinct()


class ResolutionFilter(admin.SimpleListFilter):
    title = _("resolution")
    parameter_name = "resolution"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return list(Resolution.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if not self.value():
            return queryset
        return queryset.filter(lines__resolution=self.value()).distinct()


class ReturnLineInline(ReadOnlyInline):
    model = ReturnLine
    fields = [
        "item",
        "quantity",
        "reason_label",
        "comment",
        "resolution_display",
        "condition",
        "photo_thumbnail",
    ]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReturnLine]:
        return super().get_queryset(request).select_related("line_item")

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # The lines are part of the return: whoever may see the return sees them.
        return request.user.has_perm("returns.view_returnrequest") or request.user.has_perm(
            "returns.change_returnrequest"
        )

    @admin.display(description=_("item"))
    def item(self, line: ReturnLine) -> str:
        if line.line_item.variant_title:
            return f"{line.line_item.title} ({line.line_item.variant_title})"
        return line.line_item.title

    @admin.display(description=_("resolution"))
    def resolution_display(self, line: ReturnLine) -> str:
        if line.resolution == Resolution.EXCHANGE and line.exchange_variant_title:
            return f"{line.get_resolution_display()}: {line.exchange_variant_title}"
        return line.get_resolution_display()

    @admin.display(description=_("photo"))
    def photo_thumbnail(self, line: ReturnLine) -> str:
        if not line.photo:
            return "–"
        url = reverse("admin:returns_returnrequest_photo", args=[line.request_id, line.pk])
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">'
            '<img src="{}" alt="{}" style="max-width:96px;max-height:96px"></a>',
            url,
            url,
            _("Photo from the shopper"),
        )


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason the shopper will read"), widget=forms.Textarea(attrs={"rows": 3})
    )


class ReceiveForm(forms.Form):
    """One condition per line of every return whose parcel can arrive now."""

    def __init__(self, *args: Any, returns: list[ReturnRequest], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.returns = returns
        for item in returns:
            for line in item.lines.all():
                self.fields[f"condition_{line.pk}"] = forms.ChoiceField(
                    label=str(line), choices=[("", "---------"), *Condition.choices]
                )

    def conditions(self, item: ReturnRequest) -> dict[int, str]:
        return {line.pk: self.cleaned_data[f"condition_{line.pk}"] for line in item.lines.all()}

    def rows(self) -> list[tuple[ReturnRequest, list[forms.BoundField]]]:
        return [
            (item, [self[f"condition_{line.pk}"] for line in item.lines.all()])
            for item in self.returns
        ]


@admin.register(ReturnRequest)
class ReturnRequestAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "order_link",
        "status",
        "items_count",
        "resolutions",
        "created_at",
        "in_shopify",
        "failure_code",
    ]
    list_filter = [
        QueueFilter,
        ReasonFilter,
        ResolutionFilter,
        "status",
        ("order__shop", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["number", "order__name", "order__email", "shopify_name"]
    list_select_related = ["order"]
    date_hierarchy = "created_at"
    inlines = [ReturnLineInline]
    actions = ["approve_selected", "decline_selected", "receive_selected", "retry_selected"]
    readonly_fields = [
        "number",
        "order_link",
        "status",
        "requested_by",
        "decided_by",
        "decline_reason",
        "created_at",
        "updated_at",
        "amounts",
        "shopify_return_id",
        "shopify_name",
        "shopify_status",
        "failure_code",
        "failure_detail",
        "attempts",
        "next_attempt_at",
        "audit_log",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "number",
                    "order_link",
                    "status",
                    "requested_by",
                    "decided_by",
                    "decline_reason",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
        (_("Amounts the shopper agreed to"), {"fields": ["amounts"]}),
        (
            _("Shopify"),
            {
                "fields": [
                    "shopify_return_id",
                    "shopify_name",
                    "shopify_status",
                    "failure_code",
                    "failure_detail",
                    "attempts",
                    "next_attempt_at",
                ]
            },
        ),
        (_("Audit log"), {"fields": ["audit_log"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReturnRequest]:
        return super().get_queryset(request).prefetch_related("lines")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # shoppers ask for returns; Shopify's own come in through its webhooks

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Django's view-only page: no field of a return is edited by hand. Agents with the
        # change permission act through the list actions instead (`has_decide_permission`).
        return False

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("returns.change_returnrequest")

    # Columns and read-only fields.

    @admin.display(description=_("order"), ordering="order__placed_at")
    def order_link(self, item: ReturnRequest) -> str:
        url = reverse("admin:orders_order_change", args=[item.order_id])
        return format_html('<a href="{}">{}</a>', url, item.order.name)

    @admin.display(description=_("items"))
    def items_count(self, item: ReturnRequest) -> int:
        return sum(line.quantity for line in item.lines.all())

    @admin.display(description=_("resolutions"))
    def resolutions(self, item: ReturnRequest) -> str:
        chosen = {line.resolution for line in item.lines.all()}
        return ", ".join(str(label) for value, label in Resolution.choices if value in chosen)

    @admin.display(description=_("in Shopify"), ordering="shopify_name")
    def in_shopify(self, item: ReturnRequest) -> str:
        if not item.shopify_return_id:
            return "–"
        return f"{item.shopify_name or item.shopify_return_id} · {item.shopify_status}"

    @admin.display(description=_("amounts"))
    def amounts(self, item: ReturnRequest) -> str:
        quote = item.quote
        if not quote:
            return "–"
        currency = quote.get("currency", item.order.currency)
        rows = [
            (_("refund to the original payment"), quote.get("refund")),
            (_("store credit"), quote.get("credit")),
            (_("of which bonus"), quote.get("credit_bonus")),
            (_("restocking fee"), quote.get("restocking_fee")),
            (_("return shipping fee"), quote.get("shipping_fee")),
            (_("exchange difference (to pay if positive)"), quote.get("exchange_difference")),
        ]
        return format_html(
            "<table><tbody>{}</tbody></table>",
            format_html_join(
                "",
                "<tr><th>{}</th><td>{}</td></tr>",
                (
                    (label, formatting.money(amount, currency))
                    for label, amount in rows
                    if amount is not None
                ),
            ),
        )

    @admin.display(description=_("audit log"))
    def audit_log(self, item: ReturnRequest) -> str:
        return audit_log(item)

    # The shopper's photos: media files are never served publicly, only here, to staff who may
    # see returns.

    def get_urls(self) -> list[URLPattern]:
        photo = path(
            "<int:pk>/photo/<int:line_pk>/",
            self.admin_site.admin_view(self.photo_view),
            name="returns_returnrequest_photo",
        )
        return [photo, *super().get_urls()]  # before `<path:object_id>/`, which would match

    def photo_view(self, request: HttpRequest, pk: int, line_pk: int) -> FileResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        line = get_object_or_404(
            ReturnLine.objects.select_related("request"), pk=line_pk, request_id=pk
        )
        if not self.has_view_permission(request, line.request):
            raise PermissionDenied
        if not line.photo:
            raise Http404
        try:
            file = line.photo.open("rb")
        except FileNotFoundError as error:
            raise Http404 from error
        content_type = mimetypes.guess_type(line.photo.name)[0] or "application/octet-stream"
        # `admin_view` already marks it private and never cached.
        response = FileResponse(file, content_type=content_type)
        response["X-Content-Type-Options"] = "nosniff"
        return response

    # Actions.

    def _each(
        self,
        request: HttpRequest,
        returns: QuerySet[ReturnRequest] | list[ReturnRequest],
        act: Callable[[ReturnRequest], object],
        refused: str,
        done: Callable[[int], str],
    ) -> None:
        """`act` on each return. `refused` tells the agent which one was not in a state that
        allows it, e.g. "%(return)s cannot be approved: it is “%(status)s”." """
        count = 0
        for item in returns:
            try:
                act(item)
                count += 1
            except WrongState:
                item.refresh_from_db(fields=["status"])  # as it was under the lock
                self._refused(request, item, refused)
        if count:
            self.message_user(request, done(count) % {"count": count}, messages.SUCCESS)

    def _refused(self, request: HttpRequest, item: ReturnRequest, refused: str) -> None:
        self.message_user(
            request,
            refused % {"return": item, "status": item.get_status_display()},
            messages.ERROR,
        )

    def _form_page(
        self, request: HttpRequest, template: str, title: str, action: str, **context: Any
    ) -> HttpResponse:
        return render(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "title": title,
                "action": action,
                "opts": self.model._meta,
                **context,
            },
        )

    @admin.action(description=_("Approve the selected returns"), permissions=["decide"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._each(
            request,
            queryset,
            lambda item: actions.approve(request=item, actor=Actor.agent(request.user)),
            gettext("%(return)s cannot be approved: it is “%(status)s”."),
            lambda n: ngettext("%(count)s return approved.", "%(count)s returns approved.", n),
        )

    @admin.action(
        description=_("Decline the selected returns, with a reason the shopper reads…"),
        permissions=["decide"],
    )
    def decline_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        form = DeclineForm(request.POST if request.POST.get("confirm") else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            self._each(
                request,
                queryset,
                lambda item: actions.decline(
                    request=item, actor=Actor.agent(request.user), reason=reason
                ),
                gettext("%(return)s cannot be declined: it is “%(status)s”."),
                lambda n: ngettext("%(count)s return declined.", "%(count)s returns declined.", n),
            )
            return None
        count = queryset.count()
        return self._form_page(
            request,
            "admin/returns/decline.html",
            ngettext("Decline %(count)s return", "Decline %(count)s returns", count)
            % {"count": count},
            "decline_selected",
            form=form,
            returns=queryset.select_related("order"),
        )

    @admin.action(
        description=_("Mark the selected returns received, with each item's condition…"),
        permissions=["decide"],
    )
    def receive_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        selected = list(queryset.select_related("order").prefetch_related("lines__line_item"))
        arriving = [item for item in selected if item.can_move_to(Status.RECEIVED)]
        refused = gettext("%(return)s cannot be marked received: it is “%(status)s”.")
        if not arriving:
            for item in selected:
                self._refused(request, item, refused)
            return None
        form = ReceiveForm(request.POST if request.POST.get("confirm") else None, returns=arriving)
        if form.is_valid():
            self._each(
                request,
                selected,
                lambda item: actions.mark_received(
                    request=item,
                    actor=Actor.agent(request.user),
                    conditions=form.conditions(item) if item in arriving else {},
                ),
                refused,
                lambda n: ngettext(
                    "%(count)s return marked received.", "%(count)s returns marked received.", n
                ),
            )
            return None
        return self._form_page(
            request,
            "admin/returns/receive.html",
            ngettext(
                "Mark %(count)s return received", "Mark %(count)s returns received", len(arriving)
            )
            % {"count": len(arriving)},
            "receive_selected",
            form=form,
            skipped=[item for item in selected if item not in arriving],
        )

    @admin.action(
        description=_("Send the selected returns to Shopify again"), permissions=["decide"]
    )
    def retry_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = 0
        for item in queryset:
            if not item.is_failed:
                self.message_user(
                    request,
                    gettext("%(return)s has no failure to send again.") % {"return": item},
                    messages.WARNING,
                )
                continue
            try:
                actions.retry(request=item, actor=Actor.agent(request.user))
            except WrongState:  # another agent sent it again first
                continue
            count += 1
        if count:
            self.message_user(
                request,
                ngettext(
                    "%(count)s return sent to Shopify again.",
                    "%(count)s returns sent to Shopify again.",
                    count,
                )
                % {"count": count},
                messages.SUCCESS,
            )
