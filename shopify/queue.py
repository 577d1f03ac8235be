"""Sending work to the RQ workers, after the transaction that asked for it has committed.

A job never runs before the row it names is visible, and a rolled-back transaction sends
nothing. Without REDIS_URL (the demo) the job runs in this process right after commit. When Redis
cannot be reached the record it names stays as it is, unprocessed, and a sweeper sends it again:
nothing is lost, only late.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

# Backoff for jobs that fail with a transient error: about 20 minutes in all, then the job lands
# in RQ's failed-job registry, where agents see it.
RETRY_INTERVALS = [5, 30, 60, 300, 900]


# A job with an id is not sent again while one with that id waits or runs.
PENDING = {"queued", "started", "scheduled", "deferred"}


def enqueue(
    func: Callable[..., Any], *args: Any, queue: str = "default", job_id: str | None = None
) -> None:
    transaction.on_commit(partial(_send, func, args, queue, job_id))


@functools.cache
def _connection(queue: str) -> Any:
    """One Redis client (and connection pool) per queue and process. django_rq.get_queue makes
    a new one on every call: a TCP connection and a handshake for every job sent."""
    import django_rq

    return django_rq.get_connection(queue)


def _send(
    func: Callable[..., Any], args: tuple[Any, ...], queue: str, job_id: str | None = None
) -> None:
    if not settings.REDIS_URL:
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
                status = Job.fetch(job_id, connection=rq_queue.connection).get_status()
                if getattr(status, "value", status) in PENDING:
                    return
            except NoSuchJobError:
                pass
        rq_queue.enqueue(
            func,
            *args,
            job_id=job_id,
            retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
        )
    except RedisError:
        logger.warning("Redis unreachable: %s%r left for the sweeper", func.__name__, args)
