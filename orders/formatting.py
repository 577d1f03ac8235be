"""Money, moments and country names in the active language, through Babel.

Nothing in the portal formats these by hand: the shopper's locale decides digit grouping,
currency placement, month names and the order of day and month.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time
from babel.numbers import format_currency, get_currency_precision
from django.utils import translation

# The shopper's own region, when it speaks the active language: an order placed in en-GB reads
# "7 Dec 2026" and pounds as Britain writes them, one in en-US "Dec 7, 2026" (the catalogue is
# the same). Set per request (`use_region`), and around an email (`region`).
_region: ContextVar[str] = ContextVar("formatting_region", default="")


def use_region(customer_locale: str | None) -> None:
    _region.set((customer_locale or "").replace("-", "_"))


@contextmanager
def region(customer_locale: str | None) -> Iterator[None]:
    token = _region.set((customer_locale or "").replace("-", "_"))
    try:
        yield
    finally:
        _region.reset(token)


def current_locale() -> Locale:
    language = translation.to_locale(translation.get_language() or "en")
    wanted = _region.get()
    candidates = [language]
    if wanted and wanted.split("_")[0].lower() == language.split("_")[0].lower():
        candidates.insert(0, wanted)
    for candidate in candidates:
        try:
            return Locale.parse(candidate)
        except (UnknownLocaleError, ValueError):
            continue
    return Locale.parse("en")


def money(amount: Decimal | int | None, currency: str) -> str:
    if amount is None:
        return ""
    return format_currency(amount, currency, locale=current_locale())


def moment(value: datetime | date | None, zone: ZoneInfo, style: str = "medium") -> str:
    """A date, and by default its time, in the shop's time zone, in one style across the whole
    site per language (the locale's medium date: "Dec 4, 2026", "04.12.2026", "2026/12/04"),
    so that no page mixes "December 9, 2026" with "12/5/26". style: "medium" (date and time),
    "date" or "time"; "long_date" and "short" are the same as "date" and "medium"."""
    if value is None:
        return ""
    locale = current_locale()
    if not isinstance(value, datetime):
        return format_date(value, "medium", locale=locale)
    local = value.astimezone(zone)
    if style in ("date", "long_date"):
        return format_date(local.date(), "medium", locale=locale)
    if style == "time":
        return format_time(local.time(), "short", locale=locale)
    # The locale's own way of joining a date and a time ("{1}, {0}", "{1} {0}", ...), without
    # the seconds that Babel's medium time would add.
    return locale.datetime_formats["medium"].format(
        format_time(local.time(), "short", locale=locale),
        format_date(local.date(), "medium", locale=locale),
    )


def country_name(code: str) -> str:
    if not code:
        return ""
    return current_locale().territories.get(code.upper(), code.upper())


def rounded(amount: Decimal, currency: str) -> Decimal:
    """`amount` to the currency's minor unit (cents; whole yen), half up."""
    digits = get_currency_precision(currency)
    return amount.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
