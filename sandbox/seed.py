"""The demo shop's story: twenty orders, #1001-#1020, at every stage, in seven languages, six
currencies and nine countries, as `portal/demo.py` tells it.

Here the story is told through the store's own operations (place, start packing, ship, scan,
cancel), so it reaches the mirror as it would from Shopify: through webhooks, or a sync. Times are
relative to the moment of seeding, so the demo always looks current.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

from sandbox.store import Address, NewLine, NewVariant, Order, Store, rounded

SHOP = {
    "domain": "northwind-demo.myshopify.com",
    "name": "Northwind Outfitters",
    "currency": "EUR",
    "iana_timezone": "Europe/Berlin",
    "contact_email": "support@northwind.example",
}
SHOP_ID = 79_426_011_137
LOCATION = "Northwind warehouse"


# The catalogue, priced in the shop's currency (EUR); ids as Shopify's, one per product.
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
VARIANT_TITLES = {"tee": "M / Navy", "hoodie": "L / Forest", "sneaker": "EU 42", "socks": "39–42"}
# Each product's variants: its options, then (values, stock on hand) per variant, in position
# order. The one the demo orders were placed for (VARIANT_TITLES, or the only one) keeps the id
# and SKU the orders carry; a few are sold out, a few plentiful, and the camp mug is made to
# order (policy CONTINUE: it sells at no stock).
VARIANTS: dict[str, tuple[tuple[str, ...], list[tuple[tuple[str, ...], int]]]] = {
    "tee": (
        ("Size", "Color"),
        [
            (("S", "Navy"), 0),
            (("M", "Navy"), 12),
            (("L", "Navy"), 25),
            (("XL", "Navy"), 3),
            (("S", "White"), 8),
            (("M", "White"), 0),
            (("L", "White"), 40),
        ],
    ),
    "hoodie": (
        ("Size", "Color"),
        [
            (("S", "Forest"), 4),
            (("M", "Forest"), 0),
            (("L", "Forest"), 6),
            (("XL", "Forest"), 0),
            (("M", "Charcoal"), 15),
            (("L", "Charcoal"), 30),
        ],
    ),
    "sneaker": (
        ("Size",),
        [
            (("EU 40",), 2),
            (("EU 41",), 0),
            (("EU 42",), 5),
            (("EU 43",), 18),
            (("EU 44",), 0),
            (("EU 45",), 1),
        ],
    ),
    "socks": (("Size",), [(("35–38",), 10), (("39–42",), 60), (("43–46",), 0)]),
    "cap": (("Title",), [(("Default Title",), 50)]),
    "mug": (("Title",), [(("Default Title",), 0)]),
    "backpack": (("Title",), [(("Default Title",), 7)]),
    "bottle": (("Title",), [(("Default Title",), 0)]),
}
MADE_TO_ORDER = {"mug"}
# Product types and tags, which return rules look at: socks are a final sale (hygiene).
PRODUCT_TYPES = {
    "tee": "Apparel",
    "hoodie": "Apparel",
    "cap": "Accessories",
    "mug": "Camp kitchen",
    "sneaker": "Footwear",
    "socks": "Apparel",
    "backpack": "Bags",
    "bottle": "Camp kitchen",
}
# The cap is what the demo shop lets a shopper add to an order not yet packed.
PRODUCT_TAGS = {"socks": ("final-sale",), "sneaker": ("new-arrival",), "cap": ("add-on",)}
FIRST_PRODUCT_ID = 8_430_112_000_101
FIRST_VARIANT_ID = 45_602_110_000_101
OTHER_VARIANT_ID = 45_602_110_001_001
SHIPPING = Decimal("6.90")
# Rough exchange rates for presenting the demo in several currencies (per euro).
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
    "US": Address(
        first_name="Emma",
        last_name="Johnson",
        address1="350 Fifth Avenue",
        address2="Apt 4B",
        city="New York",
        province="New York",
        province_code="NY",
        zip="10118",
        country="United States",
        country_code="US",
        phone="+12125550142",
    ),
    "DE": Address(
        first_name="Lukas",
        last_name="Becker",
        address1="Torstraße 101",
        city="Berlin",
        zip="10119",
        country="Germany",
        country_code="DE",
        phone="+4930901820",
    ),
    "FR": Address(
        first_name="Camille",
        last_name="Martin",
        address1="12 rue de Rivoli",
        city="Paris",
        zip="75004",
        country="France",
        country_code="FR",
        phone="+33142765432",
    ),
    "GB": Address(
        first_name="Oliver",
        last_name="Smith",
        address1="10 Downing Street",
        city="London",
        zip="SW1A 2AA",
        country="United Kingdom",
        country_code="GB",
        phone="+442079250918",
    ),
    "JP": Address(
        first_name="花子",
        last_name="山田",
        address1="丸の内1-9-1",
        city="千代田区",
        province="Tokyo",
        province_code="JP-13",
        zip="100-0005",
        country="Japan",
        country_code="JP",
        phone="+81352218111",
    ),
    "NL": Address(
        first_name="Sanne",
        last_name="de Vries",
        address1="Prinsengracht 263",
        city="Amsterdam",
        zip="1016 GV",
        country="Netherlands",
        country_code="NL",
        phone="+31205567105",
    ),
    "AE": Address(
        first_name="Layla",
        last_name="Haddad",
        address1="Sheikh Zayed Road, Tower 2",
        address2="Flat 1204",
        city="Dubai",
        province="Dubai",
        country="United Arab Emirates",
        country_code="AE",
        phone="+97143123456",
    ),
    "CA": Address(
        first_name="Chloé",
        last_name="Tremblay",
        address1="1000 rue De La Gauchetière O",
        city="Montréal",
        province="Quebec",
        province_code="QC",
        zip="H3B 4W5",
        country="Canada",
        country_code="CA",
        phone="+15145550199",
    ),
    "ES": Address(
        first_name="Lucía",
        last_name="García",
        address1="Calle de Alcalá 42",
        city="Madrid",
        province="Madrid",
        province_code="M",
        zip="28014",
        country="Spain",
        country_code="ES",
        phone="+34915550123",
    ),
}

Scan = tuple[str, float, str, str]  # (FulfillmentEventStatus, days ago, message, city)


@dataclass
class Parcel:
    carrier: str
    items: list[tuple[str, int]]  # (product, quantity) in this parcel
    shipped_days_ago: float
    scans: list[Scan] = field(default_factory=list)  # the last one is the parcel's status
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


def transit(
    city_from: str, city_to: str, *, days: float, final: str | None = None, final_message: str = ""
) -> list[Scan]:
    scans = [
        ("LABEL_PRINTED", days, "Shipping label created", city_from),
        ("CARRIER_PICKED_UP", days - 0.3, "Picked up by the carrier", city_from),
        ("IN_TRANSIT", days - 0.8, "Arrived at sorting centre", city_from),
        ("IN_TRANSIT", max(days - 1.5, 0.2), "Departed sorting centre", city_to),
    ]
    if final:
        scans.append((final, 0.1, final_message, city_to))
    return scans


ORDERS = [
    # Shipped, in transit.
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
                transit("Newark", "New York", days=3),
                estimated_in_days=1.5,
            ),
        ],
    ),
    # Confirmed, nothing done yet.
    DemoOrder(1002, "DE", "de", "EUR", "lukas@example.com", [("hoodie", 1)], 0.2),
    # Being packed.
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
    # Partially shipped.
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
                transit("Bristol", "London", days=3),
                estimated_in_days=1,
            ),
        ],
    ),
    # Out for delivery.
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
                transit("大阪", "東京", days=4, final="OUT_FOR_DELIVERY", final_message="配達中"),
                estimated_in_days=0.3,
            ),
        ],
    ),
    # Delivered.
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
                transit(
                    "Utrecht",
                    "Amsterdam",
                    days=8,
                    final="DELIVERED",
                    final_message="Bezorgd bij de voordeur",
                ),
            ),
        ],
    ),
    # Delivery attempted: a problem.
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
                transit(
                    "Abu Dhabi",
                    "Dubai",
                    days=5,
                    final="ATTEMPTED_DELIVERY",
                    final_message="Recipient not available",
                ),
                estimated_in_days=1,
            ),
        ],
    ),
    # Shipped in two parcels, both in transit.
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
                transit("Toronto", "Montréal", days=4),
                estimated_in_days=1,
            ),
            Parcel(
                "Canada Post",
                [("mug", 1)],
                2,
                transit("Toronto", "Montréal", days=2),
                estimated_in_days=2,
            ),
        ],
    ),
    # Cancelled.
    DemoOrder(1009, "US", "es", "USD", "sofia@example.com", [("bottle", 1)], 3, cancelled=True),
    # Delivered.
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
                transit(
                    "Zaragoza", "Madrid", days=10, final="DELIVERED", final_message="Entregado"
                ),
            ),
        ],
    ),
    # Delayed.
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
                transit(
                    "Leipzig",
                    "Berlin",
                    days=4,
                    final="DELAYED",
                    final_message="Verzögerung wegen hohen Sendungsaufkommens",
                ),
                estimated_in_days=2,
            ),
        ],
    ),
    # Confirmed.
    DemoOrder(1012, "JP", "ja", "JPY", "kenji@example.com", [("cap", 1), ("socks", 1)], 0.05),
    # Delivered.
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
                transit("Abu Dhabi", "Dubai", days=7, final="DELIVERED", final_message="Delivered"),
            ),
        ],
    ),
    # Delivery failed: a problem.
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
                transit(
                    "Chicago",
                    "New York",
                    days=7,
                    final="FAILURE",
                    final_message="Address not found, returning to sender",
                ),
            ),
        ],
    ),
    # Out for delivery.
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
                transit(
                    "Lyon",
                    "Paris",
                    days=3,
                    final="OUT_FOR_DELIVERY",
                    final_message="En cours de livraison",
                ),
                estimated_in_days=0.3,
            ),
        ],
    ),
    # Partially shipped.
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
                transit("Utrecht", "Amsterdam", days=2),
                estimated_in_days=1,
            ),
        ],
    ),
    # Being packed.
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
    # Delivered in three parcels.
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
                transit(
                    "Bristol",
                    "London",
                    days=12,
                    final="DELIVERED",
                    final_message="Delivered to neighbour",
                ),
            ),
            Parcel(
                "Royal Mail",
                [("tee", 2)],
                11,
                transit("Bristol", "London", days=11, final="DELIVERED", final_message="Delivered"),
            ),
            Parcel(
                "Royal Mail",
                [("mug", 1)],
                9,
                transit("Bristol", "London", days=9, final="DELIVERED", final_message="Delivered"),
            ),
        ],
    ),
    # Just shipped: a label printed.
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
                [("LABEL_PRINTED", 0.3, "Label created", "Denver")],
                estimated_in_days=4,
            ),
        ],
    ),
    # Cancelled.
    DemoOrder(1020, "DE", "de", "EUR", "mia@example.com", [("cap", 2)], 2, cancelled=True),
]


def load_demo(store: Store, *, now: datetime | None = None) -> list[Order]:
    now = now or store.clock()
    for key in PRODUCTS:
        _stock(store, key)
    return [_tell(store, spec, now) for spec in ORDERS]


def _stock(store: Store, key: str) -> None:
    title, price = PRODUCTS[key]
    position = list(PRODUCTS).index(key)
    names, variants = VARIANTS[key]
    ordered = VARIANT_TITLES.get(key, "Default Title")
    new = []
    for index, (values, quantity) in enumerate(variants):
        variant_title = " / ".join(values)
        is_ordered = variant_title == ordered
        new.append(
            NewVariant(
                id=FIRST_VARIANT_ID + position
                if is_ordered
                else OTHER_VARIANT_ID + 10 * position + index,
                title=variant_title,
                price=price,
                inventory_quantity=quantity,
                inventory_policy="CONTINUE" if key in MADE_TO_ORDER else "DENY",
                options=dict(zip(names, values, strict=True)),
                sku=f"NW-{key.upper()}" if is_ordered else f"NW-{key.upper()}-{index + 1}",
            )
        )
    store.add_product(
        id=FIRST_PRODUCT_ID + position,
        title=title,
        product_type=PRODUCT_TYPES[key],
        tags=PRODUCT_TAGS.get(key, ()),
        variants=new,
        image_url=f"/static/demo/{key}.svg",
    )


def _tell(store: Store, spec: DemoOrder, now: datetime) -> Order:
    def ago(days: float) -> datetime:
        return now - timedelta(days=days)

    rate = RATES[spec.currency]
    address = ADDRESSES[spec.country]
    order = store.place_order(
        number=spec.number,
        email=spec.email,
        phone=address.phone,
        customer_locale=spec.locale,
        currency=spec.currency,
        exchange_rate=rate,
        lines=[_line(key, quantity, spec.currency) for key, quantity in spec.items],
        shipping_address=replace(address),
        shipping_price=rounded(SHIPPING * rate, spec.currency),
        placed_at=ago(spec.placed_days_ago),
        # An authorization that a cancellation voids, as the demo shows; else paid.
        financial_status="AUTHORIZED" if spec.cancelled else "PAID",
        location_name=LOCATION,
    )
    if spec.preparing:
        store.start_preparing(order)
    for index, parcel in enumerate(spec.parcels, start=1):
        tracking = f"{parcel.carrier[:2].upper()}{spec.number}{index:02d}7731"
        shipment = store.fulfil(
            order,
            lines={order.line(f"NW-{key.upper()}").id: quantity for key, quantity in parcel.items},
            company=parcel.carrier,
            number=tracking,
            url=CARRIERS[parcel.carrier].format(tracking),
            at=ago(parcel.shipped_days_ago),
        )
        for position, (status, days, message, city) in enumerate(parcel.scans, start=1):
            last = position == len(parcel.scans)
            estimate = parcel.estimated_in_days if last else None
            store.add_event(
                order,
                shipment,
                status=status,
                happened_at=ago(days),
                message=message,
                city=city,
                country=spec.country,
                estimated_delivery_at=ago(-estimate) if estimate is not None else None,
            )
    if spec.cancelled:
        store.cancel(order, reason="CUSTOMER", at=ago(spec.placed_days_ago - 0.1))
    return order


def _line(key: str, quantity: int, currency: str) -> NewLine:
    title, price = PRODUCTS[key]
    position = list(PRODUCTS).index(key)
    return NewLine(
        title=title,
        price=rounded(price * RATES[currency], currency),
        quantity=quantity,
        sku=f"NW-{key.upper()}",
        variant_title=VARIANT_TITLES.get(key),
        product_id=FIRST_PRODUCT_ID + position,
        variant_id=FIRST_VARIANT_ID + position,
        image_url=f"/static/demo/{key}.svg",  # the portal's own pictures of the demo products
        product_type=PRODUCT_TYPES[key],
        product_tags=PRODUCT_TAGS.get(key, ()),
    )
