"""Who may see an order: signed links and session grants.

Every order page is addressed by a signed token, `/o/<token>/`. A token names the order and the
`link_version` it was made for, and comes in two kinds:

- a *link* ("l") is sent by email and opens the order by itself until it expires;
- a *grant* ("g") is minted by a successful lookup and opens the order only in the browser
  session that won it, for as long as the session grant lasts.

Bumping `Order.link_version` revokes both kinds at once. Anything that fails, for any reason,
answers 404, so a probe learns nothing about which orders exist.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.http import Http404, HttpRequest

from orders.models import Order

SALT = "orders.access"
SESSION_KEY = "order_grants"
LINK = "l"
GRANT = "g"


@dataclass(frozen=True)
class Token:
    order_id: int
    version: int
    kind: str


def _sign(order: Order, kind: str) -> str:
    return signing.dumps([order.pk, order.link_version, kind], salt=SALT, compress=False)


def link_token(order: Order) -> str:
    """A token for an email link: opens the order without a session until it expires."""
    return _sign(order, LINK)


def grant(request: HttpRequest, order: Order) -> str:
    """Let this browser session see `order` for a while; returns the token for its page."""
    grants = dict(request.session.get(SESSION_KEY, {}))
    now = int(time.time())
    # Drop what has expired so the session does not grow with every lookup.
    grants = {pk: g for pk, g in grants.items() if g["until"] > now}
    grants[str(order.pk)] = {
        "version": order.link_version,
        "until": now + settings.PORTAL_GRANT_MAX_AGE_MINUTES * 60,
    }
    request.session[SESSION_KEY] = grants
    request.session.cycle_key()  # a fresh session id for new privileges
    return _sign(order, GRANT)


def read_token(token: str, *, max_age: int) -> Token | None:
    try:
        order_id, version, kind = signing.loads(token, salt=SALT, max_age=max_age)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(order_id, int) or not isinstance(version, int) or kind not in {LINK, GRANT}:
        return None
    return Token(order_id=order_id, version=version, kind=kind)


def order_for(request: HttpRequest, token: str) -> Order:
    """The order (with its shop) this request may see through `token`, or Http404. One query."""
    parsed = read_token(token, max_age=settings.PORTAL_LINK_MAX_AGE_DAYS * 86400)
    if parsed is None:
        raise Http404
    if parsed.kind == GRANT:
        held = request.session.get(SESSION_KEY, {}).get(str(parsed.order_id))
        if not held or held["until"] <= time.time() or held["version"] != parsed.version:
            raise Http404
    try:
        return Order.objects.select_related("shop").get(
            pk=parsed.order_id, link_version=parsed.version, shop__is_active=True
        )
    except Order.DoesNotExist:
        raise Http404 from None
