"""The shared cast: a shop, its orders at several stages, and the staff who work them."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.utils import timezone

from orders.models import Order, Shop
from shopify import credentials
from shopify.models import ShopCredentials
from tests.factories import add_fulfillment_order, add_line, make_order, make_shop, ship

# The cast's webhook secret: FACTS.md's published vector's, so real samples check against it.
SECRET = "test-webhook-secret"


def pytest_configure() -> None:
    # The quality bar: tests run against the real services, never a stand-in.
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine or not os.environ.get("REDIS_URL"):
        raise pytest.UsageError(
            "Run the suite with `make test`: it needs DATABASE_URL (PostgreSQL) and REDIS_URL."
        )


@pytest.fixture(autouse=True)
def static_files_without_collectstatic(settings) -> None:  # type: ignore[no-untyped-def]
    # Production serves hashed files after collectstatic; tests serve the sources directly.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    cache.clear()  # rate-limit counters and the API bucket must not leak between tests


@pytest.fixture(autouse=True)
def shopify(settings):  # type: ignore[no-untyped-def]
    """The Admin API is a sandbox store in this process (see tests/sandbox_link.py), playing
    the cast's shop, with the cast's token and webhook secret."""
    from sandbox import Sandbox
    from tests import sandbox_link

    store = Sandbox(
        domain="northwind.myshopify.com",
        name="Northwind",
        access_token="shpat_test_token",
        client_secret="test-webhook-secret",
        transport=sandbox_link.to_portal(),
    )
    sandbox_link.current = store
    settings.SHOPIFY_TRANSPORT = "tests.sandbox_link.adapter"
    yield store
    sandbox_link.current = None


@pytest.fixture
def shop(db: None) -> Shop:
    return make_shop(name="Northwind", domain="northwind.myshopify.com")


@pytest.fixture
def unfulfilled_order(shop: Shop) -> Order:
    order = make_order(shop, number=1001)
    add_line(order, quantity=2)
    add_fulfillment_order(order)
    return order


@pytest.fixture
def shipped_order(shop: Shop) -> Order:
    order = make_order(shop, number=1002, email="bob@example.com", customer_locale="de")
    add_line(order)
    add_fulfillment_order(order, status="closed")
    now = timezone.now()
    ship(
        order,
        events=[
            ("label_printed", now - timedelta(days=2)),
            ("in_transit", now - timedelta(days=1)),
        ],
    )
    return order


@pytest.fixture
def agent(db: None) -> User:
    user = User.objects.create_user("alice", password="agent-password-1", is_staff=True)
    user.groups.add(Group.objects.get(name="Support agent"))
    return user


@pytest.fixture
def connected_shop(db: None) -> Shop:
    shop = make_shop(domain="northwind.myshopify.com", name="Northwind")
    ShopCredentials.objects.create(
        shop=shop,
        sealed_access_token=credentials.seal("shpat_test_token"),
        sealed_client_secret=credentials.seal(SECRET),
    )
    return shop


@pytest.fixture
def hoodie(shopify):  # type: ignore[no-untyped-def]
    """A hoodie in the sandbox's catalogue, in four sizes (XL sold out, L dearer)."""
    from sandbox import NewVariant

    return shopify.add_product(
        title="Trail hoodie",
        product_type="Hoodies",
        variants=[
            NewVariant(title="S", price=Decimal("79.00"), inventory_quantity=3, sku="HOOD-S"),
            NewVariant(title="M", price=Decimal("79.00"), inventory_quantity=5, sku="HOOD-M"),
            NewVariant(title="L", price=Decimal("84.00"), inventory_quantity=2, sku="HOOD-L"),
            NewVariant(title="XL", price=Decimal("79.00"), inventory_quantity=0, sku="HOOD-XL"),
        ],
    )


@pytest.fixture
def run_jobs() -> Callable[[], int]:
    """Run every queued job in this process (RQ's SimpleWorker, in burst mode)."""
    import django_rq
    from rq import SimpleWorker

    names = ("webhooks", "shopify", "default")

    def run() -> int:
        """Returns how many jobs ran."""
        queued = sum(django_rq.get_queue(name).count for name in names)
        django_rq.get_worker(*names, worker_class=SimpleWorker).work(burst=True)
        return queued - sum(django_rq.get_queue(name).count for name in names)

    return run


def place_hoodies(shopify, hoodie, *, currency: str, rate: Decimal, days_ago: float):  # type: ignore[no-untyped-def]
    """Two hoodies in M bought in the sandbox by Alice in Paris, `days_ago`, in `currency` at
    `rate` units per euro (the shop's currency): the order Shopify would hold."""
    from datetime import timedelta

    from django.utils import timezone

    from sandbox import Address, NewLine

    medium = next(v for v in hoodie.variants if v.title == "M")
    return shopify.create_order(
        lines=[
            NewLine(
                title="Trail hoodie",
                price=Decimal("79.00") * rate,
                quantity=2,
                sku="HOOD-M",
                variant_title="M",
                product_id=hoodie.id,
                variant_id=medium.id,
                product_type="Hoodies",
            )
        ],
        email="alice@example.com",
        currency=currency,
        exchange_rate=rate,
        shipping_address=Address(
            first_name="Alice",
            last_name="Martin",
            address1="8 rue de Rivoli",
            city="Paris",
            zip="75004",
            country_code="FR",
        ),  # fmt: skip
        placed_at=timezone.now() - timedelta(days=days_ago),
    )
