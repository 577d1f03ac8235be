"""Every document the portal sends is valid against Shopify's published Admin schema."""

from __future__ import annotations

from functools import cache

import pytest
from graphql import GraphQLSchema, build_schema, parse, validate

from shopify import documents
from shopify.client import operation_of
from tests.shopify.conftest import SHARED

SCHEMA = SHARED / "admin-graphql" / "2026-07" / "schema.graphql"


@cache
def shopify_schema() -> GraphQLSchema:
    if not SCHEMA.exists():
        pytest.fail(f"missing Shopify's published schema: {SCHEMA}")
    # assume_valid: Shopify's own SDL marks some implementing fields deprecated where the
    # interface's are not, which graphql-core's schema check refuses; the documents are still
    # validated in full against it.
    return build_schema(SCHEMA.read_text(), assume_valid=True)


@pytest.mark.parametrize("name", sorted(documents.DOCUMENTS))
def test_document_is_valid_against_shopifys_schema(name: str) -> None:
    document = documents.DOCUMENTS[name]
    errors = validate(shopify_schema(), parse(document))
    assert errors == [], [error.message for error in errors]


@pytest.mark.parametrize("name", sorted(documents.DOCUMENTS))
def test_document_is_registered_under_its_operation_name(name: str) -> None:
    assert operation_of(documents.DOCUMENTS[name])[1] == name


def test_every_document_constant_is_registered() -> None:
    constants = {
        value
        for key, value in vars(documents).items()
        if key.isupper() and isinstance(value, str) and ("query " in value or "mutation " in value)
    }
    assert constants == set(documents.DOCUMENTS.values())


def test_a_removed_field_would_fail() -> None:
    broken = documents.SHOP.replace("ianaTimezone", "timezoneName")
    assert validate(shopify_schema(), parse(broken))
