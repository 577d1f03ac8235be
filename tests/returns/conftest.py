"""Signed webhook deliveries, as Shopify sends them (shared with tests/shopify), and the
delivered order of two hoodies the sandbox-backed tests stand on."""

from tests.returns.test_sync import delivered  # noqa: F401
from tests.shopify.conftest import deliver  # noqa: F401
