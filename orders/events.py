"""The event stream: what happened to an order, said once, heard by whoever listens.

`OrderEvent` rows are the audit log and the stream. Each app registers the kinds it logs, under
its own namespace, from its `AppConfig.ready()` (or at import of its `events.py`):

    APPROVED = events.register(
        "returns.approved", staff=_("Return approved"), shopper=_("Your return was approved")
    )

A kind with a `shopper` label is shown on the order page, in those words; `staff` is what agents
read in the admin (the shopper's words when it is not given). Adding a kind needs no migration:
`OrderEvent.kind` is plain text.

What reacts to events subscribes to kinds (shell-style patterns: "edits.*.applied") and runs
after the transaction that logged them commits, so an action never knows who listens and a
rolled-back action tells nobody:

    events.subscribe("returns.declined", send_declined_email)   # fn(event) -> None
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import transaction
from django.utils.functional import Promise

logger = logging.getLogger(__name__)


class Event(Protocol):
    """What a subscriber is handed: an `orders.models.OrderEvent`."""

    kind: str
    data: dict[str, Any]
    subject_id: int | None
    order_id: int


Subscriber = Callable[[Event], None]


@dataclass(frozen=True)
class EventKind:
    name: str
    label: str | Promise
    shopper: str | Promise | None = None

    @property
    def visible_to_shopper(self) -> bool:
        return self.shopper is not None

    def __str__(self) -> str:
        return self.name


_kinds: dict[str, EventKind] = {}
_subscribers: list[tuple[str, Subscriber]] = []


def register(
    name: str, *, staff: str | Promise | None = None, shopper: str | Promise | None = None
) -> EventKind:
    """Declare an event kind. Registering the same kind again (a reloaded module) replaces it."""
    if name.count(".") < 1 or name != name.strip().lower():
        raise ValueError(f"event kinds are namespaced and lower case: {name!r}")
    label = staff or shopper
    if label is None:
        raise ValueError(f"{name}: say what agents read (staff=), the shopper's, or both")
    kind = EventKind(name, label, shopper)
    _kinds[name] = kind
    return kind


def kind(name: str) -> EventKind:
    """The registered kind; an unknown one (logged by an app since removed) reads as its name."""
    return _kinds.get(name) or EventKind(name, name)


def kinds() -> list[EventKind]:
    return sorted(_kinds.values(), key=lambda k: k.name)


def subscribe(pattern: str, subscriber: Subscriber) -> None:
    """Run `subscriber(event)` after commit for every event whose kind matches `pattern`."""
    if (pattern, subscriber) not in _subscribers:
        _subscribers.append((pattern, subscriber))


def subscribers_for(name: str) -> list[Subscriber]:
    return [fn for pattern, fn in _subscribers if fnmatch.fnmatchcase(name, pattern)]


def publish(event: Event) -> None:
    """Hand the event to its subscribers once the transaction commits. One failing subscriber
    does not keep the others from hearing."""
    listeners = subscribers_for(event.kind)
    if not listeners:
        return

    def deliver() -> None:
        for subscriber in listeners:
            try:
                subscriber(event)
            except Exception:
                logger.exception("subscriber %s failed on %s", subscriber.__name__, event.kind)

    transaction.on_commit(deliver)
