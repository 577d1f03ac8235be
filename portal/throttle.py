"""Lookup rate limits: counters of failed attempts, kept in the cache (Redis in production).

A window opens at the first failure and lasts PORTAL_LOOKUP_WINDOW_MINUTES; once a key reaches
PORTAL_LOOKUP_MAX_FAILURES failures inside it, that key is blocked until the window closes.
Keys are counted per client address and per order number, so neither one address trying many
orders nor many addresses trying one order get far.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def _window() -> int:
    return settings.PORTAL_LOOKUP_WINDOW_MINUTES * 60


def _keys(key: str) -> tuple[str, str]:
    # Keys carry what a shopper typed: hash them, so any input makes a short, safe cache key.
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:40]
    return f"throttle:{digest}", f"throttle:{digest}:until"


def blocked_until(keys: list[str]) -> datetime | None:
    """When the latest block among `keys` lifts, or None when none is blocked."""
    values = cache.get_many([name for key in keys for name in _keys(key)])
    now = time.time()
    until = []
    for key in keys:
        count_key, until_key = _keys(key)
        ends = values.get(until_key, 0)
        if values.get(count_key, 0) >= settings.PORTAL_LOOKUP_MAX_FAILURES and ends > now:
            until.append(ends)
    if not until:
        return None
    return datetime.fromtimestamp(max(until), tz=UTC)


def record_failure(keys: list[str]) -> None:
    window = _window()
    now = int(time.time())
    for key in keys:
        count_key, until_key = _keys(key)
        ends = cache.get(until_key)
        if ends is not None and ends <= now:
            # The window closed (the cache may keep keys a moment longer than their TTL).
            cache.delete_many([count_key, until_key])
        # add() only writes when the key is absent: the window starts at the first failure.
        cache.add(until_key, now + window, window)
        cache.add(count_key, 0, window)
        try:
            cache.incr(count_key)
        except ValueError:  # expired between add() and incr(): start a new window
            cache.set(count_key, 1, window)


def client_address(request: HttpRequest) -> str:
    """The shopper's address, trusting exactly NUM_PROXIES proxies in front of us."""
    if settings.NUM_PROXIES:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= settings.NUM_PROXIES:
            return forwarded[-settings.NUM_PROXIES]
    return request.META.get("REMOTE_ADDR", "unknown")
