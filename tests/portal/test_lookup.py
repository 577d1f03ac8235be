from __future__ import annotations

import re
from unittest import mock

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import translation
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from orders.models import LOOKUP_GRANTED, Order
from portal import throttle
from portal.lookup import find_order, normalise_number

LOOKUP = reverse("find_order")


@pytest.mark.parametrize("raw", ["#1001", "1001", " 1001 ", "# 1001", "\t#1001\n", "01001"])
def test_order_numbers_are_normalised(raw: str) -> None:
    assert normalise_number(raw) == "1001"


@pytest.mark.parametrize(
    "contact",
    [
        "alice@example.com",
        "ALICE@Example.com",
        " alice@example.com ",
        "+1 212-555-0142",
        "(212) 555-0142",
        "10118",
    ],
    ids=["email", "email-case", "email-spaces", "phone-e164", "phone-national", "postcode"],
)
def test_lookup_by_email_phone_or_postcode(unfulfilled_order: Order, contact: str) -> None:
    assert find_order("#1001", contact) == unfulfilled_order


@pytest.mark.parametrize("contact", ["bob@example.com", "+1 212-555-0000", "10119", "", "@", "101"])
def test_lookup_refuses_other_contacts(unfulfilled_order: Order, contact: str) -> None:
    assert find_order("1001", contact) is None


def test_success_grants_and_redirects_to_the_order(
    client: Client, unfulfilled_order: Order
) -> None:
    response = client.post(LOOKUP, {"number": " #1001 ", "contact": "alice@example.com"})
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200
    assert unfulfilled_order.events.filter(kind=LOOKUP_GRANTED.name).count() == 1


def test_unknown_order_and_wrong_email_answer_the_same(
    client: Client, unfulfilled_order: Order
) -> None:
    wrong_email = client.post(LOOKUP, {"number": "1001", "contact": "eve@example.com"})
    no_order = client.post(LOOKUP, {"number": "9999", "contact": "eve@example.com"})
    assert wrong_email.status_code == no_order.status_code == 200

    # Same page, byte for byte, once the echoed number and the CSRF tokens are set aside.
    def strip(response) -> str:  # type: ignore[no-untyped-def]
        text = re.sub(r'(csrfmiddlewaretoken" value="|X-CSRFToken": ")[^"]+', "", response.text)
        return text.replace("9999", "N").replace("1001", "N")

    assert strip(wrong_email) == strip(no_order)
    assert "We could not find an order with these details." in wrong_email.text


def test_blank_form_says_what_is_missing(client: Client, db: None) -> None:
    response = client.post(LOOKUP, {"number": "", "contact": ""}, HTTP_COOKIE="django_language=de")
    assert response.status_code == 200
    assert response.text.count("Dieses Feld ist zwingend erforderlich.") == 2


def test_rate_limit_per_address_trips_and_recovers(
    client: Client, unfulfilled_order: Order, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.PORTAL_LOOKUP_MAX_FAILURES = 5
    settings.PORTAL_LOOKUP_WINDOW_MINUTES = 15
    for number in range(2001, 2006):  # five different orders, so only the address counts
        assert (
            client.post(LOOKUP, {"number": number, "contact": "x@example.com"}).status_code == 200
        )
    blocked = client.post(LOOKUP, {"number": "1001", "contact": "alice@example.com"})
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.text
    assert unfulfilled_order.events.count() == 0  # even the right answer is not let in

    later = throttle.time.time() + 16 * 60
    with mock.patch("portal.throttle.time.time", return_value=later):
        recovered = client.post(LOOKUP, {"number": "1001", "contact": "alice@example.com"})
    assert recovered.status_code == 302


def test_rate_limit_per_order_spans_addresses(client: Client, unfulfilled_order: Order) -> None:
    for i in range(5):
        client.post(
            LOOKUP,
            {"number": "1001", "contact": f"guess{i}@example.com"},
            REMOTE_ADDR=f"10.0.0.{i}",
        )
    response = client.post(
        LOOKUP, {"number": "#1001", "contact": "alice@example.com"}, REMOTE_ADDR="10.0.0.99"
    )
    assert response.status_code == 429


def test_throttled_page_is_translated_and_says_when(
    client: Client, unfulfilled_order: Order
) -> None:
    for _ in range(5):
        client.post(LOOKUP, {"number": "1001", "contact": "nope@example.com"})
    response = client.post(
        LOOKUP, {"number": "1001", "contact": "nope@example.com"}, HTTP_COOKIE="django_language=fr"
    )
    assert response.status_code == 429
    with translation.override("fr"):
        assert translation.gettext("Too many attempts") in response.text
    assert "15 minutes" in response.text  # Babel's French for the wait
    assert 14 * 60 < int(response["Retry-After"]) <= 15 * 60


def test_client_address_trusts_only_configured_proxies(rf, settings) -> None:  # type: ignore[no-untyped-def]
    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9", REMOTE_ADDR="10.0.0.1")
    settings.NUM_PROXIES = 0
    assert throttle.client_address(request) == "10.0.0.1"
    settings.NUM_PROXIES = 1
    assert throttle.client_address(request) == "203.0.113.9"


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
def test_front_pages_render_in_every_language(client: Client, db: None, language: str) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    direction = "rtl" if language in ("ar", "he") else "ltr"
    for response in (client.get(LOOKUP), client.get("/o/not-a-token/")):
        assert f'<html lang="{language}" dir="{direction}">' in response.text
    with translation.override(language):
        assert translation.gettext("Find your order") in client.get(LOOKUP).text


@given(number=st.text(max_size=40), contact=st.text(max_size=300))
@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_input_gets_an_answer_never_an_error(
    client: Client, unfulfilled_order: Order, number: str, contact: str
) -> None:
    cache.clear()
    response = client.post(LOOKUP, {"number": number, "contact": contact})
    assert response.status_code in {200, 302}
    if response.status_code == 302:  # only the real details open the order
        assert (
            normalise_number(number) == "1001" and find_order(number, contact) == unfulfilled_order
        )


@pytest.mark.parametrize("path", ["//evil.example/", "/%2Fevil.example/", "/\\evil.example/"])
def test_language_choice_never_redirects_off_site(client: Client, db: None, path: str) -> None:
    response = client.get(path, {"language": "de"})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_language_choice_keeps_the_rest_of_the_query(client: Client, db: None) -> None:
    response = client.get("/", {"language": "de", "section": "tracking"})
    assert response["Location"] == "/?section=tracking"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"


def test_spellings_of_one_number_share_one_allowance(
    client: Client, unfulfilled_order: Order
) -> None:
    for i, spelling in enumerate(["1001", "01001", "#001001", " 1001", "0001001"]):
        client.post(
            LOOKUP, {"number": spelling, "contact": "x@example.com"}, REMOTE_ADDR=f"10.1.0.{i}"
        )
    response = client.post(
        LOOKUP, {"number": "1001", "contact": "alice@example.com"}, REMOTE_ADDR="10.1.0.99"
    )
    assert response.status_code == 429


def test_full_width_digits_do_not_open_orders(unfulfilled_order: Order) -> None:
    assert find_order("１００１", "alice@example.com") is None


def test_an_ipv6_client_is_counted_by_its_64(client: Client, unfulfilled_order: Order) -> None:
    for i in range(5):
        client.post(
            LOOKUP,
            {"number": str(3000 + i), "contact": "x@example.com"},
            REMOTE_ADDR=f"2001:db8:1:2::{i + 1}",
        )
    response = client.post(
        LOOKUP,
        {"number": "1001", "contact": "alice@example.com"},
        REMOTE_ADDR="2001:db8:1:2:ffff::9",
    )
    assert response.status_code == 429
    other = client.post(
        LOOKUP, {"number": "1001", "contact": "alice@example.com"}, REMOTE_ADDR="2001:db8:1:3::1"
    )
    assert other.status_code == 302


def test_successful_lookups_do_not_use_up_the_allowance(
    client: Client, unfulfilled_order: Order
) -> None:
    for _ in range(8):
        response = client.post(LOOKUP, {"number": "1001", "contact": "alice@example.com"})
        assert response.status_code == 302
