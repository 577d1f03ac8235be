from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from orders.addresses import address_lines
from orders.formatting import country_name, moment, money

BERLIN = ZoneInfo("Europe/Berlin")
MOMENT = datetime(2026, 3, 5, 13, 30, tzinfo=UTC)  # 14:30 in Berlin


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "€1,234.50"),
        ("de", "1.234,50\xa0€"),
        ("fr", "1\u202f234,50\xa0€"),
        ("ja", "€1,234.50"),
        ("nl", "€\xa01.234,50"),
    ],
)
def test_money_follows_the_language(language: str, expected: str) -> None:
    with translation.override(language):
        assert money(Decimal("1234.50"), "EUR") == expected


def test_yen_has_no_decimals() -> None:
    with translation.override("en"):
        assert money(Decimal("4800"), "JPY") == "¥4,800"


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "Mar 5, 2026, 2:30\u202fPM"), ("de", "05.03.2026, 14:30"), ("ja", "2026/03/05 14:30")],
)
def test_moments_are_in_the_shops_time_zone(language: str, expected: str) -> None:
    with translation.override(language):
        assert moment(MOMENT, BERLIN) == expected


def test_country_names_are_translated() -> None:
    with translation.override("de"):
        assert country_name("NL") == "Niederlande"
    with translation.override("ja"):
        assert country_name("JP") == "日本"


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        (
            {
                "first_name": "Oliver",
                "last_name": "Smith",
                "address1": "10 Downing Street",
                "city": "London",
                "zip": "SW1A 2AA",
                "country_code": "GB",
            },
            ["Oliver Smith", "10 Downing Street", "LONDON", "SW1A 2AA", "United Kingdom"],
        ),
        (
            {
                "first_name": "Lukas",
                "last_name": "Becker",
                "address1": "Torstraße 101",
                "city": "Berlin",
                "zip": "10119",
                "country_code": "DE",
            },
            ["Lukas Becker", "Torstraße 101", "10119 BERLIN", "Germany"],
        ),
        (
            {
                "first_name": "花子",
                "last_name": "山田",
                "address1": "丸の内1-9-1",
                "city": "千代田区",
                "province": "Tokyo",
                "province_code": "JP-13",
                "zip": "100-0005",
                "country_code": "JP",
            },
            ["〒100-0005", "東京都", "千代田区丸の内1-9-1", "山田 花子", "Japan"],
        ),
        (
            {
                "first_name": "Layla",
                "last_name": "Haddad",
                "address1": "Sheikh Zayed Road",
                "city": "Al Barsha",
                "province": "Dubai",
                "country_code": "AE",
            },
            ["Layla Haddad", "Sheikh Zayed Road", "Al Barsha", "Dubai", "United Arab Emirates"],
        ),
        (
            {
                "first_name": "Emma",
                "last_name": "Johnson",
                "address1": "350 Fifth Avenue",
                "city": "New York",
                "province": "New York",
                "province_code": "NY",
                "zip": "10118",
                "country_code": "US",
            },
            ["Emma Johnson", "350 Fifth Avenue", "NEW YORK, NY 10118", "United States"],
        ),
        (
            {
                "first_name": "Hanako",
                "last_name": "Yamada",
                "address1": "1-9-1 Marunouchi",
                "city": "Chiyoda-ku",
                "province": "Tokyo",
                "province_code": "JP-13",
                "zip": "100-0005",
                "country_code": "JP",
            },
            ["Hanako Yamada", "1-9-1 Marunouchi", "Chiyoda-ku, TOKYO", "100-0005", "Japan"],
        ),
        (
            {
                "first_name": "ليلى",
                "address1": "شارع الشيخ زايد",
                "city": "البرشاء",
                "province": "Dubai",
                "country_code": "AE",
            },
            ["ليلى", "شارع الشيخ زايد", "البرشاء", "إمارة دبيّ", "United Arab Emirates"],
        ),
    ],
    ids=["GB", "DE", "JP", "AE", "US", "JP-latin", "AE-arabic"],
)
def test_addresses_follow_the_destination_country(address: dict, expected: list[str]) -> None:
    with translation.override("en"):
        assert address_lines(address) == expected


def test_country_line_is_in_the_shoppers_language() -> None:
    address = {
        "first_name": "Sanne",
        "address1": "Prinsengracht 263",
        "city": "Amsterdam",
        "zip": "1016 GV",
        "country_code": "NL",
    }
    with translation.override("ja"):
        assert address_lines(address)[-1] == "オランダ"


def test_unknown_country_still_shows_the_address() -> None:
    lines = address_lines(
        {"first_name": "X", "address1": "1 Main", "city": "Nowhere", "country_code": "XX"}
    )
    assert lines[:3] == ["X", "1 Main", "Nowhere"]
