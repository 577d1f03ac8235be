"""Every error path of every shopper form, in a real browser, with JavaScript on and off: the
shopper sees what is wrong, in their language, on the same page, and nothing was asked for.

(The return flow's steps are boosted by htmx; htmx swaps no 4xx answer unless told to, so with
JavaScript on a refused step once did nothing at all. base.html tells it to swap every page.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.test_changes import order_path, set_policy
from tests.e2e.test_journeys import look_up, new_page, t
from tests.e2e.test_returns import line_pk, place_delivered

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
BOTH = pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])


def alert(page):  # type: ignore[no-untyped-def]
    return page.locator("main [role=alert]")


@BOTH
def test_the_return_flow_says_what_is_missing_at_each_step(
    open_page, store, shot, tmp_path: Path, javascript: bool
) -> None:  # type: ignore[no-untyped-def]
    from returns.models import ReturnRequest

    number = place_delivered(store, locale="de", email="jonas@example.com", items=["NW-TEE"])
    tee = line_pk(number, "NW-TEE")
    page = open_page(width=360, javascript=javascript)
    page.goto(order_path(number) + "return/")
    go_on = page.get_by_role("button", name=t("de", "Continue"))

    go_on.click()  # every quantity at 0
    expect(alert(page)).to_have_text(t("de", "Choose at least one item to return."))
    shot(page, "no-item")
    page.select_option(f"select[name=quantity-{tee}]", "1")
    go_on.click()

    page.wait_for_url("**/return/reasons/")
    go_on.click()  # no reason
    expect(page.locator(".field__error, [role=alert]").first).to_contain_text(
        t("de", "Choose a reason for each item.")
    )
    page.select_option(f"#reason-{tee}", "damaged")  # needs a photo
    go_on.click()
    expect(page.locator("main")).to_contain_text(t("de", "Please add a photo for this reason."))
    notes = tmp_path / "notes.jpg"
    notes.write_text("not a photo at all")
    page.set_input_files(f"#photo-{tee}", str(notes))
    go_on.click()
    expect(page.locator("main")).to_contain_text(
        t("de", "This file is not a photo we can read. Please use a JPEG, PNG or WebP image.")
    )
    shot(page, "not-a-photo")
    page.select_option(f"#reason-{tee}", "too_small")
    go_on.click()

    page.wait_for_url("**/return/resolution/")
    go_on.click()  # nothing chosen instead
    expect(page.locator("main")).to_contain_text(t("de", "Choose what you would like instead."))
    shot(page, "no-resolution")
    assert not ReturnRequest.objects.exists()


@BOTH
def test_the_change_forms_say_what_is_wrong(open_page, store, shot, javascript: bool) -> None:  # type: ignore[no-untyped-def]
    from edits.models import ChangeRequest

    set_policy(contact_window_minutes=10_080, cancel_window_minutes=10_080)
    page = open_page(width=360, javascript=javascript)
    base = order_path(1002)

    page.goto(base + "change/address/")
    page.fill("#id_zip", "ABCDE")
    page.get_by_role("button", name=t("de", "Check the address"), exact=True).click()
    expect(page.locator("#id_zip_error")).to_be_visible()
    expect(page.locator("#id_zip")).to_have_attribute("aria-invalid", "true")

    page.goto(base + "change/contact/")
    page.fill("#id_email", "lukas at example")
    page.locator("main form button[type=submit]").first.click()
    expect(page.locator("#id_email_error")).to_be_visible()

    page.goto(base + "cancel/")
    page.locator("main form button[type=submit]").first.click()
    expect(page.locator("main .field__error")).to_have_text(
        t("de", "Please tick the box to confirm that you want to cancel.")
    )
    label = page.locator("label[for=id_reason]").inner_text()
    assert "()" not in label  # "(optional)", said

    page.goto(base + "change/items/")
    page.get_by_role("button", name=t("de", "Check the new total")).click()
    expect(alert(page)).to_have_text(t("de", "Nothing has changed."))
    shot(page, "items-unchanged")
    assert not ChangeRequest.objects.exists()


@BOTH
def test_a_lookup_with_wrong_details_says_so(browser, live_server, store, javascript: bool) -> None:  # type: ignore[no-untyped-def]
    page = new_page(browser, live_server, locale="ja-JP")
    if not javascript:
        page.context.close()
        context = browser.new_context(
            locale="ja-JP", java_script_enabled=False, base_url=live_server.url
        )
        page = context.new_page()
    look_up(page, "1012", "someone@example.com")
    expect(page.locator("[role=alert]")).to_have_text(
        t("ja", "We could not find an order with these details.")
    )
