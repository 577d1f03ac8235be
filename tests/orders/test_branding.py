"""A merchant's colours are used as chosen when they read well, and darkened (same hue) until
they do when they would not: white text on the header and buttons, links on the light page."""

from __future__ import annotations

import pytest

from orders.branding import AA, GROUNDS, contrast, readable


@pytest.mark.parametrize("colour", ["#1f2937", "#14532d", "#2563eb", "#000000"])
def test_a_readable_colour_is_kept(colour: str) -> None:
    assert readable(colour) == colour


@pytest.mark.parametrize("colour", ["#ffd700", "#7dd3fc", "#ffffff", "#ff69b4", "#3b82f6"])
def test_a_light_colour_is_darkened_until_it_reads(colour: str) -> None:
    shown = readable(colour)
    assert shown != colour
    assert all(contrast(shown, ground) >= AA for ground in GROUNDS)
    # The same hue: the channels keep their proportions.
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    sr, sg, sb = (int(shown[i : i + 2], 16) for i in (1, 3, 5))
    assert (r >= g) == (sr >= sg) and (g >= b) == (sg >= sb)


def test_the_page_uses_the_readable_colours(client, db) -> None:  # type: ignore[no-untyped-def]
    from orders import access
    from tests.factories import add_line, make_order, make_shop

    shop = make_shop(brand_colour="#ffd700", accent_colour="#7dd3fc")
    order = make_order(shop)
    add_line(order)
    html = client.get(f"/o/{access.link_token(order)}/").text
    assert f"--brand: {readable('#ffd700')}" in html and "#ffd700" not in html
