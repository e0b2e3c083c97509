"""Pacing that adapts, and waits that a stop cuts short.

`Pace` is one account's pace for one kind of request (GET or POST), shared by every worker: a
token bucket at the configured rate that a 429 slows down for all of them (multiplicative
decrease, and a pause for the Retry-After) and that then recovers gradually (in proportion
to itself), so a server whose limit is lower than the settings say slows the run instead of
failing it. The rate that drew the 429 stays a ceiling: the pace climbs back to just under it
quickly and past it only slowly. It also measures the latency, which sizes the workers
(`workers`).

Every wait of the client (the bucket, a Retry-After, a backoff) goes through `interruptible`:
when the run is asked to stop (STOP, set by Ctrl-C or SIGTERM) the wait ends at once with
NotSent, and no request leaves after it.
"""

from __future__ import annotations

import logging
import math
import threading
import time

from statusync.errors import NotSent
from statusync.sendcloud.ratelimit import Sleep, TokenBucket

log = logging.getLogger("statusync.api")

# Set when the run is asked to stop; cleared when a run of requests starts and ends
# (statusync.runner.bounded).
STOP = threading.Event()

# Requests of every client of the process under way on the wire right now: what a stop waits for,
# and says it waits for (statusync.runner.stopping).
_on_wire = 0
_on_wire_lock = threading.Lock()


class _OnTheWire:
    """Counts the request sent within the block as on the wire. A class rather than a
    contextlib generator, whose machinery cost a few percent of the client's CPU per request
    at thousands a minute."""

    def __enter__(self) -> None:
        global _on_wire
        with _on_wire_lock:
            _on_wire += 1

    def __exit__(self, *_: object) -> None:
        global _on_wire
        with _on_wire_lock:
            _on_wire -= 1


on_the_wire = _OnTheWire


def requests_on_the_wire() -> int:
    return _on_wire


# A 429 halves the pace (once per episode: the requests already under way answer 429 too and
# say nothing new); then it climbs back in proportion to itself, doubling in 25 s. In proportion,
# not by a share of the configured rate: against a server whose real limit is far below the
# settings (30/min against 1000), a climb of 2% of 1000/min a second would pass the real limit
# again within a second, and one request in three would meet a 429; in proportion, the pace
# meets it once in 25 s there as anywhere. A steady climb in time rather than per answer: a pause
# for a 429 costs a second or more, so at high rates a per-answer climb would meet the limit
# again within moments.
DECREASE = 0.5
DOUBLING_SECONDS = 25.0
# The rate that drew a 429 is remembered as a ceiling: the climb slows down at CAUTION of it and
# from there doubles only in SLOW_DOUBLING_SECONDS, so that a server whose limit sits far below
# the settings is met again after minutes, not every 25 s (at 30/min against 1000, a climb that
# forgot the ceiling drew a 429 for about one request in three). Slowly past it all the same: a
# 429 may have come from a moment's crowd, and the limit may rise.
CAUTION = 0.9
SLOW_DOUBLING_SECONDS = 300.0
# Of the configured rate: the pace never drops below it. Low enough to meet a server 100 times
# slower than the settings say (GET 6000/min against 60), where only repeated 429s take it.
FLOOR = 1 / 256
# Workers: Little's law (in flight = rate × latency), with headroom for latency that varies; the
# bucket paces them, so more than the burst may be under way when the latency asks for it (6,000
# GETs a minute at 200 ms need 25), yet never more than MOST_WORKERS threads for one account.
HEADROOM = 1.25
MOST_WORKERS = 64
# Until the first answer has come, a few requests only: nothing is known yet of the latency, nor
# whether the credentials work (a 401 then costs 4 requests, not a burst of 14).
FIRST_WORKERS = 4
LATENCY_WEIGHT = 0.2  # of each new measure in the moving average
# Waits shorter than this are plain sleeps (interruptible): a stop may take that long to be seen.
SHORT_WAIT = 0.02
# A wait for the limit at least this long is shown (at WARNING), at most every SHOW_EVERY s.
LONG_WAIT = 2.0
SHOW_EVERY = 10.0


def interruptible(sleep: Sleep, stop: threading.Event) -> Sleep:
    """`sleep`, ended at once by `stop` with NotSent. The real `time.sleep` becomes a wait on
    the event; a fake one (tests) is called as it is, with the event checked around it."""
    if sleep is time.sleep:

        def wait(seconds: float) -> None:
            if seconds < SHORT_WAIT:
                # A plain sleep, with the event looked at on either side: a wait on the event
                # costs a new lock and a Condition's bookkeeping each time, which at thousands
                # of tokens a minute was 5% of the CPU of a request; a stop is seen that much
                # later at most.
                if stop.is_set():
                    raise NotSent()
                time.sleep(max(0.0, seconds))
                if stop.is_set():
                    raise NotSent()
            elif stop.wait(seconds):
                raise NotSent()

        return wait

    def fake(seconds: float) -> None:
        if stop.is_set():
            raise NotSent()
        sleep(seconds)
        if stop.is_set():
            raise NotSent()

    return fake


class Pace:
    """The pace of one kind of request of one account; safe to share between threads."""

    def __init__(self, bucket: TokenBucket, *, stop: threading.Event = STOP, what: str = "requests") -> None:
        self.bucket = bucket
        self.what = what
        self.configured = bucket.per_second
        self._floor = self.configured * FLOOR
        self._low = self.configured  # the rate the last decrease left ...
        self._low_from = -math.inf  # ... and when the climb from it starts
        self._ceiling = math.inf  # the rate that drew the last 429
        self._decreased_at = -math.inf
        self._latency: float | None = None
        self._shown_at = -math.inf
        self._wait = interruptible(bucket.sleep, stop)
        self._lock = threading.Lock()
        # Held by the one worker whose turn for a token is next, while it waits for it: the
        # others wait for the turn, not for the token, so that each token wakes one worker
        # rather than every waiting one (60 of them at thousands a minute, each to find the
        # token taken and sleep again: more CPU than the requests).
        self._turn = threading.Lock()

    def rate(self) -> float:
        """Requests per second now."""
        with self._lock:
            return self._rate(self.bucket.clock())

    def _rate(self, now: float) -> float:
        """Doubling every DOUBLING_SECONDS from the low a 429 left up to the knee (CAUTION of the
        ceiling), then every SLOW_DOUBLING_SECONDS, never past the configured rate. In doublings
        (log2) throughout, so that no power overflows however long ago the last 429 was."""
        elapsed = max(0.0, now - self._low_from)
        knee = min(self.configured, self._ceiling * CAUTION)
        to_knee = max(0.0, math.log2(knee / self._low)) if knee > self._low else 0.0
        if elapsed < to_knee * DOUBLING_SECONDS:
            return self._low * 2 ** (elapsed / DOUBLING_SECONDS)
        start = max(knee, self._low)
        slow = (elapsed - to_knee * DOUBLING_SECONDS) / SLOW_DOUBLING_SECONDS
        if slow >= math.log2(self.configured / start):
            return self.configured
        return start * 2**slow

    def acquire(self) -> float:
        """Wait for a token (NotSent when the run is asked to stop meanwhile); return when it was
        taken, by the bucket's clock."""
        with self._turn:
            while True:
                with self._lock:
                    rate = self._rate(self.bucket.clock())
                if rate != self.bucket.per_second:
                    self.bucket.retune(rate)
                wait = self.bucket.try_acquire()
                if wait <= 0:
                    return self.bucket.clock()
                self._show(wait, rate)
                self._wait(wait)

    def throttled(self, retry_after: float, sent_at: float) -> bool:
        """A request taken at `sent_at` met a 429 asking for `retry_after` seconds: every worker
        pauses that long, and the pace drops unless an earlier 429 of the same episode (a
        request sent before the last drop) dropped it already. True when it dropped."""
        now = self.bucket.clock()
        self.bucket.hold(now + retry_after)
        with self._lock:
            self._shown_at = now  # the caller says so itself; no second line about the pause
            if sent_at <= self._decreased_at:
                return False
            drew = self._rate(now)
            self._ceiling = drew
            self._low = max(self._floor, drew * DECREASE)
            self._low_from = now + retry_after
            self._decreased_at = now
            low = self._low
        self.bucket.retune(low)
        return True

    def observe(self, seconds: float) -> None:
        """One request took `seconds` from its token to its answer."""
        with self._lock:
            previous = self._latency
            self._latency = (
                seconds if previous is None else (previous + LATENCY_WEIGHT * (seconds - previous))
            )

    def workers(self) -> int:
        """How many requests to keep under way: enough to reach the current rate at the latency
        measured, plus the tokens ready now (a burst goes out at once); the bucket, not this
        count, keeps them to the rate. At most MOST_WORKERS."""
        with self._lock:
            rate = self._rate(self.bucket.clock())
            latency = self._latency
        if latency is None:
            needed = FIRST_WORKERS
        else:
            needed = math.ceil(rate * latency * HEADROOM) + int(self.bucket.tokens)
        return max(1, min(MOST_WORKERS, needed))

    def per_minute(self) -> float:
        return self.rate() * 60

    def _show(self, wait: float, rate: float) -> None:
        if wait < LONG_WAIT:
            return
        with self._lock:
            now = self.bucket.clock()
            if now - self._shown_at < SHOW_EVERY:
                return
            self._shown_at = now
        slowed = "" if rate >= self.configured else f", slowed from {self.configured * 60:.0f}"
        log.warning(
            "waiting %.0f s for the rate limit of %s (%s/min%s)", wait, self.what, _per_minute(rate), slowed
        )


def _per_minute(rate: float) -> str:
    per_minute = rate * 60
    return f"{per_minute:.0f}" if per_minute >= 10 else f"{per_minute:.1f}"
