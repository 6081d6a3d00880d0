"""Requests per minute and per API key: a sliding window of the last minute's request times."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_S = 60.0


class RateLimiter:
    """At most ``per_minute`` requests per key in any 60 seconds."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._times: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> float:
        """Count a request for ``key``: 0 when allowed, else the seconds until the next one would be."""
        now = self.clock()
        with self._lock:
            times = self._times.setdefault(key, deque())
            while times and times[0] <= now - WINDOW_S:
                times.popleft()
            if len(times) >= self.per_minute:
                return times[0] + WINDOW_S - now
            times.append(now)
            return 0.0
