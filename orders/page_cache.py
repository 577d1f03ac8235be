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
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache

from orders.models import Order

TTL = 600  # seconds
T = TypeVar("T")


def _release() -> str:
    """Changes with anything that renders the page: templates, catalogues, code, static files
    (hashed names in the HTML), pinned packages (Babel's CLDR data, address formats). Taken from
    the files' contents, so a deploy never serves old pages, whatever the file times say."""
    root = Path(settings.BASE_DIR)
    digest = hashlib.sha256()
    for folder in (
        "templates",
        "locale",
        "orders",
        "edits",
        "returns",
        "offers",
        "portal",
        "shopify",
        "static",
    ):
        for path in sorted((root / folder).rglob("*")):
            if path.is_file() and path.suffix in {".html", ".mo", ".py", ".css", ".js", ".svg"}:
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    pinned = root / "requirements.txt"
    if pinned.exists():  # absent from partial copies of the project (the catalogue test's)
        digest.update(pinned.read_bytes())
    return digest.hexdigest()[:12]


RELEASE = _release()
# Two installations sharing a Redis (staging beside production) never read each other's pages.
INSTALLATION = hashlib.sha256(f"order-page:{settings.SECRET_KEY}".encode()).hexdigest()[:8]


def key(order: Order, language: str, section: str | None, extra: str = "") -> str:
    shop = int(order.shop.updated_at.timestamp() * 1000)
    version = f"{order.pk}:{order.revision}:{shop}:{language}:{section or '-'}:{extra}"
    return f"order-page:{INSTALLATION}:{RELEASE}:{version}"


def fetch(order: Order, language: str, section: str | None, render: Callable[[], str]) -> str:
    page_key = key(order, language, section)
    html = cache.get(page_key)
    if html is None:
        html = render()
        cache.set(page_key, html, TTL)
    return html


def fetch_part(
    order: Order,
    language: str,
    part: str,
    render: Callable[[], tuple[T, int]],
    *,
    extra: str = "",
) -> T:
    """A live part of the page (see `orders.live`), cached under the same key as the page plus
    what else it depends on (`extra`), for as long as `render` says it stays true: a part that
    offers a change until 14:05 must not be served at 14:06."""
    part_key = key(order, language, f"part:{part}", extra)
    value = cache.get(part_key)
    if value is None:
        value, seconds = render()
        cache.set(part_key, value, max(1, min(TTL, seconds)))
    return value
