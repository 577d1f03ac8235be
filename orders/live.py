"""Parts of the order page that depend on the moment: what the shopper may still change or
return, and the requests on their way. `orders` imports none of the apps that fill them; an app
registers its part from `AppConfig.ready()`:

    from orders import live
    live.register("changes", changes_part)   # part(request, order) -> live.Part

The cached page holds `MARKER` where the parts go. They are wrapped together, and one rule keeps
them fresh with htmx, whatever app they come from: while anything is on its way to Shopify
(`SENDING`) the wrapper asks the order's `live/` address twice a second, while something waits
for an agent (`WAITING`) every 20 s, otherwise never. A poll that finds the order's revision
unchanged costs one query and gets 204; once nothing is on its way any more, the whole page
reloads (the address, the stage and the activity changed with it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from orders.models import Order
from orders.requests import Request

MARKER = "<!--live-parts-->"

IDLE, WAITING, SENDING = "idle", "waiting", "sending"
URGENCY = {IDLE: 0, WAITING: 1, SENDING: 2}
POLL = {WAITING: "20s", SENDING: "500ms"}
# A request due within this counts as being sent now; one due later (after a failed attempt)
# is waited for slowly, until it is this close.
SOON = timedelta(seconds=5)


@dataclass(frozen=True)
class Part:
    html: str
    activity: str = IDLE  # what the part waits for: nothing, an agent, Shopify


Render = Callable[[HttpRequest, Order], Part]

_parts: dict[str, Render] = {}


def register(name: str, render: Render) -> None:
    _parts[name] = render


def activity_of(*activities: str) -> str:
    """The most urgent of several parts' activities."""
    return max(activities, key=URGENCY.__getitem__, default=IDLE)


def pace(requests: Iterable[Request], *, now: datetime) -> tuple[str, int]:
    """What a part waits for of its requests on their way to Shopify: SENDING while one is due
    now or in a moment, WAITING while the next attempt is further off; and for how many seconds
    that holds (a part cached as WAITING must be SENDING again when the attempt comes)."""
    due = [r.next_attempt_at for r in requests if r.is_sending and r.next_attempt_at]
    if not due:
        return IDLE, 600
    soonest = min(due)
    if soonest <= now + SOON:
        return SENDING, 600
    return WAITING, int((soonest - SOON - now).total_seconds()) + 1


def render(request: HttpRequest, order: Order) -> tuple[SafeString, str]:
    """Every part, wrapped, with the polling their activity asks for; and that activity."""
    parts = [render_part(request, order) for render_part in _parts.values()]
    activity = activity_of(*(part.activity for part in parts))
    html = render_to_string(
        "orders/_live.html",
        {
            "parts": mark_safe("".join(part.html for part in parts)),  # noqa: S308 - rendered templates
            "poll": POLL.get(activity, ""),
            "revision": order.revision,
        },
    )
    return SafeString(html), activity


def insert(html: str, request: HttpRequest, order: Order) -> str:
    if MARKER not in html or not _parts:
        return html
    rendered, _activity = render(request, order)
    return html.replace(MARKER, rendered, 1)
