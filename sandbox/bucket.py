"""Shopify's leaky bucket for the Admin GraphQL API, per app and shop.

The bucket refills continuously at the restore rate up to its size. A query runs only if its
requested cost is available now, and is charged that much before it runs; afterwards the part of
it that was not used (requested - actual) comes back. Defaults are the Standard plan as real
2026-04 responses show it: 2,000 points, 100 restored per second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

STANDARD_SIZE = 2000
STANDARD_RESTORE_RATE = 100


class Bucket:
    def __init__(
        self,
        *,
        size: float = STANDARD_SIZE,
        restore_rate: float = STANDARD_RESTORE_RATE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self.size = size
        self.restore_rate = restore_rate
        self._level = float(size)
        self._at = clock()

    def take(self, cost: float) -> bool:
        """Charge `cost` if the bucket holds it now; False (and nothing charged) if not."""
        with self._lock:
            self._refill()
            if cost > self._level:
                return False
            self._level -= cost
            return True

    def refund(self, points: float) -> None:
        with self._lock:
            self._refill()
            self._level = min(self.size, self._level + max(points, 0))

    def configure(
        self,
        *,
        size: float | None = None,
        restore_rate: float | None = None,
        available: float | None = None,
    ) -> None:
        with self._lock:
            self._refill()
            if size is not None:
                self.size = size
            if restore_rate is not None:
                self.restore_rate = restore_rate
            self._level = min(self.size, self._level if available is None else available)

    @property
    def available(self) -> float:
        with self._lock:
            self._refill()
            return self._level

    def throttle_status(self) -> dict[str, float]:
        """As `extensions.cost.throttleStatus` shows it: whole points, like Shopify's."""
        return {
            "maximumAvailable": _whole(self.size),
            "currentlyAvailable": int(self.available),
            "restoreRate": _whole(self.restore_rate),
        }

    def _refill(self) -> None:
        now = self._clock()
        # Rounded to a millionth of a point, so that float seconds do not lose whole points.
        refilled = round(self._level + (now - self._at) * self.restore_rate, 6)
        self._level = min(self.size, refilled)
        self._at = now


def _whole(value: float) -> float:
    return int(value) if float(value).is_integer() else value
