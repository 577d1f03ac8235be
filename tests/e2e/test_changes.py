"""A shopper changes an order in a real browser: a new delivery address in German and in
Japanese, with and without JavaScript, a cancellation an agent approves in the admin, and a
change refused because the warehouse has started.

The store is the sandbox playing Shopify; what it holds afterwards is what Shopify would hold.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import translation
from django.utils.translation import ngettext
from playwright.sync_api import expect

from tests.e2e.test_journeys import look_up, t

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ORDER_PAGE = re.compile(r"/o/[^/]+/(#actions)?$")
# While a change is on its way to Shopify, htmx polls the live parts (`live/?since=`) every
# 500 ms: a generous number of polls' worth.
SETTLES = 8_000


class HeldJobs:
    """A worker that has not picked the jobs up yet: jobs sent while it is held wait, and run
    (in the test's thread) on `release()`; from then on they run at once, as in the demo without
    Redis. This lets a test see a change "being applied" before it is applied."""

    def __init__(self, send: Callable[..., None]) -> None:
        self._send = send
        self._held: list[tuple[Any, ...]] = []
        self._open = False
        self._lock = threading.Lock()

    def __call__(self, *job: Any) -> None:
        with self._lock:
            if not self._open:
                self._held.append(job)
                return
        self._send(*job)

    def release(self) -> int:
        with self._lock:
            self._open = True
            held, self._held = self._held, []
        for job in held:
            self._send(*job)
        return len(held)


@pytest.fixture
def held_jobs(store, monkeypatch):  # type: ignore[no-untyped-def]
    from shopify import queue

    held = HeldJobs(queue._send)
    monkeypatch.setattr(queue, "_send", held)
    return held


def demo_order(number: int):  # type: ignore[no-untyped-def]
    from orders.models import Order
    from portal import demo

    return Order.objects.select_related("shop").get(shop__domain=demo.DOMAIN, number=number)


def order_path(number: int) -> str:
    from orders import access

    return f"/o/{access.link_token(demo_order(number))}/"


def set_policy(**values: Any) -> None:
    from edits.models import EditPolicy
    from orders.models import Shop
    from portal import demo

    policy = EditPolicy.for_shop(Shop.objects.get(domain=demo.DOMAIN))
    for name, value in values.items():
        setattr(policy, name, value)
    policy.save()


def agent_queue(open_page, path: str):  # type: ignore[no-untyped-def]
    """An agent (a superuser) logs in to the admin and opens `path`."""
    from urllib.parse import quote

    from django.contrib.auth.models import User

    User.objects.create_superuser("agnes", "agnes@northwind.example", "a long agent password")
    admin = open_page(width=1280)
    admin.goto(f"/admin/login/?next={quote(path)}")
    admin.fill("#id_username", "agnes")
    admin.fill("#id_password", "a long agent password")
    admin.locator("input[type=submit]").click()
    admin.wait_for_url(f"**{path}")
    return admin


def latest_change(page):  # type: ignore[no-untyped-def]
    return page.locator("#changes .requests > .request").first


def fill_new_address_line(page, language: str, line: str) -> None:  # type: ignore[no-untyped-def]
    """On the order page: open the address form, change line 2, check it, send it."""
    page.get_by_role("link", name=t(language, "Change the delivery address"), exact=True).click()
    page.wait_for_url("**/change/address/")
    expect(page.locator("h1")).to_have_text(t(language, "Change the delivery address"))
    expect(page.locator("#id_address1")).not_to_have_value("")  # filled in from the order
    page.fill("#id_address2", line)
    page.get_by_role("button", name=t(language, "Check the address"), exact=True).click()
    expect(page.locator("h2")).to_have_text(t(language, "Please check the new address"))
    expect(page.locator("address.preview")).to_contain_text(line)


def send_new_address(page, language: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name=t(language, "Send the new address"), exact=True).click()
    page.wait_for_url(ORDER_PAGE)


def test_address_change_in_german_is_applied_and_reaches_shopify(
    open_page, store, held_jobs, shot
) -> None:  # type: ignore[no-untyped-def]
    page = open_page(width=1100)
    look_up(page, "#1002", "lukas@example.com")
    page.wait_for_url(ORDER_PAGE)
    assert page.locator("html").get_attribute("lang") == "de"  # the order's locale
    assert "Hinterhaus" not in page.locator("address").first.inner_text()

    fill_new_address_line(page, "de", "Hinterhaus, 3. OG")
    shot(page, "preview")
    send_new_address(page, "de")

    change = latest_change(page)
    expect(change.locator(".request__head strong")).to_have_text(t("de", "Delivery address"))
    expect(change.locator(".badge")).to_have_text(t("de", "Being applied"))
    expect(change.locator("address")).to_contain_text("Hinterhaus, 3. OG")
    # Polling while it is queued: the live wrapper around the changes part asks `live/`.
    assert page.locator("#live[hx-trigger] #changes").count() == 1
    shot(page, "being-applied")

    assert held_jobs.release() >= 1  # the worker picks the change up
    # The poll that sees it settle refreshes the page (HX-Refresh): the address card, the stage
    # and the activity list follow without the shopper reloading.
    expect(latest_change(page).locator(".badge")).to_have_text(t("de", "Applied"), timeout=SETTLES)
    expect(page.locator("#live[hx-trigger]")).to_have_count(0)  # settled: polling stops
    shot(page, "applied")

    assert store.order_state(1002)["shipping_address"]["address2"] == "Hinterhaus, 3. OG"
    delivery = page.locator("section[aria-labelledby=address-title] address")
    expect(delivery).to_contain_text("Hinterhaus, 3. OG")
    expect(delivery).to_contain_text("Torstraße 101")


def test_address_change_in_japanese_on_a_phone(open_page, store, held_jobs, shot) -> None:  # type: ignore[no-untyped-def]
    # #1012 was placed 12 hours before the demo was told, just when the default address window
    # closes: give this shop a day.
    set_policy(address_window_minutes=24 * 60)
    page = open_page(width=390)
    page.goto(order_path(1012))
    assert page.locator("html").get_attribute("lang") == "ja"

    page.get_by_role("link", name=t("ja", "Change the delivery address"), exact=True).click()
    page.wait_for_url("**/change/address/")
    names = page.locator("form.stack input:not([type=hidden]), form.stack select")
    ids = names.evaluate_all("fields => fields.map(f => f.id)")
    assert ids[:2] == ["id_zip", "id_province"]  # 〒 and 都道府県 first, as Japan Post writes
    expect(page.locator("#id_zip")).to_have_value("100-0005")
    province = page.locator("#id_province")
    province.select_option("JP-13")  # the list's value is Shopify's provinceCode
    assert province.locator("option:checked").inner_text() == "東京都"
    page.fill("#id_address2", "丸の内ビル 12階")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "form")
    page.get_by_role("button", name=t("ja", "Check the address"), exact=True).click()
    expect(page.locator("h2")).to_have_text(t("ja", "Please check the new address"))
    preview = page.locator("address.preview")
    expect(preview).to_contain_text("丸の内ビル 12階")
    expect(preview).to_contain_text("東京都")
    shot(page, "preview")
    send_new_address(page, "ja")

    change = latest_change(page)
    expect(change.locator(".badge")).to_have_text(t("ja", "Being applied"))
    held_jobs.release()
    expect(change.locator(".badge")).to_have_text(t("ja", "Applied"), timeout=SETTLES)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "applied")

    shipping = store.order_state(1012)["shipping_address"]
    assert shipping["address2"] == "丸の内ビル 12階"
    assert (shipping["zip"], shipping["province_code"]) == ("100-0005", "JP-13")
    page.reload()
    delivery = page.locator("section[aria-labelledby=address-title] address")
    expect(delivery).to_contain_text("丸の内ビル 12階")
    expect(delivery).to_contain_text("〒100-0005")


def test_cancellation_waits_for_an_agent_who_approves_it_in_the_admin(
    open_page, store, shot
) -> None:  # type: ignore[no-untyped-def]

    # #1002 was placed hours ago; the default window for cancelling is two hours.
    set_policy(cancel_approval="always", cancel_window_minutes=24 * 60)
    page = open_page(width=1100)
    page.goto(order_path(1002))
    page.get_by_role("link", name=t("de", "Cancel the order"), exact=True).click()
    page.wait_for_url("**/cancel/")
    expect(page.locator(".what-happens")).to_contain_text(
        t("de", "Our team looks at your request first. We will email you when it is decided.")
    )
    ask = page.get_by_role("button", name=t("de", "Ask to cancel"), exact=True)
    ask.click()  # without the tick: refused, nothing asked
    expect(page.locator(".field--check .field__error")).to_have_text(
        t("de", "Please tick the box to confirm that you want to cancel.")
    )
    page.check("#id_confirm")
    ask.click()
    page.wait_for_url(ORDER_PAGE)
    change = latest_change(page)
    expect(change.locator(".request__head strong")).to_have_text(t("de", "Cancellation"))
    expect(change.locator(".badge")).to_have_text(t("de", "Waiting for approval"))
    expect(change.get_by_role("link", name=t("de", "Withdraw this request"))).to_be_visible()
    expect(page.locator(".order-head .badge")).to_have_text(t("de", "Confirmed", "order stage"))
    assert store.order_state(1002)["cancelled_at"] is None  # nothing sent before an agent says so
    shot(page, "waiting")

    # The agent reads the admin in English (the browser's language).
    admin = agent_queue(open_page, "/admin/edits/changerequest/?queue=approval")
    rows = admin.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("#1002")
    shot(admin, "queue")
    rows.first.locator("input.action-select").check()
    admin.select_option("select[name=action]", "approve_selected")
    admin.locator("button[name=index]").click()
    with translation.override("en"):
        approved = ngettext("%(count)s change approved.", "%(count)s changes approved.", 1)
    expect(admin.locator(".messagelist .success")).to_have_text(approved % {"count": 1})
    expect(admin.locator("#result_list tbody tr")).to_have_count(0)  # the queue is empty
    shot(admin, "admin")

    assert store.order_state(1002)["cancelled_at"]
    page.reload()  # a waiting request polls only every 20 s: the shopper comes back
    expect(latest_change(page).locator(".badge")).to_have_text(t("de", "Applied"))
    expect(page.locator(".order-head .badge")).to_have_text(t("de", "Cancelled", "order stage"))
    expect(page.locator("#changes a.button")).to_have_count(0)  # nothing left to change
    shot(page, "cancelled")


def test_address_change_without_javascript(open_page, store, held_jobs, shot) -> None:  # type: ignore[no-untyped-def]
    page = open_page(javascript=False)
    page.goto(order_path(1002))
    fill_new_address_line(page, "de", "Aufgang B")
    send_new_address(page, "de")
    badge = latest_change(page).locator(".badge")
    assert badge.inner_text() == t("de", "Being applied")

    held_jobs.release()
    deadline = time.monotonic() + 5
    while badge.inner_text() != t("de", "Applied") and time.monotonic() < deadline:
        time.sleep(0.3)
        page.reload()  # no htmx here: the shopper reloads
    assert badge.inner_text() == t("de", "Applied")
    shot(page, "applied")
    assert store.order_state(1002)["shipping_address"]["address2"] == "Aufgang B"
    delivery = page.locator("section[aria-labelledby=address-title] address")
    expect(delivery).to_contain_text("Aufgang B")


def test_address_change_refused_once_packing_started(open_page, store, shot) -> None:  # type: ignore[no-untyped-def]
    page = open_page(width=1100)
    path = order_path(1003)
    page.goto(path)
    assert page.locator("html").get_attribute("lang") == "fr"
    packing = t("fr", "Your order is already being packed.")
    closed = page.locator(".choice--closed", has_text=t("fr", "Delivery address"))
    expect(closed.locator(".muted")).to_have_text(packing)
    expect(page.locator("#changes a[href='change/address/']")).to_have_count(0)
    shot(page, "order")

    page.goto(f"{path}change/address/")
    expect(page.locator("[role=alert]")).to_have_text(packing)
    expect(page.locator("#id_address1")).to_have_count(0)
    expect(page.locator("main form[method=post]")).to_have_count(0)
    shot(page, "direct")
    assert store.order_state(1003)["shipping_address"]["address1"] == "12 rue de Rivoli"
