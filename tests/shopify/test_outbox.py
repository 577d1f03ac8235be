"""The outbox's bookkeeping, the same for every kind of request: what is due lives in the
database, so the sweeper sends again a retry that no scheduler took or a request saved while
Redis was down, without queueing twice what already waits, and without touching what a worker
holds. (The journeys through faults are in tests/edits/test_push.py and tests/returns/test_sync.py;
real processes killed mid-job in test_crash.py.)"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import django_rq
import pytest
from django.utils import timezone

from edits import actions
from edits.kinds.contact import CONTACT
from edits.models import ChangeRequest
from orders.models import Order, Shop
from sandbox import NewLine, Sandbox
from shopify import outbox, sync

NOW = timezone.now


@pytest.fixture
def order(connected_shop: Shop, shopify: Sandbox) -> Order:
    placed = shopify.create_order(
        lines=[NewLine(title="Trail hoodie", price=Decimal("79.00"))],
        email="alice@example.com",
        placed_at=timezone.now() - timedelta(minutes=5),
    )
    mirrored = sync.refresh_order(connected_shop, placed.id)
    assert mirrored is not None
    return mirrored


@pytest.fixture
def change(order: Order, django_capture_on_commit_callbacks) -> ChangeRequest:  # type: ignore[no-untyped-def]
    """A contact change, saved and due; its job not sent (as if Redis had been down)."""
    with django_capture_on_commit_callbacks(execute=False):
        return actions.request_change(
            order=order, kind=CONTACT, after={"email": "new@example.com", "phone": ""}
        )


def queued_jobs() -> list[str]:
    return django_rq.get_queue("shopify").job_ids


def overdue(change: ChangeRequest, **fields: object) -> None:
    ChangeRequest.objects.filter(pk=change.pk).update(
        next_attempt_at=NOW() - timedelta(minutes=5), **fields
    )


def test_a_request_saved_while_redis_was_down_is_swept_once_and_applied(
    change: ChangeRequest, shopify: Sandbox, django_capture_on_commit_callbacks, run_jobs
) -> None:  # type: ignore[no-untyped-def]
    assert queued_jobs() == []
    overdue(change)
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.sweep() == 1
    with django_capture_on_commit_callbacks(execute=True):
        outbox.sweep()  # a minute later, the job still waits in the queue: not queued again
    assert len(queued_jobs()) == 1
    run_jobs()
    change.refresh_from_db()
    assert change.status == "applied" and change.next_attempt_at is None
    assert shopify.order_state(change.order.number)["email"] == "new@example.com"


def test_a_request_not_overdue_yet_is_left_to_its_own_job(
    change: ChangeRequest, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    ChangeRequest.objects.filter(pk=change.pk).update(next_attempt_at=NOW() - timedelta(seconds=5))
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.sweep() == 0
    assert queued_jobs() == []


def test_a_request_a_worker_holds_is_not_swept(
    change: ChangeRequest, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    overdue(change, sending_until=NOW() + timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.sweep() == 0
    overdue(change, sending_until=NOW() - timedelta(seconds=1))  # its worker died: lease gone
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.sweep() == 1
    assert len(queued_jobs()) == 1


def test_a_failed_request_waits_for_an_agent_not_for_the_sweeper(
    change: ChangeRequest, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    actions.mark_failed(request=change, code="refused", detail="ACCESS_DENIED")
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.sweep(grace=timedelta(0)) == 0


def test_a_retry_no_scheduler_took_is_sent_by_the_sweeper(
    change: ChangeRequest, shopify: Sandbox, django_capture_on_commit_callbacks, run_jobs
) -> None:  # type: ignore[no-untyped-def]
    shopify.faults.http(503, retry_after=1)
    with django_capture_on_commit_callbacks(execute=True):
        outbox.run("edits.change", change.pk)
    change.refresh_from_db()
    assert change.status == "queued" and change.attempts == 1 and change.sending_until is None
    scheduled = django_rq.get_queue("shopify").scheduled_job_registry
    assert scheduled.get_job_ids() == [f"outbox-edits_change-{change.pk}-2"]

    # No scheduler runs (it died with its worker): the retry sits in RQ's schedule, overdue.
    job_id = scheduled.get_job_ids()[0]
    scheduled.connection.zadd(scheduled.key, {job_id: (NOW() - timedelta(minutes=5)).timestamp()})
    overdue(change)
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.sweep() == 1
    assert queued_jobs() == [job_id] and scheduled.get_job_ids() == []
    run_jobs()
    change.refresh_from_db()
    assert change.status == "applied" and change.attempts == 2


def test_a_retry_still_scheduled_is_not_sent_twice(
    change: ChangeRequest, shopify: Sandbox, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    shopify.faults.http(500)
    with django_capture_on_commit_callbacks(execute=True):
        outbox.run("edits.change", change.pk)
    overdue(change)  # as far as the database knows; RQ's scheduler has it for in a moment
    with django_capture_on_commit_callbacks(execute=True):
        outbox.sweep()
    assert queued_jobs() == []
    assert len(django_rq.get_queue("shopify").scheduled_job_registry.get_job_ids()) == 1


def test_a_bug_lets_go_of_the_lease_and_the_request_is_tried_again_later(
    change: ChangeRequest, monkeypatch, shopify: Sandbox
) -> None:  # type: ignore[no-untyped-def]
    from shopify import calls

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr(calls, "order_state", broken)
    with pytest.raises(KeyError):
        outbox.run("edits.change", change.pk)
    change.refresh_from_db()
    assert change.status == "queued" and change.sending_until is None
    assert change.next_attempt_at > NOW()  # the sweeper sends it again once it is due
    assert shopify.order_state(change.order.number)["email"] == "alice@example.com"


def test_a_worker_that_outlived_its_lease_leaves_the_next_one_alone(
    change: ChangeRequest, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    channel = outbox.channel_of(change)
    first = outbox.claim(channel, change.pk)
    assert first is not None
    ChangeRequest.objects.filter(pk=change.pk).update(sending_until=NOW() - timedelta(seconds=1))
    second = outbox.claim(channel, change.pk)  # the first one's lease ran out
    assert second is not None and second.sending_until != first.sending_until
    with django_capture_on_commit_callbacks(execute=True):
        outbox.retry_later(channel, first, first.sending_until, None)
        assert outbox.finished(channel, first, first.sending_until) is False
    change.refresh_from_db()
    assert change.sending_until == second.sending_until  # still the second worker's
    assert change.attempts == 2 and change.next_attempt_at <= NOW()
    assert queued_jobs() == []


def test_an_outbox_job_is_stopped_before_its_lease_ends(
    change: ChangeRequest, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    overdue(change)
    with django_capture_on_commit_callbacks(execute=True):
        outbox.sweep()
    job = django_rq.get_queue("shopify").fetch_job(queued_jobs()[0])
    assert 0 < job.timeout < settings.OUTBOX_LEASE_SECONDS


def test_a_request_of_a_shop_that_uninstalled_the_app_is_settled_by_the_sweep(
    change: ChangeRequest, django_capture_on_commit_callbacks, run_jobs
) -> None:  # type: ignore[no-untyped-def]
    Shop.objects.filter(pk=change.order.shop_id).update(is_active=False)
    overdue(change)
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.sweep() == 1
    run_jobs()
    change.refresh_from_db()
    assert change.status == "failed" and change.failure_code == "disconnected"
    assert change.next_attempt_at is None
