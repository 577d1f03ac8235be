"""The sandbox's cast: a shop on a clock the test moves, a recorder for its webhooks, and a
`requests` session that reaches its Admin API in process."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox import Address, NewLine, Sandbox
from sandbox.adapter import WSGIAdapter
from sandbox.store import Order

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "shopify"
DOMAIN = "northwind-test.myshopify.com"
TOKEN = "shpat_test_token"
SECRET = "test-webhook-secret"
HOOKS = "https://portal.test/shopify/webhooks"
ADMIN = f"https://{DOMAIN}/admin/api/2026-07/graphql.json"

Admin = Callable[..., requests.Response]


def shared(relative: str) -> Path:
    path = SHARED / relative
    if not path.exists():
        pytest.fail(f"missing real Shopify material: {path}")
    return path


def shared_json(relative: str) -> Any:
    return json.loads(shared(relative).read_text())


class Clock:
    """A clock that stands still until the test moves it."""

    def __init__(self, now: datetime = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Received:
    url: str
    body: bytes
    headers: dict[str, str]

    @property
    def topic(self) -> str:
        return self.headers["X-Shopify-Topic"]

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


@dataclass
class Recorder:
    """A webhook transport that keeps what it receives; `failing` makes it raise instead."""

    received: list[Received] = field(default_factory=list)
    failing: bool = False

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        if self.failing:
            raise requests.ConnectionError("the portal is down")
        self.received.append(Received(url, body, dict(headers)))
        return 200

    def topics(self) -> list[str]:
        return [delivery.topic for delivery in self.received]

    def last(self, topic: str) -> Received:
        return [delivery for delivery in self.received if delivery.topic == topic][-1]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def hooks() -> Recorder:
    return Recorder()


@pytest.fixture
def sandbox(clock: Clock, hooks: Recorder) -> Sandbox:
    shop = Sandbox(
        domain=DOMAIN, access_token=TOKEN, client_secret=SECRET, clock=clock, transport=hooks
    )
    shop.webhooks.configure(target=HOOKS)
    return shop


@pytest.fixture
def session(sandbox: Sandbox) -> requests.Session:
    client = requests.Session()
    client.mount(f"https://{DOMAIN}/", WSGIAdapter(sandbox.app))
    return client


@pytest.fixture
def admin(session: requests.Session) -> Callable[..., requests.Response]:
    """POST a GraphQL document to the sandbox's Admin API as our client would."""

    def post(
        document: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str = TOKEN,
        timeout: float | tuple[float, float] = 10,
    ) -> requests.Response:
        return session.post(
            ADMIN,
            json={"query": document, "variables": variables or {}},
            headers={"X-Shopify-Access-Token": token},
            timeout=timeout,
        )

    return post


def place(sandbox: Sandbox, number: int | None = None, **details: Any) -> Order:
    """A small order: two T-shirts and a cap, to New York."""
    lines = details.pop("lines", None) or [
        NewLine(
            "Organic cotton T-shirt", Decimal("29.00"), 2, sku="TEE", product_id=71, variant_id=72
        ),
        NewLine("Canvas cap", Decimal("24.00"), 1, sku="CAP"),
    ]
    address = Address(
        first_name="Emma",
        last_name="Johnson",
        address1="350 Fifth Avenue",
        city="New York",
        province="New York",
        province_code="NY",
        zip="10118",
        country="United States",
        country_code="US",
        phone="+12125550142",
    )
    details.setdefault("email", "emma@example.com")
    details.setdefault("currency", "USD")
    details.setdefault("exchange_rate", Decimal("1.1"))
    details.setdefault("shipping_address", address)
    details.setdefault("shipping_price", Decimal("7.59"))
    return sandbox.create_order(lines=lines, number=number, **details)


def run(admin: Admin, document: str, variables: dict[str, Any]) -> Any:
    """The one root field's answer to `document`, which must come back without top-level
    errors."""
    response = admin(document, variables)
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body, body["errors"]
    (result,) = body["data"].values()
    return result


def captured(relative: str, *path: str | int) -> Any:
    """What Shopify answered at `path` of a capture: its root field's payload."""
    step = shared_json(relative)
    for key in path:
        step = step[key]
    response = step["response"]
    (payload,) = response.get("payload", response)["data"].values()
    return payload


def amount(bag: dict[str, Any], money: str = "presentmentMoney") -> str:
    return bag[money]["amount"]
