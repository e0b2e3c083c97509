"""A gate in front of the sandbox: the test decides when a request is answered.

Signal and kill tests need requests "on the wire" when the signal comes. A latency makes that
likely and costs its seconds on every request; a gate makes it certain and costs nothing: the
sandbox calls its request hook (`on_request`, with each request's method and path) before
answering, and the gate holds the requests it is for while closed. A gate for the writes only
(`Gate(holds=mapping_writes)`) lets the reads through whenever they come: apply reads each
shop's statuses right before its write, and a test that holds writes must not hold those.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

# A held request is let go after this long, so that a failing test cannot hang the suite.
_LONGEST_HOLD = 30.0


def every_request(_method: str, _path: str) -> bool:
    return True


def mapping_writes(method: str, path: str) -> bool:
    """The POSTs of a mapping (apply's and reconcile's writes), not the token requests."""
    return method == "POST" and path.rstrip("/").endswith("/shop-order-statuses/mapping")


def status_reads(method: str, path: str) -> bool:
    """The reads of a shop's statuses (apply's right before each write)."""
    return method == "GET" and path.rstrip("/").endswith("/shop-order-statuses")


class Gate:
    """`sandbox(gate=Gate())` puts it in front of the sandbox. Open, it lets every request
    through; closed, it holds each request it is for (`holds(method, path)`) until `open()`,
    and lets the others through. The counts (`let_through`, `close_after`, `held`) are of the
    requests it is for."""

    def __init__(
        self, *, let_through: int | None = None, holds: Callable[[str, str], bool] = every_request
    ) -> None:
        """let_through: open for that many requests, then closed (None: open until closed)."""
        self._changed = threading.Condition()
        self._left = let_through
        self._closed = False
        self._holds = holds
        self.held = 0  # requests waiting at the gate now

    def __call__(self, method: str, path: str) -> None:
        """The sandbox's request hook."""
        if self._holds(method, path):
            self._pass()

    def sleep(self, _seconds: float) -> None:
        """As the sandbox's latency sleep: every request it waits for is one the gate is for."""
        self._pass()

    def _pass(self) -> None:
        with self._changed:
            if self._left is not None:
                if self._left > 0:
                    self._left -= 1
                    return
                self._closed = True
                self._left = None
            if not self._closed:
                return
            self.held += 1
            self._changed.notify_all()
            self._changed.wait_for(lambda: not self._closed, timeout=_LONGEST_HOLD)
            self.held -= 1
            self._changed.notify_all()

    def close_after(self, count: int) -> None:
        """Let `count` more of its requests through, then close."""
        with self._changed:
            self._left = count
            self._closed = False

    def close(self) -> None:
        with self._changed:
            self._closed = True

    def open(self) -> None:
        with self._changed:
            self._closed = False
            self._left = None
            self._changed.notify_all()

    def wait_held(self, count: int, timeout: float = 30) -> None:
        """Until `count` requests wait at the gate."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.held < count:
                left = deadline - time.monotonic()
                assert left > 0, f"timed out: {self.held} of {count} requests at the gate"
                self._changed.wait(left)
