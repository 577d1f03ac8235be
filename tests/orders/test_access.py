from __future__ import annotations

from unittest import mock

from django.core import signing
from django.test import Client
from django.urls import reverse

from orders import access, actions
from orders.actors import Actor
from orders.models import LINKS_REVOKED, Order, Shop
from tests.factories import add_line, make_order


def page(token: str) -> str:
    return reverse("orders:page", args=[token])


def grant_in(client: Client, order: Order) -> str:
    """What a successful lookup does: a session grant, and the page token that uses it."""
    response = client.post(reverse("find_order"), {"number": order.name, "contact": order.email})
    assert response.status_code == 302
    return response["Location"].split("/")[2]


def test_signed_link_opens_its_order(client: Client, shipped_order: Order) -> None:
    response = client.get(page(access.link_token(shipped_order)))
    assert response.status_code == 200
    assert shipped_order.name in response.text


def test_no_token_no_grant_is_404(client: Client, shipped_order: Order) -> None:
    assert client.get("/o/anything/").status_code == 404
    forged = signing.dumps([shipped_order.pk, 1, "l"], salt="wrong-salt")
    assert client.get(page(forged)).status_code == 404


def test_tampered_link_is_404(
    client: Client, shipped_order: Order, unfulfilled_order: Order
) -> None:
    token = access.link_token(shipped_order)
    payload, stamp, signature = token.split(":")
    other = signing.dumps([unfulfilled_order.pk, 1, "l"], salt=access.SALT).split(":")[0]
    assert client.get(page(f"{other}:{stamp}:{signature}")).status_code == 404
    assert client.get(page(f"{payload}:{stamp}:{signature[:-2]}xx")).status_code == 404


def test_expired_link_is_404(client: Client, shipped_order: Order, settings) -> None:  # type: ignore[no-untyped-def]
    token = access.link_token(shipped_order)
    settings.PORTAL_LINK_MAX_AGE_DAYS = 90
    later = signing.time.time() + 91 * 86400
    with mock.patch("django.core.signing.time.time", return_value=later):
        assert client.get(page(token)).status_code == 404
    assert client.get(page(token)).status_code == 200


def test_revoking_kills_links_and_grants_but_new_links_work(
    client: Client, shipped_order: Order
) -> None:
    link = access.link_token(shipped_order)
    granted = grant_in(client, shipped_order)
    assert client.get(page(granted)).status_code == 200

    order = actions.revoke_links(order=shipped_order, actor=Actor(Actor.AGENT, "alice"))

    assert client.get(page(link)).status_code == 404
    assert client.get(page(granted)).status_code == 404
    assert client.get(page(access.link_token(order))).status_code == 200
    assert order.events.filter(kind=LINKS_REVOKED.name, actor="agent:alice").exists()


def test_a_grant_for_one_order_never_opens_another(
    client: Client, shipped_order: Order, unfulfilled_order: Order
) -> None:
    granted = grant_in(client, shipped_order)
    assert client.get(page(granted)).status_code == 200
    # A grant token made for order B, presented in a session that only holds order A.
    other = signing.dumps(
        [unfulfilled_order.pk, unfulfilled_order.link_version, "g"], salt=access.SALT
    )
    assert client.get(page(other)).status_code == 404


def test_grant_token_is_useless_outside_its_session(client: Client, shipped_order: Order) -> None:
    granted = grant_in(client, shipped_order)
    assert Client().get(page(granted)).status_code == 404


def test_grant_expires(client: Client, shipped_order: Order, settings) -> None:  # type: ignore[no-untyped-def]
    settings.PORTAL_GRANT_MAX_AGE_MINUTES = 30
    granted = grant_in(client, shipped_order)
    later = access.time.time() + 31 * 60
    with mock.patch("orders.access.time.time", return_value=later):
        assert client.get(page(granted)).status_code == 404


def test_inactive_shop_hides_its_orders(client: Client, shop: Shop) -> None:
    order = make_order(shop)
    add_line(order)
    token = access.link_token(order)
    Shop.objects.filter(pk=shop.pk).update(is_active=False)
    assert client.get(page(token)).status_code == 404
