"""Deliveries for agents to look into. Credentials are managed with `manage.py add_shop` only:
the admin never shows them."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from shopify.models import DataRequest, SyncState, WebhookDelivery


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


@admin.register(SyncState)
class SyncStateAdmin(admin.ModelAdmin):
    """Where each shop's reading of Shopify stands, and the last error, for agents."""

    list_display = [
        "shop",
        "last_reconciled_at",
        "reconciled_until",
        "backfill_imported",
        "backfill_finished_at",
        "last_error",
    ]
    list_select_related = ["shop"]

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [field.name for field in SyncState._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(DataRequest)
class DataRequestAdmin(admin.ModelAdmin):
    """Customers' data requests: the merchant downloads the export and sends it on."""

    list_display = ["requested_at", "shop", "customer_email", "order_count", "download_link"]
    list_filter = ["shop"]
    search_fields = ["customer_email", "shopify_request_id"]
    readonly_fields = ["shop", "shopify_request_id", "customer_email", "requested_at"]
    exclude = ["export"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=_("orders"))
    def order_count(self, data_request: DataRequest) -> int:
        return len(data_request.export.get("orders", []))

    @admin.display(description=_("export"))
    def download_link(self, data_request: DataRequest) -> str:
        url = reverse("admin:shopify_datarequest_download", args=[data_request.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download (JSON)"))

    def get_urls(self):  # type: ignore[no-untyped-def]
        download = self.admin_site.admin_view(self.download)
        return [
            path("<int:pk>/download/", download, name="shopify_datarequest_download"),
            *super().get_urls(),
        ]

    def download(self, request: HttpRequest, pk: int) -> HttpResponse:
        data_request = get_object_or_404(DataRequest, pk=pk)
        if not self.has_view_permission(request, data_request):
            raise PermissionDenied
        response = JsonResponse(data_request.export, json_dumps_params={"indent": 2})
        filename = f"customer-data-{data_request.pk}.json"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
