from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django import template

from orders import addresses, formatting

register = template.Library()


@register.simple_tag
def money(amount: Decimal | str | None, currency: str, negative: bool = False) -> str:
    """`negative=True` for amounts taken off (discounts): the locale places the minus sign.
    An amount kept as text (a request's JSON) is read as a decimal."""
    if isinstance(amount, str):
        amount = Decimal(amount) if amount else None
    if negative and amount is not None:
        amount = -amount
    return formatting.money(amount, currency)


@register.simple_tag
def moment(value: datetime | None, zone: ZoneInfo, style: str = "medium") -> str:
    return formatting.moment(value, zone, style)


@register.filter
def country(code: str) -> str:
    return formatting.country_name(code)


@register.filter
def address_lines(address: dict[str, Any] | None) -> list[str]:
    return addresses.address_lines(address)
