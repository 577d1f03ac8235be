"""Lookup rate limits: counters of failed attempts, kept in the cache (Redis in production).

A window opens at the first attempt and lasts PORTAL_LOOKUP_WINDOW_MINUTES; once a key has had
PORTAL_LOOKUP_MAX_FAILURES failures inside it, that key is blocked until the window closes.
Keys are counted per client address and per order number, so neither one address trying many
orders nor many addresses trying one order get far.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
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


def attempt(keys: list[str]) -> datetime | None:
    """Count one attempt against every key, then say until when the latest block among them
    lasts, or None when none is over the limit.

    Counting first, with Redis' atomic increment, is what makes the limit hold under parallel
    requests: a check before the count would let a burst through. A successful lookup is given
    back with `forgive`, so only failures use up the allowance.
    """
    window = _window()
    now = int(time.time())
    blocked = []
    for key in keys:
        count_key, until_key = _keys(key)
        ends = cache.get(until_key)
        if ends is not None and ends <= now:
            # The window closed (the cache may keep keys a moment longer than their TTL).
            cache.delete_many([count_key, until_key])
        # add() only writes when the key is absent: the window starts at the first attempt.
        cache.add(until_key, now + window, window)
        cache.add(count_key, 0, window)
        try:
            count = cache.incr(count_key)
        except ValueError:  # expired between add() and incr(): a new window
            cache.set(count_key, 1, window)
            count = 1
        if count > settings.PORTAL_LOOKUP_MAX_FAILURES:
            blocked.append(cache.get(until_key) or now + window)
    return datetime.fromtimestamp(max(blocked), tz=UTC) if blocked else None


def forgive(keys: list[str]) -> None:
    for key in keys:
        count_key, _until_key = _keys(key)
        with contextlib.suppress(ValueError):  # the window is already gone
            cache.decr(count_key)


def client_address(request: HttpRequest) -> str:
    """The shopper's address, trusting exactly NUM_PROXIES proxies in front of us."""
    address = request.META.get("REMOTE_ADDR", "unknown")
    if settings.NUM_PROXIES:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= settings.NUM_PROXIES:
            address = forwarded[-settings.NUM_PROXIES]
    return client_key(address)


def client_key(address: str) -> str:
    """What one client controls: an IPv4 address, or a whole IPv6 /64 (one home or phone gets
    a /64, and could otherwise step through its addresses to dodge the limit)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
