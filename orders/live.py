"""Parts of the order page that depend on the moment or on the visitor, rendered per request
into the cached page: what the shopper may still change is the apps' business (edits, returns),
and `orders` imports none of them. An app registers its part from `AppConfig.ready()`:

    from orders import live
    live.register("changes", render_changes)   # render(request, order) -> HTML

The cached page holds `MARKER` where the parts go.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest
from django.utils.safestring import SafeString

from orders.models import Order

MARKER = "<!--live-parts-->"
Render = Callable[[HttpRequest, Order], str]

_parts: dict[str, Render] = {}


def register(name: str, render: Render) -> None:
    _parts[name] = render


def insert(html: str, request: HttpRequest, order: Order) -> str:
    if MARKER not in html or not _parts:
        return html
    rendered = SafeString("".join(render(request, order) for render in _parts.values()))
    return html.replace(MARKER, rendered, 1)
