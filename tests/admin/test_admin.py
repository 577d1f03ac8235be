from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from orders.actors import SHOPPER
from orders.models import LINKS_REVOKED, LOOKUP_GRANTED, Order, Shop, Stage


@pytest.fixture
def agent_client(client: Client, agent: User) -> Client:
    client.force_login(agent)
    return client


def test_groups_exist_with_their_permissions(db: None) -> None:
    agent = set(
        Group.objects.get(name="Support agent").permissions.values_list("codename", flat=True)
    )
    manager = set(
        Group.objects.get(name="Store manager").permissions.values_list("codename", flat=True)
    )
    assert {"view_order", "view_orderevent", "view_shop"} <= agent
    assert "change_shop" not in agent
    assert "change_shop" in manager
    # Agents decide changes and returns; only managers set the policies.
    assert {"change_changerequest", "change_returnrequest", "view_returnline"} <= agent
    assert not {"change_editpolicy", "change_returnpolicy"} & agent
    assert {"change_editpolicy", "change_returnpolicy", "add_returnreason"} <= manager


def test_an_agent_works_the_return_queue(agent_client: Client) -> None:
    response = agent_client.get(reverse("admin:returns_returnrequest_changelist"))
    assert response.status_code == 200
    assert agent_client.get(reverse("admin:returns_returnpolicy_changelist")).status_code == 200
    add = agent_client.get(reverse("admin:returns_returnpolicy_add"))
    assert add.status_code == 403


@pytest.mark.parametrize("term", ["#1002", "1002", "bob@example.com", "+12125550142"])
def test_agents_find_orders_by_name_email_or_phone(
    agent_client: Client, shipped_order: Order, unfulfilled_order: Order, term: str
) -> None:
    response = agent_client.get(reverse("admin:orders_order_changelist"), {"q": term})
    assert response.status_code == 200
    results = list(response.context["cl"].result_list)
    assert shipped_order in results
    if term != "+12125550142":  # both orders share the phone in the cast
        assert unfulfilled_order not in results


def test_stage_filter(agent_client: Client, shipped_order: Order, unfulfilled_order: Order) -> None:
    url = reverse("admin:orders_order_changelist")
    shipped = agent_client.get(url, {"stage": Stage.SHIPPED})
    assert list(shipped.context["cl"].result_list) == [shipped_order]
    confirmed = agent_client.get(url, {"stage": Stage.CONFIRMED})
    assert list(confirmed.context["cl"].result_list) == [unfulfilled_order]


def test_order_detail_shows_inlines_read_only(agent_client: Client, shipped_order: Order) -> None:
    shipped_order.log(LOOKUP_GRANTED, actor=SHOPPER)
    response = agent_client.get(reverse("admin:orders_order_change", args=[shipped_order.pk]))
    assert response.status_code == 200
    text = response.text
    assert "1Z999AA10123456784" in text  # shipment inline
    assert "orders.lookup_granted" in text or "Order opened by lookup" in text  # audit log
    assert 'name="email"' not in text  # mirror fields are not editable
    assert "Carrier says in_transit" in text  # tracking events, shown on the order too


def test_agents_cannot_edit_shops_but_managers_can(client: Client, agent: User, shop: Shop) -> None:
    client.force_login(agent)
    url = reverse("admin:orders_shop_change", args=[shop.pk])
    assert 'name="name"' not in client.get(url).text
    manager = User.objects.create_user("mona", is_staff=True)
    manager.groups.add(Group.objects.get(name="Store manager"))
    client.force_login(manager)
    assert 'name="name"' in client.get(url).text


def test_revoke_links_action_is_audited(agent_client: Client, shipped_order: Order) -> None:
    response = agent_client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "revoke_links", "_selected_action": [shipped_order.pk]},
    )
    assert response.status_code == 302
    shipped_order.refresh_from_db()
    assert shipped_order.link_version == 2
    assert shipped_order.events.get(kind=LINKS_REVOKED.name).actor.key == "agent:alice"
