"""What the adapter keeps of its own: each shop's credentials, and every webhook delivery."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.models import Shop
from shopify import credentials


class ShopCredentials(models.Model):
    """A shop's Admin API token and app client secret, sealed. Never shown in the admin."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="credentials")
    sealed_access_token = models.TextField(blank=True)
    sealed_client_secret = models.TextField(blank=True)
    # Kept during a rotation: Shopify may sign with the old secret for up to an hour.
    sealed_previous_client_secret = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("shop credentials")
        verbose_name_plural = _("shop credentials")

    def __str__(self) -> str:
        return str(self.shop)

    @property
    def access_token(self) -> str:
        return credentials.unseal(self.sealed_access_token)

    @property
    def webhook_secrets(self) -> list[str]:
        """The secrets a delivery may be signed with: current first, then the previous one."""
        secrets = [self.sealed_client_secret, self.sealed_previous_client_secret]
        return [credentials.unseal(sealed) for sealed in secrets if sealed]


class WebhookDelivery(models.Model):
    """One verified delivery, recorded before anything is done with it."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Ignored (no handler)")
        FAILED = "failed", _("Failed")

    webhook_id = models.CharField(max_length=255, unique=True)
    event_id = models.CharField(max_length=255, blank=True, db_index=True)
    topic = models.CharField(max_length=128, db_index=True)
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="webhook_deliveries")
    api_version = models.CharField(max_length=32, blank=True)
    triggered_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status, default=Status.RECEIVED)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name_plural = _("webhook deliveries")

    def __str__(self) -> str:
        return f"{self.topic} {self.webhook_id}"


class SyncState(models.Model):
    """Where a shop's reading of Shopify stands: the backfill's resume point and the
    reconciliation's high-water mark."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="sync_state")
    # The backfill (manage.py sync_orders): orders are read oldest change first, and the
    # `updatedAt` of the last imported page is kept, so an interrupted run resumes there.
    backfill_since = models.DateTimeField(null=True, blank=True)
    backfill_watermark = models.DateTimeField(null=True, blank=True)
    backfill_imported = models.PositiveIntegerField(default=0)
    backfill_finished_at = models.DateTimeField(null=True, blank=True)
    # Reconciliation re-reads what changed since its last successful run began.
    reconciled_until = models.DateTimeField(null=True, blank=True)
    last_reconciled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("sync state")

    def __str__(self) -> str:
        return str(self.shop)

    @property
    def backfill_interrupted(self) -> bool:
        return self.backfill_watermark is not None and self.backfill_finished_at is None


class DataRequest(models.Model):
    """A customer asked the merchant for their data (customers/data_request): what the portal
    holds of them, assembled for the merchant to download from the admin and send on."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="data_requests")
    shopify_request_id = models.CharField(max_length=64, blank=True)
    customer_email = models.EmailField(blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    export = models.JSONField(default=dict)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("customer data request")

    def __str__(self) -> str:
        return f"{self.customer_email or self.shopify_request_id} ({self.requested_at:%Y-%m-%d})"
