"""The base of every request a shopper or an agent makes that must reach Shopify: an order change,
a return, and what comes next (item changes, accepted offers).

A request has a status that moves only along its `NEXT` table, and a badge tone per status. What
reaches Shopify is the outbox's business (`shopify.outbox`), and it keeps its bookkeeping here,
under the same names in every app:

- `next_attempt_at`: when the outbox sends it (again); empty when nothing is due. The sweeper
  sends whatever is overdue, so a retry never depends on one process staying alive;
- `sending_until`: a worker's lease while it sends, so two workers never send one request at once;
- `attempts`, and `failure_code` / `failure_detail` when it could not be sent: the code is
  stable and reads, through `failure_text`, as a translated sentence for the shopper; the detail
  is Shopify's own words, for agents only.

Who asked and who decided are `Actor` values.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from orders.actors import SHOPPER, ActorField


class WrongState(Exception):
    """The request is no longer where the caller thought (someone else acted first)."""

    def __init__(self, request: Request, wanted: str) -> None:
        super().__init__(f"{request}: {request.status} -> {wanted} is not allowed")
        self.request = request
        self.wanted = wanted


# What a failure code means to the shopper. Apps and the adapter add theirs (`explain`); a code
# "conflict:shipped" is looked up whole, then by its family ("conflict").
_FAILURES: dict[str, str | Promise] = {
    "unavailable": _("We could not reach the shop's system. Please contact us."),
    "permanent": _("We could not make this change. Please contact us."),
    "disconnected": _("We could not make this change. Please contact us."),
}
GENERIC_FAILURE = _("We could not make this change. Please contact us.")


def explain(code: str, message: str | Promise) -> None:
    """Say what a failure code means to the shopper."""
    _FAILURES[code] = message


def failure_text(code: str) -> str:
    family = code.partition(":")[0]
    return str(_FAILURES.get(code) or _FAILURES.get(family) or GENERIC_FAILURE)


class Request(models.Model):
    # Each kind of request declares its statuses, where each may go next, and their tones.
    NEXT: ClassVar[dict[str, set[str]]] = {}
    TONES: ClassVar[dict[str, str]] = {}

    status = models.CharField(max_length=24)
    requested_by = ActorField(default=SHOPPER)
    decided_by = ActorField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # The outbox's bookkeeping (see the module's docstring).
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    sending_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    failure_code = models.CharField(max_length=64, blank=True)
    failure_detail = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def can_move_to(self, status: str) -> bool:
        return status in self.NEXT[self.status]

    def move_to(self, status: str) -> None:
        if not self.can_move_to(status):
            raise WrongState(self, status)
        self.status = status

    @property
    def tone(self) -> str:
        """The badge's colour family: ok, warn, muted or info."""
        return self.TONES.get(self.status, "info")

    @property
    def is_failed(self) -> bool:
        """It could not reach Shopify, and waits for an agent."""
        return bool(self.failure_code)

    @property
    def is_sending(self) -> bool:
        """Something of it is on its way to Shopify."""
        return self.next_attempt_at is not None and not self.failure_code

    @property
    def failure_text(self) -> str:
        """Why it could not be made, for the shopper, in the active language."""
        return failure_text(self.failure_code) if self.failure_code else ""

    def send_now(self) -> None:
        """Due at once (the caller saves, then asks the outbox to push it)."""
        self.next_attempt_at = timezone.now()
        self.failure_code = self.failure_detail = ""

    def record_failure(self, code: str, detail: str = "") -> None:
        """Nothing more is sent until an agent retries (the caller saves; the lease is the
        outbox's to let go)."""
        self.failure_code, self.failure_detail = code, detail
        self.next_attempt_at = None

    def decide(self, actor: Any) -> None:
        self.decided_by, self.decided_at = actor, timezone.now()
