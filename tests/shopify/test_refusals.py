"""Shopify's refusals, as a real store words them (`../shared/shopify/captures`), reach the shopper
only as translated sentences of ours, in every shipped language; agents keep Shopify's words."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.utils import translation

from orders.requests import failure_text
from shopify import refusals
from shopify.client import UserError
from tests.shopify.replay import CAPTURES

# The mutations the portal sends, with the captures that show Shopify refusing them.
FILES = [
    "2026-04/orders/orderCancel-error-messages.json",
    "2026-04/orders/orderUpdate-input-validation.json",
    "2026-04/orders/returnApprove-decline-state-preconditions.json",
    "2026-04/orders/returnClose-Reopen-Cancel-state-preconditions.json",
    "2026-04/orders/return-quantity-validation.json",
    "2026-04/shipping-fulfillments/fulfillment-order-hold-validation.json",
]
LANGUAGES = [code for code, _name in settings.LANGUAGES if code != "en"]


def user_errors(value: Any) -> Iterator[dict[str, Any]]:
    """Every userError in a capture, wherever the harness put the answer."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key.lower().endswith("usererrors") and isinstance(item, list):
                yield from (e for e in item if isinstance(e, dict) and e.get("message"))
            else:
                yield from user_errors(item)
    elif isinstance(value, list):
        for item in value:
            yield from user_errors(item)
    elif isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            yield from user_errors(json.loads(value))
        except ValueError:
            return


def captured() -> list[UserError]:
    found: dict[tuple[tuple[str, ...], str, str], UserError] = {}
    for name in FILES:
        for error in user_errors(json.loads((CAPTURES / name).read_text())):
            refusal = UserError.from_payload(error)
            found[refusal.field, refusal.message, refusal.code] = refusal
    return list(found.values())


CAPTURED = captured()


def by_message(text: str) -> UserError:
    return next(error for error in CAPTURED if text in error.message)


def test_the_captures_hold_the_refusals_this_test_is_about() -> None:
    assert len(CAPTURED) >= 15
    assert by_message("already been canceled")


@pytest.mark.parametrize(
    ("message", "code", "fields"),
    [
        ("Cannot cancel an order that has already been canceled", refusals.ALREADY_CANCELLED, ()),
        ("Staff note is too long", refusals.REFUSED, ()),
        ("Enter a ZIP code", refusals.ADDRESS, ("zip",)),
        ("Enter a last name", refusals.ADDRESS, ("last_name",)),
        ("State is not a valid state in United States", refusals.ADDRESS, ("province",)),
        ("Phone is invalid", refusals.CONTACT, ("phone",)),
        ("No valid update parameters", refusals.REFUSED, ()),
        ("Return is not approvable", refusals.INVALID_STATE, ()),
        ("Return is not cancelable", refusals.INVALID_STATE, ()),
        ("Return not found", refusals.NOT_FOUND, ()),
        ("Return line item has an invalid quantity", refusals.REFUSED, ()),
        ("The maximum number of fulfillment holds", refusals.REFUSED, ()),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 30 else None,
)
def test_each_known_refusal_reads_as_ours(message: str, code: str, fields: tuple) -> None:
    error = by_message(message)
    refusal = refusals.read([error])
    assert (refusal.code, refusal.fields) == (code, fields)
    assert error.message in refusal.detail  # agents read Shopify's own words


def test_several_refused_address_fields_are_one_refusal_with_every_field() -> None:
    errors = [by_message("Enter a ZIP code"), by_message("Enter a last name")]
    refusal = refusals.read(errors)
    assert refusal.code == refusals.ADDRESS
    assert set(refusal.fields) == {"zip", "last_name"}
    assert "Enter a ZIP code" in refusal.detail and "Enter a last name" in refusal.detail


@pytest.mark.parametrize("language", ["en", *LANGUAGES])
def test_no_captured_refusal_reaches_the_shopper_in_shopifys_words(language: str) -> None:
    for error in CAPTURED:
        refusal = refusals.read([error])
        with translation.override(language):
            shown = [failure_text(refusal.code), *map(refusals.hint, refusal.fields)]
        for text in shown:
            assert text and error.message not in text, (language, error.message, text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_refusal_and_hint_is_translated(language: str) -> None:
    codes = {refusals.read([error]).code for error in CAPTURED} | {"unavailable", "permanent"}
    texts = [(failure_text, code) for code in codes] + [
        (refusals.hint, name) for name in [*refusals.FIELD_HINTS, "not_a_field"]
    ]
    for explain, value in texts:
        with translation.override("en"):
            english = explain(value)
        with translation.override(language):
            translated = explain(value)
        assert translated != english, (language, value, english)
