"""Agents' queues of order changes, and each shop's edit policy.

Approve, reject and retry go through `actions.py`, exactly like the shopper's own requests, so
the same lock, rule and audit trail apply whoever acts.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from edits import actions, kinds
from edits.kinds.base import ChangeKind
from edits.models import ChangeRequest, EditPolicy
from orders.actors import Actor
from orders.admin import audit_log
from orders.requests import WrongState


def _shown(value: object) -> object:
    return "–" if value is None or value == "" else value


def kind_fieldset(kind: ChangeKind) -> tuple[str, dict[str, list[str]]]:
    """A kind's switches: the four every kind has, then its own."""
    fields = [f"{kind.code}_{name}" for name in ("enabled", "window_minutes", "until", "approval")]
    return str(kind.label), {"fields": [*fields, *kind.policy_fields]}


@admin.register(EditPolicy)
class EditPolicyAdmin(admin.ModelAdmin):
    list_display = ["shop", "address_enabled", "contact_enabled", "cancel_enabled", "updated_at"]

    def get_fieldsets(self, request: HttpRequest, obj: object = None) -> list:
        return [
            (None, {"fields": ["shop"]}),
            *(kind_fieldset(kind) for kind in kinds.every()),
            *self.common_fieldsets,
        ]

    common_fieldsets = [
        (
            _("For every change"),
            {
                "fields": [
                    "approval_above_total",
                    "blocked_tags",
                    "max_changes_per_order",
                    "applied_tags",
                ]
            },
        ),
        (
            _("Warehouse"),
            {"fields": ["address_line_max_length", "latin_only", "hold_during_window"]},
        ),
    ]


class QueueFilter(admin.SimpleListFilter):
    title = _("queue")
    parameter_name = "queue"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [
            ("approval", _("Awaiting approval")),
            ("failed", _("Failed")),
            ("payment", _("Waiting for the shopper's payment")),
            ("overdue", _("Payment overdue")),
            ("refund", _("Refund not made")),
            ("open", _("Open (approval or being applied)")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        status = ChangeRequest.Status
        return {
            "approval": queryset.filter(status=status.AWAITING_APPROVAL),
            "failed": queryset.filter(status=status.FAILED),
            "payment": queryset.filter(status=status.AWAITING_PAYMENT),
            "overdue": queryset.filter(
                status=status.AWAITING_PAYMENT, shopify_result__overdue=True
            ),
            "refund": queryset.filter(
                status=status.APPLIED, shopify_result__has_key="refund_failed"
            ).exclude(shopify_result__has_key="refund_made_by"),
            "open": queryset.filter(status__in=ChangeRequest.OPEN),
        }.get(self.value(), queryset)


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason the shopper will read"), widget=forms.Textarea(attrs={"rows": 3})
    )


@admin.register(ChangeRequest)
class ChangeRequestAdmin(admin.ModelAdmin):
    list_display = ["created_at", "order_link", "kind_label", "status", "requested_by", "attempts"]
    list_filter = [QueueFilter, "status", "kind", "order__shop"]
    search_fields = ["order__name", "order__email"]
    list_select_related = ["order"]
    date_hierarchy = "created_at"
    actions = [
        "approve_selected",
        "reject_selected",
        "retry_selected",
        "settle_payment_selected",
        "refund_made_selected",
    ]
    readonly_fields = [
        "order_link",
        "kind",
        "status",
        "comparison",
        "requested_by",
        "decided_by",
        "decided_at",
        "rejection_reason",
        "failure_code",
        "failure_detail",
        "refused_fields",
        "attempts",
        "next_attempt_at",
        "created_at",
        "applied_at",
        "audit_log",
    ]
    exclude = ["order", "before", "after", "sending_until", "shopify_result"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description=_("order"), ordering="order__placed_at")
    def order_link(self, change: ChangeRequest) -> str:
        url = reverse("admin:orders_order_change", args=[change.order_id])
        return format_html('<a href="{}">{}</a>', url, change.order.name)

    @admin.display(description=_("before and after"))
    def comparison(self, change: ChangeRequest) -> str:
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td><td><strong>{}</strong></td></tr>",
            (
                (field, _shown(old), _shown(new))
                for field, old, new in kinds.get(change.kind).compare(change)
            ),
        )
        return format_html(
            "<table><thead><tr><th></th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            _("before"),
            _("after"),
            rows,
        )

    @admin.display(description=_("kind"), ordering="kind")
    def kind_label(self, change: ChangeRequest) -> str:
        return str(kinds.get(change.kind).label)

    @admin.display(description=_("audit log"))
    def audit_log(self, change: ChangeRequest) -> str:
        return audit_log(change)

    def _each(self, request: HttpRequest, queryset: QuerySet, act, done) -> None:  # type: ignore[no-untyped-def]
        count = 0
        for change in queryset:
            try:
                act(change)
                count += 1
            except WrongState:
                self.message_user(
                    request,
                    _("%(change)s was not in a state that allows this.") % {"change": change},
                    messages.WARNING,
                )
        if count:
            self.message_user(request, done(count) % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Approve the selected changes"), permissions=["change"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._each(
            request,
            queryset,
            lambda change: actions.approve(request=change, actor=Actor.agent(request.user)),
            lambda n: ngettext("%(count)s change approved.", "%(count)s changes approved.", n),
        )

    @admin.action(description=_("Reject the selected changes…"), permissions=["change"])
    def reject_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        form = RejectForm(request.POST if "reason" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            self._each(
                request,
                queryset,
                lambda change: actions.reject(
                    request=change, actor=Actor.agent(request.user), reason=reason
                ),
                lambda n: ngettext("%(count)s change rejected.", "%(count)s changes rejected.", n),
            )
            return None
        return render(
            request,
            "admin/edits/reject.html",
            {
                **self.admin_site.each_context(request),
                "title": ngettext(
                    "Reject %(count)s change", "Reject %(count)s changes", queryset.count()
                )
                % {"count": queryset.count()},
                "form": form,
                "changes": queryset.select_related("order"),
                "action": "reject_selected",
                "opts": self.model._meta,
            },
        )

    @admin.action(description=_("Retry the selected failed changes"), permissions=["change"])
    def retry_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._each(
            request,
            queryset,
            lambda change: actions.retry(request=change, actor=Actor.agent(request.user)),
            lambda n: ngettext("%(count)s change sent again.", "%(count)s changes sent again.", n),
        )

    @admin.action(
        description=_("Settle the difference: paid another way or waived"), permissions=["change"]
    )
    def settle_payment_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._each(
            request,
            queryset,
            lambda change: actions.settle_payment(request=change, actor=Actor.agent(request.user)),
            lambda n: ngettext(
                "%(count)s difference settled: the warehouse may go on.",
                "%(count)s differences settled: the warehouse may go on.",
                n,
            ),
        )

    @admin.action(description=_("The refund was made in Shopify's admin"), permissions=["change"])
    def refund_made_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._each(
            request,
            queryset,
            lambda change: actions.mark_refund_made(
                request=change, actor=Actor.agent(request.user)
            ),
            lambda n: ngettext(
                "%(count)s refund recorded as made.", "%(count)s refunds recorded as made.", n
            ),
        )
