"""Finding an order from what a shopper remembers: its number and one contact detail.

The answer is an Order or None, never a reason: "no such order" and "wrong email" must look
the same from outside.
"""

from __future__ import annotations

import re

import phonenumbers
from django.db.models import Q

from orders.models import Order

_NUMBER_NOISE = re.compile(r"[\s#]+")
_POSTCODE_NOISE = re.compile(r"[\s-]+")


def normalise_number(raw: str) -> str:
    """'#1001', '1001', ' 1001 ', '# 1001', '01001' -> '1001'; names with a prefix keep it,
    upper-cased. One canonical form per order, since rate limits count per number."""
    key = _NUMBER_NOISE.sub("", raw or "").upper()
    if key.isascii() and key.isdigit():
        return str(int(key))
    return key


def normalise_postcode(raw: str) -> str:
    return _POSTCODE_NOISE.sub("", raw or "").upper()


def same_phone(given: str, stored: str, region: str) -> bool:
    if not stored:
        return False
    try:
        a = phonenumbers.parse(given, region or None)
        b = phonenumbers.parse(stored, region or None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(a) and a == b


def matches(order: Order, contact: str) -> bool:
    """Does `contact` (an email, a phone number or the shipping postal code) belong to `order`?"""
    contact = contact.strip()
    if not contact:
        return False
    if "@" in contact:
        return bool(order.email) and order.email.casefold() == contact.casefold()
    postcode = normalise_postcode(contact)
    if len(postcode) >= 3 and postcode == normalise_postcode(order.postal_code):
        return True
    phones = [order.phone, (order.shipping_address or {}).get("phone") or ""]
    return any(same_phone(contact, phone, order.country_code) for phone in phones)


def find_order(number: str, contact: str) -> Order | None:
    key = normalise_number(number)
    if not key:
        return None
    query = Q(name__iexact=key) | Q(name__iexact=f"#{key}")
    if key.isascii() and key.isdigit() and len(key) < 19:
        query |= Q(number=int(key))
    candidates = Order.objects.filter(query, shop__is_active=True).select_related("shop")[:10]
    for order in candidates:
        if matches(order, contact):
            return order
    return None
