"""Deliveries for agents to look into. Credentials are managed with `manage.py add_shop` only:
the admin never shows them."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from shopify.models import WebhookDelivery


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["received_at", "topic", "shop", "status", "attempts", "webhook_id"]
    list_filter = ["status", "topic", "shop"]
    search_fields = ["webhook_id", "event_id", "topic"]
    date_hierarchy = "received_at"
    list_select_related = ["shop"]

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [field.name for field in WebhookDelivery._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
