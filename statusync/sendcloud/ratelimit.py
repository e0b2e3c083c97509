"""A thread-safe token bucket: the client paces itself with it, the sandbox enforces with it."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

Clock = Callable[[], float]
Sleep = Callable[[float], None]

# Sendcloud allows bursts of up to 15 requests per second on top of the per-minute limits.
BURST_PER_SECOND = 15

# The burst a client allows itself: one token short of the API's. A client takes a token when a
# request leaves, the API counts it when it arrives, and arrivals bunch up by as much as latency
# varies (the first request of a connection, which also connects, is the slowest); without a
# spare token the first request after the burst arrives a few ms early and meets a 429.
CLIENT_BURST = BURST_PER_SECOND - 1
# At high rates one token is only a few ms of that variation: the client then keeps in hand as
# many tokens as the API grants in JITTER seconds (2 at 1,200/min, 5 at 3,000/min). 100 ms, not
# less: with several accounts run side by side on a busy machine, arrivals of one account bunched
# by more than 50 ms, and at 1,200/min one spare token was not enough.
JITTER = 0.1


# ... and paces itself a little under the limit, so that the API's bucket is full most of the
# time and absorbs arrivals that a stall somewhere bunched together.
HIGH_RATE_MARGIN = 0.03


def client_burst(per_minute: float) -> int:
    """The burst a client paced at `per_minute` allows itself (CLIENT_BURST at Sendcloud's
    documented limits)."""
    spare = max(1, math.ceil(per_minute / 60 * JITTER))
    return max(BURST_PER_SECOND // 2, BURST_PER_SECOND - spare)


def client_per_minute(per_minute: float) -> float:
    """The pace a client keeps under a limit of `per_minute`: the limit itself, or a little less
    where a token lasts less than JITTER (over 600 a minute)."""
    return per_minute * (1 - HIGH_RATE_MARGIN) if per_minute / 60 * JITTER > 1 else per_minute


class TokenBucket:
    """`per_minute` requests a minute, at most `burst` at once (the bucket starts full).

    Client and sandbox use the same rule, so a client that paces itself with a bucket of the
    sandbox's rate and one token less burst (CLIENT_BURST) never sees a 429 from it. The client
    also slows its bucket down (`retune`) and pauses it (`hold`) when the API says it is going
    too fast (statusync.sendcloud.pacing).
    """

    def __init__(
        self,
        per_minute: float,
        burst: int | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.per_second = per_minute / 60.0
        self.capacity = float(max(1, min(burst if burst is not None else BURST_PER_SECOND, int(per_minute))))
        self.clock = clock
        self.sleep = sleep
        self._tokens = self.capacity
        self._refilled_at = clock()
        self._resume_at = float("-inf")  # no token before this time (a hold)
        self._lock = threading.Lock()

    def _refill(self, now: float) -> None:
        if now > self._refilled_at:
            refilled = (now - self._refilled_at) * self.per_second
            self._tokens = min(self.capacity, self._tokens + refilled)
            self._refilled_at = now

    def try_acquire(self) -> float:
        """Take a token and return 0, or take nothing and return the seconds until one is due."""
        with self._lock:
            now = self.clock()
            if now < self._resume_at:
                return self._resume_at - now
            self._refill(now)
            # A hair's tolerance: after sleeping exactly the wait it named, float rounding can
            # leave 0.999999... tokens, and a wait too small to move the clock would repeat forever.
            if self._tokens >= 1 - 1e-9:
                self._tokens -= 1
                return 0.0
            return (1 - self._tokens) / self.per_second

    def acquire(self) -> float:
        """Block (through the injected sleep) until a token is taken; return when, by the clock."""
        while (wait := self.try_acquire()) > 0:
            self.sleep(wait)
        return self.clock()

    @property
    def tokens(self) -> float:
        """The tokens ready now (none during a hold)."""
        with self._lock:
            now = self.clock()
            if now < self._resume_at:
                return 0.0
            self._refill(now)
            return self._tokens

    def retune(self, per_second: float) -> None:
        """Refill at `per_second` from now on (the tokens earned so far are kept)."""
        with self._lock:
            self._refill(self.clock())
            self.per_second = per_second

    def hold(self, until: float) -> None:
        """Give no token before `until` (by the clock), and then just one: the first request after
        a pause goes alone and the others follow at the rate, instead of a burst that the API,
        which just said "too many", would refuse again."""
        with self._lock:
            if until <= self._resume_at:
                return
            self._resume_at = until
            self._tokens = 1.0  # the API refilled during the pause; we did not
            self._refilled_at = max(self._refilled_at, until)
