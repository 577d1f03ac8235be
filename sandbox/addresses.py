"""What Shopify checks in a shipping address or phone number an app writes, and its words for it.

The messages and their order (last name, ZIP code, state) are the ones of a real 2026-04
`orderUpdate` (captures/.../orderUpdate-input-validation.json). Only the United States' and
Canada's regions are checked; elsewhere any region is accepted. Country names come from the
descriptions of Shopify's own `CountryCode` enum, in `schema.graphql`.
"""

from __future__ import annotations

import re

from sandbox.store import Address

# Countries without postal codes: Shopify does not ask for one there.
NO_POSTAL_CODE = {
    "AE", "AG", "AN", "AO", "AW", "BF", "BI", "BJ", "BO", "BS", "BW", "BZ", "CD", "CF", "CG", "CI",
    "CK", "CM", "DJ", "DM", "ER", "FJ", "GA", "GD", "GH", "GM", "GQ", "GY", "HK", "JM", "KE", "KI",
    "KM", "KN", "KP", "LC", "ML", "MO", "MR", "MS", "MW", "NR", "NU", "QA", "RW", "SB", "SC", "SL",
    "SO", "SR", "ST", "SY", "TF", "TG", "TK", "TL", "TO", "TT", "TV", "TZ", "UG", "VU", "YE", "ZW",
}  # fmt: skip
POSTAL_CODE_NAME = {"US": "ZIP code"}  # elsewhere: "postal code"
REGION_WORD = {"US": "State", "CA": "Province"}
REGIONS = {
    "US": {
        "AL": "Alabama", "AK": "Alaska", "AS": "American Samoa", "AZ": "Arizona",
        "AR": "Arkansas", "CA": "California", "CO": "Colorado", "CT": "Connecticut",
        "DE": "Delaware", "DC": "District of Columbia", "FL": "Florida", "GA": "Georgia",
        "GU": "Guam", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana",
        "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine",
        "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
        "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska",
        "NV": "Nevada", "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico",
        "NY": "New York", "NC": "North Carolina", "ND": "North Dakota",
        "MP": "Northern Mariana Islands", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon",
        "PA": "Pennsylvania", "PR": "Puerto Rico", "RI": "Rhode Island",
        "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas",
        "UT": "Utah", "VT": "Vermont", "VI": "U.S. Virgin Islands", "VA": "Virginia",
        "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
        "AA": "Armed Forces Americas", "AE": "Armed Forces Europe",
        "AP": "Armed Forces Pacific", "UM": "U.S. Outlying Islands",
    },
    "CA": {
        "AB": "Alberta", "BC": "British Columbia", "MB": "Manitoba", "NB": "New Brunswick",
        "NL": "Newfoundland and Labrador", "NT": "Northwest Territories", "NS": "Nova Scotia",
        "NU": "Nunavut", "ON": "Ontario", "PE": "Prince Edward Island", "QC": "Quebec",
        "SK": "Saskatchewan", "YT": "Yukon",
    },
}  # fmt: skip
PHONE = re.compile(r"\+?[1-9]\d{6,14}")


def phone_is_valid(phone: str) -> bool:
    return bool(PHONE.fullmatch(re.sub(r"[\s().-]", "", phone)))


def email_is_valid(email: str) -> bool:
    return bool(re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email))


def from_input(
    fields: dict[str, str | None], *, country_names: dict[str, str], previous: Address | None
) -> Address:
    """A MailingAddressInput as the address Shopify stores: names filled in from the codes
    (a region's name elsewhere than the US and Canada is kept while its code is unchanged)."""
    country_code = fields.get("countryCode")
    province_code = fields.get("provinceCode")
    province = REGIONS.get(country_code or "", {}).get((province_code or "").upper())
    if (
        province is None
        and previous
        and (previous.country_code, previous.province_code)
        == (
            country_code,
            province_code,
        )
    ):
        province = previous.province
    return Address(
        first_name=fields.get("firstName"),
        last_name=fields.get("lastName"),
        company=fields.get("company"),
        address1=fields.get("address1"),
        address2=fields.get("address2"),
        city=fields.get("city"),
        province=province or province_code,
        province_code=province_code,
        zip=fields.get("zip"),
        country=country_names.get(country_code or "", country_code),
        country_code=country_code,
        phone=fields.get("phone"),
    )


def problems(address: Address) -> list[tuple[str, str]]:
    """(input field, message) for everything Shopify would refuse in `address`."""
    found = []
    if not (address.last_name or "").strip():
        found.append(("lastName", "Enter a last name"))
    country = address.country_code or ""
    if country and country not in NO_POSTAL_CODE and not (address.zip or "").strip():
        found.append(("zip", f"Enter a {POSTAL_CODE_NAME.get(country, 'postal code')}"))
    if country in REGIONS and (address.province_code or "").upper() not in REGIONS[country]:
        word = REGION_WORD[country]
        found.append(("province", f"{word} is not a valid {word.lower()} in {address.country}"))
    return found
