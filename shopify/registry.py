"""Which code reacts to which webhook topic.

`shopify` knows only the mirror; apps above it (edits, returns) register their handlers here from
their AppConfig.ready(), so the adapter never imports them. A topic nobody handles is recorded
and ignored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shopify.models import WebhookDelivery

Handler = Callable[["WebhookDelivery"], None]

_handlers: dict[str, list[Handler]] = defaultdict(list)


def handles(*topics: str) -> Callable[[Handler], Handler]:
    """Decorator: run the function for every delivery of these topics, in registration order."""

    def register(handler: Handler) -> Handler:
        for topic in topics:
            if handler not in _handlers[topic]:
                _handlers[topic].append(handler)
        return handler

    return register


def handlers_for(topic: str) -> list[Handler]:
    return list(_handlers.get(topic, ()))


def topics() -> list[str]:
    return sorted(topic for topic, handlers in _handlers.items() if handlers)
