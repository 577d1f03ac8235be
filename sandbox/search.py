"""Shopify's search syntax, as far as the `orders(query:)` our client sends needs it.

Terms are `field:value` or `field:<op>value` with `op` one of `> >= < <=`, values optionally in
single or double quotes, separated by spaces or `AND`. Dates compare as moments: an ISO time
(without an offset it is UTC) or a plain date, which starts at midnight in the shop's time zone.
A term Shopify would not understand is ignored with a warning, as Shopify does, and the warning is
reported in the answer's `extensions.search`.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

DATE_FIELDS = {"updated_at", "created_at", "processed_at"}
TERM = re.compile(
    r"""(?P<field>[a-z_]+):(?P<op>>=|<=|>|<|=)?(?P<value>'[^']*'|"[^"]*"|\S+)""", re.IGNORECASE
)
OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "=": operator.eq,
}


@dataclass
class Filter:
    conditions: list[tuple[str, Callable[[Any, Any], bool], Any]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)

    def matches(self, record: Any) -> bool:
        return all(
            compare(getattr(record, name), value) for name, compare, value in self.conditions
        )


def parse(query: str | None, *, time_zone: str = "UTC") -> Filter:
    result = Filter()
    for word in _words(query or ""):
        if word.upper() == "AND":
            continue
        term = TERM.fullmatch(word)
        name = term["field"].lower() if term else word
        if term is None or name not in DATE_FIELDS | {"name"}:
            result.warnings.append(
                {"field": name, "message": "Invalid search field for this query."}
            )
            continue
        raw = term["value"].strip("'\"")
        compare = OPERATORS[term["op"] or "="]
        value = _order_number(raw) if name == "name" else _moment(raw, time_zone)
        if value is None:
            result.warnings.append({"field": name, "message": f"Invalid value: {raw}"})
            continue
        result.conditions.append(("number" if name == "name" else name, compare, value))
    return result


def product_tags(query: str | None) -> tuple[list[str], list[dict[str, str]]]:
    """The `tag:` terms of a `products(query:)`, each of which a product must carry (Shopify
    compares tags without case); any other term is ignored with a warning."""
    tags, warnings = [], []
    for word in _words(query or ""):
        if word.upper() == "AND":
            continue
        term = TERM.fullmatch(word)
        if term is None or term["field"].lower() != "tag" or term["op"]:
            name = term["field"].lower() if term else word
            warnings.append({"field": name, "message": "Invalid search field for this query."})
            continue
        tags.append(term["value"].strip("'\"").casefold())
    return tags, warnings


def _words(query: str) -> list[str]:
    return re.findall(r"""\S+?:(?:[<>]=?|=)?(?:'[^']*'|"[^"]*"|\S+)|\S+""", query)


def _order_number(raw: str) -> int | None:
    digits = raw.lstrip("#")
    return int(digits) if digits.isdigit() else None


def _moment(raw: str, time_zone: str) -> datetime | None:
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            day = date.fromisoformat(raw)
            return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(time_zone))
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
