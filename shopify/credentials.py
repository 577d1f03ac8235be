"""Shop credentials, encrypted at rest with SHOPIFY_CREDENTIALS_KEY (Fernet: AES + HMAC).

A database dump alone does not give away a shop's Admin API token or its webhook secret.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _fernet() -> Fernet:
    key = settings.SHOPIFY_CREDENTIALS_KEY
    if not key:
        if not settings.DEBUG:
            raise ImproperlyConfigured("SHOPIFY_CREDENTIALS_KEY is required unless DEBUG=1")
        # The demo only: a key derived from the development SECRET_KEY.
        key = base64.urlsafe_b64encode(hashlib.sha256(settings.SECRET_KEY.encode()).digest())
    return Fernet(key)


def seal(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode() if plain else ""


def unseal(sealed: str) -> str:
    if not sealed:
        return ""
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored Shopify credential cannot be decrypted: SHOPIFY_CREDENTIALS_KEY changed?"
        ) from None
