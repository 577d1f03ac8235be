"""The demo store: about twenty orders that show every stage, seven languages, several
currencies and destination countries.

Times are relative to the moment of loading, so the demo always looks current. Loading again
replaces the demo shop's orders and nothing else.

Until the Shopify integration lands, this writes the mirror directly; afterwards the same
orders come from the sandbox store through webhooks and ingest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from orders.models import (
    Fulfillment,
    FulfillmentLine,
    FulfillmentOrder,
    LineItem,
    Order,
    OrderEvent,
    Shop,
    TrackingEvent,
)

DOMAIN = "northwind-demo.myshopify.com"
S = Fulfillment.ShipmentStatus

PRODUCTS = {
    "tee": ("Organic cotton T-shirt", Decimal("29.00")),
    "hoodie": ("Trail hoodie", Decimal("79.00")),
    "cap": ("Canvas cap", Decimal("24.00")),
    "mug": ("Enamel camp mug", Decimal("18.00")),
    "sneaker": ("Everyday sneaker", Decimal("119.00")),
    "socks": ("Merino socks, 2 pairs", Decimal("22.00")),
    "backpack": ("Daypack 20 L", Decimal("95.00")),
    "bottle": ("Insulated bottle", Decimal("32.00")),
}
# Rough exchange rates for presenting the demo in several currencies.
RATES = {
    "EUR": Decimal("1"),
    "USD": Decimal("1.1"),
    "GBP": Decimal("0.85"),
    "CAD": Decimal("1.5"),
    "AED": Decimal("4"),
    "JPY": Decimal("160"),
}

CARRIERS = {
    "UPS": "https://www.ups.com/track?tracknum={}",
    "DHL Express": "https://www.dhl.com/global-en/home/tracking.html?tracking-id={}",
    "PostNL": "https://jouw.postnl.nl/track-and-trace/{}",
    "Royal Mail": "https://www.royalmail.com/track-your-item#/tracking-results/{}",
    "Yamato": "https://toi.kuronekoyamato.co.jp/cgi-bin/tneko?number={}",
    "Aramex": "https://www.aramex.com/track/results?ShipmentNumber={}",
    "Canada Post": "https://www.canadapost-postescanada.ca/track-reperage/en#/details/{}",
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
    "La Poste": "https://www.laposte.fr/outils/suivre-vos-envois?code={}",
    "Correos": "https://www.correos.es/es/en/tools/tracker/items/details?tracking-number={}",
}

ADDRESSES = {
    "US": {
        "first_name": "Emma",
        "last_name": "Johnson",
        "address1": "350 Fifth Avenue",
        "address2": "Apt 4B",
        "city": "New York",
        "province": "New York",
        "province_code": "NY",
        "zip": "10118",
        "country": "United States",
        "country_code": "US",
        "phone": "+12125550142",
    },
    "DE": {
        "first_name": "Lukas",
        "last_name": "Becker",
        "address1": "Torstraße 101",
        "city": "Berlin",
        "zip": "10119",
        "country": "Germany",
        "country_code": "DE",
        "phone": "+4930901820",
    },
    "FR": {
        "first_name": "Camille",
        "last_name": "Martin",
        "address1": "12 rue de Rivoli",
        "city": "Paris",
        "zip": "75004",
        "country": "France",
        "country_code": "FR",
        "phone": "+33142765432",
    },
    "GB": {
        "first_name": "Oliver",
        "last_name": "Smith",
        "address1": "10 Downing Street",
        "city": "London",
        "zip": "SW1A 2AA",
        "country": "United Kingdom",
        "country_code": "GB",
        "phone": "+442079250918",
    },
    "JP": {
        "first_name": "花子",
        "last_name": "山田",
        "address1": "丸の内1-9-1",
        "city": "千代田区",
        "province": "Tokyo",
        "province_code": "JP-13",
        "zip": "100-0005",
        "country": "Japan",
        "country_code": "JP",
        "phone": "+81352218111",
    },
    "NL": {
        "first_name": "Sanne",
        "last_name": "de Vries",
        "address1": "Prinsengracht 263",
        "city": "Amsterdam",
        "zip": "1016 GV",
        "country": "Netherlands",
        "country_code": "NL",
        "phone": "+31205567105",
    },
    "AE": {
        "first_name": "Layla",
        "last_name": "Haddad",
        "address1": "Sheikh Zayed Road, Tower 2",
        "address2": "Flat 1204",
        "city": "Dubai",
        "province": "Dubai",
        "country": "United Arab Emirates",
        "country_code": "AE",
        "phone": "+97143123456",
    },
    "CA": {
        "first_name": "Chloé",
        "last_name": "Tremblay",
        "address1": "1000 rue De La Gauchetière O",
        "city": "Montréal",
        "province": "Quebec",
        "province_code": "QC",
        "zip": "H3B 4W5",
        "country": "Canada",
        "country_code": "CA",
        "phone": "+15145550199",
    },
    "ES": {
        "first_name": "Lucía",
        "last_name": "García",
        "address1": "Calle de Alcalá 42",
        "city": "Madrid",
        "province": "Madrid",
        "province_code": "M",
        "zip": "28014",
        "country": "Spain",
        "country_code": "ES",
        "phone": "+34915550123",
    },
}


@dataclass
class Parcel:
    carrier: str
    items: list[tuple[str, int]]  # (product, quantity) in this parcel
    shipped_days_ago: float
    events: list[tuple[str, float, str, str]] = field(default_factory=list)
    # (status, days ago, message, city); the last one is the parcel's current status
    estimated_in_days: float | None = None


@dataclass
class DemoOrder:
    number: int
    country: str
    locale: str
    currency: str
    email: str
    items: list[tuple[str, int]]
    placed_days_ago: float
    parcels: list[Parcel] = field(default_factory=list)
    preparing: bool = False
    cancelled: bool = False


def _transit(
    city_from: str, city_to: str, *, days: float, final: str | None = None, final_message: str = ""
) -> list[tuple[str, float, str, str]]:
    events = [
        (S.LABEL_PRINTED, days, "Shipping label created", city_from),
        (S.CARRIER_PICKED_UP, days - 0.3, "Picked up by the carrier", city_from),
        (S.IN_TRANSIT, days - 0.8, "Arrived at sorting centre", city_from),
        (S.IN_TRANSIT, max(days - 1.5, 0.2), "Departed sorting centre", city_to),
    ]
    if final:
        events.append((final, 0.1, final_message, city_to))
    return events


ORDERS = [
    DemoOrder(
        1001,
        "US",
        "en",
        "USD",
        "emma@example.com",
        [("tee", 2), ("cap", 1)],
        4,
        [
            Parcel(
                "UPS",
                [("tee", 2), ("cap", 1)],
                3,
                _transit("Newark", "New York", days=3),
                estimated_in_days=1.5,
            )
        ],
    ),
    DemoOrder(1002, "DE", "de", "EUR", "lukas@example.com", [("hoodie", 1)], 0.2),
    DemoOrder(
        1003,
        "FR",
        "fr",
        "EUR",
        "camille@example.com",
        [("sneaker", 1), ("socks", 2)],
        1,
        preparing=True,
    ),
    DemoOrder(
        1004,
        "GB",
        "en-GB",
        "GBP",
        "oliver@example.com",
        [("backpack", 1), ("bottle", 2)],
        5,
        [
            Parcel(
                "Royal Mail",
                [("backpack", 1)],
                3,
                _transit("Bristol", "London", days=3),
                estimated_in_days=1,
            )
        ],
    ),
    DemoOrder(
        1005,
        "JP",
        "ja",
        "JPY",
        "hanako@example.com",
        [("mug", 2), ("tee", 1)],
        6,
        [
            Parcel(
                "Yamato",
                [("mug", 2), ("tee", 1)],
                4,
                _transit("大阪", "東京", days=4, final=S.OUT_FOR_DELIVERY, final_message="配達中"),
                estimated_in_days=0.3,
            )
        ],
    ),
    DemoOrder(
        1006,
        "NL",
        "nl",
        "EUR",
        "sanne@example.com",
        [("hoodie", 1), ("cap", 1)],
        10,
        [
            Parcel(
                "PostNL",
                [("hoodie", 1), ("cap", 1)],
                8,
                _transit(
                    "Utrecht",
                    "Amsterdam",
                    days=8,
                    final=S.DELIVERED,
                    final_message="Bezorgd bij de voordeur",
                ),
            )
        ],
    ),
    DemoOrder(
        1007,
        "AE",
        "ar",
        "AED",
        "layla@example.com",
        [("sneaker", 1)],
        7,
        [
            Parcel(
                "Aramex",
                [("sneaker", 1)],
                5,
                _transit(
                    "Abu Dhabi",
                    "Dubai",
                    days=5,
                    final=S.ATTEMPTED_DELIVERY,
                    final_message="Recipient not available",
                ),
                estimated_in_days=1,
            )
        ],
    ),
    DemoOrder(
        1008,
        "CA",
        "fr-CA",
        "CAD",
        "chloe@example.com",
        [("hoodie", 1), ("mug", 1)],
        6,
        [
            Parcel(
                "Canada Post",
                [("hoodie", 1)],
                4,
                _transit("Toronto", "Montréal", days=4),
                estimated_in_days=1,
            ),
            Parcel(
                "Canada Post",
                [("mug", 1)],
                2,
                _transit("Toronto", "Montréal", days=2),
                estimated_in_days=2,
            ),
        ],
    ),
    DemoOrder(1009, "US", "es", "USD", "sofia@example.com", [("bottle", 1)], 3, cancelled=True),
    DemoOrder(
        1010,
        "ES",
        "es",
        "EUR",
        "lucia@example.com",
        [("socks", 3)],
        12,
        [
            Parcel(
                "Correos",
                [("socks", 3)],
                10,
                _transit(
                    "Zaragoza", "Madrid", days=10, final=S.DELIVERED, final_message="Entregado"
                ),
            )
        ],
    ),
    DemoOrder(
        1011,
        "DE",
        "de",
        "EUR",
        "jonas@example.com",
        [("backpack", 1)],
        5,
        [
            Parcel(
                "DHL Express",
                [("backpack", 1)],
                4,
                _transit(
                    "Leipzig",
                    "Berlin",
                    days=4,
                    final=S.DELAYED,
                    final_message="Verzögerung wegen hohen Sendungsaufkommens",
                ),
                estimated_in_days=2,
            )
        ],
    ),
    DemoOrder(1012, "JP", "ja", "JPY", "kenji@example.com", [("cap", 1), ("socks", 1)], 0.5),
    DemoOrder(
        1013,
        "AE",
        "ar",
        "AED",
        "omar@example.com",
        [("tee", 1)],
        9,
        [
            Parcel(
                "Aramex",
                [("tee", 1)],
                7,
                _transit(
                    "Abu Dhabi", "Dubai", days=7, final=S.DELIVERED, final_message="Delivered"
                ),
            )
        ],
    ),
    DemoOrder(
        1014,
        "US",
        "en",
        "USD",
        "james@example.com",
        [("mug", 1)],
        9,
        [
            Parcel(
                "USPS",
                [("mug", 1)],
                7,
                _transit(
                    "Chicago",
                    "New York",
                    days=7,
                    final=S.FAILURE,
                    final_message="Address not found, returning to sender",
                ),
            )
        ],
    ),
    DemoOrder(
        1015,
        "FR",
        "fr",
        "EUR",
        "lea@example.com",
        [("bottle", 2)],
        4,
        [
            Parcel(
                "La Poste",
                [("bottle", 2)],
                3,
                _transit(
                    "Lyon",
                    "Paris",
                    days=3,
                    final=S.OUT_FOR_DELIVERY,
                    final_message="En cours de livraison",
                ),
                estimated_in_days=0.3,
            )
        ],
    ),
    DemoOrder(
        1016,
        "NL",
        "nl",
        "EUR",
        "daan@example.com",
        [("sneaker", 1), ("tee", 1), ("cap", 1)],
        4,
        [
            Parcel(
                "PostNL",
                [("tee", 1)],
                2,
                _transit("Utrecht", "Amsterdam", days=2),
                estimated_in_days=1,
            )
        ],
    ),
    DemoOrder(
        1017,
        "CA",
        "en",
        "CAD",
        "liam@example.com",
        [("backpack", 1), ("bottle", 1)],
        1.5,
        preparing=True,
    ),
    DemoOrder(
        1018,
        "GB",
        "en",
        "GBP",
        "amelia@example.com",
        [("hoodie", 1), ("tee", 2), ("mug", 1)],
        14,
        [
            Parcel(
                "Royal Mail",
                [("hoodie", 1)],
                12,
                _transit(
                    "Bristol",
                    "London",
                    days=12,
                    final=S.DELIVERED,
                    final_message="Delivered to neighbour",
                ),
            ),
            Parcel(
                "Royal Mail",
                [("tee", 2)],
                11,
                _transit(
                    "Bristol", "London", days=11, final=S.DELIVERED, final_message="Delivered"
                ),
            ),
            Parcel(
                "Royal Mail",
                [("mug", 1)],
                9,
                _transit("Bristol", "London", days=9, final=S.DELIVERED, final_message="Delivered"),
            ),
        ],
    ),
    DemoOrder(
        1019,
        "US",
        "en",
        "USD",
        "ava@example.com",
        [("socks", 1)],
        1,
        [
            Parcel(
                "USPS",
                [("socks", 1)],
                0.3,
                [(S.LABEL_PRINTED, 0.3, "Label created", "Denver")],
                estimated_in_days=4,
            )
        ],
    ),
    DemoOrder(1020, "DE", "de", "EUR", "mia@example.com", [("cap", 2)], 2, cancelled=True),
]


def _convert(amount: Decimal, currency: str) -> Decimal:
    converted = amount * RATES[currency]
    return converted.quantize(Decimal("1") if currency == "JPY" else Decimal("0.01"))


@transaction.atomic
def load(now: datetime | None = None) -> Shop:
    now = now or timezone.now()
    shop, _ = Shop.objects.update_or_create(
        domain=DOMAIN,
        defaults={
            "name": "Northwind Outfitters",
            "default_locale": "en",
            "enabled_locales": ["en", "de", "fr", "es", "nl", "ja", "ar"],
            "time_zone": "Europe/Berlin",
            "currency": "EUR",
            "brand_colour": "#14532d",
            "accent_colour": "#15803d",
            "support_email": "support@northwind.example",
            "is_active": True,
        },
    )
    shop.orders.all().delete()
    for spec in ORDERS:
        _create(shop, spec, now)
    return shop


def _create(shop: Shop, spec: DemoOrder, now: datetime) -> Order:
    ago = lambda days: now - timedelta(days=days)  # noqa: E731
    prices = {key: _convert(price, spec.currency) for key, (_t, price) in PRODUCTS.items()}
    subtotal = sum(prices[key] * qty for key, qty in spec.items)
    shipping = _convert(Decimal("6.90"), spec.currency)
    placed = ago(spec.placed_days_ago)
    shipped_qty: dict[str, int] = {}
    for parcel in spec.parcels:
        for key, qty in parcel.items:
            shipped_qty[key] = shipped_qty.get(key, 0) + qty
    all_shipped = all(shipped_qty.get(key, 0) >= qty for key, qty in spec.items)
    order = Order.objects.create(
        shop=shop,
        shopify_id=5_000_000_000 + spec.number,
        name=f"#{spec.number}",
        number=spec.number,
        email=spec.email,
        phone=ADDRESSES[spec.country]["phone"],
        customer_locale=spec.locale,
        currency=spec.currency,
        subtotal=subtotal,
        shipping=shipping,
        total=subtotal + shipping,
        financial_status=Order.FinancialStatus.VOIDED
        if spec.cancelled
        else Order.FinancialStatus.PAID,
        fulfillment_status=(
            Order.FulfillmentStatus.FULFILLED
            if spec.parcels and all_shipped
            else Order.FulfillmentStatus.PARTIAL
            if spec.parcels
            else Order.FulfillmentStatus.UNFULFILLED
        ),
        placed_at=placed,
        cancelled_at=ago(spec.placed_days_ago - 0.1) if spec.cancelled else None,
        cancel_reason="customer" if spec.cancelled else "",
        shipping_address=ADDRESSES[spec.country],
        tags=[],
        shopify_updated_at=now,
    )
    lines = {}
    for position, (key, qty) in enumerate(spec.items):
        title, _price = PRODUCTS[key]
        lines[key] = LineItem.objects.create(
            order=order,
            shopify_id=order.shopify_id * 10 + position,
            position=position,
            product_id=9_000 + position,
            variant_id=90_000 + position,
            sku=f"NW-{key.upper()}",
            title=title,
            variant_title={
                "tee": "M / Navy",
                "hoodie": "L / Forest",
                "sneaker": "EU 42",
                "socks": "39–42",
            }.get(key, ""),
            image_url=f"/static/demo/{key}.svg",
            quantity=qty,
            fulfillable_quantity=0 if spec.cancelled else qty - shipped_qty.get(key, 0),
            price=prices[key],
        )
    FulfillmentOrder.objects.create(
        order=order,
        shopify_id=order.shopify_id * 10,
        status=(
            FulfillmentOrder.Status.CANCELLED
            if spec.cancelled
            else FulfillmentOrder.Status.CLOSED
            if spec.parcels and all_shipped
            else FulfillmentOrder.Status.IN_PROGRESS
            if spec.preparing or spec.parcels
            else FulfillmentOrder.Status.OPEN
        ),
        location_name="Northwind warehouse",
    )
    order.log(OrderEvent.Kind.PLACED, actor="shopify", visible_to_shopper=True, at=placed)
    for index, parcel in enumerate(spec.parcels, start=1):
        _ship(order, lines, parcel, index, ago)
    if spec.cancelled:
        order.log(
            OrderEvent.Kind.CANCELLED,
            actor="shopify",
            visible_to_shopper=True,
            at=order.cancelled_at,
        )
    return order


def _ship(order: Order, lines: dict[str, LineItem], parcel: Parcel, index: int, ago) -> None:  # type: ignore[no-untyped-def]
    number = f"{parcel.carrier[:2].upper()}{order.number}{index:02d}7731"
    last = parcel.events[-1][0] if parcel.events else ""
    fulfillment = Fulfillment.objects.create(
        order=order,
        shopify_id=order.shopify_id * 100 + index,
        name=f"{order.name}.{index}",
        status=Fulfillment.Status.SUCCESS,
        shipment_status=last,
        tracking_company=parcel.carrier,
        tracking_numbers=[number],
        tracking_urls=[CARRIERS[parcel.carrier].format(number)],
        shipped_at=ago(parcel.shipped_days_ago),
        estimated_delivery_at=(
            ago(-parcel.estimated_in_days) if parcel.estimated_in_days is not None else None
        ),
        delivered_at=ago(parcel.events[-1][1]) if last == S.DELIVERED else None,
    )
    for key, qty in parcel.items:
        FulfillmentLine.objects.create(fulfillment=fulfillment, line_item=lines[key], quantity=qty)
    for position, (status, days, message, city) in enumerate(parcel.events):
        TrackingEvent.objects.create(
            fulfillment=fulfillment,
            shopify_id=fulfillment.shopify_id * 100 + position,
            status=status,
            happened_at=ago(days),
            message=message,
            city=city,
            country_code=order.country_code,
        )
    order.log(
        OrderEvent.Kind.SHIPPED,
        actor="shopify",
        visible_to_shopper=True,
        at=fulfillment.shipped_at,
        fulfillment=fulfillment.shopify_id,
    )
    if last in (S.DELIVERED, S.ATTEMPTED_DELIVERY, S.FAILURE):
        kind = (
            OrderEvent.Kind.DELIVERED if last == S.DELIVERED else OrderEvent.Kind.DELIVERY_PROBLEM
        )
        order.log(
            kind,
            actor="shopify",
            visible_to_shopper=True,
            at=ago(parcel.events[-1][1]),
            fulfillment=fulfillment.shopify_id,
        )
