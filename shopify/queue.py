"""Sending work to the RQ workers, after the transaction that asked for it has committed.

A job never runs before the row it names is visible, and a rolled-back transaction sends
nothing. Without REDIS_URL (the demo) the job runs in this process right after commit (a job for
later, on a timer thread). When Redis
cannot be reached the record it names stays as it is, unprocessed, and a sweeper sends it again:
nothing is lost, only late.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connections, transaction

logger = logging.getLogger(__name__)

# Backoff for jobs that fail with a transient error: about 20 minutes in all, then the job lands
# in RQ's failed-job registry, where agents see it.
RETRY_INTERVALS = [5, 30, 60, 300, 900]


# A job with an id is not sent again while one with that id waits or runs, unless it was lost:
# scheduled for a while ago (RQ's scheduler looks every second: none is running), or started on
# a worker that stopped beating (RQ's workers beat every 30 s).
SCHEDULE_LOST_AFTER = timedelta(seconds=30)
WORKER_LOST_AFTER = timedelta(minutes=2)


def enqueue(
    func: Callable[..., Any],
    *args: Any,
    queue: str = "default",
    job_id: str | None = None,
    retry: bool = True,
    at: datetime | None = None,
    timeout: int | None = None,
) -> None:
    """Send `func(*args)` to a worker once the transaction commits. `retry`: RQ retries it with
    backoff on an exception (the outbox schedules its own retries instead); `at`: not before
    then (RQ's scheduler moves it to the queue); `timeout`: RQ stops it after so many seconds
    (the queue's default otherwise)."""
    transaction.on_commit(partial(_send, func, args, queue, job_id, retry, at, timeout))


@functools.cache
def _connection(queue: str) -> Any:
    """One Redis client (and connection pool) per queue and process. django_rq.get_queue makes
    a new one on every call: a TCP connection and a handshake for every job sent."""
    import django_rq

    return django_rq.get_connection(queue)


def _send(
    func: Callable[..., Any],
    args: tuple[Any, ...],
    queue: str,
    job_id: str | None = None,
    retry: bool = True,
    at: datetime | None = None,
    timeout: int | None = None,
) -> None:
    if not settings.REDIS_URL:
        if at is not None:  # the demo without Redis: a timer in this process plays the scheduler
            delay = max(0.0, (at - datetime.now(UTC)).total_seconds())
            timer = threading.Timer(delay, _in_thread, (func, args))
            timer.daemon = True
            timer.start()
            return
        try:
            func(*args)
        except Exception:
            logger.exception("in-process job %s%r failed", func.__name__, args)
        return
    import django_rq
    from redis.exceptions import RedisError
    from rq import Retry
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        rq_queue = django_rq.get_queue(queue, connection=_connection(queue))
        if job_id:
            try:
                job = Job.fetch(job_id, connection=rq_queue.connection)
                if _pending(job, rq_queue):
                    return
            except NoSuchJobError:
                pass
        options: dict[str, Any] = {"job_id": job_id}
        if timeout is not None:
            options["job_timeout"] = timeout
        if retry:
            options["retry"] = Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS)
        if at is not None:
            rq_queue.enqueue_at(at, func, *args, **options)
        else:
            rq_queue.enqueue(func, *args, **options)
    except RedisError:
        logger.warning("Redis unreachable: %s%r left for the sweeper", func.__name__, args)


def _in_thread(func: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        func(*args)
    except Exception:
        logger.exception("in-process job %s%r failed", func.__name__, args)
    finally:
        connections.close_all()  # this thread's own


def _pending(job: Any, rq_queue: Any) -> bool:
    """Will this job still run by itself?"""
    status = job.get_status()
    status = getattr(status, "value", status)
    now = datetime.now(UTC)
    if status in ("queued", "deferred"):
        return True
    if status == "scheduled":
        registry = rq_queue.scheduled_job_registry
        try:
            due = registry.get_scheduled_time(job)
        except Exception:  # no longer in the registry: nothing will move it
            return False
        if due.tzinfo is None:
            due = due.replace(tzinfo=UTC)
        if due > now - SCHEDULE_LOST_AFTER:
            return True
        registry.remove(job)  # lost: no scheduler took it; sent anew below
        return False
    if status == "started":
        beat = job.last_heartbeat or job.started_at
        if beat is not None and beat.tzinfo is None:
            beat = beat.replace(tzinfo=UTC)
        return beat is not None and beat > now - WORKER_LOST_AFTER
    return False
