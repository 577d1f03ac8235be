"""Signed webhook deliveries, as Shopify sends them (shared with tests/shopify)."""

from tests.shopify.conftest import deliver  # noqa: F401
