"""Every kind of shopper page, at 360 px, in a left-to-right and both right-to-left languages,
has no accessibility violation axe-core finds (WCAG 2.1 A and AA): the order page at each
stage, the lookup, the change forms, the offers, the return flow. Colour contrast included."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.e2e.test_changes import order_path
from tests.e2e.test_journeys import choose_language
from tests.e2e.test_returns import place_delivered

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

RULES = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    results = Axe().run(page, options=RULES)
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])}: {v['nodes'][0]['target']})"
        for v in results.response["violations"]
    ]


@pytest.mark.parametrize("language", ["en", "ar", "he"])
def test_the_shoppers_pages_have_no_violations(open_page, store, language: str) -> None:  # type: ignore[no-untyped-def]
    page = open_page(width=360)
    found: dict[str, list[str]] = {}

    def check(name: str) -> None:
        problems = violations(page)
        if problems:
            found[name] = problems

    page.goto("/")
    choose_language(page, language)
    check("lookup")
    for number in (1001, 1002, 1007, 1009, 1011, 1018):  # shipped, open, failed, cancelled...
        page.goto(order_path(number))
        choose_language(page, language)
        check(f"order {number}")
    base = order_path(1002)
    for path in ("change/address/", "change/items/", "confirm/?then=offers"):
        page.goto(base + path)
        check(path)
    page.locator("main form button[type=submit]").click()  # the address is right: the offer
    page.wait_for_url("**/o/**")
    check("order 1002, offered")
    page.goto(base + f"offers/{offer_pk()}/")
    check("offer")
    number = place_delivered(store, locale=language, email="mia@example.com", items=["NW-TEE"])
    page.goto(order_path(number) + "return/")
    check("return, items")
    page.get_by_role("button").last.click()  # continue with nothing chosen: the error
    check("return, items refused")
    assert not found, found


def offer_pk() -> int:
    from offers.models import Offer

    return Offer.objects.get().pk
