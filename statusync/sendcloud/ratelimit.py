"""A thread-safe token bucket: the client paces itself with it, the sandbox enforces with it."""

from __future__ import annotations

import threading
import time
from typing import Callable

Clock = Callable[[], float]
Sleep = Callable[[float], None]

# Sendcloud allows bursts of up to 15 requests per second on top of the per-minute limits.
BURST_PER_SECOND = 15

# The burst a client allows itself: one token short of the API's. A client takes a token when a
# request leaves, the API counts it when it arrives, and arrivals bunch up by as much as latency
# varies (the first request of a connection, which also connects, is the slowest); without a
# spare token the first request after the burst arrives a few ms early and meets a 429.
CLIENT_BURST = BURST_PER_SECOND - 1


class TokenBucket:
    """`per_minute` requests a minute, at most `burst` at once (the bucket starts full).

    Client and sandbox use the same rule, so a client that paces itself with a bucket of the
    sandbox's rate and one token less burst (CLIENT_BURST) never sees a 429 from it.
    """

    def __init__(self, per_minute: int, burst: int | None = None, *,
                 clock: Clock = time.monotonic, sleep: Sleep = time.sleep) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.per_second = per_minute / 60.0
        self.capacity = float(min(burst if burst is not None else BURST_PER_SECOND, per_minute))
        self._tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._refilled_at = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        refilled = (now - self._refilled_at) * self.per_second
        self._tokens = min(self.capacity, self._tokens + refilled)
        self._refilled_at = now

    def try_acquire(self) -> float:
        """Take a token and return 0, or take nothing and return the seconds until one is due."""
        with self._lock:
            self._refill()
            # A hair's tolerance: after sleeping exactly the wait it named, float rounding can
            # leave 0.999999... tokens, and a wait too small to move the clock would repeat forever.
            if self._tokens >= 1 - 1e-9:
                self._tokens -= 1
                return 0.0
            return (1 - self._tokens) / self.per_second

    def acquire(self) -> None:
        """Block (through the injected sleep) until a token is taken."""
        while (wait := self.try_acquire()) > 0:
            self._sleep(wait)
