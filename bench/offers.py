"""Offers benchmark: a scripted run of shoppers through an A/B test of two offers, on the real
stack, and the funnel the portal counts from it, checked against what the sandbox store (playing
Shopify) holds afterwards.

The setup is change_latency.py's: a throw-away PostgreSQL database and Redis database, the portal
under gunicorn, one RQ worker with its scheduler, and the sandbox store whose webhooks the portal
subscribed to through the Admin API. The sandbox's catalogue gains an insulated bottle (32.00 in
the shop's euros); the shop gets two offers of it in one A/B test ("bottle price"): 15 % off and
25 % off. Unfulfilled paid orders are placed in the sandbox, in turn to Germany in euros, to
Britain in pounds (0.85 per euro) and to Japan in yen (160 per euro), and reach the mirror through
their orders/create webhooks.

Then each shopper, drawn from a seeded random generator, does what a browser does: opens the
order page by its link; confirms the delivery address (80 %); opens the offer shown (50 %);
accepts it (35 % for the 15 % arm, 55 % for the 25 % arm: the run is made for the second to win);
and, once the item change waits for its payment, pays on Shopify's payment page (85 %).

It prints the funnel per offer as the portal counts it (`offers.funnel`, from the order events):
orders shown, opened, accepted, paid, revenue per currency and in the shop's euros, the
acceptance rate with its 95 % interval; and what the sandbox holds: orders with the bottle added
once, commits, payments. One JSON object is the last line. Nothing is enforced: the exit status
is 0 unless the setup failed. See bench/README.md.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import requests
from change_latency import SUBSCRIBE, WORKER_QUEUES, mirrored, wait_idle
from run import HOST, SetupError, execute, free_port, gunicorn, manage, throwaway_site
from sync import (
    BERLIN,
    DOMAIN,
    SandboxStore,
    bench_urls,
    connect_shop,
    marked,
    own_redis,
    processes,
    site_environment,
    start_sandbox,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/portal_bench_offers"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"

LONDON = {
    "first_name": "Oliver",
    "last_name": "Smith",
    "address1": "10 Downing Street",
    "city": "London",
    "zip": "SW1A 2AA",
    "country": "United Kingdom",
    "country_code": "GB",
}
TOKYO = {
    "first_name": "Haruto",
    "last_name": "Sato",
    "address1": "1-1 Chiyoda",
    "city": "Chiyoda-ku",
    "province": "Tokyo",
    "province_code": "JP-13",
    "zip": "100-0001",
    "country": "Japan",
    "country_code": "JP",
}
# Where the orders go, in turn: (address, currency, units per euro, the tee's price there).
MARKETS = [
    (BERLIN, "EUR", "1", "25.00"),
    (LONDON, "GBP", "0.85", "21.25"),
    (TOKYO, "JPY", "160", "4000"),
]
BOTTLE = {
    "title": "Insulated bottle",
    "product_type": "Bottles",
    "variants": [{"title": "Default Title", "price": "32.00", "inventory_quantity": 100_000}],
}
CONFIRMS, OPENS, PAYS = 0.8, 0.5, 0.85
ACCEPTS = {"15 % off": 0.35, "25 % off": 0.55}
SEED = 7

# Run inside `manage.py shell`: the shop sells in euros; its A/B test of two offers.
OFFERS = """
import json
from offers.models import Offer
from orders.models import Shop

shop = Shop.objects.get(domain=%(domain)r)
shop.currency = "EUR"
shop.save()
made = {}
for name, percent in (("15 %% off", 15), ("25 %% off", 25)):
    offer = Offer.objects.create(
        shop=shop, name=name, product_id=%(product)d, discount_value=percent,
        experiment="bottle price",
    )
    made[offer.pk] = name
print("BENCH_OFFERS " + json.dumps(made))
"""

# Run inside `manage.py shell`: the funnel of each offer, as the admin shows it.
FUNNEL = """
import json
from offers import funnel
from offers.models import Offer

found = {}
for offer in Offer.objects.all():
    counted = funnel.of(offer)
    total = counted.total
    found[offer.name] = {
        "shown": total.shown, "opened": total.opened, "accepted": total.accepted,
        "paid": total.paid,
        "revenue": {currency: str(amount) for currency, amount in total.revenue.items()},
        "revenue_eur": str(total.shop_revenue),
        "rate": counted.rate,
        "days": len(counted.days),
    }
print("BENCH_FUNNEL " + json.dumps(found))
"""

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
QUOTED = re.compile(r'name="quoted" value="([^"]+)"')
CARD = re.compile(r'<form method="get" action="(offers/\d+/)"')
PAYMENT = re.compile(r'href="[^"]*/sandbox/orders/(\d+)/payment"')


@dataclass
class Shopper:
    number: int
    currency: str
    steps: list[str] = field(default_factory=list)  # what the shopper did, in order
    offer: str = ""  # the offer shown (its page's path)


def place(store: SandboxStore, index: int) -> tuple[int, str]:
    address, currency, rate, price = MARKETS[index % len(MARKETS)]
    state = store.call(
        "POST",
        "/sandbox/orders",
        {
            "lines": [{"title": "Bench tee", "price": price, "quantity": 1, "sku": "BENCH-1"}],
            "email": f"shopper{index}@example.com",
            "shipping_address": address,
            "currency": currency,
            "exchange_rate": rate,
        },
    )
    return state["order_number"], currency


def form_post(session: requests.Session, url: str, data: dict[str, str]) -> requests.Response:
    page = session.get(url, timeout=15)
    token = CSRF.search(page.text)
    if page.status_code != 200 or token is None:
        raise SetupError(f"GET {url}: {page.status_code}, no form:\n{page.text[:1500]}")
    fields = {"csrfmiddlewaretoken": token.group(1), **data}
    quoted = QUOTED.search(page.text)
    if quoted:
        fields["quoted"] = quoted.group(1)
    return session.post(
        url, data=fields, allow_redirects=False, timeout=30, headers={"Referer": url}
    )


def walk(
    base: str,
    store: SandboxStore,
    shopper: Shopper,
    token: str,
    arms: dict[str, str],
    dice: random.Random,
) -> None:
    session = requests.Session()
    page = f"{base}/o/{token}/"
    html = session.get(page, timeout=15).text
    if 'href="confirm/?then=offers"' not in html:
        shopper.steps.append("no prompt")
        return
    if dice.random() >= CONFIRMS:
        return
    if form_post(session, page + "confirm/?then=offers", {"then": "offers"}).status_code != 302:
        raise SetupError(f"#{shopper.number}: the confirmation was refused")
    shopper.steps.append("confirmed")
    card = CARD.search(session.get(page, timeout=15).text)
    if card is None:
        shopper.steps.append("no card")
        return
    shopper.offer = card.group(1)
    if dice.random() >= OPENS:
        return
    shopper.steps.append("opened")
    name = arms[shopper.offer.split("/")[1]]
    if dice.random() >= ACCEPTS[name]:
        session.get(page + shopper.offer, timeout=30)  # looked, and went back
        return
    accepted = form_post(session, page + shopper.offer, {"step": "confirm"})
    if accepted.status_code != 302:
        raise SetupError(f"#{shopper.number}: accepting answered {accepted.status_code}")
    shopper.steps.append("accepted")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the worker commits the edit and asks for the payment
        if PAYMENT.search(session.get(page, timeout=15).text):
            break
        time.sleep(0.2)
    else:
        raise SetupError(f"#{shopper.number}: no payment asked for within 30 s")
    if dice.random() >= PAYS:
        return
    store.call("POST", f"/sandbox/orders/{shopper.number}/pay")
    shopper.steps.append("paid")


def run(args: argparse.Namespace) -> dict[str, Any]:
    database_url, redis_url = bench_urls(DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL)
    server_args = argparse.Namespace(worker_class="gthread", workers=2, threads=2, clients=2)
    dice = random.Random(SEED)
    with (
        own_redis(redis_url, "bench/offers.py") as redis,
        throwaway_site(database_url, redis_url) as (base_env, workdir),
    ):
        sandbox_port = free_port()
        env = dict(site_environment(base_env, sandbox_port), SECURE_COOKIES="0")
        print("setup: migrate, collectstatic, sandbox store, connect the shop", flush=True)
        manage(env, "migrate", "--no-input")
        manage(env, "collectstatic", "--no-input")
        with processes(env, workdir) as started, gunicorn(env, workdir, server_args) as server:
            store = start_sandbox(started, sandbox_port)
            connect_shop(env)
            base = f"http://{HOST}:{server.port}"
            subscribe = SUBSCRIBE % {"domain": DOMAIN, "url": f"{base}/shopify/webhooks"}
            marked(manage(env, "shell", "-c", subscribe), "BENCH_SUBSCRIBED")
            worker = started.manage("rqworker", "rqworker", "--with-scheduler", *WORKER_QUEUES)
            bottle = store.call("POST", "/sandbox/products", BOTTLE)
            made = marked(
                manage(env, "shell", "-c", OFFERS % {"domain": DOMAIN, "product": bottle["id"]}),
                "BENCH_OFFERS",
            )
            arms = {str(pk): name for pk, name in made.items()}
            placed = dict(place(store, index) for index in range(args.orders))
            links = mirrored(env, worker, list(placed))
            store.fill_bucket()
            print(f"walk: {args.orders} shoppers, seed {SEED}", flush=True)
            shoppers = []
            for number in sorted(links):
                shopper = Shopper(number, placed[number])
                walk(base, store, shopper, links[number], arms, dice)
                shoppers.append(shopper)
                wait_idle(redis)
            time.sleep(1)
            wait_idle(redis)
            counted = marked(manage(env, "shell", "-c", FUNNEL), "BENCH_FUNNEL")
            holds = held_bottles(store, placed)
            commits = sum(
                1
                for write in store.call("GET", "/sandbox/writes")
                if write["mutation"] == "orderEditCommit"
            )
    return report(shoppers, counted, holds, commits)


def held_bottles(store: SandboxStore, placed: dict[int, str]) -> dict[str, int]:
    """Per order currency: orders whose bottle line Shopify holds, and of those the paid ones."""
    found = {"with_bottle": 0, "bottles": 0, "paid_in_full": 0}
    for number in placed:
        state = store.call("GET", f"/sandbox/orders/{number}")
        bottles = [
            line.get("current_quantity", line.get("quantity"))
            for line in state["line_items"]
            if line["title"] == "Insulated bottle"
        ]
        if any(bottles):
            found["with_bottle"] += 1
            found["bottles"] += sum(bottles)
            if state.get("financial_status") == "paid":
                found["paid_in_full"] += 1
    return found


def report(
    shoppers: list[Shopper], counted: dict[str, Any], holds: dict[str, int], commits: int
) -> dict[str, Any]:
    walked = {
        step: sum(step in s.steps for s in shoppers)
        for step in ("confirmed", "opened", "accepted", "paid")
    }
    print()
    print(f"shoppers       {len(shoppers)}: " + ", ".join(f"{n} {s}" for s, n in walked.items()))
    print(f"{'offer':<10}{'shown':>7}{'opened':>8}{'accepted':>10}{'paid':>6}  revenue")
    for name, row in sorted(counted.items()):
        revenue = ", ".join(
            f"{amount} {currency}" for currency, amount in sorted(row["revenue"].items())
        )
        print(
            f"{name:<10}{row['shown']:>7}{row['opened']:>8}{row['accepted']:>10}{row['paid']:>6}"
            f"  {revenue or '-'} (= {row['revenue_eur']} EUR)"
        )
        if row["rate"]:
            share, low, high = row["rate"]
            print(
                f"{'':<10}accepted per order shown {share:.1%} (95 % interval {low:.1%}–{high:.1%})"
            )
    print(
        f"Shopify holds  {holds['bottles']} bottles in {holds['with_bottle']} orders "
        f"({holds['paid_in_full']} paid in full), {commits} order edits committed"
    )
    accepted = sum(row["accepted"] for row in counted.values())
    paid = sum(row["paid"] for row in counted.values())
    return {
        "bench": "offers",
        "shoppers": len(shoppers),
        "walked": walked,
        "funnel": counted,
        "shopify": {**holds, "commits": commits},
        "consistent": accepted == walked["accepted"] == commits == holds["bottles"]
        and paid == walked["paid"] == holds["paid_in_full"],
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=90, help="shoppers, one order each")
    args = parser.parse_args(argv)
    if args.orders < 1:
        parser.error("--orders must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    return execute(run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
