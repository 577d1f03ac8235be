"""Switches that make the next Admin API requests fail the ways Shopify's can.

Each fault applies to the next `times` GraphQL requests, first set first served:
- `http`: answer with HTTP `status` (500, 502, 503, 429...), with `Retry-After` if given;
- `timeout`: take `seconds` to answer. `connect=True`: before the request is read (nothing is
  done); otherwise after it was executed (the change is made, the caller never hears of it).
  Over the in-process adapter a caller whose timeout is shorter gets requests' ConnectTimeout or
  ReadTimeout at once; over real HTTP the server really waits;
- `throttled`: answer THROTTLED whatever the bucket holds;
- `access_denied`: answer ACCESS_DENIED for the request's root fields;
- `user_errors`: a mutation answers these userErrors and changes nothing (queries pass through
  and leave the fault for the next mutation).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from http import HTTPStatus
from typing import Any

KINDS = {"http", "timeout", "throttled", "access_denied", "user_errors"}
DEFAULT_USER_ERRORS = [{"field": None, "message": "The sandbox refused this change (forced)."}]


@dataclass
class Fault:
    kind: str
    times: int = 1
    status: int = 500
    retry_after: float | None = None
    seconds: float = 60.0  # beyond any sane client's read timeout
    connect: bool = False
    user_errors: list[dict[str, Any]] = field(default_factory=lambda: list(DEFAULT_USER_ERRORS))

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; one of {sorted(KINDS)}")
        if self.times < 1:
            raise ValueError("times must be 1 or more")
        if self.kind == "http" and not 400 <= HTTPStatus(self.status) < 600:
            raise ValueError("an http fault answers with a 4xx or 5xx status")


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._pending.append(fault)
        return fault

    def http(self, status: int, *, times: int = 1, retry_after: float | None = None) -> Fault:
        if status == 429 and retry_after is None:
            retry_after = 2.0
        return self.add(Fault("http", times=times, status=status, retry_after=retry_after))

    def timeout(self, seconds: float = 60.0, *, times: int = 1, connect: bool = False) -> Fault:
        return self.add(Fault("timeout", times=times, seconds=seconds, connect=connect))

    def throttled(self, *, times: int = 1) -> Fault:
        return self.add(Fault("throttled", times=times))

    def access_denied(self, *, times: int = 1) -> Fault:
        return self.add(Fault("access_denied", times=times))

    def user_errors(self, errors: list[dict[str, Any]] | None = None, *, times: int = 1) -> Fault:
        return self.add(
            Fault("user_errors", times=times, user_errors=errors or DEFAULT_USER_ERRORS)
        )

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()

    def take(self, *, mutation: bool) -> Fault | None:
        """The fault that applies to this request, counted as used; None if none does."""
        with self._lock:
            for fault in self._pending:
                if fault.kind == "user_errors" and not mutation:
                    continue
                fault.times -= 1
                if fault.times == 0:
                    self._pending.remove(fault)
                return fault
        return None

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(fault) for fault in self._pending]
