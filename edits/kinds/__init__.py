"""The kinds of order change, one module each (`address`, `contact`, `cancellation`): its form
and page, the snapshot it keeps, its rule and approval condition, and how it is sent to Shopify
and verified (`base.ChangeKind`). Each module registers its kind here when `EditsConfig.ready()`
imports it; everything else (the request's events, the outbox, the live part, the admin, the
URLs) works from this registry.
"""

from __future__ import annotations

from edits import events
from edits.kinds.base import ChangeKind

_kinds: dict[str, ChangeKind] = {}


def register(kind: ChangeKind) -> ChangeKind:
    _kinds[kind.code] = kind
    events.register_kind(kind.code)
    return kind


def get(code: str) -> ChangeKind:
    return _kinds[code]


def every() -> list[ChangeKind]:
    """In the order they are offered on the order page."""
    return sorted(_kinds.values(), key=lambda kind: kind.position)
