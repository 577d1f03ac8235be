"""Shopify's webhook signature: base64(HMAC-SHA256(app client secret, raw body))."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable


def sign(body: bytes, secret: str) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify(body: bytes, signature: str, secrets: Iterable[str]) -> bool:
    """True when `signature` was made over `body` with any of `secrets`.

    More than one secret: after a rotation Shopify may sign with the previous one for up to an
    hour. Each comparison is constant-time, and every secret is tried, so timing does not tell
    which one matched.
    """
    if not signature:
        return False
    matched = False
    for secret in secrets:
        if secret and hmac.compare_digest(sign(body, secret), signature):
            matched = True
    return matched
