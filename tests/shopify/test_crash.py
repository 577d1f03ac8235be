"""Nothing a shopper asks for is lost or made twice, whatever happens to the processes: a real
`rqworker --with-scheduler` (a subprocess, its whole process group SIGKILLed mid-job, twice, and
restarted), Shopify's faults on the pushes (500, 503 with Retry-After, 429, THROTTLED, answers
that never come after the change was made), Redis unreachable while shoppers submit, and the
outbox's sweeper. The sandbox store, served over HTTP, counts what reached it.

This is what an operator's night looks like; it takes about a minute.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.test import Client
from django.utils import timezone

from edits.models import ChangeRequest, EditPolicy
from orders import access
from orders.models import Order, Shop
from returns import actions as returns
from returns.actions import ReturnItem
from returns.models import ReturnRequest
from sandbox import Address, NewLine, Sandbox
from sandbox.server import make_http_server
from shopify import outbox, queue, sync

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(settings.BASE_DIR)
CHANGES = 24  # contact changes, one order each
LATE = 5  # more, submitted while Redis is unreachable
RETURNS = 6  # returns of delivered orders, one each
ITEMS = 4  # item changes (one hoodie of two taken off, refunded), one order each
DEADLINE_S = 150


@pytest.fixture
def served(shopify: Sandbox) -> Iterator[str]:
    """The test's sandbox store over HTTP, for the worker processes."""
    server = make_http_server(shopify.app, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@dataclass
class Worker:
    """`manage.py rqworker --with-scheduler shopify`, as production runs it, in its own process
    group (its work-horses and its scheduler with it)."""

    url: str
    log: Path
    process: subprocess.Popen | None = None
    kills: int = 0

    def environment(self) -> dict[str, str]:
        db = settings.DATABASES["default"]
        return {
            **os.environ,
            "DATABASE_URL": (
                f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
                f"/{db['NAME']}"
            ),
            "SANDBOX_URL": self.url,
            "SHOPIFY_CONNECT_TIMEOUT_SECONDS": "1",
            "SHOPIFY_READ_TIMEOUT_SECONDS": "2",
            "OUTBOX_LEASE_SECONDS": "10",
            "OUTBOX_RETRY_SECONDS": "1,2,3",
            "EMAIL_URL": "dummy:",
        }

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "rqworker", "--with-scheduler", "shopify"],
            cwd=ROOT,
            env=self.environment(),
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.kills += 1

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


@dataclass
class Night:
    """What the test did, for the report at the end."""

    faults: Counter = field(default_factory=Counter)
    sweeps: int = 0
    overdue: int = 0


def place(
    shopify: Sandbox, shop: Shop, number: int, *, delivered: bool = False, quantity: int = 1
) -> Order:
    placed = shopify.create_order(
        lines=[
            NewLine(
                title="Trail hoodie", price=Decimal("79.00"), sku=f"NW-{number}", quantity=quantity
            )
        ],
        email=f"shopper{number}@example.com",
        currency="EUR",
        shipping_address=Address(
            first_name="Ada",
            last_name="Lovelace",
            address1="8 rue de Rivoli",
            city="Paris",
            zip="75004",
            country_code="FR",
        ),  # fmt: skip
        placed_at=timezone.now() - timedelta(days=6 if delivered else 0, minutes=5),
    )
    if delivered:
        shopify.fulfil(placed.number, at=timezone.now() - timedelta(days=4))
        shopify.deliver(placed.number, at=timezone.now() - timedelta(days=2))
    order = sync.refresh_order(shop, placed.id)
    assert order is not None
    return order


def change_email(order: Order, email: str) -> None:
    response = Client().post(
        f"/o/{access.link_token(order)}/change/contact/", {"email": email, "phone": ""}
    )
    assert response.status_code == 302, response.content[:300]


def take_one_off(order: Order) -> None:
    """The shopper's item change, through the page: preview, then confirm what it showed."""
    page = f"/o/{access.link_token(order)}/change/items/"
    line = order.lines.get()
    data = {f"quantity_{line.pk}": "1"}
    preview = Client().post(page, {**data, "step": "preview"})
    shown = re.search(r'name="quoted" value="([^"]+)"', preview.content.decode())
    assert shown, preview.content[:300]
    response = Client().post(page, {**data, "step": "confirm", "quoted": shown.group(1)})
    assert response.status_code == 302, response.content[:300]


def wait_for(what: Callable[[], bool], *, seconds: float, tick: Callable[[], None]) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if what():
            return True
        tick()
        time.sleep(0.25)
    return what()


def test_a_night_of_crashes_and_faults_loses_nothing_and_doubles_nothing(
    connected_shop: Shop, shopify: Sandbox, served: str, tmp_path: Path
) -> None:
    EditPolicy.objects.create(shop=connected_shop, items_enabled=True)
    orders = [place(shopify, connected_shop, n) for n in range(CHANGES + LATE)]
    delivered = [place(shopify, connected_shop, n, delivered=True) for n in range(RETURNS)]
    two = [place(shopify, connected_shop, n, quantity=2) for n in range(ITEMS)]
    for order in two:  # previewed while Shopify is well; sent through the night below
        take_one_off(order)
    night = Night()
    worker = Worker(served, tmp_path / "worker.log")
    last_sweep = [0.0]

    def sweeper() -> None:  # what `rqcron portal.cron` does every minute, here every second
        if time.monotonic() - last_sweep[0] >= 1:
            night.overdue += outbox.sweep(grace=timedelta(seconds=1))
            night.sweeps += 1
            last_sweep[0] = time.monotonic()

    def within(seconds: float, what: Callable[[], bool], why: str) -> None:
        assert wait_for(what, seconds=seconds, tick=sweeper), (
            f"{why}; the worker said: {worker.log.read_text()[-4000:]}"
        )

    def fault(kind: str, **details: object) -> None:
        shopify.faults.add(outbox_fault(kind, **details))
        night.faults[kind if kind != "http" else f"http {details['status']}"] += int(
            details.get("times", 1)  # type: ignore[call-overload]
        )

    try:
        # Shopify misbehaves from the start: every kind of transient fault, in a row.
        fault("http", status=500, times=2)
        fault("http", status=503, retry_after=1.0, times=2)
        fault("http", status=429, retry_after=0.5, times=2)
        fault("throttled", times=3)
        fault("timeout", seconds=3.0, times=2)  # executed, the answer never comes

        # Shoppers submit; the worker starts and is killed as soon as it is inside a request.
        for n, order in enumerate(orders[:CHANGES]):
            change_email(order, f"new{n}@example.com")
        for order in delivered:
            line = order.lines.get()
            returns.request_return(
                order=order,
                items=[ReturnItem(line.pk, 1, reason="too_small", resolution="refund")],
            )
        worker.start()
        hanging = outbox_fault("timeout", seconds=10.0)
        within(60, lambda: len(shopify.store.writes) >= 4, "the worker wrote nothing")
        shopify.faults.add(hanging)
        night.faults["timeout (killed inside)"] += 1
        within(30, lambda: hanging.times == 0, "the worker sent nothing more")
        worker.kill()  # mid-request: its lease stays until it expires

        # Redis unreachable while more shoppers submit: their changes are saved, not queued.
        unreachable = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
        real_connection = queue._connection
        queue._connection = lambda _name: unreachable  # type: ignore[assignment]
        try:
            for n, order in enumerate(orders[CHANGES:]):
                change_email(order, f"late{n}@example.com")
        finally:
            queue._connection = real_connection  # type: ignore[assignment]

        worker.start()
        within(60, lambda: len(shopify.store.writes) >= 12, "the restarted worker wrote nothing")
        fault("timeout", seconds=10.0)
        within(30, lambda: not shopify.faults.pending(), "the worker sent nothing more")
        worker.kill()  # again; its scheduler dies holding its lock
        worker.start()

        def settled() -> bool:
            from edits.models import ChangeRequest

            open_changes = ChangeRequest.objects.exclude(status__in=["applied", "failed"])
            unsent = ReturnRequest.objects.filter(shopify_status="")
            return not open_changes.exists() and not unsent.exists()

        within(DEADLINE_S, settled, "changes or returns never reached Shopify")
    finally:
        worker.stop()

    changes = list(ChangeRequest.objects.filter(kind="contact").select_related("order"))
    assert len(changes) == CHANGES + LATE
    assert {c.status for c in changes} == {"applied"}, [
        (c.pk, c.status, c.failure_code) for c in changes
    ]
    assert not ChangeRequest.objects.exclude(next_attempt_at=None).exists()  # nothing left queued
    updates = Counter(
        write["arguments"]["input"]["id"]
        for write in shopify.store.writes
        if write["mutation"] == "orderUpdate"
    )
    for change in changes:
        gid = f"gid://shopify/Order/{change.order.shopify_id}"
        assert updates[gid] == 1, f"{change.order.name}: {updates[gid]} orderUpdate in Shopify"
        assert shopify.order_state(change.order.number)["email"] == change.after["email"]

    sent_back = list(ReturnRequest.objects.select_related("order"))
    assert len(sent_back) == RETURNS
    assert not ReturnRequest.objects.exclude(next_attempt_at=None).exists()
    made = Counter(
        write["arguments"]["input"]["orderId"]
        for write in shopify.store.writes
        if write["mutation"] == "returnRequest"
    )
    for ret in sent_back:
        gid = f"gid://shopify/Order/{ret.order.shopify_id}"
        in_shopify = [
            r for r in shopify.store.returns.values() if r.order_id == ret.order.shopify_id
        ]
        assert made[gid] == 1 and len(in_shopify) == 1, ret.number
        assert ret.shopify_return_id == in_shopify[0].id and ret.shopify_status == "REQUESTED"

    edited = list(ChangeRequest.objects.filter(kind="items").select_related("order"))
    assert len(edited) == ITEMS
    writes = Counter(
        (write["mutation"], str(write["arguments"].get("id") or write["arguments"]["input"]))
        for write in shopify.store.writes
        if write["mutation"] in ("orderEditCommit", "refundCreate")
    )
    commits = sum(n for (m, _), n in writes.items() if m == "orderEditCommit")
    refunds = sum(n for (m, _), n in writes.items() if m == "refundCreate")
    for change in edited:
        assert change.status == "applied", (change.pk, change.status, change.failure_code)
        assert Decimal(change.shopify_result["refunded"]) == Decimal("79.00")
        state = shopify.order_state(change.order.number)
        assert [line["current_quantity"] for line in state["line_items"]] == [1]
        assert len(state["refunds"]) == 1, f"{change.order.name}: {len(state['refunds'])} refunds"
    assert (commits, refunds) == (ITEMS, ITEMS)

    attempts = Counter(c.attempts for c in changes) + Counter(r.attempts for r in sent_back)
    print(  # the figures of the closing note: `pytest -s tests/shopify/test_crash.py`
        f"\ncrash test: {len(changes)} changes ({LATE} while Redis was unreachable), "
        f"{len(edited)} item changes and "
        f"{len(sent_back)} returns; worker SIGKILLed {worker.kills}x mid-job; faults "
        f"{dict(night.faults)}; the sweeper ran {night.sweeps}x and found {night.overdue} "
        "overdue; "
        f"attempts {dict(sorted(attempts.items()))}; in Shopify: {sum(updates.values())} "
        f"orderUpdate for {len(changes)} changes, {sum(made.values())} returnRequest for "
        f"{len(sent_back)} returns, {commits} orderEditCommit and {refunds} refundCreate for "
        f"{len(edited)} item changes"
    )


def outbox_fault(kind: str, **details: object):  # type: ignore[no-untyped-def]
    from sandbox.faults import Fault

    return Fault(kind, **details)  # type: ignore[arg-type]
