"""The audit log is the event stream: kinds each app registers (no migration to add one), a
typed subject and an actor on every event, and subscribers that hear of it only once the
transaction that logged it has committed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import translation

from edits import events as edit_events
from edits.models import ChangeRequest
from orders import events
from orders.actors import SHOPIFY, SHOPPER, SYSTEM, Actor
from orders.models import Fulfillment, Order, OrderEvent
from returns import events as return_events


@pytest.fixture
def heard() -> Iterator[list[str]]:
    """A subscriber to a test kind, removed afterwards."""
    got: list[str] = []

    def listen(event: OrderEvent) -> None:
        got.append(f"{event.kind}:{event.data.get('n')}")

    events.subscribe("tests.*", listen)
    yield got
    events._subscribers.remove(("tests.*", listen))


NOTED = events.register("tests.noted", staff="Noted for agents")
SHOWN = events.register("tests.shown", staff="Shown: staff", shopper="Shown: shopper")


def test_an_event_carries_its_kind_actor_subject_and_visibility(
    unfulfilled_order: Order, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    change = ChangeRequest.objects.create(order=unfulfilled_order, kind="contact", status="queued")
    with django_capture_on_commit_callbacks(execute=True):
        unfulfilled_order.log(SHOWN, actor=Actor(Actor.AGENT, "alice"), subject=change, n=1)
    event = OrderEvent.objects.get(kind="tests.shown")
    assert event.subject == change and event.actor == Actor(Actor.AGENT, "alice")
    assert event.visible_to_shopper and event.data == {"n": 1}
    assert (event.label, event.shopper_label) == ("Shown: staff", "Shown: shopper")
    assert not unfulfilled_order.log(NOTED, actor=SYSTEM).visible_to_shopper


def test_a_shopper_visible_event_renews_the_order_page(unfulfilled_order: Order) -> None:
    revision = unfulfilled_order.revision
    unfulfilled_order.log(NOTED, actor=SYSTEM)
    assert Order.objects.get(pk=unfulfilled_order.pk).revision == revision
    unfulfilled_order.log(SHOWN, actor=SYSTEM)
    assert Order.objects.get(pk=unfulfilled_order.pk).revision == revision + 1


def test_subscribers_hear_after_commit_and_never_of_a_rollback(
    unfulfilled_order: Order, heard: list[str], django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        unfulfilled_order.log(NOTED, actor=SYSTEM, n=1)
        assert heard == []  # not before the commit
    assert heard == ["tests.noted:1"] and len(callbacks) == 1

    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                unfulfilled_order.log(NOTED, actor=SYSTEM, n=2)
                raise RuntimeError("the action failed")
        except RuntimeError:
            pass
    assert heard == ["tests.noted:1"]
    assert not OrderEvent.objects.filter(data__n=2).exists()


def test_one_failing_subscriber_does_not_silence_the_others(
    unfulfilled_order: Order, heard: list[str], django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    def broken(event: OrderEvent) -> None:
        raise ValueError("a subscriber's bug")

    events._subscribers.insert(0, ("tests.*", broken))
    try:
        with django_capture_on_commit_callbacks(execute=True):
            unfulfilled_order.log(NOTED, actor=SYSTEM, n=3)
    finally:
        events._subscribers.remove(("tests.*", broken))
    assert heard == ["tests.noted:3"]


def test_kinds_are_namespaced_and_say_what_agents_read() -> None:
    with pytest.raises(ValueError):
        events.register("noted", staff="No namespace")
    with pytest.raises(ValueError):
        events.register("tests.nothing_to_read")
    assert events.kind("gone.app.kind").label == "gone.app.kind"  # logged by an app since removed


def test_every_app_registers_its_kinds() -> None:
    names = {kind.name for kind in events.kinds()}
    assert {"orders.placed", "orders.shipped", "orders.links_revoked"} <= names
    assert {f"edits.{code}.applied" for code in ("address", "contact", "cancel")} <= names
    assert {"edits.confirmed", "edits.hold.placed", "returns.approved", "returns.opened"} <= names
    assert edit_events.of("address", "requested").visible_to_shopper
    assert not edit_events.HOLD_PLACED.visible_to_shopper
    assert return_events.SYNC_FAILED.shopper is None


def test_agents_and_shoppers_read_each_their_own_words() -> None:
    with translation.override("en"):
        assert return_events.REQUESTED.label == "Return requested"
        assert return_events.REQUESTED.shopper == "You asked to return items"
    with translation.override("de"):
        assert str(return_events.REQUESTED.shopper) != "You asked to return items"


def test_a_shipment_is_the_subject_of_its_events(shipped_order: Order) -> None:
    parcel = Fulfillment.objects.get(order=shipped_order)
    shipped_order.log(events.kind("orders.delivered"), actor=SHOPIFY, subject=parcel)
    assert OrderEvent.objects.get(kind="orders.delivered").subject == parcel


def test_an_actor_is_stored_as_its_key_and_read_back_as_a_value(
    unfulfilled_order: Order,
) -> None:
    alice = User.objects.create_user("alice")
    for actor in (SHOPPER, SHOPIFY, SYSTEM, Actor.agent(alice)):
        event = unfulfilled_order.log(NOTED, actor=actor)
        assert OrderEvent.objects.get(pk=event.pk).actor == actor
    assert OrderEvent.objects.filter(actor="agent:alice").count() == 1
    assert list(OrderEvent.objects.filter(actor="shopper").values_list("actor", flat=True)) == [
        SHOPPER
    ]
    with translation.override("en"):
        assert [str(a) for a in (SHOPPER, Actor.agent(alice))] == ["the shopper", "alice (agent)"]
    with pytest.raises(ValueError):
        Actor(Actor.AGENT)  # an agent has a name
    assert Actor.parse("agent:bob") == Actor(Actor.AGENT, "bob")
    assert Actor.parse("typed by hand") == SYSTEM
