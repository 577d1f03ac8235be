"""The order page, cached whole in Redis.

A rendered order page is a function of: the order's `revision` (its mirror rows and the events
its shopper sees), the shop (branding, time zone, languages: `Shop.updated_at`), the language,
the section asked for, and the code and catalogues that render it (`RELEASE`). Nothing on it
depends on the visitor: it carries no CSRF token and no session data. So once the access check
has run (one query, never cached: a revoked link must stop working at once), a warm page costs
one cache read, whatever the order's size.

Whoever changes what a shopper sees of an order bumps its revision (`Order.bump_revision`);
the TTL bounds the cost of a write path that forgets to.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.cache import cache

from orders.models import Order

TTL = 600  # seconds


def _release() -> str:
    """Changes when templates, catalogues or code change: a deploy never serves old pages."""
    root = Path(settings.BASE_DIR)
    stamps = sorted(
        f"{path.relative_to(root)}:{path.stat().st_mtime_ns}"
        for folder in ("templates", "locale", "orders", "portal")
        for path in (root / folder).rglob("*")
        if path.suffix in {".html", ".mo", ".py"}
    )
    return hashlib.sha256("\n".join(stamps).encode()).hexdigest()[:12]


RELEASE = _release()


def key(order: Order, language: str, section: str | None) -> str:
    shop_stamp = int(order.shop.updated_at.timestamp() * 1000)
    return (
        f"order-page:{RELEASE}:{order.pk}:{order.revision}:{shop_stamp}:{language}:{section or '-'}"
    )


def fetch(order: Order, language: str, section: str | None, render: Callable[[], str]) -> str:
    page_key = key(order, language, section)
    html = cache.get(page_key)
    if html is None:
        html = render()
        cache.set(page_key, html, TTL)
    return html
