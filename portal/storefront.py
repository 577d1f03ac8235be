from __future__ import annotations

from django.conf import settings

from orders.models import Shop


def storefront() -> Shop | None:
    """The shop whose branding the front pages wear: PORTAL_SHOP_DOMAIN, or the only active
    shop. A portal serving several shops shows neutral pages until an order is open."""
    domain = getattr(settings, "PORTAL_SHOP_DOMAIN", "")
    shops = Shop.objects.filter(is_active=True)
    if domain:
        return shops.filter(domain=domain).first()
    found = list(shops[:2])
    return found[0] if len(found) == 1 else None
