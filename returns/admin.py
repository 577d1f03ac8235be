"""Each shop's return policy and its reasons. (Agents' return queues come with the return flow.)"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from returns.models import ReturnPolicy, ReturnReason


class ReturnReasonInline(admin.TabularInline):
    model = ReturnReason
    extra = 1
    fields = ["position", "code", "labels", "photo_required", "auto_approved"]


@admin.register(ReturnPolicy)
class ReturnPolicyAdmin(admin.ModelAdmin):
    list_display = ["shop", "enabled", "window_days", "auto_approval", "updated_at"]
    inlines = [ReturnReasonInline]
    fieldsets = [
        (None, {"fields": ["shop", "enabled", "window_days", "country_overrides"]}),
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
    ]
